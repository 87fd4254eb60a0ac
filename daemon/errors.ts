/** The one error catalogue: every error a user can see carries one of these codes. */
export const ERRORS = {
  VIGIL_ERR_CONFIG: 'The configuration is invalid.',
  VIGIL_ERR_CONFIG_READ: 'The configuration file cannot be read.',
  VIGIL_ERR_DATA_DIR: 'The data directory is missing or not writable.',
  VIGIL_ERR_DB_OPEN: 'The event database cannot be opened.',
  VIGIL_ERR_DB_LOCKED: 'The event database is locked by another process.',
  VIGIL_ERR_DISK_FULL: 'The disk is full: events are published but not stored until space is freed.',
  VIGIL_ERR_PORT_IN_USE: 'The server port is already in use.',
  VIGIL_ERR_FFMPEG_MISSING: 'ffmpeg is not installed or not on PATH.',
  VIGIL_ERR_STREAM_UNREACHABLE: 'The camera cannot be reached: check that it is powered, its address, and the network between.',
  VIGIL_ERR_STREAM_REFUSED: 'The camera refused the connection: check the port in the URL and that its streaming service is on.',
  VIGIL_ERR_STREAM_SILENT: 'The camera accepted the connection but sends no video: check that it is not frozen or overloaded; rebooting it often helps.',
  VIGIL_ERR_STREAM_GARBAGE: 'The server sends data that is not a video stream: check that the URL points at the camera\'s stream and the port speaks that protocol.',
  VIGIL_ERR_STREAM_AUTH: 'The camera refused the credentials (wrong user or password).',
  VIGIL_ERR_STREAM_NOT_FOUND: 'The stream source does not exist.',
  VIGIL_ERR_STREAM_STALLED: 'The stream stopped delivering frames.',
  VIGIL_ERR_STREAM_ENDED: 'The stream ended.',
  VIGIL_ERR_STREAM_DECODE: 'ffmpeg cannot decode the video: check the camera\'s codec settings (H.264/H.265) and the hwaccel setting.',
  VIGIL_ERR_STREAM_SOURCE_POLICY: 'This kind of stream source is not allowed here: see the sources section of the config.',
  VIGIL_ERR_STREAM_EXISTS: 'A stream with this id already exists.',
  VIGIL_ERR_STREAM_UNKNOWN: 'No stream with this id.',
  VIGIL_ERR_STREAM_CONFIG_OWNED: 'This stream is defined in the config file: change it there and reload.',
  VIGIL_ERR_STREAM_URL: 'The stream URL is not valid.',
  VIGIL_ERR_MODEL_MISSING: 'The model file is missing and could not be fetched.',
  VIGIL_ERR_MODEL_HASH: 'The model file does not match its pinned sha256.',
  VIGIL_ERR_MODEL_SHAPE: 'The model inputs or outputs do not match its family.',
  VIGIL_ERR_MODEL_UNKNOWN: 'No model of this name in the manifest.',
  VIGIL_ERR_MODEL_LOAD: 'The model could not be loaded by onnxruntime.',
  VIGIL_ERR_ANALYTIC_UNKNOWN: 'No analytic of this name.',
  VIGIL_ERR_UNAUTHORIZED: 'The token is missing or not valid.',
  VIGIL_ERR_BAD_REQUEST: 'The request is not valid.',
  VIGIL_ERR_NOT_FOUND: 'Nothing found at this address.',
  VIGIL_ERR_DAEMON_DOWN: 'The daemon is not running or not reachable.',
  VIGIL_ERR_INVALID_IMAGE: 'The image cannot be decoded.',
  VIGIL_ERR_FACE_COUNT: 'The photo must show exactly one face.',
  VIGIL_ERR_FACE_QUALITY: 'The face is too small, blurred or turned away.',
  VIGIL_ERR_INTERNAL: 'An internal error occurred.',
  VIGIL_ERR_INFERENCE_DROPPED: 'The frame was dropped: inference could not keep up.',
  VIGIL_ERR_INFERENCE_STOPPED: 'The inference engine is stopped.',
  VIGIL_ERR_MODEL_FETCH: 'The model could not be downloaded.',
  VIGIL_ERR_DB_WRITE: 'The event database refused a write.',
  VIGIL_ERR_BODY_TOO_LARGE: 'The request body is larger than this route accepts.',
  VIGIL_ERR_RATE_LIMITED: 'Too many frames or connections for this token; slow down.',
  VIGIL_ERR_METHOD_NOT_ALLOWED: 'This address does not accept this HTTP method.',
  VIGIL_ERR_TOO_MANY_SUBSCRIBERS: 'Too many event-socket subscribers: close some or raise server.events.max_subscribers.',
  VIGIL_ERR_RELOAD_REFUSED: 'The reloaded config was refused: the running config stays.',
  VIGIL_ERR_EXAMPLE_TOKEN: 'A token is one of the example tokens from the documentation: set your own.',
  VIGIL_ERR_SLOW_CONSUMER: 'The subscriber fell too far behind the event stream; reconnect with since=<last seq>.',
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** An error a user may see: a catalogue code plus a sentence with the specifics. */
export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERRORS[code]);
    this.name = 'VigilError';
    this.code = code;
    this.details = details;
  }
  /** One line for a terminal or a log: `VIGIL_ERR_X: sentence`. */
  line(): string {
    return `${this.code}: ${this.message}`;
  }
  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isVigilError(err: unknown): err is VigilError {
  return err instanceof VigilError;
}

/** A frame a model's queue dropped because the model cannot keep up: a skipped frame, not a fault. */
export function isInferenceDropped(err: unknown): boolean {
  return err instanceof VigilError && err.code === 'VIGIL_ERR_INFERENCE_DROPPED';
}

/** Wraps anything thrown into a VigilError, keeping an existing code. */
export function toVigilError(err: unknown, fallback: ErrorCode = 'VIGIL_ERR_INTERNAL'): VigilError {
  if (err instanceof VigilError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new VigilError(fallback, message);
}
