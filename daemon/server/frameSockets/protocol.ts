import type { ErrorCode } from '../../errors.js';

/**
 * Wire formats of the frame sockets (DESIGN.md section 6): parsing client text
 * messages and shaping replies. Pure functions, no sockets: easy to reason about.
 */

/** Error codes a frame-socket client can see in `{"type":"error","code",...}`. */
export type FrameErrorCode =
  | 'INVALID_MESSAGE' // not JSON, not an object, or a field of the wrong type
  | 'UNKNOWN_ACTION' // a JSON message this socket does not understand
  | 'INVALID_FRAME' // bytes that are not a decodable image (garbage, truncated, bad base64)
  | 'FRAME_TOO_LARGE'
  | 'FILE_SIZE_MISMATCH' // the binary after start_frame is not fileSize bytes
  | 'EXPECTED_BINARY' // a text message where the announced binary frame was due
  | 'EXPECTED_START_FRAME' // a binary frame on /ws/<analytic> without its start_frame
  | 'FRAME_SKIPPED' // the connection's queue was full: this frame was not analysed
  | 'INVALID_MODE' // set_mode with a mode other than all/latest
  | 'INVALID_BATCH_SIZE'
  | 'RATE_LIMITED'
  | 'UNAUTHORIZED'
  | 'SERVER_BUSY' // the shared inference queue dropped the frame (streams and sockets compete)
  | 'PROCESSING_ERROR';

/** One error reply; `skipped: true` when the frame was refused but the connection goes on. */
export interface FrameErrorReply {
  type: 'error';
  code: FrameErrorCode;
  message: string;
  frame_index?: number;
  skipped?: true;
}

/** Codes that mean "this frame was not analysed, send on": never a reason to close a connection. */
export const SKIP_CODES: ReadonlySet<FrameErrorCode> = new Set(['FRAME_SKIPPED', 'RATE_LIMITED', 'SERVER_BUSY']);

/**
 * REST counterpart of each socket code (the README error table is written from this).
 * The REST twins answer `{"error":{"code":"VIGIL_ERR_..."}}`; the sockets keep their protocols' short codes.
 */
export const REST_CODE: Record<FrameErrorCode, ErrorCode> = {
  INVALID_MESSAGE: 'VIGIL_ERR_BAD_REQUEST',
  UNKNOWN_ACTION: 'VIGIL_ERR_BAD_REQUEST',
  INVALID_FRAME: 'VIGIL_ERR_INVALID_IMAGE',
  FRAME_TOO_LARGE: 'VIGIL_ERR_BODY_TOO_LARGE',
  FILE_SIZE_MISMATCH: 'VIGIL_ERR_BAD_REQUEST',
  EXPECTED_BINARY: 'VIGIL_ERR_BAD_REQUEST',
  EXPECTED_START_FRAME: 'VIGIL_ERR_BAD_REQUEST',
  FRAME_SKIPPED: 'VIGIL_ERR_INFERENCE_DROPPED',
  INVALID_MODE: 'VIGIL_ERR_BAD_REQUEST',
  INVALID_BATCH_SIZE: 'VIGIL_ERR_BAD_REQUEST',
  RATE_LIMITED: 'VIGIL_ERR_RATE_LIMITED',
  UNAUTHORIZED: 'VIGIL_ERR_UNAUTHORIZED',
  SERVER_BUSY: 'VIGIL_ERR_INFERENCE_DROPPED',
  PROCESSING_ERROR: 'VIGIL_ERR_INTERNAL',
};

/**
 * Close code of a failure on a socket whose protocol says a failure breaks the connection
 * (`/ws/<analytic>`): 1009 too big, 1011 server error, 4002 a broken protocol, 4003 no image.
 */
export function closeCodeFor(code: FrameErrorCode): number {
  switch (code) {
    case 'FRAME_TOO_LARGE':
      return 1009;
    case 'PROCESSING_ERROR':
      return 1011;
    case 'INVALID_FRAME':
      return 4003;
    default:
      return 4002;
  }
}

/** A close reason: `CODE: message`, cut to the 123 bytes a close frame allows. */
export function closeReason(code: string, message: string): string {
  let r = `${code}: ${message}`;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

export class FrameProtocolError extends Error {
  constructor(readonly code: FrameErrorCode, message: string) {
    super(message);
    this.name = 'FrameProtocolError';
  }
}

/** Builds an error reply (the JSON text a socket sends). */
export function errorReply(code: FrameErrorCode, message: string, frameIndex?: number): string {
  return JSON.stringify(errorObject(code, message, frameIndex));
}

/** The error reply as an object (a batch list holds these beside results). */
export function errorObject(code: FrameErrorCode, message: string, frameIndex?: number): FrameErrorReply {
  const r: FrameErrorReply = { type: 'error', code, message };
  if (frameIndex !== undefined) r.frame_index = frameIndex;
  if (SKIP_CODES.has(code)) r.skipped = true;
  return r;
}

/** How a connection treats frames it cannot analyse in time. */
export type FrameMode = 'all' | 'latest';

/** Parses a mode name (`all`: one reply per frame, the default; `latest`: newest frame wins). */
export function parseMode(v: unknown): FrameMode {
  if (v === 'all' || v === 'latest') return v;
  if (v === 'newest') return 'latest';
  throw new FrameProtocolError('INVALID_MODE', '"mode" must be "all" (one reply per frame) or "latest" (newest frame wins).');
}

/** Client messages of `/ws/<analytic>` (besides binary frames). */
export type AnalyticClientMessage =
  | { action: 'start_frame'; fileSize: number; syncId?: string | number }
  | { action: 'set_batch_size'; batchSize: number }
  | { action: 'set_mode'; mode: FrameMode }
  | { action: 'set_database' }
  | { action: 'ping' };

/** Client messages of `/ws/identify`. */
export type IdentifyClientMessage = { type: 'frame'; data: Buffer } | { type: 'set_mode'; mode: FrameMode } | { type: 'pong' } | { type: 'ping' };

function parseObject(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new FrameProtocolError('INVALID_MESSAGE', 'The message is not valid JSON.');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new FrameProtocolError('INVALID_MESSAGE', 'The message must be a JSON object.');
  }
  return v as Record<string, unknown>;
}

/** Parses a text message of `/ws/<analytic>`; throws FrameProtocolError. */
export function parseAnalyticMessage(text: string, limits: { maxFrameBytes: number; maxBatchSize: number }): AnalyticClientMessage {
  const m = parseObject(text);
  const action = m.action ?? m.type;
  if (typeof action !== 'string') throw new FrameProtocolError('INVALID_MESSAGE', 'The message has no "action".');
  switch (action) {
    case 'start_frame': {
      const n = m.fileSize ?? m.file_size;
      if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) {
        throw new FrameProtocolError('INVALID_MESSAGE', '"fileSize" must be a positive integer (bytes of the frame that follows).');
      }
      const sync = m.syncId ?? m.sync_id;
      return typeof sync === 'string' || typeof sync === 'number' ? { action, fileSize: n, syncId: sync } : { action, fileSize: n };
    }
    case 'set_mode':
      return { action, mode: parseMode(m.mode) };
    case 'set_database':
      // Sent by the protocol's SDK right after connecting; the gallery here is the daemon's own.
      return { action };
    case 'set_batch_size': {
      const k = m.batch_size ?? m.batchSize;
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > limits.maxBatchSize) {
        throw new FrameProtocolError('INVALID_BATCH_SIZE', `"batch_size" must be an integer from 1 to ${limits.maxBatchSize}.`);
      }
      return { action, batchSize: k };
    }
    case 'ping':
      return { action: 'ping' };
    default:
      throw new FrameProtocolError('UNKNOWN_ACTION', `Unknown action "${action.slice(0, 40)}": use start_frame, set_batch_size or set_mode.`);
  }
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Decodes a base64 frame (standard or URL alphabet, `data:image/...;base64,` prefix
 * tolerated), refusing it by its length before decoding anything.
 */
export function decodeBase64Frame(data: unknown, maxFrameBytes: number): Buffer {
  if (typeof data !== 'string' || data.length === 0) {
    throw new FrameProtocolError('INVALID_FRAME', '"data" must be a non-empty base64 string.');
  }
  let b64 = data;
  if (b64.startsWith('data:')) {
    const comma = b64.indexOf(',');
    if (comma < 0 || !b64.slice(0, comma).endsWith(';base64')) {
      throw new FrameProtocolError('INVALID_FRAME', 'A data: URL frame must be base64 encoded.');
    }
    b64 = b64.slice(comma + 1);
  }
  // Some clients wrap lines; whitespace is legal in base64 but not in our regexp.
  if (/\s/.test(b64)) b64 = b64.replace(/\s+/g, '');
  const bytes = Math.floor((b64.length * 3) / 4) - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);
  if (bytes > maxFrameBytes) {
    throw new FrameProtocolError('FRAME_TOO_LARGE', `The frame is ${bytes} bytes; the limit is ${maxFrameBytes}.`);
  }
  if (!BASE64.test(b64) || b64.length % 4 === 1) throw new FrameProtocolError('INVALID_FRAME', '"data" is not valid base64.');
  const buf = Buffer.from(b64, 'base64');
  if (buf.length === 0) throw new FrameProtocolError('INVALID_FRAME', '"data" decodes to no bytes.');
  return buf;
}

/** Parses a text message of `/ws/identify`; throws FrameProtocolError. */
export function parseIdentifyMessage(text: string, maxFrameBytes: number): IdentifyClientMessage {
  const m = parseObject(text);
  const type = m.type;
  if (typeof type !== 'string') throw new FrameProtocolError('INVALID_MESSAGE', 'The message has no "type".');
  switch (type) {
    case 'frame':
      return { type, data: decodeBase64Frame(m.data, maxFrameBytes) };
    case 'set_mode':
      return { type, mode: parseMode(m.mode) };
    case 'pong':
    case 'ping':
      return { type };
    default:
      throw new FrameProtocolError('UNKNOWN_ACTION', `Unknown message type "${type.slice(0, 40)}": use frame or pong.`);
  }
}

/** Milliseconds rounded to 0.1, as `server_processing_time`. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}
