import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import ffmpeg from 'fluent-ffmpeg';
import { FrameReader, type FrameLease } from './frameReader.js';
import { OutputSizeParser } from './stderrClassifier.js';

/** What one ffmpeg run needs. */
export interface FfmpegRunOptions {
  /** ffmpeg binary; default: FFMPEG_PATH or `ffmpeg` on PATH (fluent-ffmpeg's lookup). */
  ffmpegPath?: string;
  input: string;
  inputArgs: string[];
  outputArgs: string[];
  /** A whole rgb24 frame (the buffer belongs to the receiver; releasing its lease returns it to the reader's pool). */
  onFrame(data: Buffer, width: number, height: number, lease?: FrameLease): void;
  /** Every stderr line, raw (may hold credentials: mask before showing). */
  onStderr?(line: string): void;
  /**
   * Frames over a private unix socket read straight into the frame buffers (default) rather
   * than ffmpeg's stdout, whose 64 KB chunks (~11 per 640x360 frame) are fresh allocations
   * that keep V8 collecting.
   */
  frameSocket?: boolean;
}

/** How a run ended. */
export interface FfmpegExit {
  exitCode: number | null;
  signal: string | null;
  spawnError?: NodeJS.ErrnoException;
  /** This ffmpeg could not open the frame socket (no unix protocol): run it again, over stdout. */
  frameSocketRefused?: boolean;
}

/** Escalation delays of stop(): after `q`, then after SIGTERM. */
const Q_GRACE_MS = 1000;
const TERM_GRACE_MS = 2000;
/** How often to try the frame socket until ffmpeg listens (it does once its input is open). */
const CONNECT_RETRY_MS = 20;
/**
 * How long ffmpeg waits, listening, for the daemon to connect. The daemon connects within
 * CONNECT_RETRY_MS; the bound is for a daemon killed before that (kill -9, OOM): without it that
 * ffmpeg waited in accept() for ever, holding a connection to the camera.
 */
export const FRAME_SOCKET_ACCEPT_MS = 10_000;
/** Set once an ffmpeg could not open a frame socket: every later run uses stdout. */
let socketRefused = false;
/** The longest wait for frames still in the socket after ffmpeg exited. */
const DRAIN_MS = 500;
/** sun_path is 108 bytes on Linux (104 on macOS): longer temp dirs fall back to stdout. */
const MAX_SOCKET_PATH = 100;

/**
 * One ffmpeg child run through fluent-ffmpeg: raw frames out of a private unix socket that
 * ffmpeg listens on (or its stdout), stderr lines, and one `done` promise that settles when it
 * has exited, its stderr is fully read and its last frames are delivered.
 */
export class FfmpegRun {
  /** Settles once, after exit; never rejects. */
  done: Promise<FfmpegExit>;
  private proc: ChildProcess | undefined;
  private finished = false;
  private readonly reader: FrameReader;
  private size: { width: number; height: number } | undefined;
  /** The frame socket's folder and connection, when frames come that way. */
  private socketDir: string | undefined;
  private socket: Socket | undefined;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly opts: FfmpegRunOptions) {
    this.reader = new FrameReader((data, lease) => this.opts.onFrame(data, this.size!.width, this.size!.height, lease));
    const sizes = new OutputSizeParser();
    // emitClose: false, or fluent-ffmpeg turns the pipe's close into an 'Output stream closed' error
    // that can race ahead of the real exit code.
    const sink = new Writable({
      emitClose: false,
      write: (chunk: Buffer, _enc, cb) => {
        if (!this.reader.push(chunk)) this.kill('SIGKILL'); // no size header: something is badly off
        cb();
      },
    });
    const cmd = ffmpeg({ stdoutLines: 50 });
    const internals = cmd as unknown as FluentInternals;
    // fluent-ffmpeg 2.1.3 throws an uncaught TypeError when the binary is missing (its endCB reads
    // an undefined stderr ring), so we find ffmpeg ourselves and never let it spawn a missing one.
    // Also, setFfmpegPath() is process-global there; a per-command lookup keeps streams independent.
    const wanted = opts.ffmpegPath ?? process.env.FFMPEG_PATH ?? 'ffmpeg';
    const path = resolveExecutable(wanted);
    internals._getFfmpegPath = (cb) => cb(null, path ?? '');
    // fluent-ffmpeg would first spawn `ffmpeg -formats` and `-encoders` to check rawvideo exists
    // (seconds on a small box, before the first camera starts); our options need no such check.
    internals._checkCapabilities = (cb) => cb(null);
    internals.availableEncoders = (cb) => cb(null, {});
    cmd.input(opts.input);
    addOptions(opts.inputArgs, (...a) => cmd.inputOptions(...a));
    const socketPath = opts.frameSocket === false || socketRefused ? undefined : this.makeSocketPath();
    if (socketPath) {
      cmd.output(`unix:${socketPath}`);
      addOptions([...opts.outputArgs, ...frameSocketArgs()], (...a) => cmd.outputOptions(...a));
    } else {
      cmd.output(sink, { end: true });
      addOptions(opts.outputArgs, (...a) => cmd.outputOptions(...a));
    }

    let refused = false;
    this.done = new Promise<FfmpegExit>((resolve) => {
      const settle = (err?: Error): void => {
        if (this.finished) return;
        this.finished = true;
        // ChildProcess sets exitCode/signalCode before 'exit': no need to race its listeners.
        const code = this.proc?.exitCode ?? null;
        const signal = this.proc?.signalCode ?? null;
        const spawnError = err && code === null && signal === null ? (err as NodeJS.ErrnoException) : undefined;
        // The last frames may still sit in the socket when the exit is seen: read them first.
        void this.drainSocket().then(() => resolve({ exitCode: code, signal, spawnError, ...(refused ? { frameSocketRefused: true } : {}) }));
      };
      cmd.on('start', () => {
        const proc = (cmd as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
        if (!proc) return;
        this.proc = proc;
        proc.stdin?.on('error', () => {}); // writing `q` to a dead ffmpeg must not throw
        if (socketPath) this.connectFrames(socketPath);
      });
      cmd.on('stderr', (line: string) => {
        // An ffmpeg built without network protocols cannot serve the socket: later runs use stdout.
        if (socketPath && line.includes(socketPath) && /protocol not found|error opening output|could not|denied/i.test(line)) {
          socketRefused = refused = true;
        }
        if (!this.size) {
          const s = sizes.feed(line);
          if (s) {
            this.size = s;
            this.reader.setFrameBytes(s.width * s.height * 3);
          }
        }
        this.opts.onStderr?.(line);
      });
      cmd.on('end', () => settle());
      cmd.on('error', (err: Error) => settle(err));
    });
    if (path === undefined) {
      this.closeSocket();
      const err: NodeJS.ErrnoException = Object.assign(new Error(`spawn ${wanted} ENOENT`), { code: 'ENOENT', path: wanted });
      this.finished = true;
      this.done = Promise.resolve({ exitCode: null, signal: null, spawnError: err });
      return;
    }
    cmd.run();
  }

  /** A socket path in a fresh private folder, or undefined to use stdout. */
  private makeSocketPath(): string | undefined {
    if (process.platform === 'win32') return undefined;
    try {
      this.socketDir = mkdtempSync(join(tmpdir(), 'vigil-frames-'));
    } catch {
      return undefined;
    }
    const path = join(this.socketDir, 'f.sock');
    if (Buffer.byteLength(path) <= MAX_SOCKET_PATH) return path;
    this.closeSocket();
    return undefined;
  }

  /** Connects to ffmpeg's frame socket, retrying until it listens or the run ends. */
  private connectFrames(path: string): void {
    if (this.exited) return;
    const reader = this.reader;
    const socket = connect({
      path,
      onread: {
        buffer: () => reader.readTarget(),
        callback: (n: number) => {
          if (!reader.commit(n)) this.kill('SIGKILL'); // no size header: something is badly off
          return true;
        },
      },
    });
    let connected = false;
    socket.on('connect', () => {
      connected = true;
      // The connection outlives its path: with the folder gone now, even a kill -9 leaves nothing behind.
      this.removeSocketDir();
    });
    socket.on('error', () => {
      // Before the connection: ffmpeg is not listening yet. After it: its exit says what happened.
      if (connected || this.exited || this.socket !== socket) return;
      this.retry = setTimeout(() => this.connectFrames(path), CONNECT_RETRY_MS);
    });
    this.socket = socket;
  }

  /** Waits (briefly) for the frame socket to reach its end, then closes it. */
  private async drainSocket(): Promise<void> {
    const s = this.socket;
    if (s && !s.destroyed && !s.connecting && s.readyState !== 'closed') {
      await Promise.race([new Promise((r) => s.once('close', r)), sleep(DRAIN_MS, undefined, { ref: false })]);
    }
    this.closeSocket();
  }

  private closeSocket(): void {
    clearTimeout(this.retry);
    this.socket?.destroy();
    this.removeSocketDir();
  }

  private removeSocketDir(): void {
    if (this.socketDir) rmSync(this.socketDir, { recursive: true, force: true });
    this.socketDir = undefined;
  }

  /** The child's pid once spawned. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get exited(): boolean {
    return this.finished || this.proc?.exitCode != null || this.proc?.signalCode != null;
  }

  /** The rawvideo frame size, once ffmpeg has printed its output header. */
  get frameSize(): { width: number; height: number } | undefined {
    return this.size;
  }

  /** Sends a signal if the child still runs. */
  kill(signal: NodeJS.Signals): void {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      try {
        this.proc.kill(signal);
      } catch {
        /* already gone */
      }
    }
  }

  /**
   * Escalating stop: `q` on stdin (graceful: ffmpeg flushes and exits 0), then SIGTERM, then
   * SIGKILL. `graceful: false` starts at SIGTERM (a stalled ffmpeg does not read its stdin).
   */
  async stop(graceful = true): Promise<FfmpegExit> {
    const waitFor = (ms: number): Promise<boolean> =>
      Promise.race([this.done.then(() => true), sleep(ms, false, { ref: false })]);
    if (this.finished) return this.done;
    if (graceful && this.proc?.stdin?.writable) {
      this.proc.stdin.write('q');
      if (await waitFor(Q_GRACE_MS)) return this.done;
    }
    this.kill('SIGTERM');
    if (await waitFor(TERM_GRACE_MS)) return this.done;
    this.kill('SIGKILL');
    return this.done;
  }
}

/** Output options of the frame socket: ffmpeg listens, and gives up when nobody connects in time. */
export function frameSocketArgs(): string[] {
  return ['-listen', '1', '-timeout', String(FRAME_SOCKET_ACCEPT_MS)];
}

/** An executable's path: a name is looked up on PATH; undefined when missing or not executable. */
export function resolveExecutable(nameOrPath: string): string | undefined {
  const candidates = nameOrPath.includes('/')
    ? [nameOrPath]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, nameOrPath));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      /* try the next */
    }
  }
  return undefined;
}

/** The fluent-ffmpeg 2.1 internals replaced per command (see the constructor). */
interface FluentInternals {
  _getFfmpegPath(cb: (err: Error | null, path: string) => void): void;
  _checkCapabilities(cb: (err: Error | null) => void): void;
  availableEncoders(cb: (err: Error | null, encoders: Record<string, unknown>) => void): void;
}

/** fluent-ffmpeg splits a lone "-opt value" string at its space; passing 2+ arguments turns that off. */
function addOptions(args: string[], add: (...a: string[]) => unknown): void {
  if (args.length === 0) return;
  if (args.length === 1) {
    // A single flag has no value to split from; a lone string with one space would be split.
    if (args[0]!.includes(' ')) throw new Error(`ffmpeg option "${args[0]}" must be split into separate arguments`);
  }
  add(...args);
}
