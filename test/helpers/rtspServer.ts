import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from './paths.js';
import { reapOnExit } from './reaper.js';

/** What the test RTSP server serves on every mount. */
export type RtspSource = { file: string } | { pattern: string; width?: number; height?: number; fps?: number };

export interface RtspServerOptions {
  source: RtspSource;
  /** Mount paths (default ['/stream']). */
  mounts?: string[];
  /** Basic auth: players must present these. */
  user?: string;
  password?: string;
  /** TCP port; default: a free one picked by the server (kept across restart()). */
  port?: number;
}

/** A running test RTSP server (scripts/rtsp-test-server.py) and the faults a test can inject. */
export interface RtspServer {
  readonly port: number;
  /** The server process (benches leave its CPU out of the product's: it is the camera). */
  readonly pid: number | undefined;
  /** rtsp://[user:pass@]127.0.0.1:port/mount; credentials default to the server's own, `false` leaves them out. */
  url(mount?: string, auth?: { user: string; password: string } | false): string;
  /** SIGKILL the server and its publishers: players see the connection drop. */
  kill(): Promise<void>;
  /** SIGSTOP the server: connections stay open but nothing moves. */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  /**
   * SIGSTOP the publishers behind a file source: the server keeps every session (RTCP still
   * flows) but no frame arrives, as when the camera behind a relay stops. Needs a `file` source.
   */
  pausePublishers(): void;
  /** SIGCONT after pausePublishers(). */
  resumePublishers(): void;
  /** Kill (if running) and start again on the same port; resolves when it listens. */
  restart(): Promise<void>;
  /** Stop for good (idempotent). Also registered with t.after when a test context is given. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface TestContextLike {
  after(fn: () => unknown): void;
}

const SCRIPT = resolve(ROOT, 'scripts/rtsp-test-server.py');
// GStreamer's Python bindings live in the system python; a pyenv python lacks `gi`.
const PYTHON = process.env.VIGIL_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const READY_TIMEOUT_MS = 90_000;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => child.once('exit', () => res()));
}

function launch(opts: RtspServerOptions, port: number): Promise<{ child: ChildProcess; port: number }> {
  const args = [SCRIPT, '--port', String(port)];
  if ('file' in opts.source) args.push('--file', opts.source.file);
  else {
    args.push('--pattern', opts.source.pattern);
    if (opts.source.width) args.push('--width', String(opts.source.width));
    if (opts.source.height) args.push('--height', String(opts.source.height));
    if (opts.source.fps) args.push('--fps', String(opts.source.fps));
  }
  for (const m of opts.mounts ?? ['/stream']) args.push('--mount', m);
  if (opts.user !== undefined) args.push('--user', opts.user, '--password', opts.password ?? '');
  // detached: its own process group, so kill(-pid) reaches the publisher ffmpegs too.
  const child = spawn(PYTHON, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // A crashed or timed-out test file still leaves no server behind.
  child.once('exit', reapOnExit(() => killGroup(child, 'SIGKILL')));
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr.push(d);
    if (stderr.length > 50) stderr.shift();
  });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      rej(new Error(`rtsp-test-server not ready after ${READY_TIMEOUT_MS} ms: ${stderr.join('')}`));
    }, READY_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /^READY port=(\d+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      res({ child, port: Number(m[1]) });
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      rej(new Error(`rtsp-test-server exited (${code ?? sig}) before READY: ${stderr.join('').trim()}`));
    });
  });
}

/** Starts the test RTSP server and waits until it listens; pass the test context `t` to stop it after the test. */
/** Signals the server's publisher processes (its direct children: one ffmpeg per mount). */
function signalPublishers(child: ChildProcess, signal: NodeJS.Signals): void {
  const r = child.pid === undefined ? undefined : spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' });
  const pids = (r?.stdout ?? '').split('\n').filter(Boolean).map(Number);
  if (pids.length === 0) throw new Error('the RTSP test server has no publisher (only a file source has one)');
  for (const pid of pids) process.kill(pid, signal);
}

export async function startRtspServer(opts: RtspServerOptions, t?: TestContextLike): Promise<RtspServer> {
  let { child, port } = await launch(opts, opts.port ?? 0);
  let stopped = false;

  const kill = async (): Promise<void> => {
    killGroup(child, 'SIGKILL');
    await exited(child);
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    killGroup(child, 'SIGCONT'); // a frozen process would never act on SIGTERM
    killGroup(child, 'SIGTERM');
    const done = await Promise.race([exited(child).then(() => true), sleep(3000).then(() => false)]);
    if (!done) await kill();
  };

  const server: RtspServer = {
    get port() {
      return port;
    },
    get pid() {
      return child.pid;
    },
    url(mount = (opts.mounts ?? ['/stream'])[0]!, auth) {
      const path = mount.startsWith('/') ? mount : `/${mount}`;
      const cred = auth === false ? undefined : (auth ?? (opts.user !== undefined ? { user: opts.user, password: opts.password ?? '' } : undefined));
      const userinfo = cred ? `${encodeURIComponent(cred.user)}:${encodeURIComponent(cred.password)}@` : '';
      return `rtsp://${userinfo}127.0.0.1:${port}${path}`;
    },
    kill,
    freeze() {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGSTOP');
    },
    thaw() {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGCONT');
    },
    pausePublishers() {
      signalPublishers(child, 'SIGSTOP');
    },
    resumePublishers() {
      signalPublishers(child, 'SIGCONT');
    },
    async restart() {
      await kill();
      // The port may take a moment to reopen after a kill: retry a few times.
      let lastErr: unknown;
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          ({ child, port } = await launch(opts, port));
          stopped = false;
          return;
        } catch (err) {
          lastErr = err;
          await sleep(100);
        }
      }
      throw lastErr;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  t?.after(stop);
  return server;
}
