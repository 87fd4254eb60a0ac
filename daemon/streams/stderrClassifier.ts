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
  { test: /\b403 Forbidden\b/i, code: 'VIGIL_ERR_STREAM_AUTH', say: () => 'the camera refused access (403 Forbidden)' },
  { test: /\b404 Not Found\b/i, code: 'VIGIL_ERR_STREAM_NOT_FOUND', say: () => 'the server has no such stream (404 Not Found); check the path in the URL' },
  { test: /No such file or directory/i, code: 'VIGIL_ERR_STREAM_NOT_FOUND', say: () => 'no such file' },
  { test: /Permission denied/i, code: 'VIGIL_ERR_STREAM_NOT_FOUND', say: () => 'the file cannot be read (permission denied)' },
  { test: /Connection refused/i, code: 'VIGIL_ERR_STREAM_UNREACHABLE', say: () => 'connection refused (nothing listens on that host and port)' },
  { test: /No route to host|Network is unreachable|Host is unreachable/i, code: 'VIGIL_ERR_STREAM_UNREACHABLE', say: () => 'no route to the host' },
  { test: /Failed to resolve hostname|Name or service not known|Temporary failure in name resolution|nodename nor servname/i, code: 'VIGIL_ERR_STREAM_UNREACHABLE', say: () => 'the host name cannot be resolved' },
  { test: /Connection timed out|Operation timed out|timed out/i, code: 'VIGIL_ERR_STREAM_UNREACHABLE', say: () => 'the connection timed out' },
  { test: /Connection reset by peer|End of file|Broken pipe/i, code: 'VIGIL_ERR_STREAM_UNREACHABLE', say: () => 'the camera closed the connection' },
  { test: /Server returned (5\d\d[^\r\n]*)/i, code: 'VIGIL_ERR_STREAM_UNREACHABLE', say: (m) => `the server failed (${m[1]!.trim()})` },
  { test: /Protocol not found|Unknown input format/i, code: 'VIGIL_ERR_STREAM_URL', say: () => 'ffmpeg does not support this kind of URL' },
  { test: /Invalid data found when processing input|Could not find codec parameters|could not find codec/i, code: 'VIGIL_ERR_STREAM_DECODE', say: () => 'the data is not a video ffmpeg can decode' },
  { test: /Unknown decoder|Decoder \S+ not found|Device creation failed|Failed setup for format|No device available for decoder/i, code: 'VIGIL_ERR_STREAM_DECODE', say: (m) => `the decoder cannot start (${m[0]}); check the hwaccel setting` },
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
  const known = classifyStderr(o.kind, o.url, o.stderr);
  if (known) return known;
  if (o.exitCode === 0 && o.signal === null) {
    if (o.kind === 'file' && !o.loop) return { code: 'VIGIL_ERR_STREAM_ENDED', message: `${who}: the file ended (loop is off).`, permanent: true };
    // A live source never ends by itself: ffmpeg exits 0 when the server goes away.
    return { code: 'VIGIL_ERR_STREAM_ENDED', message: `${who}: the stream ended unexpectedly (the server closed it).`, permanent: false };
  }
  const last = lastMeaningfulLine(o.stderr);
  const how = o.signal ? `was killed by ${o.signal}` : `exited with code ${o.exitCode}`;
  return {
    code: o.hadFrames ? 'VIGIL_ERR_STREAM_DECODE' : 'VIGIL_ERR_STREAM_UNREACHABLE',
    message: `${who}: ffmpeg ${how}${last ? `: ${maskUrl(last)}` : ''}.`,
    permanent: false,
  };
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
