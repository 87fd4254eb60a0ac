import { statSync } from 'node:fs';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { uwsInfo } from './uws/loadUws.js';
import type { ModelMetrics } from '../inference/metrics.js';
import type { PipelineStats } from '../pipeline.js';
import type { Db } from '../store/database.js';
import type { StreamHealth, StreamState } from '../streams/types.js';
import { registerDeliveryMetrics, type DeliverySource } from './deliveryMetrics.js';
import type { RouteRegistry } from './routes.js';

/** What `/metrics` reads at each scrape; main implements it over its parts. */
export interface MetricsSource extends DeliverySource {
  streams(): StreamHealth[];
  pipeline(): PipelineStats[];
  models(): ModelMetrics[];
  subscribers(): number;
  /** Bytes the event store occupies on disk (see sqliteSizeBytes). */
  storeSizeBytes(): number;
  /** The store's cap and growth (optional; see store/storageBudget.ts). */
  storage?(): { max_bytes: number | null; bytes_per_day: number; days_to_cap: number | null };
  /** Highest stored seq (optional). */
  lastSeq?(): number;
  /** Build facts for `vigil_build_info` (optional). */
  info?(): { version: string; node_num: number };
}

/** The daemon's Prometheus metrics. */
export interface Metrics {
  registry: Registry;
  /** Adds `GET /metrics` (text exposition format); `auth` defaults to 'token' (Prometheus `authorization: {credentials: TOKEN}`). */
  register(routes: RouteRegistry, opts?: { auth?: 'token' | 'none' }): void;
  /** Counts one published event; call it where the event is published. */
  countEvent(analyticId: string): void;
  /** One latency sample of a model (`run`: ORT time per batch; `total`: submit to result). */
  observeModelLatency(model: string, stage: 'run' | 'total', ms: number): void;
  /** Counts an event-socket subscriber closed by the daemon (`slow`: 4008 stuck/behind, `idle`: no pong, `refused`: over a cap). */
  countSubscriberClose(why: 'slow' | 'idle' | 'refused'): void;
  /** Counts one `gap` sent to a subscriber that fell behind its send budget. */
  countSubscriberGap(): void;
  /** Renders the exposition text (what /metrics answers). */
  render(): Promise<string>;
  /** Stops the fps sampler. */
  stop(): void;
}

const STATES: StreamState[] = ['starting', 'running', 'stalled', 'backoff', 'failed', 'disabled'];
const SAMPLE_EVERY_MS = 1000;
const RATE_WINDOW_MS = 10_000;

interface Sample {
  t: number;
  in: number;
  analysed: number;
  dropped: number;
}

/**
 * prom-client's default gauges that end in `_total` (Prometheus reserves the suffix for counters,
 * `promtool check metrics` refuses them); their per-type twins without the suffix stay.
 */
const NON_COUNTER_TOTALS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * Builds the registry: per-stream, per-model, events, delivery (event socket, MQTT) and store
 * series as `vigil_*`, plus Node's process metrics under their standard names (`process_*`,
 * `nodejs_*`) so stock Node.js dashboards work unchanged.
 */
export function createMetrics(source: MetricsSource): Metrics {
  const registry = new Registry();
  const registers = [registry];
  // Event-loop lag (nodejs_eventloop_lag_*), CPU, memory, GC, handles.
  collectDefaultMetrics({ register: registry });
  for (const name of NON_COUNTER_TOTALS) registry.removeSingleMetric(name);

  // Pipeline counters are sampled so the fps gauges are rates over the last RATE_WINDOW_MS, not since start.
  const samples = new Map<string, Sample[]>();
  const sample = (): void => {
    const t = Date.now();
    const seen = new Set<string>();
    for (const p of safe(() => source.pipeline(), [])) {
      seen.add(p.streamId);
      const list = samples.get(p.streamId) ?? [];
      list.push({ t, in: p.framesIn, analysed: p.framesAnalysed, dropped: p.framesDropped });
      while (list.length > 2 && t - list[0]!.t > RATE_WINDOW_MS) list.shift();
      samples.set(p.streamId, list);
    }
    for (const id of samples.keys()) if (!seen.has(id)) samples.delete(id);
  };
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  timer.unref();
  sample();

  new Gauge({
    name: 'vigil_stream_fps',
    help: 'Frames per second of a stream by stage: decoded (ffmpeg output), in (into analysis), analysed, dropped (analysis too slow)',
    labelNames: ['stream', 'stage'],
    registers,
    collect() {
      this.reset();
      for (const s of safe(() => source.streams(), [])) this.set({ stream: s.id, stage: 'decoded' }, s.fps);
      sample();
      for (const [stream, list] of samples) {
        const first = list[0]!;
        const last = list[list.length - 1]!;
        const dt = (last.t - first.t) / 1000;
        const rate = (k: 'in' | 'analysed' | 'dropped') => (dt > 0 ? Math.max(0, last[k] - first[k]) / dt : 0);
        this.set({ stream, stage: 'in' }, rate('in'));
        this.set({ stream, stage: 'analysed' }, rate('analysed'));
        this.set({ stream, stage: 'dropped' }, rate('dropped'));
      }
    },
  });
  new Counter({
    name: 'vigil_stream_frames_total',
    help: 'Frames of a stream since the daemon started, by stage (use rate() for fps)',
    labelNames: ['stream', 'stage'],
    registers,
    collect() {
      this.reset();
      for (const s of safe(() => source.streams(), [])) this.inc({ stream: s.id, stage: 'decoded' }, s.frames);
      for (const p of safe(() => source.pipeline(), [])) {
        this.inc({ stream: p.streamId, stage: 'in' }, p.framesIn);
        this.inc({ stream: p.streamId, stage: 'analysed' }, p.framesAnalysed);
        this.inc({ stream: p.streamId, stage: 'dropped' }, p.framesDropped);
      }
    },
  });
  new Gauge({
    name: 'vigil_event_backlog',
    help: 'Events of a stream found but not yet stored and published (analysis pauses at inference.event_backlog)',
    labelNames: ['stream'],
    registers,
    collect() {
      this.reset();
      for (const p of safe(() => source.pipeline(), [])) this.set({ stream: p.streamId }, p.eventBacklog ?? 0);
    },
  });
  new Counter({
    name: 'vigil_event_backlog_stalls_total',
    help: 'Times a stream paused its analysis because its event backlog was full (the store is behind)',
    labelNames: ['stream'],
    registers,
    collect() {
      this.reset();
      for (const p of safe(() => source.pipeline(), [])) this.inc({ stream: p.streamId }, p.eventStalls ?? 0);
    },
  });
  new Counter({
    name: 'vigil_stream_reconnects_total',
    help: 'Restarts of a stream after its first start (drops, stalls, failed connects)',
    labelNames: ['stream'],
    registers,
    collect() {
      this.reset();
      for (const s of safe(() => source.streams(), [])) this.inc({ stream: s.id }, s.reconnects);
    },
  });
  new Gauge({
    name: 'vigil_stream_state',
    help: 'State of a stream: 1 for its current state, 0 for the others',
    labelNames: ['stream', 'state'],
    registers,
    collect() {
      this.reset();
      for (const s of safe(() => source.streams(), [])) for (const st of STATES) this.set({ stream: s.id, state: st }, s.state === st ? 1 : 0);
    },
  });
  new Counter({
    name: 'vigil_pipeline_errors_total',
    help: 'Analysis errors of a stream',
    labelNames: ['stream'],
    registers,
    collect() {
      this.reset();
      for (const p of safe(() => source.pipeline(), [])) this.inc({ stream: p.streamId }, p.errors);
    },
  });

  const latency = new Histogram({
    name: 'vigil_model_latency_seconds',
    help: 'Model latency: run (inference per batch) or total (submit to result, queue included)',
    labelNames: ['model', 'stage'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  // Precomputed percentiles are plain gauges named by percentile: a `quantile` label belongs to summaries only.
  for (const [pct, run, total] of [['50', 'p50Ms', 'p50TotalMs'], ['99', 'p99Ms', 'p99TotalMs']] as const) {
    new Gauge({
      name: `vigil_model_latency_p${pct}_seconds`,
      help: `Model latency, ${pct}th percentile over the engine's last 1024 batches (run) or frames (total)`,
      labelNames: ['model', 'stage'],
      registers,
      collect() {
        this.reset();
        for (const m of safe(() => source.models(), [])) {
          this.set({ model: m.model, stage: 'run' }, m[run] / 1000);
          this.set({ model: m.model, stage: 'total' }, m[total] / 1000);
        }
      },
    });
  }
  modelGauge('vigil_model_queue_depth', 'Frames waiting for a model', (m) => m.queueDepth);
  modelGauge('vigil_model_inferences_per_second', 'Frames inferred per second over the engine window', (m) => m.inferencesPerSec);
  modelCounter('vigil_model_inferences_total', 'Frames inferred by a model', (m) => m.inferences);
  modelCounter('vigil_model_drops_total', 'Frames a model dropped because its queue was full', (m) => m.drops);
  modelCounter('vigil_model_errors_total', 'Failed inference batches of a model', (m) => m.errors);

  const events = new Counter({ name: 'vigil_events_total', help: 'Events published, by analytic', labelNames: ['analytic'], registers });
  new Gauge({
    name: 'vigil_subscribers',
    help: 'Open event-socket subscribers',
    registers,
    collect() {
      this.set(safe(() => source.subscribers(), 0));
    },
  });
  const subscriberCloses = new Counter({ name: 'vigil_subscriber_closes_total', help: 'Event-socket subscribers closed or refused by the daemon, by reason', labelNames: ['reason'], registers });
  const subscriberGaps = new Counter({ name: 'vigil_subscriber_gaps_total', help: 'Gaps sent to event-socket subscribers that fell behind their send budget', registers });
  new Gauge({
    name: 'vigil_store_size_bytes',
    help: 'Size of the event store on disk',
    registers,
    collect() {
      this.set(safe(() => source.storeSizeBytes(), 0));
    },
  });
  registerDeliveryMetrics(registry, source);
  if (source.storage) {
    const storage = source.storage.bind(source);
    const gauge = (name: string, help: string, pick: (s: ReturnType<typeof storage>) => number | null) =>
      new Gauge({
        name, help, registers,
        collect() {
          this.reset();
          const v = safe(() => pick(storage()), null);
          if (v !== null) this.set(v);
        },
      });
    gauge('vigil_store_bytes_per_day', 'Bytes of events and crops the store gains per day, over the last day', (s) => s.bytes_per_day);
    // Seconds, not days: Prometheus base units (promtool check metrics).
    gauge('vigil_store_seconds_to_cap', 'Seconds until the store reaches retention.max_bytes at the current rate (0: at the cap, oldest deleted)', (s) => (s.days_to_cap === null ? null : Math.round(s.days_to_cap * 86_400)));
    gauge('vigil_store_max_bytes', 'The store cap retention enforces (retention.max_bytes, resolved)', (s) => s.max_bytes);
  }
  if (source.lastSeq) {
    const lastSeq = source.lastSeq.bind(source);
    new Gauge({
      name: 'vigil_store_last_seq',
      help: 'Highest stored event seq',
      registers,
      collect() {
        this.set(safe(lastSeq, 0));
      },
    });
  }
  new Gauge({ name: 'vigil_uws_native', help: '1 when the sockets run on native uWebSockets.js, 0 on the JavaScript fallback (see vigil doctor)', registers }).set(
    uwsInfo.kind === 'native' ? 1 : 0,
  );
  if (source.info) {
    const info = source.info();
    new Gauge({ name: 'vigil_build_info', help: 'Version and node number of this daemon', labelNames: ['version', 'node_num'], registers }).set(
      { version: info.version, node_num: String(info.node_num) },
      1,
    );
  }

  function modelGauge(name: string, help: string, value: (m: ModelMetrics) => number): void {
    new Gauge({
      name,
      help,
      labelNames: ['model', 'provider'],
      registers,
      collect() {
        this.reset();
        for (const m of safe(() => source.models(), [])) this.set({ model: m.model, provider: m.provider }, value(m));
      },
    });
  }
  function modelCounter(name: string, help: string, value: (m: ModelMetrics) => number): void {
    new Counter({
      name,
      help,
      labelNames: ['model', 'provider'],
      registers,
      collect() {
        this.reset();
        for (const m of safe(() => source.models(), [])) this.inc({ model: m.model, provider: m.provider }, value(m));
      },
    });
  }

  return {
    registry,
    register(routes, opts = {}) {
      routes.route('GET', '/metrics', async () => ({ body: await registry.metrics(), contentType: registry.contentType }), { auth: opts.auth ?? 'token' });
    },
    countEvent: (analyticId) => events.inc({ analytic: analyticId }),
    observeModelLatency: (model, stage, ms) => latency.observe({ model, stage }, ms / 1000),
    countSubscriberClose: (why) => subscriberCloses.inc({ reason: why }),
    countSubscriberGap: () => subscriberGaps.inc(),
    render: () => registry.metrics(),
    stop: () => clearInterval(timer),
  };
}

/** Bytes of a SQLite database: its pages plus the WAL file beside it (when `file` is given). */
export function sqliteSizeBytes(db: Db, file?: string): number {
  const pages = Number(db.pragma('page_count', { simple: true }));
  const size = Number(db.pragma('page_size', { simple: true }));
  let wal = 0;
  if (file) {
    try {
      wal = statSync(`${file}-wal`).size;
    } catch {
      // no WAL file right now
    }
  }
  return pages * size + wal;
}

/** A scrape must not fail because one part is stopping: a failing source reads as its fallback. */
function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
