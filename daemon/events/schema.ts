import type { AnalyticId } from '../analytics/types.js';

/** `pipeline_data` of an event: always event_id + the two texts, plus per-analytic keys (DESIGN.md section 5). */
export interface PipelineData {
  event_id: string;
  primary_text: string;
  secondary_text: string;
  [key: string]: unknown;
}

/** One event as it travels on the event socket, REST API and MQTT (VisionAIre Stream keys). */
export interface VisionEvent {
  analytic_id: AnalyticId;
  /** Base64 JPEG crop (all analytics but NFV4-LPR); absent when crops are dropped. */
  image_jpeg?: string;
  /** Base64 JPEG crop for NFV4-LPR, as VisionAIre documents it. */
  jpeg?: string;
  node_num: number;
  stream_id: string;
  /** The stream URL with credentials masked. */
  stream_address: string;
  /** Unix time in ms, as a string. */
  timestamp: string;
  /** Store row id; set once the event is stored. */
  seq?: number;
  pipeline_data: PipelineData;
}

/** Control messages share the socket with events; they carry `type` instead of `analytic_id`. */
export type ControlMessage =
  | { type: 'heartbeat'; timestamp: string; seq: number }
  | { type: 'gap'; from_seq: number; to_seq: number; timestamp?: string }
  | { type: 'status'; stream_id?: string; [key: string]: unknown }
  | { type: 'error'; code: string; message: string; [key: string]: unknown };

export const ANALYTIC_ID_LIST: readonly AnalyticId[] = ['NFV4-FR', 'NFV4-LPR', 'NFV4-PC', 'NFV4-VC', 'NFV4-CE'];

export function isAnalyticId(value: unknown): value is AnalyticId {
  return typeof value === 'string' && (ANALYTIC_ID_LIST as readonly string[]).includes(value);
}

/** The key that carries the base64 crop: `jpeg` for NFV4-LPR, `image_jpeg` for the rest. */
export function cropKey(analyticId: AnalyticId): 'jpeg' | 'image_jpeg' {
  return analyticId === 'NFV4-LPR' ? 'jpeg' : 'image_jpeg';
}

type KeyType = 'string' | 'number' | 'int' | 'any';

const COMMON_PIPELINE: Record<string, KeyType> = { event_id: 'string', primary_text: 'string', secondary_text: 'string' };

/** Required `pipeline_data` keys and their types, per analytic (DESIGN.md section 5). */
export const PIPELINE_KEYS: Record<AnalyticId, Record<string, KeyType>> = {
  'NFV4-FR': { ...COMMON_PIPELINE, confidence_detection: 'number', 'face-id': 'int', similarity: 'number', status: 'any', variation: 'any' },
  'NFV4-LPR': {
    ...COMMON_PIPELINE,
    label: 'string',
    area_name: 'string',
    direction: 'string',
    confidence: 'number',
    plate_type: 'string',
    plate_number: 'string',
    plate_confidence: 'number',
  },
  'NFV4-VC': { ...COMMON_PIPELINE, area_name: 'string', confidence: 'number', label: 'string', direction: 'string', line: 'any' },
  'NFV4-PC': { ...COMMON_PIPELINE, area_name: 'string', confidence: 'number', label: 'string', direction: 'string', line: 'any' },
  'NFV4-CE': { ...COMMON_PIPELINE, area: 'any', estimation: 'number', interval: 'number' },
};

/** Optional FR keys present when the face is known. */
export const FR_KNOWN_KEYS = ['person_id', 'name', 'relationship'] as const;

function hasType(value: unknown, type: KeyType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'int':
      return Number.isInteger(value);
    case 'any':
      return value !== undefined;
  }
}

/**
 * Checks every schema key of an event (top level + per-analytic pipeline_data).
 * `requireCrop`: the crop key of the analytic must be present (default true).
 * Returns the list of problems; empty means valid.
 */
export function validateEvent(value: unknown, opts: { requireCrop?: boolean; requireSeq?: boolean } = {}): string[] {
  const errors: string[] = [];
  if (!value || typeof value !== 'object' || Array.isArray(value)) return ['event is not an object'];
  const e = value as Record<string, unknown>;
  if (!isAnalyticId(e.analytic_id)) return [`analytic_id ${JSON.stringify(e.analytic_id)} is not one of ${ANALYTIC_ID_LIST.join(', ')}`];
  const analytic = e.analytic_id;
  const key = cropKey(analytic);
  const wrongKey = key === 'jpeg' ? 'image_jpeg' : 'jpeg';
  if (opts.requireCrop !== false && (typeof e[key] !== 'string' || (e[key] as string).length === 0)) errors.push(`${key} (base64 crop) is missing`);
  if (e[key] !== undefined && typeof e[key] !== 'string') errors.push(`${key} must be a base64 string`);
  if (e[wrongKey] !== undefined) errors.push(`${analytic} carries its crop in ${key}, not ${wrongKey}`);
  if (!Number.isInteger(e.node_num)) errors.push('node_num must be an integer');
  if (typeof e.stream_id !== 'string' || e.stream_id === '') errors.push('stream_id must be a non-empty string');
  if (typeof e.stream_address !== 'string') errors.push('stream_address must be a string');
  else if (/:\/\/[^/@\s]*:[^/@\s*]+@/.test(e.stream_address) && !/:\/\/\*\*\*:\*\*\*@/.test(e.stream_address)) {
    errors.push('stream_address carries unmasked credentials');
  }
  if (typeof e.timestamp !== 'string' || !/^\d+$/.test(e.timestamp)) errors.push('timestamp must be Unix ms as a string of digits');
  if (opts.requireSeq && !Number.isInteger(e.seq)) errors.push('seq must be an integer');
  if (e.seq !== undefined && !Number.isInteger(e.seq)) errors.push('seq must be an integer');
  const pd = e.pipeline_data;
  if (!pd || typeof pd !== 'object' || Array.isArray(pd)) {
    errors.push('pipeline_data must be an object');
    return errors;
  }
  const data = pd as Record<string, unknown>;
  for (const [k, type] of Object.entries(PIPELINE_KEYS[analytic])) {
    if (!(k in data)) errors.push(`pipeline_data.${k} is missing`);
    else if (!hasType(data[k], type)) errors.push(`pipeline_data.${k} must be ${type === 'int' ? 'an integer' : `a ${type}`}`);
  }
  if (typeof data.event_id === 'string' && typeof e.timestamp === 'string' && !new RegExp(`^${e.timestamp}-[0-9a-f]{8}$`).test(data.event_id)) {
    errors.push('pipeline_data.event_id must be <timestamp>-<8 hex>');
  }
  return errors;
}

/** Type guard over validateEvent (crop not required). */
export function isVisionEvent(value: unknown): value is VisionEvent {
  return validateEvent(value, { requireCrop: false }).length === 0;
}

/** True for control messages (`type` key), false for events (`analytic_id`). */
export function isControlMessage(value: unknown): value is ControlMessage {
  return !!value && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string';
}
