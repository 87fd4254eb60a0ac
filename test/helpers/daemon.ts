import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { modelMirror, ROOT } from './paths.js';
import { reapOnExit } from './reaper.js';

const VIGIL = resolve(ROOT, 'bin/vigil.js');

/** Result of one run of the real `vigil` binary. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI binary (compiled dist/ when built, as installed). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): CliResult {
  const r = spawnSync(process.execPath, [VIGIL, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', input, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Same, without blocking the event loop (needed while the test also serves something). */
export function runCliAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [VIGIL, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly token: string;
  readonly dataDir: string;
  readonly configFile: string;
  /** Everything the daemon printed (JSON log lines) so far. */
  logs(): string;
  /** GET/POST/DELETE against the REST API with the admin token; parsed JSON. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }>;
  /** Runs the real CLI against this daemon. */
  cli(args: string[]): Promise<CliResult>;
  /** Sends a signal and waits for exit; resolves with the exit code and how long it took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
  /** Rewrites the config file (for SIGHUP tests). */
  writeConfig(config: Record<string, unknown>): void;
}

export interface StartOptions {
  /** Extra config merged at the top level (streams, analytics, ...). */
  config?: Record<string, unknown>;
  /** Reuse a data dir (restart tests). */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  token?: string;
}

/** Base config every test daemon gets: loopback, a free port, the model mirror. */
export function baseConfig(dataDir: string, token: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    data_dir: dataDir,
    log_level: 'debug',
    server: { host: '127.0.0.1', port: 0, admin_token: token, tokens: ['viewer-token-1234'], heartbeat_s: 1 },
    models: { mirror: modelMirror(), intra_op_threads: 1 },
    ...extra,
  };
}

/** Starts the real daemon binary on a temp data dir; registers cleanup with the test. */
export async function startDaemon(opts: StartOptions = {}, t?: { after(fn: () => unknown): void }): Promise<DaemonProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'vigil-test-'));
  const token = opts.token ?? 'test-admin-token-0123';
  const configFile = join(dataDir, 'vigil.yaml');
  const writeConfig = (c: Record<string, unknown>) => writeFileSync(configFile, stringify(baseConfig(dataDir, token, c)));
  writeConfig(opts.config ?? {});
  const child = spawn(process.execPath, [VIGIL, 'daemon', '--config', configFile], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const forget = reapOnExit(() => child.kill('SIGKILL'));
  void exited.then(forget);

  const url = await new Promise<string>((res, rej) => {
    const deadline = setTimeout(() => rej(new Error(`daemon did not start within 60 s:\n${out.slice(-3000)}`)), 60_000);
    const check = () => {
      const m = /"address":"(http:\/\/[^"]+)","version"[^\n]*"msg":"listening"/.exec(out);
      if (m) {
        clearTimeout(deadline);
        res(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(deadline);
      rej(new Error(`daemon exited with ${code} before listening:\n${out.slice(-3000)}`));
    });
  });

  const d: DaemonProcess = {
    child,
    url,
    token,
    dataDir,
    configFile,
    logs: () => out,
    async api<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(new URL(path, url), {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
    },
    cli: (args) => runCliAsync(['--url', url, '--token', token, ...args]),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return { code: child.exitCode, ms: 0 };
      const started = Date.now();
      child.kill(signal);
      const code = await exited;
      return { code, ms: Date.now() - started };
    },
    writeConfig,
  };
  t?.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return d;
}

/** Polls `fn` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 60_000, everyMs = 250): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** PIDs of ffmpeg processes whose command line contains `needle`. */
export function ffmpegPids(needle: string): number[] {
  const r = spawnSync('pgrep', ['-f', `ffmpeg.*${needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}
