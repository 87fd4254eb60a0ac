/** Per-model numbers for the status API and `/metrics`. */
export interface ModelMetrics {
  model: string;
  provider: string;
  /** Frames inferred per second over the last `windowS` seconds. */
  inferencesPerSec: number;
  /** ORT run time per batch (worker side), ms. */
  p50Ms: number;
  p99Ms: number;
  /** Time from submit to result (queue wait + run + transfer), ms. */
  p50TotalMs: number;
  p99TotalMs: number;
  queueDepth: number;
  /** Batches run by each session of the model (one entry per replica). */
  sessionBatches: number[];
  inferences: number;
  batches: number;
  meanBatch: number;
  drops: number;
  dropsByStream: Record<string, number>;
  errors: number;
}

const RING = 1024;

/** Latency ring buffers and counters of one model; no allocation per sample. */
export class ModelStats {
  private readonly run = new Float64Array(RING);
  private readonly total = new Float64Array(RING);
  private runN = 0;
  private totalN = 0;
  /** Completion times (ms since start) of recent frames, for the rate. */
  private readonly stamps = new Float64Array(RING);
  private stampN = 0;
  inferences = 0;
  batches = 0;
  drops = 0;
  errors = 0;
  readonly dropsByStream: Record<string, number> = {};

  /** Raw samples for a histogram (the /metrics latency series): ORT run per batch, and submit→result per frame. */
  onSample?: (stage: 'run' | 'total', ms: number) => void;

  /** Batches run by each session of the model. */
  private sessionBatches: number[] = [];

  constructor(sessions = 1, readonly windowS = 10) {
    this.setSessions(sessions);
  }

  /** The model now runs `n` sessions (a new thread plan): their batch counts start from zero. */
  setSessions(n: number): void {
    this.sessionBatches = new Array<number>(Math.max(1, n)).fill(0);
  }

  /** `session` -1: a session being replaced (counted in the totals only). */
  recordBatch(runMs: number, size: number, session = 0): void {
    if (session >= 0 && session < this.sessionBatches.length) this.sessionBatches[session]!++;
    this.onSample?.('run', runMs);
    this.run[this.runN++ % RING] = runMs;
    this.batches++;
    this.inferences += size;
    const now = performance.now();
    for (let i = 0; i < size; i++) this.stamps[this.stampN++ % RING] = now;
  }

  recordTotal(ms: number): void {
    this.onSample?.('total', ms);
    this.total[this.totalN++ % RING] = ms;
  }

  recordDrop(stream: string): void {
    this.drops++;
    this.dropsByStream[stream] = (this.dropsByStream[stream] ?? 0) + 1;
  }

  /** Counts start from zero (after a model's warm-up runs). */
  resetCounts(): void {
    this.inferences = 0;
    this.batches = 0;
    this.sessionBatches.fill(0);
  }

  snapshot(model: string, provider: string, queueDepth: number): ModelMetrics {
    const [p50, p99] = percentiles(this.run, Math.min(this.runN, RING));
    const [t50, t99] = percentiles(this.total, Math.min(this.totalN, RING));
    const now = performance.now();
    const from = now - this.windowS * 1000;
    let n = 0;
    let oldest = now;
    for (let i = 0; i < Math.min(this.stampN, RING); i++) {
      const t = this.stamps[i]!;
      if (t >= from) { n++; if (t < oldest) oldest = t; }
    }
    // When the ring holds less than the window, divide by the time it covers.
    const span = n >= RING ? Math.max(0.001, (now - oldest) / 1000) : this.windowS;
    return {
      model, provider, inferencesPerSec: round(n / span), p50Ms: round(p50), p99Ms: round(p99), p50TotalMs: round(t50), p99TotalMs: round(t99),
      queueDepth, sessionBatches: [...this.sessionBatches], inferences: this.inferences, batches: this.batches, meanBatch: round(this.batches ? this.inferences / this.batches : 0),
      drops: this.drops, dropsByStream: { ...this.dropsByStream }, errors: this.errors,
    };
  }
}

function percentiles(buf: Float64Array, n: number): [number, number] {
  if (n === 0) return [0, 0];
  const s = buf.slice(0, n).sort();
  return [s[Math.floor((n - 1) * 0.5)]!, s[Math.floor((n - 1) * 0.99)]!];
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
