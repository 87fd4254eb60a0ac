import type { Logger } from '../log.js';
import { maskUrl } from '../events/mask.js';
import { Backoff } from './backoff.js';
import { inputArgs, outputArgs, parseSource, GLOBAL_ARGS, type Source } from './ffmpegArgs.js';
import { FfmpegRun } from './ffmpegProcess.js';
import { hideCredentials } from './hiddenInput.js';
import type { Frame } from './frame.js';
import type { FrameLease } from './frameReader.js';
import { FpsMeter } from './fpsMeter.js';
import { classifyOutcome, classifyStartTimeout, classifyStderr, describeSource, type Classified } from './stderrClassifier.js';
import type { StreamConfig, StreamError, StreamHealth, StreamState } from './types.js';
import { Watchdog } from './watchdog.js';

/** What a supervisor needs from its owner. */
export interface SupervisorDeps {
  log: Logger;
  ffmpegPath?: string;
  onFrame(frame: Frame): void;
  onHealth(health: StreamHealth): void;
  /** Where the private ffconcat files that carry credentials are written (default: the temp dir). */
  secretsDir?: string;
}

/** How often every state's invariant is checked (see checkState). */
const CHECK_EVERY_MS = 1000;

/** stderr lines kept per run: for the classifier and the health report. */
const STDERR_KEEP = 30;

/**
 * Keeps one stream's ffmpeg alive (DESIGN.md section 4): start, watch for frames, classify
 * every exit, back off with jitter, reconnect; health on every state change.
 */
export class StreamSupervisor {
  private cfg: StreamConfig;
  private source: Source;
  private state: StreamState;
  private since = Date.now();
  private frames = 0;
  private reconnects = 0;
  private attempts = 0;
  private lastError: StreamError | undefined;
  private nextRetryAt: number | undefined;
  private size: { width: number; height: number } | undefined;
  private stderr: string[] = [];
  private readonly fps = new FpsMeter();
  private backoff: Backoff;
  private readonly watchdog = new Watchdog();
  private run: FfmpegRun | undefined;
  private runFrames = 0;
  /** Why we are killing the current run, if we are: its exit is then not a fresh failure. */
  private killing: 'stop' | 'stall' | 'start-timeout' | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private active = false;
  private readonly log: Logger;
  private runStartedAt = 0;
  private lastFrameAt = 0;
  /** When this run's first frame came; 0 once the run proved healthy (the backoff was reset). */
  private firstFrameAt = 0;
  private killStartedAt = 0;
  private checkTimer: NodeJS.Timeout | undefined;

  constructor(
    cfg: StreamConfig,
    private readonly deps: SupervisorDeps,
  ) {
    this.cfg = cfg;
    this.source = parseSource(cfg.url);
    this.backoff = new Backoff(cfg.backoff.initialMs, cfg.backoff.maxMs);
    this.state = cfg.enabled ? 'starting' : 'disabled';
    this.log = deps.log.child({ component: 'streams', stream: cfg.id });
  }

  get id(): string {
    return this.cfg.id;
  }

  get config(): StreamConfig {
    return this.cfg;
  }

  /** The running ffmpeg's pid, if any (for the exit-time safety net). */
  get pid(): number | undefined {
    return this.run && !this.run.exited ? this.run.pid : undefined;
  }

  /** Starts supervising (a disabled stream only reports `disabled`). */
  start(): void {
    this.active = true;
    this.checkTimer ??= setInterval(() => this.checkState(), CHECK_EVERY_MS);
    this.checkTimer.unref();
    if (!this.cfg.enabled) {
      this.setState('disabled');
      return;
    }
    this.launch();
  }

  /** Stops for good: kills ffmpeg with escalation and cancels any retry. */
  async stop(): Promise<void> {
    this.active = false;
    this.clearRetry();
    this.watchdog.disarm();
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.checkTimer = undefined;
    await this.killRun('stop', true);
  }

  /**
   * Retries now (`vigil stream restart ID`): cancels a pending backoff, kills the current run if
   * any, and starts afresh with the backoff reset, as after a success.
   */
  async restart(): Promise<void> {
    if (!this.cfg.enabled) return;
    this.clearRetry();
    this.watchdog.disarm();
    await this.killRun('stop', false);
    this.run = undefined;
    this.backoff.reset();
    this.log.info('restart requested: retrying now');
    this.active = true;
    this.checkTimer ??= setInterval(() => this.checkState(), CHECK_EVERY_MS);
    this.checkTimer.unref();
    this.launch();
  }

  /** Applies a new config: restarts ffmpeg when anything changed. */
  async update(cfg: StreamConfig): Promise<void> {
    const changed = JSON.stringify(cfg) !== JSON.stringify(this.cfg);
    if (!changed) return;
    const wasActive = this.active;
    await this.stop();
    this.cfg = cfg;
    this.source = parseSource(cfg.url);
    this.backoff = new Backoff(cfg.backoff.initialMs, cfg.backoff.maxMs);
    this.log.info({ url: maskUrl(cfg.url) }, 'stream config changed');
    if (wasActive) this.start();
    else this.setState(cfg.enabled ? 'starting' : 'disabled');
  }

  /** Switches the stream on or off (off kills ffmpeg; state `disabled`). */
  async setEnabled(on: boolean): Promise<void> {
    await this.update({ ...this.cfg, enabled: on });
  }

  /** The health snapshot. */
  health(): StreamHealth {
    const h: StreamHealth = {
      id: this.cfg.id,
      url: maskUrl(this.cfg.url),
      state: this.state,
      since: this.since,
      fps: this.state === 'running' ? this.fps.rate() : 0,
      frames: this.frames,
      reconnects: this.reconnects,
      stderr: [...this.stderr],
    };
    if (this.size) Object.assign(h, this.size);
    if (this.state === 'backoff' && this.nextRetryAt !== undefined) h.nextRetryAt = this.nextRetryAt;
    if (this.lastError) h.lastError = { ...this.lastError };
    return h;
  }

  private setState(state: StreamState, force = false): void {
    if (state === this.state && !force && state !== 'backoff') return; // each backoff carries a new retry time
    this.state = state;
    this.since = Date.now();
    try {
      this.deps.onHealth(this.health());
    } catch (err) {
      this.log.error({ err }, 'health listener failed');
    }
  }

  private fail(c: Pick<Classified, 'code' | 'message'>): void {
    this.lastError = { code: c.code, message: maskUrl(c.message), at: Date.now() };
    this.log.warn({ code: c.code }, this.lastError.message);
  }

  private launch(): void {
    if (!this.active) return;
    if (this.attempts++ > 0) this.reconnects++;
    this.nextRetryAt = undefined;
    this.stderr = [];
    this.runFrames = 0;
    this.firstFrameAt = 0;
    this.killing = undefined;
    this.fps.reset();
    this.setState('starting', true);
    let hidden;
    try {
      hidden = hideCredentials(this.source, inputArgs(this.cfg, this.source), this.cfg.id, this.deps.secretsDir);
    } catch (err) {
      this.fail({ code: 'VIGIL_ERR_DATA_DIR', message: `The private source file for stream ${this.cfg.id} cannot be written: ${(err as Error).message}.` });
      this.scheduleRetry();
      return;
    }
    this.runStartedAt = Date.now();
    const run = new FfmpegRun({
      ffmpegPath: this.deps.ffmpegPath,
      input: hidden.input,
      inputArgs: [...GLOBAL_ARGS, ...hidden.inputArgs],
      outputArgs: outputArgs(this.cfg),
      onFrame: (data, width, height, lease) => this.onFrame(run, data, width, height, lease),
      onStderr: (line) => {
        // Indented lines are header metadata: keep the stream lines, drop the rest.
        if (this.run !== run || !line.trim() || (/^\s/.test(line) && !line.includes('Stream #'))) return;
        this.stderr.push(maskUrl(line));
        if (this.stderr.length > STDERR_KEEP) this.stderr.shift();
      },
    });
    this.run = run;
    this.watchdog.arm(this.cfg.startTimeoutS * 1000, () => this.onStartTimeout(run));
    void run.done.then((exit) => {
      hidden.cleanup();
      this.onExit(run, exit);
    });
  }

  private onFrame(run: FfmpegRun, data: Buffer, width: number, height: number, lease?: FrameLease): void {
    if (this.run !== run || this.killing) return;
    const now = Date.now();
    if (this.runFrames++ === 0) {
      // First frame: the connection works; the watchdog now guards against stalls. The backoff
      // starts over only once frames have kept coming for a stall timeout: a camera that answers
      // each session with a keyframe and then freezes must not be retried at once, forever.
      this.firstFrameAt = now;
      this.size = { width, height };
      this.watchdog.arm(this.cfg.stallTimeoutS * 1000, () => this.onStall(run));
      this.setState('running');
      this.log.info({ width, height }, 'stream running');
    } else {
      this.watchdog.feed();
      if (this.firstFrameAt !== 0 && now - this.firstFrameAt >= this.cfg.stallTimeoutS * 1000) {
        this.firstFrameAt = 0;
        this.backoff.reset();
      }
    }
    this.frames++;
    this.lastFrameAt = now;
    this.fps.tick(now);
    try {
      this.deps.onFrame({ streamId: this.cfg.id, index: this.runFrames - 1, timestamp: now, width, height, data, ...(lease ? { retain: lease.retain, release: lease.release } : {}) });
    } catch (err) {
      // A consumer's bug must not take the stream down.
      this.log.error({ err }, 'frame listener failed');
    }
  }

  private onStall(run: FfmpegRun): void {
    if (this.run !== run) return;
    this.fail({ code: 'VIGIL_ERR_STREAM_STALLED', message: `${describeSource(this.source.kind, this.cfg.url)}: no frame for ${this.cfg.stallTimeoutS} s; reconnecting.` });
    this.setState('stalled');
    void this.killRun('stall', false);
  }

  private onStartTimeout(run: FfmpegRun): void {
    if (this.run !== run) return;
    // A known cause in stderr (401, refused...) beats the generic "no first frame".
    const cause = classifyStderr(this.source.kind, this.cfg.url, this.stderr) ?? classifyStartTimeout({ ...this.outcomeBase(), stderr: this.stderr, startTimeoutS: this.cfg.startTimeoutS });
    this.fail(cause);
    void this.killRun('start-timeout', false);
  }

  private outcomeBase(): { kind: Source['kind']; url: string; hadFrames: boolean; loop: boolean; elapsedMs: number; ioTimeoutMs: number } {
    return {
      kind: this.source.kind,
      url: this.cfg.url,
      hadFrames: this.runFrames > 0,
      loop: this.cfg.loop,
      elapsedMs: Date.now() - this.runStartedAt,
      ioTimeoutMs: this.cfg.stallTimeoutS * 1000,
    };
  }

  /**
   * The watchdog behind the watchdogs: every second, each state must still hold. A stream that
   * shows `running` without a frame for stallTimeoutS is stalled, whatever happened to the frame
   * timer; `starting` past its timeout is a failed start; a kill that did not end the run is
   * escalated; a retry that never came is made now.
   */
  private checkState(now = Date.now()): void {
    if (!this.active) return;
    const run = this.run;
    if (run && !this.killing) {
      if (this.state === 'running' && now - this.lastFrameAt > this.cfg.stallTimeoutS * 1000) this.onStall(run);
      else if (this.state === 'starting' && this.runFrames === 0 && now - this.runStartedAt > this.cfg.startTimeoutS * 1000) this.onStartTimeout(run);
      return;
    }
    if (run && this.killing && now - this.killStartedAt > 10_000) {
      this.log.warn({ pid: run.pid }, 'ffmpeg did not exit after being stopped: killing it');
      run.kill('SIGKILL');
      return;
    }
    if (!run && this.state === 'backoff' && this.nextRetryAt !== undefined && now - this.nextRetryAt > 5000) {
      this.log.warn('a retry was overdue: retrying now');
      this.clearRetry();
      this.launch();
    }
  }

  private async killRun(why: 'stop' | 'stall' | 'start-timeout', graceful: boolean): Promise<void> {
    const run = this.run;
    if (!run) return;
    this.killing = why;
    this.killStartedAt = Date.now();
    await run.stop(graceful);
  }

  private onExit(run: FfmpegRun, exit: Awaited<FfmpegRun['done']>): void {
    if (this.run !== run) return;
    this.watchdog.disarm();
    const why = this.killing;
    this.run = undefined;
    if (why === 'stop' || !this.active) return;
    if (exit.frameSocketRefused && why === undefined) {
      this.log.warn('ffmpeg cannot serve frames over a unix socket (built without network protocols?); using its stdout');
      this.launch();
      return;
    }
    if (why === undefined) {
      const c = classifyOutcome({ ...this.outcomeBase(), exitCode: exit.exitCode, signal: exit.signal, spawnError: exit.spawnError, stderr: this.stderr });
      this.fail(c);
      if (c.permanent) {
        this.setState('failed');
        return;
      }
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    this.clearRetry();
    const delay = this.backoff.next();
    this.nextRetryAt = Date.now() + delay;
    this.setState('backoff');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.launch();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.nextRetryAt = undefined;
  }
}
