import { VigilError } from '../errors.js';
import type { Logger } from '../log.js';
import { validateStreamConfig } from './ffmpegArgs.js';
import type { Frame } from './frame.js';
import { StreamSupervisor } from './streamSupervisor.js';
import { withStreamDefaults, type StreamConfig, type StreamConfigInput, type StreamHealth } from './types.js';

/** What the manager needs from main. */
export interface StreamManagerOptions {
  log: Logger;
  /** ffmpeg binary; default: FFMPEG_PATH or `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** Every delivered frame of every stream (called synchronously; keep it quick or queue). */
  onFrame(frame: Frame): void;
  /** Every state change of every stream (publish as a `status` control message). */
  onHealth(health: StreamHealth): void;
  /** Where private ffconcat files with camera credentials are written (default: the temp dir). */
  secretsDir?: string;
}

/**
 * All streams of the daemon, one supervised ffmpeg each: add/update/remove/enable at run time,
 * health for `vigil status`. start() launches them; stop() leaves no ffmpeg behind.
 */
export class StreamManager {
  private readonly streams = new Map<string, StreamSupervisor>();
  private started = false;
  private readonly log: Logger;
  // Last resort if the process exits without stop(): no orphaned ffmpeg.
  private readonly killOnExit = (): void => {
    for (const s of this.streams.values()) {
      const pid = s.pid;
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  };

  constructor(private readonly opts: StreamManagerOptions) {
    this.log = opts.log.child({ component: 'streams' });
  }

  /** Checks and completes a config (defaults filled); throws VigilError (CONFIG or STREAM_URL). */
  static normalize(input: StreamConfigInput): StreamConfig {
    const cfg = withStreamDefaults(input);
    validateStreamConfig(cfg);
    return cfg;
  }

  /** Adds a stream (started at once if the manager runs); throws VIGIL_ERR_STREAM_EXISTS for a taken id. */
  add(input: StreamConfigInput): StreamHealth {
    const cfg = StreamManager.normalize(input);
    if (this.streams.has(cfg.id)) throw new VigilError('VIGIL_ERR_STREAM_EXISTS', `A stream with id "${cfg.id}" already exists.`);
    const sup = new StreamSupervisor(cfg, {
      log: this.opts.log,
      ffmpegPath: this.opts.ffmpegPath,
      onFrame: this.opts.onFrame,
      onHealth: this.opts.onHealth,
      secretsDir: this.opts.secretsDir,
    });
    this.streams.set(cfg.id, sup);
    if (this.started) sup.start();
    return sup.health();
  }

  /** Replaces a stream's config; ffmpeg restarts only if something changed. */
  async update(input: StreamConfigInput): Promise<StreamHealth> {
    const cfg = StreamManager.normalize(input);
    const sup = this.must(cfg.id);
    await sup.update(cfg);
    return sup.health();
  }

  /** Stops and forgets a stream. */
  async remove(id: string): Promise<void> {
    const sup = this.must(id);
    this.streams.delete(id);
    await sup.stop();
  }

  /** Retries a stream at once (cancels a backoff wait, restarts a running ffmpeg). */
  async restart(id: string): Promise<StreamHealth> {
    const sup = this.must(id);
    if (this.started) await sup.restart();
    return sup.health();
  }

  /** Switches a stream on or off. */
  async setEnabled(id: string, on: boolean): Promise<StreamHealth> {
    const sup = this.must(id);
    await sup.setEnabled(on);
    return sup.health();
  }

  /** A stream's health, or undefined for an unknown id. */
  get(id: string): StreamHealth | undefined {
    return this.streams.get(id)?.health();
  }

  /** A stream's current config, or undefined. */
  config(id: string): StreamConfig | undefined {
    return this.streams.get(id)?.config;
  }

  /** Health of every stream, in the order they were added. */
  list(): StreamHealth[] {
    return [...this.streams.values()].map((s) => s.health());
  }

  /** Launches every stream. */
  start(): void {
    if (this.started) return;
    this.started = true;
    process.on('exit', this.killOnExit);
    for (const s of this.streams.values()) s.start();
    this.log.info({ streams: this.streams.size }, 'streams started');
  }

  /** Stops every stream in parallel (escalating q → SIGTERM → SIGKILL); resolves when no ffmpeg is left. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    const results = await Promise.allSettled([...this.streams.values()].map((s) => s.stop()));
    for (const r of results) if (r.status === 'rejected') this.log.error({ err: r.reason }, 'stream stop failed');
    process.off('exit', this.killOnExit);
  }

  private must(id: string): StreamSupervisor {
    const sup = this.streams.get(id);
    if (!sup) throw new VigilError('VIGIL_ERR_STREAM_UNKNOWN', `No stream with id "${id}".`);
    return sup;
  }
}
