import type { Logger } from '../log.js';

/** Counters of one stream's lane, shown with the pipeline stats. */
export interface EventLaneStats {
  /** Observations waiting for (or in) crop encoding, store and publish. */
  backlog: number;
  /** Highest backlog seen. */
  maxBacklog: number;
  /** Times the stream's analysis paused because the backlog reached its bound. */
  stalls: number;
}

/** Observations prepared ahead of the one being delivered (crops encoded at once, in the thread pool). */
const LOOKAHEAD = 8;

/**
 * One stream's events on their way to the sink, beside the stream's next inference. Each
 * item is first prepared (its crop encoded; up to LOOKAHEAD items at once, so a frame with
 * several events does not encode one crop after another), then delivered, strictly one at
 * a time and in order (the sink stores before it publishes, so per-stream order and
 * store-before-publish both hold). The backlog is bounded: at the bound the pipeline pauses
 * the stream's analysis (newer frames replace the waiting one, counted as drops) rather
 * than losing events it has already found.
 */
export class EventLane<T> {
  private readonly queue: T[] = [];
  private running: Promise<void> | null = null;
  private readonly roomWaiters: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private inFlight = 0;
  readonly stats: EventLaneStats = { backlog: 0, maxBacklog: 0, stalls: 0 };

  constructor(
    /** Resolves with the item's delivery, which the lane calls in order. */
    private readonly prepare: (item: T) => Promise<() => Promise<void>>,
    private readonly limit: number,
    private readonly log: Logger,
  ) {}

  /** Queues a frame's observations behind those of earlier frames; never waits. */
  push(items: T[]): void {
    if (items.length === 0) return;
    for (const item of items) this.queue.push(item);
    this.count();
    this.running ??= this.drain();
  }

  /** Null while there is room; else resolves once the backlog is below the bound. */
  room(): Promise<void> | null {
    if (this.stats.backlog < this.limit) return null;
    this.stats.stalls++;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Resolves when everything queued so far has been handed to the sink. */
  idle(): Promise<void> {
    if (this.stats.backlog === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    const ahead: Promise<(() => Promise<void>) | null>[] = [];
    while (this.queue.length > 0 || ahead.length > 0) {
      while (ahead.length < LOOKAHEAD && this.queue.length > 0) {
        const item = this.queue.shift() as T;
        // The sink is documented not to throw; a bug there must not stop the lane.
        ahead.push(this.prepare(item).catch((err: unknown) => {
          this.log.error({ err }, 'event preparation failed; continuing with the next');
          return null;
        }));
      }
      // Counted until delivered: the one in hand and those prepared behind it.
      this.inFlight = ahead.length;
      const deliver = await ahead.shift()!;
      this.inFlight = ahead.length + 1;
      try {
        await deliver?.();
      } catch (err) {
        this.log.error({ err }, 'event delivery failed; continuing with the next');
      }
      this.inFlight = ahead.length;
      this.count();
    }
    this.running = null;
  }

  private count(): void {
    const b = this.queue.length + this.inFlight;
    this.stats.backlog = b;
    if (b > this.stats.maxBacklog) this.stats.maxBacklog = b;
    if (b < this.limit) for (const w of this.roomWaiters.splice(0)) w();
    if (b === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
