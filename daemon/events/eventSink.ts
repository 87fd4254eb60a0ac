import type { Observation } from '../analytics/types.js';
import { toVigilError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { buildEvent } from './eventBuilder.js';
import type { VisionEvent } from './schema.js';

/** Store errors that mean "storage is unavailable right now" (as opposed to "this event is bad"). */
const STORAGE_DOWN: ReadonlySet<ErrorCode> = new Set(['VIGIL_ERR_DISK_FULL', 'VIGIL_ERR_DB_WRITE', 'VIGIL_ERR_DB_LOCKED']);

/** What the sink needs; main wires the event store, the server and (optionally) retention and the MQTT outbox. */
export interface EventSinkDeps {
  store: { write(event: VisionEvent, crop?: Buffer | null): Promise<number> };
  /** Sends a stored event to subscribers (server.publish); called in seq order. */
  publish(event: VisionEvent, seq: number): void;
  /** Sends an event that could not be stored to live subscribers as `"seq": null` (server.publishLive). */
  publishLive?(event: VisionEvent): void;
  /** Sends a control message (`error` when storage goes down, `status` when it is back). */
  publishControl?(msg: { type: string; [k: string]: unknown }): void;
  log: Logger;
  nodeNum: number;
  jpegQuality?: number;
  /** Longest side of a crop in pixels (config `crops.max_side`). */
  cropMaxSide?: number;
  /** The fleet sink: told of each stored seq; unstored events go to publishUnstored. */
  outbox?: { notify(seq: number): void; publishUnstored?(event: VisionEvent): void };
  /** Called when a write fails with VIGIL_ERR_DISK_FULL (retention's trimNow), then the write is retried (up to 3 rounds) before giving up. */
  onStorageFull?: () => unknown;
  /** While storage is down, how often one event probes it again, in ms (default 5 000). */
  retryMs?: number;
}

/** Counters for the status page. */
export interface EventSinkStats {
  storage: 'ok' | 'unavailable';
  /** Code of the current outage (absent when storing). */
  error?: ErrorCode;
  /** Since when storage is down (Unix ms). */
  since?: number;
  stored: number;
  /** Published live with seq null because storage was down. */
  unstored: number;
  /** Refused by the store as bad (e.g. duplicate event_id) or failed to build: not published. */
  rejected: number;
  outages: number;
}

/**
 * The events stage: observation → VisionAIre event → store (assigns seq) → publish.
 * Store before publish: a subscriber never sees a seq the store lacks, so `since=` resumes are exact.
 *
 * When the store cannot write (disk full, I/O error, lock), the daemon keeps analysing and
 * publishing: events go out live with `"seq": null` (they are not in the store, so no resume
 * can return them, and no seq is invented), preceded once per outage by the control message
 * `{"type":"error","code":"VIGIL_ERR_DISK_FULL",...}`. One event every `retryMs` probes the store;
 * the first one stored ends the outage with `{"type":"status","storage":"ok","seq":N}` and seqs resume.
 */
export class EventSink {
  private state: 'ok' | 'unavailable' = 'ok';
  private outage: { code: ErrorCode; since: number } | null = null;
  private retryAt = 0;
  private trimming: Promise<unknown> | null = null;
  private readonly counts = { stored: 0, unstored: 0, rejected: 0, outages: 0 };
  private readonly log: Logger;
  private readonly retryMs: number;

  constructor(private readonly deps: EventSinkDeps) {
    this.log = deps.log.child({ component: 'events' });
    this.retryMs = deps.retryMs ?? 5000;
  }

  /** Builds the event of an observation (crop JPEG, masked stream address) and delivers it. */
  async handle(obs: Observation, streamAddress: string): Promise<void> {
    await (await this.prepare(obs, streamAddress))();
  }

  /**
   * Builds the event of an observation now and resolves with its delivery, for a caller that
   * builds several at once and delivers them in order. A failed build is counted and logged;
   * its delivery does nothing.
   */
  async prepare(obs: Observation, streamAddress: string): Promise<() => Promise<void>> {
    try {
      const built = await buildEvent(obs, { nodeNum: this.deps.nodeNum, streamAddress, jpegQuality: this.deps.jpegQuality, cropMaxSide: this.deps.cropMaxSide });
      return async () => void (await this.deliver(built.event, built.crop));
    } catch (err) {
      this.counts.rejected++;
      this.log.error({ err, stream: obs.streamId, analytic: obs.analyticId }, 'event could not be built; dropped');
      return async () => {};
    }
  }

  /** Stores then publishes a built event; resolves with its seq, or null when it went out unstored (or was rejected). */
  async deliver(event: VisionEvent, crop: Buffer | null): Promise<number | null> {
    if (this.state === 'unavailable') {
      if (Date.now() < this.retryAt) return this.live(event);
      this.retryAt = Date.now() + this.retryMs; // this event is the probe; others go live meanwhile
    }
    let err: unknown;
    try {
      return this.stored(event, await this.deps.store.write(event, crop));
    } catch (e) {
      err = e;
    }
    let ve = toVigilError(err, 'VIGIL_ERR_DB_WRITE');
    // A few rounds: a burst of writes may need more room than one trim made.
    for (let round = 0; round < 3 && ve.code === 'VIGIL_ERR_DISK_FULL' && this.deps.onStorageFull && this.state === 'ok'; round++) {
      // One trim at a time, shared by every write that failed meanwhile.
      this.trimming ??= Promise.resolve()
        .then(() => this.deps.onStorageFull!())
        .catch((e: unknown) => this.log.warn({ err: e }, 'emergency retention failed'))
        .finally(() => (this.trimming = null));
      await this.trimming;
      try {
        return this.stored(event, await this.deps.store.write(event, crop));
      } catch (e) {
        ve = toVigilError(e, 'VIGIL_ERR_DB_WRITE');
      }
    }
    if (!STORAGE_DOWN.has(ve.code)) {
      this.counts.rejected++;
      this.log.error({ err: ve, stream: event.stream_id, event_id: event.pipeline_data?.event_id }, 'the store refused the event; not published');
      return null;
    }
    this.down(ve.code, ve.message);
    return this.live(event);
  }

  stats(): EventSinkStats {
    return {
      storage: this.state,
      ...(this.outage ? { error: this.outage.code, since: this.outage.since } : {}),
      ...this.counts,
    };
  }

  private stored(event: VisionEvent, seq: number): number {
    // No await between the store's resolve and publish: publishes stay in seq order.
    if (this.state === 'unavailable') this.up(seq);
    this.counts.stored++;
    this.deps.publish(event, seq);
    this.deps.outbox?.notify(seq);
    return seq;
  }

  private live(event: VisionEvent): null {
    this.counts.unstored++;
    this.deps.publishLive?.(event);
    this.deps.outbox?.publishUnstored?.(event);
    return null;
  }

  private down(code: ErrorCode, detail: string): void {
    if (this.state === 'unavailable') return;
    this.state = 'unavailable';
    this.outage = { code, since: Date.now() };
    this.retryAt = Date.now() + this.retryMs;
    this.counts.outages++;
    const message =
      code === 'VIGIL_ERR_DISK_FULL'
        ? 'The disk is full: events are published live with seq null and not stored until space is freed.'
        : 'The event store cannot write: events are published live with seq null and not stored until it recovers.';
    this.log.error({ code, detail }, message);
    this.deps.publishControl?.({ type: 'error', code, message, timestamp: String(Date.now()) });
  }

  private up(seq: number): void {
    const downMs = Date.now() - (this.outage?.since ?? Date.now());
    this.log.warn({ seq, downMs, unstored: this.counts.unstored }, 'event store writable again: storing resumed');
    this.state = 'ok';
    this.outage = null;
    this.deps.publishControl?.({ type: 'status', storage: 'ok', seq, message: 'Event storage resumed.', timestamp: String(Date.now()) });
  }
}
