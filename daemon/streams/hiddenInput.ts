import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Source } from './ffmpegArgs.js';

/** What ffmpeg is started with when the URL must not appear on its command line. */
export interface HiddenInput {
  /** The `-i` argument: the URL itself, or the path of a private ffconcat file naming it. */
  input: string;
  /** Input options for the command line (protocol options moved into the file). */
  inputArgs: string[];
  /** Removes the file (after ffmpeg exited); a no-op when nothing was written. */
  cleanup(): void;
}

/** Protocol options (name → takes a value) that must follow the URL into the ffconcat file. */
const PROTOCOL_OPTIONS = new Set(['-rtsp_transport', '-timeout', '-rw_timeout', '-stimeout', '-user_agent', '-headers', '-tls_verify']);

/** Protocols a hidden network URL may reach through the concat demuxer (and nothing local but the list file). */
const WHITELIST = 'file,rtsp,rtsps,rtmp,rtmps,srt,udp,tcp,tls,http,https,httpproxy,crypto,rtp';

/** Whether a URL carries credentials (user info, or a password-like query parameter). */
export function hasSecret(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username || u.password) return true;
  return [...u.searchParams.keys()].some((k) => /pass|pwd|secret|token|key|auth/i.test(k));
}

/**
 * Keeps camera credentials out of /proc/<pid>/cmdline, which every local user can read: ffmpeg
 * gets the path of an ffconcat file (mode 0600, in a 0700 directory) that names the URL, with the
 * protocol options as `option` lines (ffmpeg ≥ 5.0's concat demuxer passes them to the protocol).
 * URLs without credentials are passed as they are.
 */
export function hideCredentials(source: Source, inputArgs: string[], label: string, dir = tmpdir()): HiddenInput {
  if (source.kind === 'file' || !hasSecret(source.input)) return { input: source.input, inputArgs, cleanup: () => {} };
  const kept: string[] = [];
  const options: [string, string][] = [];
  for (let i = 0; i < inputArgs.length; i++) {
    const a = inputArgs[i]!;
    if (PROTOCOL_OPTIONS.has(a) && i + 1 < inputArgs.length) {
      options.push([a.slice(1), inputArgs[++i]!]);
    } else {
      kept.push(a);
    }
  }
  const folder = mkdtempSync(join(dir, 'vigil-src-')); // 0700
  const file = join(folder, `${label.replace(/[^A-Za-z0-9_.-]/g, '_')}.ffconcat`);
  const lines = ['ffconcat version 1.0', `file ${quote(source.input)}`, ...options.map(([k, v]) => `option ${k} ${quote(v)}`)];
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return {
    input: file,
    // -safe 0: the listed "file" is a URL, not a relative path.
    inputArgs: ['-f', 'concat', '-safe', '0', '-protocol_whitelist', WHITELIST, ...kept],
    cleanup: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** ffconcat quoting: inside single quotes, a quote is written '\''. */
function quote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}
