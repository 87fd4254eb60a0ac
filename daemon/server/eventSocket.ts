import type { WebSocket } from 'uWebSockets.js';
import { maskDeep } from '../events/mask.js';
import type { VisionEvent } from '../events/schema.js';
import { withoutCrop } from '../events/eventBuilder.js';
import type { Logger } from '../log.js';
import { rowMessage, type EventQuery, type StoredRow } from '../store/eventStore.js';
import { matches, type SubscriptionFilter } from './subscriptionFilter.js';

export { parseSubscription, type SubscriptionFilter } from './subscriptionFilter.js';

/** What the event socket needs from the store: ordered reads after a seq, and the newest seq. */
export interface EventSource {
  scan(q: EventQuery): StoredRow[];
  lastSeq(): number;
}

/** Tuning of the event socket; defaults suit a few dozen subscribers on a small box. */
export interface EventSocketOptions {
  /** Send budget: bytes queued for one subscriber above which live sending stops and it is marked behind (default 256 KiB). */
  highWaterBytes?: number;
  /** Send budget in messages: sent while its queue never emptied, above which it is marked behind (default 2000). */
  highWaterMessages?: number;
  /** A subscriber that neither answered a ping nor sent anything this long is closed with 4008 (default 60 s). */
  idleTimeoutS?: number;
  /** Called for each subscriber the daemon closes: `slow` (behind or stuck), `idle` (no pong). */
  onSubscriberClosed?(why: 'slow' | 'idle' | 'refused'): void;
  /** Called for each `gap` sent. */
  onGap?(): void;
  /** Matching events a subscriber may miss live before it is closed with 4008 (default 10 000). */
  maxLagEvents?: number;
  /** How long a subscriber may make no progress while behind before it is closed with 4008, in ms (default 60 000). */
  maxStallMs?: number;
  /** Events read from the store per replay chunk (default 200). */
  replayChunk?: number;
}

/** uWS user data of an event-socket connection. */
export interface SocketData {
  filter: SubscriptionFilter;
  /** Who connected (for the per-token cap); never logged. */
  token: string;
  sub?: Subscriber;
}

interface Subscriber {
  id: number;
  ws: WebSocket<SocketData>;
  filter: SubscriptionFilter;
  /** live: sending as published; replay: reading the store; behind: too slow, waiting for drain. */
  mode: 'live' | 'replay' | 'behind';
  /** Every matching event with seq ≤ lastSeq has been sent. */
  lastSeq: number;
  gapFrom: number;
  /** Matching events published while not live. */
  missed: number;
  lastProgress: number;
  /** Last pong or message from the client. */
  lastHeard: number;
  /** Sizes of the messages still in its send queue, oldest first (the message budget). */
  queued: number[];
  queuedBytes: number;
  pumpScheduled: boolean;
  closed: boolean;
}

/** WebSocket close code for a subscriber that fell too far behind. */
export const CLOSE_SLOW_CONSUMER = 4008;

/**
 * The subscribers of the event socket. Live events go straight out; a subscriber that asks for
 * `since`, or falls behind, reads from the store until it meets the live edge. Replay reads are
 * synchronous (better-sqlite3), so no publish can slip in between "read the store" and "go live":
 * there is nothing to buffer, and `seq ≤ lastSeq` drops the one possible duplicate.
 * Memory per subscriber is bounded by its send budget (bytes and messages); the rest stays in SQLite.
 */
export class EventSocketHub {
  private readonly subs = new Set<Subscriber>();
  private nextId = 1;
  private readonly highWater: number;
  private readonly highWaterMsgs: number;
  private readonly idleMs: number;
  private readonly maxLag: number;
  private readonly maxStallMs: number;
  private readonly chunk: number;

  constructor(private readonly source: EventSource, private readonly log: Logger, private readonly opts: EventSocketOptions = {}) {
    // 256 KiB: what a stuck subscriber may cost in the daemon (100 stuck → ~25 MB queued; with
    // 512 KiB the RSS of 100 stuck clients grew 67-114 MB against a 100 MB bound). Above it a
    // subscriber reads from the store instead (bench fanout: below 4 MiB, 200 subscribers of 20 KB
    // events fall back to store replay more often; still correct, a bit more CPU).
    this.highWater = opts.highWaterBytes ?? 256 * 1024;
    this.highWaterMsgs = opts.highWaterMessages ?? 2000;
    this.idleMs = (opts.idleTimeoutS ?? 60) * 1000;
    this.maxLag = opts.maxLagEvents ?? 10_000;
    this.maxStallMs = opts.maxStallMs ?? 60_000;
    this.chunk = opts.replayChunk ?? 200;
  }

  /** uWS `open`: registers the subscriber and starts its replay when it asked for `since`. */
  open(ws: WebSocket<SocketData>): void {
    const filter = ws.getUserData().filter;
    const sub: Subscriber = {
      id: this.nextId++,
      ws,
      filter,
      mode: filter.since === null ? 'live' : 'replay',
      lastSeq: filter.since ?? this.source.lastSeq(),
      gapFrom: 0,
      missed: 0,
      lastProgress: Date.now(),
      lastHeard: Date.now(),
      queued: [],
      queuedBytes: 0,
      pumpScheduled: false,
      closed: false,
    };
    ws.getUserData().sub = sub;
    this.subs.add(sub);
    this.log.debug({ sub: sub.id, since: filter.since, streams: [...(filter.streamIds ?? [])] }, 'event subscriber connected');
    if (sub.mode === 'replay') this.pump(sub);
  }

  /** uWS `drain`: a subscriber that was behind or replaying continues from the store. */
  drain(ws: WebSocket<SocketData>): void {
    const sub = ws.getUserData().sub;
    if (!sub || sub.closed || ws.getBufferedAmount() > this.highWater / 2) return;
    sub.lastProgress = Date.now();
    if (sub.mode === 'behind') {
      const gap = { type: 'gap', from_seq: sub.gapFrom, to_seq: this.source.lastSeq(), timestamp: String(Date.now()) };
      ws.send(JSON.stringify(gap));
      this.opts.onGap?.();
      this.log.info({ sub: sub.id, from_seq: gap.from_seq, to_seq: gap.to_seq }, 'event subscriber sent a gap; replaying the missed range from the store');
      sub.mode = 'replay';
    }
    if (sub.mode === 'replay') this.pump(sub);
  }

  /** uWS `pong` and `message`: the client is alive. */
  heard(ws: WebSocket<SocketData>): void {
    const sub = ws.getUserData().sub;
    if (sub) sub.lastHeard = Date.now();
  }

  /** uWS `close`. */
  close(ws: WebSocket<SocketData>, code?: number): void {
    const sub = ws.getUserData().sub;
    if (!sub) return;
    const byUs = sub.closed;
    sub.closed = true;
    this.subs.delete(sub);
    if (!byUs) this.log.debug({ sub: sub.id, lastSeq: sub.lastSeq, code }, 'event subscriber left');
  }

  /** Open subscribers per token (for the per-token cap). */
  countFor(token: string): number {
    let n = 0;
    for (const s of this.subs) if (s.ws.getUserData().token === token) n++;
    return n;
  }

  /**
   * Pings every subscriber, and closes (4008) one that answered nothing for idleTimeoutS: a client
   * that reads answers pings, so an idle but healthy subscriber is never cut; a stuck one is told why.
   */
  ping(now = Date.now()): void {
    for (const sub of [...this.subs]) {
      if (sub.closed) continue;
      if (now - sub.lastHeard > this.idleMs) {
        const why = `no answer to pings for ${Math.round((now - sub.lastHeard) / 1000)} s`;
        const reason = `VIGIL_ERR_SLOW_CONSUMER: ${why}; reconnect with since=${sub.lastSeq}`.slice(0, 123);
        this.log.warn({ sub: sub.id, code: CLOSE_SLOW_CONSUMER, reason, bufferedAmount: sub.ws.getBufferedAmount() }, `event subscriber closed: ${why}`);
        this.opts.onSubscriberClosed?.('idle');
        this.end(sub, CLOSE_SLOW_CONSUMER, reason);
        continue;
      }
      try {
        sub.ws.ping();
      } catch {
        // Closing already.
      }
    }
  }

  /** Sends a stored event to every live subscriber whose filters match. Call in seq order, after commit. */
  publish(event: VisionEvent, seq: number): void {
    let full: string | undefined;
    let bare: string | undefined;
    for (const sub of this.subs) {
      if (sub.closed || !matches(sub.filter, event.stream_id, event.analytic_id)) continue;
      if (sub.mode !== 'live') {
        sub.missed++;
        this.checkLag(sub);
        continue;
      }
      if (seq <= sub.lastSeq) continue; // already sent by its replay
      if (this.overBudget(sub)) {
        this.fallBehind(sub, seq);
        continue;
      }
      const msg = sub.filter.crops ? (full ??= eventMessage(event, seq)) : (bare ??= eventMessage(withoutCrop(event), seq));
      let result = 0;
      sub.ws.cork(() => {
        result = sub.ws.send(msg);
      });
      if (result === 2) this.fallBehind(sub, seq); // dropped by uWS: the store still has it
      else {
        sub.lastSeq = seq;
        this.track(sub, msg.length);
      }
    }
  }

  /**
   * An event the store could not take (disk full): sent to live subscribers only, as
   * `"seq": null`. lastSeq is untouched: there is nothing to replay, and no seq is invented.
   */
  publishUnstored(event: VisionEvent): void {
    let full: string | undefined;
    let bare: string | undefined;
    for (const sub of this.subs) {
      if (sub.closed || sub.mode !== 'live' || !matches(sub.filter, event.stream_id, event.analytic_id)) continue;
      if (sub.ws.getBufferedAmount() > this.highWater) continue;
      const { seq: _seq, ...rest } = sub.filter.crops ? event : withoutCrop(event);
      const msg = sub.filter.crops ? (full ??= JSON.stringify({ seq: null, ...rest })) : (bare ??= JSON.stringify({ seq: null, ...rest }));
      sub.ws.cork(() => sub.ws.send(msg));
    }
  }

  /** Sends a control message (heartbeat, status, gap, error) to every subscriber; `stream_id` narrows it. Best effort. */
  publishControl(msg: { type: string; stream_id?: string; [k: string]: unknown }): void {
    const text = JSON.stringify(maskDeep(msg));
    for (const sub of this.subs) {
      if (sub.closed) continue;
      if (msg.stream_id && sub.filter.streamIds && !sub.filter.streamIds.has(msg.stream_id)) continue;
      // Control messages never push a slow subscriber further behind.
      if (sub.ws.getBufferedAmount() > this.highWater) continue;
      sub.ws.cork(() => sub.ws.send(text));
    }
  }

  /** Heartbeat to all subscribers, and closes those stalled past maxStallMs. */
  heartbeat(): void {
    const now = Date.now();
    for (const sub of this.subs) this.checkLag(sub, now);
    this.publishControl({ type: 'heartbeat', timestamp: String(now), seq: this.source.lastSeq() });
  }

  /** Closes every subscriber (server stop). */
  closeAll(code = 1001, reason = 'Vigil is stopping'): void {
    for (const sub of [...this.subs]) this.end(sub, code, reason);
  }

  count(): number {
    return this.subs.size;
  }

  /** A snapshot per subscriber, for status and tests. */
  stats(): { id: number; mode: string; lastSeq: number; bufferedAmount: number; missed: number }[] {
    return [...this.subs].map((s) => ({ id: s.id, mode: s.mode, lastSeq: s.lastSeq, bufferedAmount: s.ws.getBufferedAmount(), missed: s.missed }));
  }

  /** Over its send budget: too many bytes, or too many messages, waiting in its send queue. */
  private overBudget(sub: Subscriber): boolean {
    const buffered = sub.ws.getBufferedAmount();
    // The queue drains oldest first: what no longer fits in the buffered bytes has been sent.
    while (sub.queued.length && sub.queuedBytes > buffered) sub.queuedBytes -= sub.queued.shift()!;
    return buffered > this.highWater || sub.queued.length >= this.highWaterMsgs;
  }

  /** Counts a message sent into the queue (nothing when it went straight to the socket). */
  private track(sub: Subscriber, bytes: number): void {
    const buffered = sub.ws.getBufferedAmount();
    if (buffered === 0) {
      sub.queued.length = 0;
      sub.queuedBytes = 0;
      return;
    }
    const size = Math.max(1, Math.min(bytes || buffered - sub.queuedBytes, buffered));
    sub.queued.push(size);
    sub.queuedBytes += size;
  }

  private fallBehind(sub: Subscriber, seq: number): void {
    sub.mode = 'behind';
    sub.gapFrom = seq;
    sub.missed = 1;
    sub.lastProgress = Date.now();
    this.log.info({ sub: sub.id, seq }, 'event subscriber fell behind; it will catch up from the store');
  }

  private checkLag(sub: Subscriber, now = Date.now()): void {
    if (sub.mode === 'live' || sub.closed) return;
    const tooMany = sub.missed > this.maxLag;
    const stalled = now - sub.lastProgress > this.maxStallMs;
    if (!tooMany && !stalled) return;
    const why = tooMany ? `missed more than ${this.maxLag} events` : `made no progress for ${Math.round(this.maxStallMs / 1000)} s`;
    // Close reasons are limited to 123 bytes.
    const reason = `VIGIL_ERR_SLOW_CONSUMER: ${why}; reconnect with since=${sub.lastSeq}`.slice(0, 123);
    this.log.warn({ sub: sub.id, code: CLOSE_SLOW_CONSUMER, reason }, `event subscriber closed: ${why}`);
    this.opts.onSubscriberClosed?.('slow');
    this.end(sub, CLOSE_SLOW_CONSUMER, reason);
  }

  private end(sub: Subscriber, code: number, reason: string): void {
    if (sub.closed) return;
    sub.closed = true;
    this.subs.delete(sub);
    try {
      sub.ws.end(code, reason);
    } catch {
      // Already closed by the peer.
    }
  }

  /** Replays matching stored events after sub.lastSeq until caught up, backpressure, or the per-tick budget. */
  private pump(sub: Subscriber): void {
    const deadline = Date.now() + 20; // yield the event loop often: other subscribers and HTTP keep flowing
    try {
      while (!sub.closed && sub.mode === 'replay') {
        if (this.overBudget(sub)) return; // drain() resumes
        // A bounded seq window keeps each read cheap: with several stream ids SQLite sorts what it reads.
        const windowEnd = sub.lastSeq + this.chunk * 50;
        const rows = this.source.scan({
          sinceSeq: sub.lastSeq,
          beforeSeq: windowEnd + 1,
          streamIds: sub.filter.streamIds ? [...sub.filter.streamIds] : undefined,
          analyticIds: sub.filter.analyticIds ? [...sub.filter.analyticIds] : undefined,
          withCrops: sub.filter.crops,
          limit: this.chunk,
          order: 'asc',
        });
        let stopped = false;
        sub.ws.cork(() => {
          for (const row of rows) {
            if (this.overBudget(sub) || sub.ws.send(rowMessage(row, sub.filter.crops)) === 2) {
              stopped = true;
              break;
            }
            sub.lastSeq = row.seq;
            this.track(sub, 0);
          }
        });
        if (rows.length) sub.lastProgress = Date.now();
        if (stopped) return;
        if (rows.length < this.chunk) {
          if (windowEnd < this.source.lastSeq()) {
            sub.lastSeq = windowEnd; // nothing else in this window matches: skip ahead
          } else {
            // Caught up, synchronously with the read: the next publish is newer than anything read.
            sub.mode = 'live';
            sub.missed = 0;
            return;
          }
        }
        if (Date.now() > deadline) {
          this.schedulePump(sub);
          return;
        }
      }
    } catch (err) {
      this.log.error({ err, sub: sub.id }, 'event replay failed');
      if (!sub.closed) {
        sub.ws.cork(() => sub.ws.send(JSON.stringify({ type: 'error', code: 'VIGIL_ERR_INTERNAL', message: 'Replay from the event store failed; reconnect with since.' })));
        this.end(sub, 1011, 'replay failed');
      }
    }
  }

  private schedulePump(sub: Subscriber): void {
    if (sub.pumpScheduled) return;
    sub.pumpScheduled = true;
    setImmediate(() => {
      sub.pumpScheduled = false;
      if (!sub.closed) this.pump(sub);
    });
  }
}

/** `{"seq":N, ...event}`: seq first like a replayed row, whatever seq the object itself carries. */
function eventMessage(event: VisionEvent, seq: number): string {
  const { seq: _ignored, ...rest } = event;
  return JSON.stringify({ seq, ...rest });
}
