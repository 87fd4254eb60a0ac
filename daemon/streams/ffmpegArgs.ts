import { fileURLToPath } from 'node:url';
import { VigilError } from '../errors.js';
import { maskUrl } from '../events/mask.js';
import type { HwAccel, StreamConfig } from './types.js';

/** What kind of source a URL names: decides which ffmpeg options apply. */
export type SourceKind = 'rtsp' | 'http' | 'file' | 'other';

const NETWORK_SCHEMES: Record<string, SourceKind> = {
  'rtsp:': 'rtsp',
  'rtsps:': 'rtsp',
  'http:': 'http',
  'https:': 'http',
  'rtmp:': 'other',
  'rtmps:': 'other',
  'udp:': 'other',
  'srt:': 'other',
};

/** The parsed source: its kind and the input string ffmpeg gets. */
export interface Source {
  kind: SourceKind;
  input: string;
}

/** Parses a stream URL or path; throws VIGIL_ERR_STREAM_URL (credentials masked) when it is not usable. */
export function parseSource(url: string): Source {
  const trimmed = url.trim();
  const bad = (why: string): never => {
    throw new VigilError('VIGIL_ERR_STREAM_URL', `The stream URL "${maskUrl(trimmed)}" is not valid: ${why}.`);
  };
  if (trimmed === '') bad('it is empty');
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'file', input: trimmed }; // a plain path
  if (scheme === 'file:') {
    try {
      return { kind: 'file', input: fileURLToPath(trimmed) };
    } catch {
      return bad('not a valid file:// URL');
    }
  }
  const kind = NETWORK_SCHEMES[scheme];
  if (kind === undefined) return bad(`the scheme ${scheme.slice(0, -1)} is not supported (use rtsp, http, rtmp, udp, srt, file or a path)`);
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return bad('it cannot be parsed');
  }
  if (parsed.hostname === '') bad('it has no host');
  return { kind, input: trimmed };
}

/** Checks the numbers and enums of a stream config; throws VIGIL_ERR_CONFIG naming the field. */
export function validateStreamConfig(cfg: StreamConfig): void {
  const bad = (field: string, why: string): never => {
    throw new VigilError('VIGIL_ERR_CONFIG', `Stream "${cfg.id}": ${field} ${why}.`);
  };
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(cfg.id)) bad('id', 'must be 1-64 letters, digits, "_", "." or "-"');
  if (!(cfg.fps > 0 && cfg.fps <= 120)) bad('fps', 'must be above 0 and at most 120');
  if (cfg.transport !== 'tcp' && cfg.transport !== 'udp') bad('transport', 'must be tcp or udp');
  if (!['none', 'cuda', 'jetson', 'vaapi'].includes(cfg.hwaccel)) bad('hwaccel', 'must be none, cuda, jetson or vaapi');
  if (cfg.maxWidth !== undefined && !(Number.isInteger(cfg.maxWidth) && cfg.maxWidth >= 16)) bad('maxWidth', 'must be an integer of at least 16');
  if (!(cfg.stallTimeoutS >= 1)) bad('stallTimeoutS', 'must be at least 1');
  if (!(cfg.startTimeoutS >= 1)) bad('startTimeoutS', 'must be at least 1');
  if (!(cfg.backoff.initialMs >= 10 && cfg.backoff.maxMs >= cfg.backoff.initialMs)) {
    bad('backoff', 'needs initialMs of at least 10 and maxMs not below initialMs');
  }
  parseSource(cfg.url);
}

/** Decoder options per hardware preset; frames come back to system memory for the rawvideo pipe. */
export function hwaccelArgs(hw: HwAccel, device?: string): string[] {
  switch (hw) {
    case 'cuda': // NVDEC
      return ['-hwaccel', 'cuda', ...(device ? ['-hwaccel_device', device] : [])];
    case 'vaapi':
      return ['-hwaccel', 'vaapi', '-hwaccel_device', device ?? '/dev/dri/renderD128'];
    case 'jetson':
      // Jetson ffmpeg builds expose the NVDEC engine as a decoder (jetson-ffmpeg: h264_nvmpi).
      // H.265 cameras: set inputArgs ['-c:v', 'hevc_nvmpi'] instead.
      return ['-c:v', 'h264_nvmpi'];
    case 'none':
      return [];
  }
}

/**
 * Highest sampling rate at which non-reference frames are skipped: even with three non-reference
 * B-frames between references, a 25 fps camera keeps 6.25 reference frames a second.
 */
const REFS_ONLY_MAX_FPS = 6;

/** ffmpeg input options (before -i) for a stream. */
export function inputArgs(cfg: StreamConfig, source: Source = parseSource(cfg.url)): string[] {
  const args: string[] = [];
  // Socket I/O timeout in µs: a frozen server otherwise hangs ffmpeg forever (ffmpeg >= 5).
  const timeoutUs = String(Math.round(cfg.stallTimeoutS * 1e6));
  if (source.kind === 'rtsp') args.push('-rtsp_transport', cfg.transport, '-timeout', timeoutUs);
  if (source.kind === 'http') args.push('-rw_timeout', timeoutUs);
  if (source.kind === 'file') {
    if (cfg.realtime) args.push('-re');
    if (cfg.loop) args.push('-stream_loop', '-1');
  }
  // Slice threads only: a frame-threaded decoder (ffmpeg's default) holds back a frame per
  // extra thread, ~60 ms at 30 fps measured on 2 cores, more where there are more cores.
  // 1080p H.264 decoded at ~70 fps on one core of that box. `input_args` can set `-thread_type frame`.
  args.push('-thread_type', 'slice');
  if (cfg.keyframesOnly) args.push('-skip_frame', 'nokey');
  // Sampling at most REFS_ONLY_MAX_FPS, frames no other frame refers to (most B-frames) are never
  // needed: not decoding them leaves every other frame bit-identical (checked on the street clip:
  // 364 of 692 frames decoded, 30 % less decode CPU). Cameras without B-frames are unaffected.
  else if (cfg.fps <= REFS_ONLY_MAX_FPS) args.push('-skip_frame', 'noref');
  args.push(...hwaccelArgs(cfg.hwaccel, cfg.hwaccelDevice));
  args.push(...(cfg.inputArgs ?? []));
  return args;
}

/** The -vf chain: sample to the analytics fps, then downscale (cheaper on fewer frames). */
export function videoFilter(cfg: StreamConfig): string {
  const filters: string[] = [];
  if (cfg.keyframesOnly) {
    // The fps filter would duplicate sparse keyframes to fill the rate; select only caps it.
    filters.push(`select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,${1 / cfg.fps})'`);
  } else {
    filters.push(`fps=${cfg.fps}`);
  }
  if (cfg.maxWidth !== undefined) filters.push(`scale=w='min(iw,${cfg.maxWidth})':h=-2`);
  return filters.join(',');
}

/** ffmpeg output options: raw rgb24 frames on stdout, video only. */
export function outputArgs(cfg: StreamConfig): string[] {
  return [
    '-an', '-sn', '-dn',
    '-vf', videoFilter(cfg),
    ...(cfg.keyframesOnly ? ['-vsync', 'vfr'] : []),
    '-pix_fmt', 'rgb24',
    '-f', 'rawvideo',
  ];
}

/** Global options: no banner, no progress lines (they would flood the kept stderr lines). */
export const GLOBAL_ARGS = ['-hide_banner', '-nostats', '-loglevel', 'info'];
