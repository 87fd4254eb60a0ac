import type { ErrorCode } from '../errors.js';

/** Hardware-decode presets passed through to ffmpeg (see ffmpegArgs.ts). */
export type HwAccel = 'none' | 'cuda' | 'jetson' | 'vaapi';

/** One camera or file, as config describes it. */
export interface StreamConfig {
  /** Unique id (used in events as stream_id). */
  id: string;
  /** rtsp://, rtsps://, http(s):// (MJPEG, HLS...), rtmp://, udp://, file:// or a plain file path. May hold user:pass@. */
  url: string;
  /** RTSP lower transport. */
  transport: 'tcp' | 'udp';
  /** Analytics frame rate: frames per second delivered to onFrame. */
  fps: number;
  enabled: boolean;
  /** File sources: loop forever (true) or play once (false). Ignored for network sources. */
  loop: boolean;
  /** File sources: read at native speed (-re) like a camera; false reads as fast as decoding allows. */
  realtime: boolean;
  /** Decode only keyframes (-skip_frame nokey): much cheaper when a low fps is enough; delivers at most `fps`. */
  keyframesOnly: boolean;
  hwaccel: HwAccel;
  /** VAAPI render node or CUDA device index (optional). */
  hwaccelDevice?: string;
  /** Downscale to at most this width, keeping the aspect ratio. */
  maxWidth?: number;
  /** No frame for this long while running → stalled, kill and reconnect. */
  stallTimeoutS: number;
  /** No first frame for this long after a start → treated as a failed connect. */
  startTimeoutS: number;
  /** Reconnect delays: exponential from initialMs, capped at maxMs, with ±20 % jitter; reset once a run's frames have kept coming for stallTimeoutS. */
  backoff: { initialMs: number; maxMs: number };
  /** Extra ffmpeg input options, placed before -i (escape hatch for odd cameras). */
  inputArgs?: string[];
}

/** The fields a caller must give; the rest default (see STREAM_DEFAULTS). */
export type StreamConfigInput = Pick<StreamConfig, 'id' | 'url'> & Partial<Omit<StreamConfig, 'id' | 'url'>>;

/** Defaults for every optional StreamConfig field. */
export const STREAM_DEFAULTS: Omit<StreamConfig, 'id' | 'url'> = {
  transport: 'tcp',
  fps: 5,
  enabled: true,
  loop: true,
  realtime: true,
  keyframesOnly: false,
  hwaccel: 'none',
  stallTimeoutS: 10,
  startTimeoutS: 20,
  backoff: { initialMs: 1000, maxMs: 30_000 },
};

/** Fills defaults; does not validate (see validateStreamConfig in ffmpegArgs.ts). */
export function withStreamDefaults(input: StreamConfigInput): StreamConfig {
  return {
    ...STREAM_DEFAULTS,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    backoff: { ...STREAM_DEFAULTS.backoff, ...(input.backoff ?? {}) },
  } as StreamConfig;
}

/**
 * starting: ffmpeg launched, no frame yet · running: frames flowing · stalled: no frame for
 * stallTimeoutS, being killed · backoff: waiting before the next attempt · failed: will not retry
 * by itself (ffmpeg missing, bad URL, a non-looping file ended) · disabled: switched off.
 */
export type StreamState = 'starting' | 'running' | 'stalled' | 'backoff' | 'failed' | 'disabled';

/** The last error a stream met, as a user sees it. */
export interface StreamError {
  code: ErrorCode;
  /** One sentence, credentials masked. */
  message: string;
  /** Unix ms. */
  at: number;
}

/** A stream's health snapshot: published on every state change and by list(). */
export interface StreamHealth {
  id: string;
  /** The URL with credentials masked. */
  url: string;
  state: StreamState;
  /** Unix ms of the last state change. */
  since: number;
  /** Measured delivered frames per second over the last few seconds. */
  fps: number;
  /** Frames delivered since the stream was added. */
  frames: number;
  /** Restarts after the first start (drops, stalls, failed connects). */
  reconnects: number;
  width?: number;
  height?: number;
  /** Unix ms of the next attempt while in backoff. */
  nextRetryAt?: number;
  lastError?: StreamError;
  /** ffmpeg's last stderr lines (credentials masked), newest last. */
  stderr: string[];
}
