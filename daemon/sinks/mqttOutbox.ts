import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { VigilError } from '../errors.js';
import { maskUrl } from '../events/mask.js';
import { withoutCrop } from '../events/eventBuilder.js';
import type { VisionEvent } from '../events/schema.js';
import type { Logger } from '../log.js';
import { rowMessage, type EventQuery, type StoredRow } from '../store/eventStore.js';
import type { OutboxStore } from '../store/outboxStore.js';

/** Config `mqtt:` (all optional but url). */
export interface MqttSinkOptions {
  /** mqtt://host:1883, mqtts://..., ws://...; credentials in it are accepted and masked in logs. */
  url: string;
  username?: string;
  password?: string;
  /** Default `vigil-<node_num>`; a fixed id lets the broker drop a stale session of a crashed daemon. */
  clientId?: string;
  /** First topic level (default `vigil`): events go to `<prefix>/<node>/<analytic>/<stream>`. */
  topicPrefix?: string;
  /** 1 (default, at-least-once) or 0 (fire and forget, still ordered). */
  qos?: 0 | 1;
  /** Include the base64 crop in the payload (default false: fleet links are often thin). */
  crops?: boolean;
  /** Largest backlog of unsent events; beyond it the oldest are skipped with a counted warning (default 100 000). */
  outboxMax?: number;
  nodeNum: number;
  /** Publishes awaiting PUBACK at once (default 100). */
  inflight?: number;
  /** Reconnect delay, doubling up to reconnectMaxMs (defaults 1 000 and 30 000 ms). */
  reconnectMs?: number;
  reconnectMaxMs?: number;
  /** Name of this sink's cursor in the outbox table (default `mqtt`). */
  name?: string;
}

/** What the outbox reads from the event store: ordered rows after a seq, and the newest seq. */
export interface OutboxSource {
  scan(q: EventQuery): StoredRow[];
  lastSeq(): number;
}

/** Counters for the status page. */
export interface MqttSinkStats {
  connected: boolean;
  broker: string;
  ackedSeq: number;
  sentSeq: number;
  inflight: number;
  backlog: number;
  published: number;
  dropped: number;
  unstoredSent: number;
  unstoredDropped: number;
  reconnects: number;
}

interface Inflight {
  seq: number;
  acked: boolean;
}

/**
 * The fleet sink: publishes each stored event to `<prefix>/<node>/<analytic>/<stream>` in seq
 * order, QoS 1, from a store-backed outbox. The queue is the events table; the cursor (last seq
 * the broker acknowledged) is persisted in OutboxStore, so a broker outage or a daemon crash
 * resumes from the first unacknowledged event: none lost, duplicates only where QoS 1 allows.
 * Each connection is a fresh mqtt.js client (no auto-reconnect, clean session): after a drop we
 * resend from our own cursor, so mqtt.js never replays its own copies out of order.
 */
export class MqttOutbox {
  private readonly log: Logger;
  private readonly prefix: string;
  private readonly qos: 0 | 1;
  private readonly crops: boolean;
  private readonly outboxMax: number;
  private readonly window: number;
  private readonly name: string;
  private readonly statusTopic: string;
  private client: MqttClient | null = null;
  private connected = false;
  private stopped = true;
  private ackedSeq = 0;
  private sentSeq = 0;
  private dropped = 0;
  private inflight: Inflight[] = [];
  private published = 0;
  private unstoredSent = 0;
  private unstoredDropped = 0;
  private reconnects = 0;
  private delay: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private pumpScheduled = false;
  private generation = 0;
  /** The latest payload of each retained state topic, sent again on every (re)connect. */
  private readonly retained = new Map<string, string | Buffer>();

  constructor(
    private readonly deps: { store: OutboxSource; cursor: OutboxStore; log: Logger },
    private readonly opts: MqttSinkOptions,
  ) {
    if (!/^(mqtts?|wss?|tcp|ssl):\/\//i.test(opts.url ?? '')) {
      throw new VigilError('VIGIL_ERR_CONFIG', `mqtt.url must be mqtt://, mqtts://, ws:// or wss://, not "${maskUrl(String(opts.url))}"`);
    }
    this.log = deps.log.child({ component: 'mqtt' });
    this.prefix = (opts.topicPrefix ?? 'vigil').replace(/\/+$/, '');
    this.qos = opts.qos ?? 1;
    this.crops = opts.crops ?? false;
    this.outboxMax = Math.max(1, opts.outboxMax ?? 100_000);
    this.window = Math.max(1, opts.inflight ?? 100);
    this.name = opts.name ?? 'mqtt';
    this.statusTopic = `${this.prefix}/${opts.nodeNum}/status`;
    this.delay = opts.reconnectMs ?? 1000;
  }

  /** Loads the cursor and connects in the background; never waits for (or fails on) the broker. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const c = this.deps.cursor.get(this.name, this.deps.store.lastSeq());
    this.ackedSeq = c.ackedSeq;
    this.sentSeq = c.ackedSeq;
    this.dropped = c.dropped;
    this.connect();
  }

  /** Publishes `offline` (retained), saves the cursor, closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.saveCursor();
    const client = this.client;
    this.client = null;
    this.connected = false;
    if (!client) return;
    if (client.connected) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        client.publish(this.statusTopic, 'offline', { qos: 1, retain: true }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  /** A new event was stored with this seq: send it (and anything before it) when connected. */
  notify(_seq: number): void {
    this.schedulePump();
  }

  /** An event that could not be stored (disk full): sent at once if connected (no seq, no retry), else counted as dropped. */
  publishUnstored(event: VisionEvent): void {
    if (!this.client || !this.connected) {
      this.unstoredDropped++;
      return;
    }
    const body = this.crops ? event : withoutCrop(event);
    const { seq: _s, ...rest } = body;
    this.client.publish(this.topic(event.analytic_id, event.stream_id), JSON.stringify({ seq: null, ...rest }), { qos: this.qos }, (err) => {
      if (err) this.unstoredDropped++;
    });
    this.unstoredSent++;
  }

  /** `<prefix>/<node>`: the root of this daemon's topics. */
  get base(): string {
    return `${this.prefix}/${this.opts.nodeNum}`;
  }

  /** The availability topic: retained `online`, and `offline` by last will or on stop. */
  get availabilityTopic(): string {
    return this.statusTopic;
  }

  /**
   * Publishes a retained state (QoS 1) now when connected, and again after every reconnect:
   * a broker restarted without persistence still ends up with every current state. An empty
   * payload clears the topic on the broker and forgets it here.
   */
  publishRetained(topic: string, payload: string | Buffer): void {
    if (payload.length === 0) this.retained.delete(topic);
    else this.retained.set(topic, payload);
    if (this.client && this.connected) this.client.publish(topic, payload, { qos: 1, retain: true });
  }

  stats(): MqttSinkStats {
    return {
      connected: this.connected,
      broker: maskUrl(this.opts.url),
      ackedSeq: this.ackedSeq,
      sentSeq: this.sentSeq,
      inflight: this.inflight.length,
      backlog: Math.max(0, this.deps.store.lastSeq() - this.ackedSeq),
      published: this.published,
      dropped: this.dropped,
      unstoredSent: this.unstoredSent,
      unstoredDropped: this.unstoredDropped,
      reconnects: this.reconnects,
    };
  }

  /** `<prefix>/<node>/<analytic>/<stream>`; wildcard and separator characters in ids are replaced. */
  topic(analyticId: string, streamId: string): string {
    const clean = (s: string) => s.replace(/[/+#\u0000]/g, '_');
    return `${this.prefix}/${this.opts.nodeNum}/${clean(analyticId)}/${clean(streamId)}`;
  }

  private connect(): void {
    if (this.stopped) return;
    const gen = ++this.generation;
    const options: IClientOptions = {
      clientId: this.opts.clientId ?? `vigil-${this.opts.nodeNum}`,
      username: this.opts.username,
      password: this.opts.password,
      clean: true,
      reconnectPeriod: 0, // we reconnect ourselves, with a fresh client and our own resend cursor
      connectTimeout: 10_000,
      keepalive: 30,
      will: { topic: this.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    const client = connect(this.opts.url, options);
    this.client = client;
    client.on('connect', () => {
      if (gen !== this.generation) return;
      this.connected = true;
      this.delay = this.opts.reconnectMs ?? 1000;
      // Resend everything not acknowledged, in order.
      this.inflight = [];
      this.sentSeq = this.ackedSeq;
      this.log.info({ broker: maskUrl(this.opts.url), ackedSeq: this.ackedSeq, backlog: this.deps.store.lastSeq() - this.ackedSeq }, 'MQTT connected');
      client.publish(this.statusTopic, 'online', { qos: 1, retain: true });
      for (const [topic, payload] of this.retained) client.publish(topic, payload, { qos: 1, retain: true });
      this.schedulePump();
    });
    client.on('error', (err) => {
      if (gen !== this.generation) return;
      // mqtt.js puts the URL (with credentials) in some messages: mask before logging.
      this.log.warn({ broker: maskUrl(this.opts.url), error: maskUrl(err.message) }, 'MQTT connection error');
    });
    client.on('close', () => {
      if (gen !== this.generation) return;
      const was = this.connected;
      this.connected = false;
      this.inflight = [];
      this.sentSeq = this.ackedSeq;
      this.saveCursor();
      client.end(true);
      if (this.stopped) return;
      if (was) this.log.warn({ broker: maskUrl(this.opts.url), ackedSeq: this.ackedSeq }, 'MQTT disconnected; events queue in the store');
      this.reconnects++;
      const wait = this.delay;
      this.delay = Math.min(this.delay * 2, this.opts.reconnectMaxMs ?? 30_000);
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        this.connect();
      }, wait);
    });
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Sends stored events after sentSeq while the in-flight window has room. */
  private pump(): void {
    const client = this.client;
    if (!client || !this.connected || this.stopped) return;
    this.bound();
    const gen = this.generation;
    try {
      while (this.inflight.length < this.window) {
        const rows = this.deps.store.scan({ sinceSeq: this.sentSeq, limit: Math.min(200, this.window - this.inflight.length), order: 'asc', withCrops: this.crops });
        if (rows.length === 0) return;
        for (const row of rows) {
          const entry: Inflight = { seq: row.seq, acked: false };
          this.inflight.push(entry);
          this.sentSeq = row.seq;
          client.publish(this.topic(row.analytic_id, row.stream_id), rowMessage(row, this.crops), { qos: this.qos }, (err) => {
            if (gen !== this.generation || err) return; // a drop: resent from ackedSeq after reconnect
            entry.acked = true;
            this.published++;
            this.advance();
          });
        }
      }
    } catch (err) {
      this.log.error({ err }, 'MQTT outbox could not read the event store; retrying on the next event');
    }
  }

  /** Moves the cursor over the acknowledged head of the in-flight list (acks may come out of order). */
  private advance(): void {
    let n = 0;
    while (n < this.inflight.length && this.inflight[n]!.acked) n++;
    if (n === 0) return;
    this.ackedSeq = Math.max(this.ackedSeq, this.inflight[n - 1]!.seq);
    this.inflight.splice(0, n);
    // Persisting every ack would double the write load: save at most every 200 ms (a crash resends ≤ 200 ms of events).
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = null;
      this.saveCursor();
    }, 200);
    this.schedulePump();
  }

  /** Keeps the backlog within outboxMax: the oldest unsent events are skipped and counted. */
  private bound(): void {
    const last = this.deps.store.lastSeq();
    if (last - this.ackedSeq <= this.outboxMax) return;
    const backlog = this.deps.cursor.countBetween(this.ackedSeq, last);
    if (backlog <= this.outboxMax) return;
    const cut = this.deps.cursor.seqKeepingLast(this.outboxMax);
    if (cut === undefined || cut <= this.ackedSeq) return;
    const skipped = backlog - this.outboxMax;
    this.dropped += skipped;
    this.log.warn({ skipped, droppedTotal: this.dropped, outboxMax: this.outboxMax }, 'MQTT outbox over its bound: the oldest unsent events were dropped');
    this.ackedSeq = cut;
    if (this.sentSeq < cut) {
      this.sentSeq = cut;
      this.inflight = [];
    }
    this.saveCursor();
  }

  private saveCursor(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    try {
      this.deps.cursor.save(this.name, { ackedSeq: this.ackedSeq, dropped: this.dropped });
    } catch (err) {
      // Disk full: the cursor stays in memory; a crash now only means resending (QoS 1 allows it).
      this.log.warn({ err }, 'MQTT outbox cursor could not be saved');
    }
  }
}
