import type { ErrorCode } from '../errors.js';
import { maskUrl } from '../events/mask.js';
import type { SourceKind } from './ffmpegArgs.js';

/** How one ffmpeg run ended, as far as its supervisor saw it. */
export interface RunOutcome {
  /** The source kind and its URL/path (may hold credentials: never shown unmasked). */
  kind: SourceKind;
  url: string;
  /** ffmpeg's exit code (null when killed by a signal or never started). */
  exitCode: number | null;
  signal: string | null;
  /** The error of spawning ffmpeg itself (ENOENT, EACCES ...), if any. */
  spawnError?: NodeJS.ErrnoException;
  /** All stderr lines kept from this run. */
  stderr: string[];
  /** Whether the run delivered any frame. */
  hadFrames: boolean;
  /** File sources only: looping was on. */
  loop: boolean;
  /** How long the run lasted, and ffmpeg's socket timeout (-timeout/-rw_timeout): tell a silent server from garbage. */
  elapsedMs?: number;
  ioTimeoutMs?: number;
}

/** A classified failure: catalogue code plus one sentence (credentials masked). */
export interface Classified {
  code: ErrorCode;
  message: string;
  /** true: retrying cannot help until something outside changes (ffmpeg installed, URL fixed). */
  permanent: boolean;
}

interface Rule {
  test: RegExp;
  code: ErrorCode;
  /** The sentence after "<source>: ". */
  say: (m: RegExpExecArray) => string;
}

// Ordered: the first rule that matches any line wins (auth beats the generic errors that follow it).
const RULES: Rule[] = [
  { test: /\b401 Unauthorized\b|authorization failed/i, code: 'VIGIL_ERR_STREAM_AUTH', say: () => 'the camera refused the credentials (401 Unauthorized); check the user and password in the URL' },
  { test: /\b403 Forbidden\b/i, code: 'VIGIL_ERR_STREAM_AUTH', say: () => 'the camera refused access (403 Forbidden); check that this user may view the stream' },
  { test: /\b404 Not Found\b|\b454 Session Not Found\b/i, code: 'VIGIL_ERR_STREAM_NOT_FOUND', say: () => 'the server has no such stream (404 Not Found); check the path in the URL (see the camera\'s manual for its stream paths)' },
  { test: /No such file or directory/i, code: 'VIGIL_ERR_STREAM_NOT_FOUND', say: () => 'no such file; check the path' },
  { test: /Permission denied/i, code: 'VIGIL_ERR_STREAM_NOT_FOUND', say: () => 'the file cannot be read (permission denied); check its owner and mode' },
  { test: /Connection refused/i, code: 'VIGIL_ERR_STREAM_REFUSED', say: () => 'connection refused (nothing listens on that host and port); check the port and that the camera\'s streaming service is on' },
  { test: /No route to host|Network is unreachable|Host is unreachable/i, code: 'VIGIL_ERR_STREAM_UNREACHABLE', say: () => 'no route to the host; check the address and the network' },
  { test: /Failed to resolve hostname|Name or service not known|Temporary failure in name resolution|nodename nor servname/i, code: 'VIGIL_ERR_STREAM_UNREACHABLE', say: () => 'the host name cannot be resolved; check the name and DNS' },
  { test: /Connection to tcp:\/\/\S+ failed: (?:Connection|Operation) timed out/i, code: 'VIGIL_ERR_STREAM_UNREACHABLE', say: () => 'the camera does not answer connections (timed out); check that it is powered and reachable' },
  { test: /Connection timed out|Operation timed out|timed out/i, code: 'VIGIL_ERR_STREAM_SILENT', say: () => 'the camera accepted the connection, then sent nothing (timed out); it may be frozen or overloaded' },
  { test: /Connection reset by peer|End of file|Broken pipe/i, code: 'VIGIL_ERR_STREAM_UNREACHABLE', say: () => 'the camera closed the connection' },
  { test: /Server returned (5\d\d[^\r\n]*)/i, code: 'VIGIL_ERR_STREAM_UNREACHABLE', say: (m) => `the server failed (${m[1]!.trim()}); check the camera` },
  { test: /Protocol not found|Unknown input format|not on whitelist/i, code: 'VIGIL_ERR_STREAM_URL', say: () => 'ffmpeg does not support this kind of URL' },
  { test: /Unknown decoder|Decoder \S+ not found|Device creation failed|Failed setup for format|No device available for decoder|hwaccel initialisation returned error/i, code: 'VIGIL_ERR_STREAM_DECODE', say: (m) => `the decoder cannot start (${m[0]}); check the hwaccel setting and the camera's codec` },
  { test: /Could not find codec parameters|could not find codec|unsupported codec|no decoder found/i, code: 'VIGIL_ERR_STREAM_DECODE', say: () => 'the video codec cannot be decoded; set the camera to H.264 or H.265' },
  { test: /Invalid data found when processing input/i, code: 'VIGIL_ERR_STREAM_GARBAGE', say: () => 'the server sends data that is not a video stream; check that the URL and port point at the camera\'s stream' },
];

/** Lines that are only ffmpeg's chatter, never a cause. */
const NOISE = /^\s|^(Input|Output) #|^Stream mapping|^Press \[q\]|^frame=|^video:|^\[\w+ @ 0x[0-9a-f]+\] (?:max_analyze|Stream #)/;

/** The stream as a user may see it: URL with credentials masked. */
export function describeSource(kind: SourceKind, url: string): string {
  return kind === 'file' ? `File ${maskUrl(url)}` : `Stream ${maskUrl(url)}`;
}

/** Decides why an ffmpeg run ended. The cause is in stderr, not in fluent-ffmpeg's err.message. */
export function classifyOutcome(o: RunOutcome): Classified {
  const who = describeSource(o.kind, o.url);
  if (o.spawnError) {
    const e = o.spawnError;
    if (e.code === 'ENOENT' || /Cannot find ffmpeg/i.test(e.message)) {
      const where = e.path && e.path.includes('/') ? `ffmpeg was not found at ${e.path}` : 'ffmpeg is not installed or not on PATH';
      return { code: 'VIGIL_ERR_FFMPEG_MISSING', message: `${where} (install it, e.g. apt install ffmpeg, or set its path in the config).`, permanent: true };
    }
    if (e.code === 'EACCES') {
      return { code: 'VIGIL_ERR_FFMPEG_MISSING', message: 'ffmpeg cannot be executed (permission denied).', permanent: true };
    }
    return { code: 'VIGIL_ERR_INTERNAL', message: `ffmpeg could not be started: ${maskUrl(e.message)}.`, permanent: false };
  }
  const silent = silentServer(o);
  if (silent) return silent;
  const known = classifyStderr(o.kind, o.url, o.stderr);
  if (known) return known;
  if (o.exitCode === 0 && o.signal === null) {
    if (o.kind === 'file' && !o.loop) return { code: 'VIGIL_ERR_STREAM_ENDED', message: `${who}: the file ended (loop is off).`, permanent: true };
    // A live source never ends by itself: ffmpeg exits 0 when the server goes away.
    return { code: 'VIGIL_ERR_STREAM_ENDED', message: `${who}: the stream ended unexpectedly (the server closed it).`, permanent: false };
  }
  const last = lastMeaningfulLine(o.stderr);
  const how = o.signal ? `was killed by ${o.signal}` : `exited with code ${o.exitCode}`;
  // Decoder trouble leaves decode errors in stderr; a run that had frames and ended without any is a dropped connection.
  const decoding = o.stderr.some((l) => DECODE_ERRORS.test(l));
  return {
    code: decoding ? 'VIGIL_ERR_STREAM_DECODE' : 'VIGIL_ERR_STREAM_UNREACHABLE',
    message: `${who}: ffmpeg ${how}${last ? `: ${maskUrl(last)}` : ''}${decoding ? '; check the camera\'s codec settings and the hwaccel setting' : '; check the camera and the network'}.`,
    permanent: false,
  };
}

/** ffmpeg decoder complaints (h264/hevc slice and macroblock errors). */
const DECODE_ERRORS = /error while decoding|decode_slice_header error|concealing \d+ (?:DC|AC|MV) errors|Error while decoding stream|non-existing PPS|no frame!/i;

/**
 * An RTSP server that accepts the connection and never answers makes ffmpeg give up after its
 * socket timeout with "Invalid data found", the same words as for garbage: the time tells them
 * apart (garbage fails at once or keeps the socket busy; silence lasts the whole timeout).
 * A reply ffmpeg parsed ("CSeq 1 expected, 0 received": random bytes end a reply after a
 * random time, anywhere from a second to minutes) means the server did answer: garbage.
 */
function silentServer(o: RunOutcome): Classified | undefined {
  if (o.kind !== 'rtsp' || o.hadFrames || o.elapsedMs === undefined || o.ioTimeoutMs === undefined) return undefined;
  if (o.stderr.some((l) => /^Input #|CSeq \d+ expected, \d+ received/.test(l))) return undefined;
  if (!o.stderr.some((l) => /Invalid data found when processing input/i.test(l))) return undefined;
  if (o.elapsedMs < o.ioTimeoutMs * 0.8) return undefined;
  return {
    code: 'VIGIL_ERR_STREAM_SILENT',
    message: `${describeSource(o.kind, o.url)}: the camera accepted the connection but did not answer within ${Math.round(o.ioTimeoutMs / 1000)} s; it may be frozen or overloaded.`,
    permanent: false,
  };
}

/**
 * No first frame in time and nothing in stderr that names a cause: ffmpeg is connected (a silent
 * server would have hit its socket timeout first) but has not recognised a stream in what it reads.
 */
export function classifyStartTimeout(o: Omit<RunOutcome, 'exitCode' | 'signal'> & { startTimeoutS: number }): Classified {
  const who = describeSource(o.kind, o.url);
  const probed = o.stderr.some((l) => /^Input #/.test(l));
  const network = o.kind === 'rtsp' || o.kind === 'http';
  if (network && !probed && o.ioTimeoutMs !== undefined && o.ioTimeoutMs < o.startTimeoutS * 1000) {
    return { code: 'VIGIL_ERR_STREAM_GARBAGE', message: `${who}: the server keeps sending data but no video stream was recognised within ${o.startTimeoutS} s; check that the URL and port point at the camera's stream.`, permanent: false };
  }
  if (probed) {
    return { code: 'VIGIL_ERR_STREAM_SILENT', message: `${who}: connected, but no frame came within ${o.startTimeoutS} s; the camera may be frozen or send no video.`, permanent: false };
  }
  return { code: 'VIGIL_ERR_STREAM_UNREACHABLE', message: `${who}: no first frame within ${o.startTimeoutS} s of starting; check that the camera is powered and reachable.`, permanent: false };
}

/** Finds a known cause in ffmpeg's stderr lines (401, refused, no such file...); undefined if none. */
export function classifyStderr(kind: SourceKind, url: string, stderr: string[]): Classified | undefined {
  for (const rule of RULES) {
    for (const line of stderr) {
      const m = rule.test.exec(line);
      if (m) {
        const permanent = rule.code === 'VIGIL_ERR_STREAM_URL';
        return { code: rule.code, message: `${describeSource(kind, url)}: ${rule.say(m)}.`, permanent };
      }
    }
  }
  return undefined;
}

/** The newest stderr line that says something (not a header or a progress line). */
export function lastMeaningfulLine(lines: string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (l && !NOISE.test(lines[i]!)) return l.replace(/[.\s]+$/, '');
  }
  return undefined;
}

const OUTPUT_HEADER = /^Output #0\b/;
const RAW_STREAM = /Stream #0:\d+.*?: Video: rawvideo\b.*?, (\d{1,5})x(\d{1,5})\b/;

/** Tracks ffmpeg's stderr for the output header and yields the rawvideo frame size once. */
export class OutputSizeParser {
  private inOutput = false;
  size: { width: number; height: number } | undefined;

  /** Feeds one stderr line; returns the size the first time it is seen. */
  feed(line: string): { width: number; height: number } | undefined {
    if (this.size) return undefined;
    if (OUTPUT_HEADER.test(line)) this.inOutput = true;
    if (!this.inOutput) return undefined;
    const m = RAW_STREAM.exec(line);
    if (!m) return undefined;
    this.size = { width: Number(m[1]), height: Number(m[2]) };
    return this.size;
  }
}
