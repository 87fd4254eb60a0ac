import type { AnalyticName } from '../daemon/analytics/types.js';

/** Normalised coordinates in [0,1] of the frame. */
export type NPoint = [number, number];

export interface LineConfig {
  name: string;
  points: [NPoint, NPoint];
  in?: 'left' | 'right' | 'Up' | 'Down' | 'Left' | 'Right';
  anchor?: 'bottom-center' | 'center' | 'top-center';
  hysteresis?: number;
}

export interface AreaConfig {
  name: string;
  polygon: NPoint[];
  events?: boolean;
  interval_s?: number;
  anchor?: 'bottom-center' | 'center' | 'top-center';
  hysteresis?: number;
}

/** One camera or file as written in vigil.yaml (and as the API stores it). */
export interface StreamEntry {
  id: string;
  name?: string;
  url: string;
  enabled: boolean;
  transport: 'tcp' | 'udp';
  fps: number;
  loop: boolean;
  /** File sources: read at native speed like a camera. */
  realtime: boolean;
  keyframes_only: boolean;
  hwaccel: 'none' | 'cuda' | 'jetson' | 'vaapi';
  max_width: number;
  stall_timeout_s: number;
  start_timeout_s: number;
  backoff_initial_ms: number;
  backoff_max_ms: number;
  analytics: AnalyticName[];
  lines: LineConfig[];
  zones: AreaConfig[];
  areas: AreaConfig[];
  plate_formats?: string[];
  /** Overrides inference.motion_gate.enabled for this stream (false for analytics that need every frame). */
  motion_gate?: boolean;
}

export interface VigilConfig {
  node_num: number;
  data_dir: string;
  log_level: string;
  server: {
    host: string;
    port: number;
    admin_token?: string;
    tokens: string[];
    heartbeat_s: number;
    /** Event socket limits: subscribers, per-subscriber send budget, pings. */
    events: {
      max_subscribers: number;
      max_subscribers_per_token: number;
      send_budget_bytes: number;
      send_budget_messages: number;
      max_lag_events: number;
      stuck_close_s: number;
      ping_interval_s: number;
      idle_timeout_s: number;
    };
    /** Frame sockets (/ws/identify, /ws/<analytic>, /ws/detector/detect/), their REST twins, and /ws/live. */
    frames: {
      max_frame_bytes: number;
      max_fps: number;
      max_connections_per_token: number;
      max_batch_size: number;
      heartbeat_s: number;
      idle_timeout_s: number;
      max_concurrent: number;
      identify_max_frame_bytes: number;
      mobiledgex_max_frame_bytes: number;
      queue_frames: number;
      /** The live image socket (/ws/live). */
      live: { max_fps: number; max_width: number; jpeg_quality: number; max_viewers: number; detection_hold_s: number };
    };
  };
  models: {
    mirror: string | null;
    manifest: string | null;
    providers: string[];
    intra_op_threads: number;
    inter_op_threads: number;
    ort_module: string | null;
    roles: Record<string, string>;
    max_batch: number;
    max_wait_ms: number;
    queue_depth: number;
  };
  /** The frame path's compute budget (DESIGN.md section 9). */
  inference: {
    /** Intra-op threads shared by all ORT sessions; null = the cores. */
    threads: number | null;
    /** session.intra_op.allow_spinning; 'auto' = off wherever sessions share cores. */
    spinning: 'auto' | boolean;
    /** ORT sessions per model on CPU, sharing its threads; 'auto' = one per stream using it, at most its threads. */
    sessions_per_model: 'auto' | number;
    /** Detectors whose graph allows it are fed the frame's aspect (416x288 for 16:9) instead of their square. */
    rect_inputs: boolean;
    /** Events a stream may have waiting for store/publish before its analysis pauses. */
    event_backlog: number;
    /** Skips the detector on frames that barely differ from the last analysed one. */
    motion_gate: { enabled: boolean; threshold: number; max_skip_s: number };
  };
  streams: StreamEntry[];
  /** A SIGHUP that would remove every stream is refused unless this is true. */
  allow_no_streams: boolean;
  /** What streams added through the API may read. */
  sources: { api_schemes: string[]; file_dirs: string[] };
  retention: {
    max_age_days: number | null;
    /** Bytes, 'auto' (disk_share of the data disk, at most auto_max_bytes) or null (no cap). */
    max_bytes: number | 'auto' | null;
    disk_share: number;
    auto_max_bytes: number;
    crops_max_age_days: number | null;
    per_analytic: Record<string, { max_age_days?: number; max_bytes?: number }>;
    batch: number;
    interval_s: number;
    wal_limit_bytes: number;
    hard_cap: boolean;
  };
  /** Event crops: scaled to max_side and encoded at jpeg_quality. */
  crops: { max_side: number; jpeg_quality: number };
  /** Fleet sink; null = off. */
  mqtt: {
    url: string;
    username?: string;
    password?: string;
    client_id?: string;
    topic_prefix: string;
    qos: 0 | 1;
    crops: boolean;
    outbox_max: number;
    /** Home Assistant MQTT discovery configs (per-camera state topics are always published). */
    homeassistant: boolean;
    discovery_prefix: string;
    /** Camera snapshot (last event crop) at most this often; 0 = none. */
    snapshot_interval_s: number;
  } | null;
  analytics: Partial<Record<AnalyticName, Record<string, unknown>>>;
}
