/** JSON schema of vigil.yaml; validated (all errors at once) before anything starts. */
import { analyticsSchema } from './analyticsSchema.js';

const point = { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 2, maxItems: 2 } as const;

const line = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'points'],
  properties: {
    name: { type: 'string', minLength: 1 },
    points: { type: 'array', items: point, minItems: 2, maxItems: 2 },
    in: { type: 'string', enum: ['left', 'right', 'Up', 'Down', 'Left', 'Right'] },
    anchor: { type: 'string', enum: ['bottom-center', 'center', 'top-center'] },
    hysteresis: { type: 'number', minimum: 0, maximum: 0.5 },
  },
} as const;

const polygonArea = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'polygon'],
  properties: {
    name: { type: 'string', minLength: 1 },
    polygon: { type: 'array', items: point, minItems: 3 },
    events: { type: 'boolean' },
    interval_s: { type: 'number', minimum: 0 },
    anchor: { type: 'string', enum: ['bottom-center', 'center', 'top-center'] },
    hysteresis: { type: 'number', minimum: 0, maximum: 0.5 },
  },
} as const;

export const ANALYTIC_NAMES = ['people-counting', 'vehicle-counting', 'crowd-estimation', 'face-recognition', 'plate-recognition'] as const;

export const streamSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
    name: { type: 'string' },
    url: { type: 'string', minLength: 1 },
    enabled: { type: 'boolean', default: true },
    transport: { type: 'string', enum: ['tcp', 'udp'], default: 'tcp' },
    fps: { type: 'number', exclusiveMinimum: 0, maximum: 60, default: 5 },
    loop: { type: 'boolean', default: true },
    realtime: { type: 'boolean', default: true },
    keyframes_only: { type: 'boolean', default: false },
    hwaccel: { type: 'string', enum: ['none', 'cuda', 'jetson', 'vaapi'], default: 'none' },
    max_width: { type: 'integer', minimum: 64, default: 1280 },
    stall_timeout_s: { type: 'number', exclusiveMinimum: 0, default: 10 },
    start_timeout_s: { type: 'number', exclusiveMinimum: 0, default: 20 },
    backoff_initial_ms: { type: 'integer', minimum: 10, default: 1000 },
    backoff_max_ms: { type: 'integer', minimum: 10, default: 30000 },
    analytics: { type: 'array', items: { type: 'string', enum: ANALYTIC_NAMES }, uniqueItems: true, default: ['people-counting'] },
    lines: { type: 'array', items: line, default: [] },
    zones: { type: 'array', items: polygonArea, default: [] },
    areas: { type: 'array', items: polygonArea, default: [] },
    plate_formats: { type: 'array', items: { type: 'string' } },
    motion_gate: { type: 'boolean' },
  },
} as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    node_num: { type: 'integer', minimum: 0, default: 1 },
    data_dir: { type: 'string', minLength: 1, default: '/var/lib/vigil' },
    log_level: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    server: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8090 },
        admin_token: { type: 'string', minLength: 8 },
        tokens: { type: 'array', items: { type: 'string', minLength: 8 }, default: [] },
        heartbeat_s: { type: 'number', exclusiveMinimum: 0, default: 10 },
        events: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            max_subscribers: { type: 'integer', minimum: 1, default: 256 },
            max_subscribers_per_token: { type: 'integer', minimum: 1, default: 64 },
            send_budget_bytes: { type: 'integer', minimum: 65536, default: 262144 },
            send_budget_messages: { type: 'integer', minimum: 10, default: 2000 },
            max_lag_events: { type: 'integer', minimum: 1, default: 10000 },
            stuck_close_s: { type: 'number', exclusiveMinimum: 0, default: 60 },
            ping_interval_s: { type: 'number', exclusiveMinimum: 0, default: 20 },
            idle_timeout_s: { type: 'number', exclusiveMinimum: 0, default: 60 },
          },
        },
        frames: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            max_frame_bytes: { type: 'integer', minimum: 1024, default: 512000 },
            max_fps: { type: 'number', minimum: 0, default: 30 },
            max_connections_per_token: { type: 'integer', minimum: 0, default: 8 },
            max_batch_size: { type: 'integer', minimum: 1, maximum: 256, default: 16 },
            heartbeat_s: { type: 'number', exclusiveMinimum: 0, default: 30 },
            idle_timeout_s: { type: 'number', exclusiveMinimum: 0, default: 65 },
            max_concurrent: { type: 'integer', minimum: 1, default: 2 },
            identify_max_frame_bytes: { type: 'integer', minimum: 1024, default: 4194304 },
            mobiledgex_max_frame_bytes: { type: 'integer', minimum: 1024, default: 4194304 },
            queue_frames: { type: 'integer', minimum: 1, maximum: 256, default: 8 },
            live: {
              type: 'object',
              additionalProperties: false,
              default: {},
              properties: {
                max_fps: { type: 'number', exclusiveMinimum: 0, maximum: 30, default: 10 },
                max_width: { type: 'integer', minimum: 64, maximum: 4096, default: 1280 },
                jpeg_quality: { type: 'integer', minimum: 10, maximum: 100, default: 75 },
                max_viewers: { type: 'integer', minimum: 1, default: 16 },
                detection_hold_s: { type: 'number', minimum: 0, default: 1.5 },
              },
            },
          },
        },
      },
    },
    models: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        mirror: { type: ['string', 'null'], default: null },
        manifest: { type: ['string', 'null'], default: null },
        providers: { type: 'array', items: { type: 'string', enum: ['tensorrt', 'cuda', 'webgpu', 'dml', 'coreml', 'cpu'] }, minItems: 1, default: ['cpu'] },
        intra_op_threads: { type: 'integer', minimum: 0, default: 0 },
        inter_op_threads: { type: 'integer', minimum: 0, default: 1 },
        ort_module: { type: ['string', 'null'], default: null },
        roles: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
        max_batch: { type: 'integer', minimum: 1, maximum: 64, default: 4 },
        max_wait_ms: { type: 'number', minimum: 0, default: 5 },
        queue_depth: { type: 'integer', minimum: 1, default: 8 },
      },
    },
    inference: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        threads: { type: ['integer', 'null'], minimum: 1, default: null },
        spinning: { enum: ['auto', true, false], default: 'auto' },
        sessions_per_model: { anyOf: [{ const: 'auto' }, { type: 'integer', minimum: 1 }], default: 'auto' },
        rect_inputs: { type: 'boolean', default: true },
        event_backlog: { type: 'integer', minimum: 1, default: 64 },
        motion_gate: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: false },
            threshold: { type: 'number', exclusiveMinimum: 0, maximum: 255, default: 4 },
            max_skip_s: { type: 'number', minimum: 0, default: 5 },
          },
        },
      },
    },
    streams: { type: 'array', items: streamSchema, default: [] },
    allow_no_streams: { type: 'boolean', default: false },
    sources: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        api_schemes: { type: 'array', items: { type: 'string', pattern: '^[a-z][a-z0-9+.-]*$' }, default: ['rtsp', 'rtsps', 'http', 'https', 'rtmp', 'srt', 'udp'] },
        file_dirs: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
      },
    },
    retention: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_age_days: { type: ['number', 'null'], exclusiveMinimum: 0, default: 30 },
        /** Cap on the database: bytes, `auto` (disk_share of the data disk, at most auto_max_bytes) or null (no cap). */
        // minimum applies to numbers only, pattern to strings only: one clear message either way.
        max_bytes: { type: ['integer', 'null', 'string'], minimum: 1048576, pattern: '^auto$', default: 'auto' },
        disk_share: { type: 'number', exclusiveMinimum: 0, maximum: 0.9, default: 0.2 },
        auto_max_bytes: { type: 'integer', minimum: 1048576, default: 21474836480 },
        /** Crops are deleted earlier than their events (the event row stays). */
        crops_max_age_days: { type: ['number', 'null'], exclusiveMinimum: 0, default: 7 },
        per_analytic: {
          type: 'object',
          additionalProperties: false,
          default: {},
          patternProperties: {
            '^NFV4-(FR|LPR|PC|VC|CE)$': {
              type: 'object',
              additionalProperties: false,
              properties: { max_age_days: { type: 'number', exclusiveMinimum: 0 }, max_bytes: { type: 'integer', minimum: 1048576 } },
            },
          },
        },
        batch: { type: 'integer', minimum: 1, default: 500 },
        interval_s: { type: 'number', exclusiveMinimum: 0, default: 60 },
        wal_limit_bytes: { type: 'integer', minimum: 0, default: 67108864 },
        hard_cap: { type: 'boolean', default: true },
      },
    },
    crops: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        /** Longest side of an event crop in pixels: larger regions are scaled down. */
        max_side: { type: 'integer', minimum: 32, maximum: 4096, default: 256 },
        jpeg_quality: { type: 'integer', minimum: 1, maximum: 100, default: 60 },
      },
    },
    mqtt: {
      type: ['object', 'null'],
      additionalProperties: false,
      default: null,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^(mqtts?|wss?)://' },
        username: { type: 'string' },
        password: { type: 'string' },
        client_id: { type: 'string' },
        topic_prefix: { type: 'string', default: 'vigil' },
        qos: { type: 'integer', enum: [0, 1], default: 1 },
        crops: { type: 'boolean', default: false },
        outbox_max: { type: 'integer', minimum: 1, default: 100000 },
        homeassistant: { type: 'boolean', default: true },
        discovery_prefix: { type: 'string', minLength: 1, default: 'homeassistant' },
        snapshot_interval_s: { type: 'number', minimum: 0, default: 2 },
      },
    },
    analytics: analyticsSchema,
  },
} as const;
