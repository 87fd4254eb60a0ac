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
    /** Frame sockets (/ws/identify, /ws/<analytic>) and POST /api/analyze/<analytic>. */
    frames: {
      max_frame_bytes: number;
      max_fps: number;
      max_connections_per_token: number;
      max_batch_size: number;
      heartbeat_s: number;
      idle_timeout_s: number;
      max_concurrent: number;
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
  streams: StreamEntry[];
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
  } | null;
  analytics: Partial<Record<AnalyticName, Record<string, unknown>>>;
}
