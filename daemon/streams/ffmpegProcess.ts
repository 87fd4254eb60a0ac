import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import ffmpeg from 'fluent-ffmpeg';
import { FrameReader } from './frameReader.js';
import { OutputSizeParser } from './stderrClassifier.js';

/** What one ffmpeg run needs. */
export interface FfmpegRunOptions {
  /** ffmpeg binary; default: FFMPEG_PATH or `ffmpeg` on PATH (fluent-ffmpeg's lookup). */
  ffmpegPath?: string;
  input: string;
  inputArgs: string[];
  outputArgs: string[];
  /** A whole rgb24 frame (the buffer belongs to the receiver; `release` returns it to the reader's pool). */
  onFrame(data: Buffer, width: number, height: number, release?: () => void): void;
  /** Every stderr line, raw (may hold credentials: mask before showing). */
  onStderr?(line: string): void;
}

/** How a run ended. */
export interface FfmpegExit {
  exitCode: number | null;
  signal: string | null;
  spawnError?: NodeJS.ErrnoException;
}

/** Escalation delays of stop(): after `q`, then after SIGTERM. */
const Q_GRACE_MS = 1000;
const TERM_GRACE_MS = 2000;

/**
 * One ffmpeg child run through fluent-ffmpeg: raw frames out of its stdout, stderr lines,
 * and one `done` promise that settles when it has exited and its stderr is fully read.
 */
export class FfmpegRun {
  /** Settles once, after exit; never rejects. */
  done: Promise<FfmpegExit>;
  private proc: ChildProcess | undefined;
  private finished = false;
  private readonly reader: FrameReader;
  private size: { width: number; height: number } | undefined;

  constructor(private readonly opts: FfmpegRunOptions) {
    this.reader = new FrameReader((data, release) => this.opts.onFrame(data, this.size!.width, this.size!.height, release));
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
    cmd.output(sink, { end: true });
    addOptions(opts.outputArgs, (...a) => cmd.outputOptions(...a));

    this.done = new Promise<FfmpegExit>((resolve) => {
      const settle = (err?: Error): void => {
        if (this.finished) return;
        this.finished = true;
        // ChildProcess sets exitCode/signalCode before 'exit': no need to race its listeners.
        const code = this.proc?.exitCode ?? null;
        const signal = this.proc?.signalCode ?? null;
        const spawnError = err && code === null && signal === null ? (err as NodeJS.ErrnoException) : undefined;
        resolve({ exitCode: code, signal, spawnError });
      };
      cmd.on('start', () => {
        const proc = (cmd as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
        if (!proc) return;
        this.proc = proc;
        proc.stdin?.on('error', () => {}); // writing `q` to a dead ffmpeg must not throw
      });
      cmd.on('stderr', (line: string) => {
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
      const err: NodeJS.ErrnoException = Object.assign(new Error(`spawn ${wanted} ENOENT`), { code: 'ENOENT', path: wanted });
      this.finished = true;
      this.done = Promise.resolve({ exitCode: null, signal: null, spawnError: err });
      return;
    }
    cmd.run();
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
