/**
 * Requests of the live image socket (`/ws/live`). A client may send JSON, a query
 * string, a bare stream id, or any other text (the FastAPI example clients send
 * whatever was typed): every field it leaves out comes from the socket URL's query.
 */

/** How a frame is sent: bare base64 JPEG text (FastAPI style), a `data:` URL, or JSON with metadata. */
export type LiveFormat = 'base64' | 'data_url' | 'json';

/** One viewer's wish. `fps` 0: one frame for this request; above 0: a steady push until the next request. */
export interface LiveRequest {
  stream: string | undefined;
  annotated: boolean;
  width: number | undefined;
  fps: number;
  format: LiveFormat;
}

export type LiveCommand = { kind: 'frame'; request: LiveRequest } | { kind: 'stop' } | { kind: 'list' };

export class LiveRequestError extends Error {
  constructor(readonly code: 'INVALID_MESSAGE', message: string) {
    super(message);
    this.name = 'LiveRequestError';
  }
}

const FORMATS: readonly LiveFormat[] = ['base64', 'data_url', 'json'];

function truthy(v: unknown): boolean {
  return v === true || v === 1 || (typeof v === 'string' && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase()));
}

function num(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new LiveRequestError('INVALID_MESSAGE', `"${field}" must be a number of at least 0.`);
  return n;
}

/** Fields of a request from a plain object (JSON message or query parameters), over `base`. */
export function requestFrom(o: Record<string, unknown>, base: LiveRequest): LiveRequest {
  const format = o.format ?? base.format;
  if (typeof format !== 'string' || !FORMATS.includes(format as LiveFormat)) {
    throw new LiveRequestError('INVALID_MESSAGE', `"format" must be one of ${FORMATS.join(', ')}.`);
  }
  const stream = o.stream ?? o.stream_id ?? base.stream;
  if (stream !== undefined && typeof stream !== 'string') throw new LiveRequestError('INVALID_MESSAGE', '"stream" must be a stream id.');
  const width = num(o.width, 'width');
  return {
    stream,
    annotated: o.annotated === undefined ? base.annotated : truthy(o.annotated),
    width: width === undefined ? base.width : Math.round(width),
    fps: num(o.fps ?? o.rate, 'fps') ?? base.fps,
    format: format as LiveFormat,
  };
}

/** The URL's defaults: `?stream=&annotated=&width=&fps=&format=`. */
export function requestFromQuery(query: URLSearchParams): LiveRequest {
  const o: Record<string, unknown> = {};
  for (const k of ['stream', 'annotated', 'width', 'fps', 'format']) if (query.has(k)) o[k] = query.get(k);
  return requestFrom(o, { stream: undefined, annotated: false, width: undefined, fps: 0, format: 'base64' });
}

/** Parses one text message; `isStream` tells a bare stream id from any other text. */
export function parseLiveMessage(text: string, base: LiveRequest, isStream: (id: string) => boolean): LiveCommand {
  const t = text.trim();
  if (t === 'stop') return { kind: 'stop' };
  if (t === 'list') return { kind: 'list' };
  if (t.startsWith('{')) {
    let o: unknown;
    try {
      o = JSON.parse(t);
    } catch {
      throw new LiveRequestError('INVALID_MESSAGE', 'The message is not valid JSON.');
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new LiveRequestError('INVALID_MESSAGE', 'The message must be a JSON object.');
    const m = o as Record<string, unknown>;
    if (m.action === 'stop' || m.type === 'stop') return { kind: 'stop' };
    if (m.action === 'list' || m.type === 'list') return { kind: 'list' };
    return { kind: 'frame', request: requestFrom(m, base) };
  }
  if (/^[\w.-]+=/.test(t)) return { kind: 'frame', request: requestFrom(Object.fromEntries(new URLSearchParams(t)), base) };
  if (t && isStream(t)) return { kind: 'frame', request: { ...base, stream: t } };
  return { kind: 'frame', request: base };
}
