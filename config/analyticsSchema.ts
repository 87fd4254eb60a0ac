/** Schemas of `analytics.<name>` in vigil.yaml: options shared by every stream running that analytic. */

const unit = { type: 'number', minimum: 0, maximum: 1 } as const;

const counting = (classes: readonly string[]) =>
  ({
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      /** One event per sampled frame with objects (the older mode) instead of per-object events. */
      presence: { type: 'boolean' },
      presence_threshold: unit,
      /** Per-object events without lines/zones: which ones, when an object counts as there, summary interval. */
      track_events: { type: 'array', items: { type: 'string', enum: ['appear', 'update', 'leave'] }, uniqueItems: true },
      confirm_frames: { type: 'integer', minimum: 1, maximum: 100 },
      confirm_score: unit,
      update_gain: unit,
      interval_s: { type: 'number', minimum: 0 },
      occupancy_interval_s: { type: 'number', minimum: 0 },
      crop_padding: { type: 'number', minimum: 0, maximum: 1 },
      /** Longest side of an object's crop (a thumbnail); zone occupancy crops keep crops.max_side. */
      crop_max_side: { type: 'integer', minimum: 32, maximum: 4096 },
      classes: { type: 'array', items: { type: 'string', enum: classes }, minItems: 1, uniqueItems: true },
    },
  }) as const;

const knownPlate = {
  type: 'object',
  additionalProperties: false,
  required: ['plate'],
  properties: {
    plate: { type: 'string', minLength: 1 },
    status: { type: 'string' },
    name: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
  },
} as const;

const faceGates = {
  type: 'object',
  additionalProperties: false,
  properties: {
    min_face_size: { type: 'number', minimum: 0 },
    min_blur: { type: 'number', minimum: 0 },
    max_yaw: { type: 'number', minimum: 0, maximum: 90 },
    max_roll: { type: 'number', minimum: 0, maximum: 180 },
  },
} as const;

export const analyticsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    'people-counting': counting(['person']),
    'vehicle-counting': counting(['car', 'motorcycle', 'bus', 'truck', 'bicycle']),
    'crowd-estimation': {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        interval_s: { type: 'number', exclusiveMinimum: 0 },
        tile_size: { type: 'integer', minimum: 64 },
        overlap: { type: 'number', minimum: 0, maximum: 0.9 },
        score_threshold: unit,
      },
    },
    'plate-recognition': {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        /** permissive (text detector + CCT/PP-OCR) or cn (opt-in YOLOv5 plate detector + plate_rec). */
        models: { type: 'string', enum: ['permissive', 'cn'] },
        vehicle_detector: { type: ['string', 'null'] },
        plate_localizer: { type: 'string' },
        ocr: { type: 'array', items: { type: 'string' }, minItems: 1 },
        formats: { type: 'array', items: { type: 'string' }, minItems: 1 },
        require_format: { type: 'boolean' },
        min_agreeing: { type: 'integer', minimum: 1 },
        dedup_window_s: { type: 'number', minimum: 0 },
        max_reads_per_track: { type: 'integer', minimum: 1 },
        min_read_confidence: unit,
        min_vehicle_score: unit,
        known_plates: { type: 'array', items: knownPlate },
      },
    },
    'face-recognition': {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        detector_model: { type: 'string' },
        embedder_model: { type: 'string' },
        match_threshold: unit,
        margin: unit,
        cluster_threshold: unit,
        decision_frames: { type: 'integer', minimum: 1 },
        max_missed: { type: 'integer', minimum: 0 },
        updates: { type: 'boolean' },
        /** Captures of one stranger that keep their image: the newest, and the best (by quality) of the older ones. */
        unknown_recent_images: { type: 'integer', minimum: 1 },
        unknown_images: { type: 'integer', minimum: 1 },
        gates: faceGates,
        enroll_gates: faceGates,
      },
    },
  },
} as const;
