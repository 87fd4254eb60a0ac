import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { VigilError } from '../errors.js';
import type { Logger } from '../log.js';
import { ModelStats, type ModelMetrics } from './metrics.js';
import type { ModelRunner, ModelSpec, RunOptions } from './types.js';
import type { ValueMeta, WireTensor, WorkerInit, WorkerReply } from './workerProtocol.js';

/** Queueing and batching settings of one model. */
export interface QueueSettings {
  /** Largest batch for dynamic-batch models (1 disables batching). */
  maxBatch: number;
  /** How long the first queued frame may wait for others to fill a batch. */
  maxWaitMs: number;
  /** Most frames waiting (not yet running) for this model; beyond it the oldest are dropped. */
  queueDepth: number;
}

interface Pending {
  feeds: Record<string, ort.Tensor>;
  stream: string;
  /** Shape key: only frames of equal input shapes are batched together. */
  key: string;
  t0: number;
  resolve: (out: Record<string, ort.Tensor>) => void;
  reject: (err: Error) => void;
}

const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './sessionWorker.ts' : './sessionWorker.js', import.meta.url);

/** Starts a session worker and waits until the model is loaded (or fails clearly). */
export async function startSessionWorker(init: Omit<WorkerInit, 'kind'>): Promise<{ worker: Worker; ready: Extract<WorkerReply, { kind: 'ready' }> }> {
  // Under tsx (tests, dev) a worker must register the TypeScript loader itself.
  const worker = workerUrl.pathname.endsWith('.ts')
    ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(workerUrl.href)}); })`, { eval: true })
    : new Worker(workerUrl);
  worker.unref();
  const reply = await new Promise<WorkerReply>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.postMessage({ kind: 'init', ...init } satisfies WorkerInit);
  }).catch((err: Error) => ({ kind: 'init-error' as const, code: 'VIGIL_ERR_MODEL_LOAD' as const, message: err.message }));
  if (reply.kind !== 'ready') {
    await worker.terminate();
    const msg = reply.kind === 'init-error' ? reply.message : `unexpected reply ${reply.kind}`;
    const err = new VigilError('VIGIL_ERR_MODEL_LOAD', msg);
    (err as VigilError & { skipped?: unknown }).skipped = 'skipped' in reply ? reply.skipped : undefined;
    throw err;
  }
  worker.removeAllListeners('error');
  return { worker, ready: reply };
}

/**
 * One session of a model in its worker thread. `warming` sessions run only their warm-up,
 * `active` ones take requests, `retiring` ones (replaced by a re-plan) finish what they run and exit.
 */
interface Session {
  worker: Worker;
  /** Requests in flight. */
  busy: number;
  state: 'warming' | 'active' | 'retiring';
  /** Position among the active sessions (per-session batch counts); -1 once retiring. */
  index: number;
  closing?: Promise<void>;
}

/**
 * A loaded model: one or more sessions (replicas), each in its own worker thread, a bounded
 * queue in front (oldest frame of the busiest stream dropped when full), batching of
 * equal-shaped frames for dynamic-batch models; the next request goes to the least busy replica.
 * The sessions can be replaced while frames flow (`replaceSessions`): no request is lost.
 */
export class QueuedModelRunner implements ModelRunner {
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly inflight = new Map<number, { items: Pending[]; session: Session }>();
  private sessions: Session[] = [];
  private closed = false;
  readonly stats: ModelStats;
  /** The session takes any input height and width (a freed `rectMultiple` model, or a dynamic one). */
  readonly freeSize: boolean;
  /** Output buffers to hand back to the worker with the next run. */
  private spare: ArrayBuffer[] = [];
  /** Input buffers back from the worker, by byte length, for the next frames. */
  private readonly pool = new Map<number, ArrayBuffer[]>();

  constructor(
    readonly spec: ModelSpec,
    readonly provider: string,
    workers: readonly Worker[],
    readonly inputs: ValueMeta[],
    readonly outputs: ValueMeta[],
    readonly dynamicBatch: boolean,
    private readonly settings: QueueSettings,
    private readonly log: Logger,
  ) {
    const input = inputs.find((i) => i.name === spec.input.name);
    const [h, w] = spec.input.layout === 'NCHW' ? [2, 3] : [1, 2];
    this.freeSize = !!input && typeof input.shape[h] === 'string' && typeof input.shape[w] === 'string';
    this.stats = new ModelStats(workers.length);
    this.sessions = workers.map((w, i) => this.adopt(w, 'active', i));
  }

  /** Queues one request; resolves with its outputs (batch dimension 1 when batched). */
  run(feeds: Record<string, ort.Tensor>, opts: RunOptions = {}): Promise<Record<string, ort.Tensor>> {
    if (this.closed) return Promise.reject(new VigilError('VIGIL_ERR_INFERENCE_STOPPED', `Model ${this.spec.name} is unloaded`));
    return new Promise((resolve, reject) => {
      let key = '';
      for (const [k, t] of Object.entries(feeds)) key += `${k}:${t.type}:${t.dims.join('x')};`;
      const stream = opts.stream ?? '';
      if (this.queue.length >= this.settings.queueDepth) this.dropOne(stream);
      this.queue.push({ feeds, stream, key, t0: performance.now(), resolve, reject });
      this.pump();
    });
  }

  /** One run on every session, outside the queue (warm-up: a session's first run is slow). */
  runOnEach(feeds: () => Record<string, ort.Tensor>): Promise<unknown> {
    return this.runOn(this.active(), feeds);
  }

  private runOn(sessions: readonly Session[], feeds: () => Record<string, ort.Tensor>): Promise<unknown> {
    return Promise.all(sessions.map((session) => new Promise((resolve, reject) => {
      this.send([{ feeds: feeds(), stream: '__warmup__', key: '', t0: performance.now(), resolve, reject }], session);
    })));
  }

  /**
   * Swaps the sessions for `workers` (a new thread plan), while frames keep flowing: each new
   * session is warmed up first (`warm`), then takes requests; the old ones finish what they run
   * and exit. If the warm-up fails the new workers end and the old sessions stay.
   */
  async replaceSessions(workers: readonly Worker[], warm?: () => Record<string, ort.Tensor>): Promise<void> {
    if (this.closed) {
      await Promise.all(workers.map((w) => closeWorker(w, this.log)));
      throw new VigilError('VIGIL_ERR_INFERENCE_STOPPED', `Model ${this.spec.name} is unloaded`);
    }
    const fresh = workers.map((w) => this.adopt(w, 'warming', -1));
    this.sessions.push(...fresh);
    try {
      if (warm) await this.runOn(fresh, warm);
      if (this.closed) throw new VigilError('VIGIL_ERR_INFERENCE_STOPPED', `Model ${this.spec.name} is unloaded`);
    } catch (err) {
      for (const s of fresh) this.retire(s);
      throw err;
    }
    for (const s of this.active()) this.retire(s);
    fresh.forEach((s, i) => { s.state = 'active'; s.index = i; });
    this.stats.setSessions(fresh.length);
    this.pump();
  }

  /** A zeroed-or-recycled input buffer of `length` values (pooled: inputs come back from the worker). */
  inputBuffer(dtype: 'float32' | 'uint8', length: number): Float32Array | Uint8Array {
    const bytes = dtype === 'float32' ? length * 4 : length;
    const b = this.pool.get(bytes)?.pop();
    if (dtype === 'float32') return b ? new Float32Array(b) : new Float32Array(length);
    return b ? new Uint8Array(b) : new Uint8Array(length);
  }

  /** Output buffers read by their caller, going back to the worker with the next run (see fetchesFor in the worker). */
  recycle(outputs: Record<string, ort.Tensor>): void {
    // Only single-output models get their outputs written in place; two spares cover two runs in flight.
    if (this.closed || this.outputs.length !== 1 || this.spare.length >= 2) return;
    for (const t of Object.values(outputs)) {
      const d = t.data as Float32Array;
      // Only a whole buffer (a batched result's slices share one).
      if (d.buffer instanceof ArrayBuffer && d.byteLength === d.buffer.byteLength && !this.spare.includes(d.buffer)) this.spare.push(d.buffer);
    }
  }

  /** Current numbers for the status API. */
  metrics(): ModelMetrics {
    return this.stats.snapshot(this.spec.name, this.provider, this.queue.length);
  }

  /** Rejects what is queued, lets the running batches finish, then ends the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const p of this.queue.splice(0)) p.reject(new VigilError('VIGIL_ERR_INFERENCE_STOPPED', `Model ${this.spec.name} is unloaded`));
    await Promise.all(this.sessions.map((s) => this.closeSession(s)));
  }

  private adopt(worker: Worker, state: Session['state'], index: number): Session {
    const session: Session = { worker, busy: 0, state, index };
    worker.on('message', (m: WorkerReply) => this.onReply(m));
    // A session that is not serving yet (warming) or any more (retiring, closing) takes down only its own runs.
    const own = () => (this.closed || session.state !== 'active' ? session : undefined);
    worker.on('error', (err) => this.fail(new VigilError('VIGIL_ERR_MODEL_LOAD', `Session worker of ${this.spec.name} crashed: ${err.message}`), own()));
    // One that exits while closing or retiring has finished its own runs; the others may still be running theirs.
    worker.on('exit', () => {
      const only = own();
      this.sessions = this.sessions.filter((s) => s !== session);
      this.fail(new VigilError('VIGIL_ERR_INFERENCE_STOPPED', `Model ${this.spec.name} is unloaded`), only);
    });
    return session;
  }

  private active(): Session[] {
    return this.sessions.filter((s) => s.state === 'active');
  }

  /** No new requests for this session; it exits once its runs are done. */
  private retire(session: Session): void {
    session.state = 'retiring';
    session.index = -1;
    if (session.busy === 0) void this.closeSession(session);
  }

  private closeSession(session: Session): Promise<void> {
    session.closing ??= closeWorker(session.worker, this.log);
    return session.closing;
  }

  /** Drops the oldest queued frame of the stream with the most frames waiting (the caller's on a tie). */
  private dropOne(caller: string): void {
    const counts = new Map<string, number>();
    for (const p of this.queue) counts.set(p.stream, (counts.get(p.stream) ?? 0) + 1);
    let victim = caller;
    let most = counts.get(caller) ?? 0;
    for (const [s, n] of counts) if (n > most) { most = n; victim = s; }
    const i = this.queue.findIndex((p) => p.stream === victim);
    const [p] = this.queue.splice(i < 0 ? 0 : i, 1);
    if (!p) return;
    this.stats.recordDrop(p.stream);
    p.reject(new VigilError('VIGIL_ERR_INFERENCE_DROPPED', `Frame of ${p.stream || 'a caller'} dropped: ${this.spec.name} cannot keep up (queue depth ${this.settings.queueDepth})`));
  }

  /** The active session with the fewest requests in flight. */
  private leastBusy(): Session | undefined {
    let best: Session | undefined;
    for (const s of this.sessions) if (s.state === 'active' && (!best || s.busy < best.busy)) best = s;
    return best;
  }

  private pump(): void {
    // Two requests in flight per session for fixed-batch models: the worker starts the next one
    // without waiting for this thread to answer; one for batching models, so batches fill while it runs.
    const maxInFlight = this.dynamicBatch && this.settings.maxBatch > 1 ? 1 : 2;
    const session = this.leastBusy();
    if (!session || session.busy >= maxInFlight || this.closed || this.queue.length === 0) return;
    const first = this.queue[0]!;
    const batching = this.dynamicBatch && this.settings.maxBatch > 1;
    if (batching) {
      let same = 0;
      for (const p of this.queue) if (p.key === first.key) same++;
      const waited = performance.now() - first.t0;
      if (same < this.settings.maxBatch && waited < this.settings.maxWaitMs) {
        if (!this.timer) this.timer = setTimeout(() => { this.timer = undefined; this.pump(); }, Math.max(0, this.settings.maxWaitMs - waited));
        return;
      }
    }
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    const items: Pending[] = [];
    const max = batching ? this.settings.maxBatch : 1;
    for (let i = 0; i < this.queue.length && items.length < max; ) {
      if (this.queue[i]!.key === first.key) items.push(this.queue.splice(i, 1)[0]!);
      else i++;
    }
    this.send(items, session);
  }

  private send(items: Pending[], session: Session): void {
    const id = this.nextId++;
    const feeds: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    try {
      for (const name of Object.keys(items[0]!.feeds)) {
        const wire = items.length === 1 ? wireOf(items[0]!.feeds[name]!) : concat(items.map((p) => p.feeds[name]!));
        feeds[name] = wire;
        const buf = (wire.data as Float32Array).buffer;
        // Transfer only buffers we own (a concat, or a tensor that spans its whole buffer).
        if (buf instanceof ArrayBuffer && (items.length > 1 || (wire.data as Float32Array).byteLength === buf.byteLength) && !transfer.includes(buf)) transfer.push(buf);
      }
    } catch (err) {
      for (const p of items) p.reject(err as Error);
      return;
    }
    this.inflight.set(id, { items, session });
    session.busy++;
    const spare = this.spare.filter((b) => !transfer.includes(b));
    this.spare = [];
    session.worker.postMessage({ kind: 'run', id, feeds, spare }, [...transfer, ...spare]);
    this.pump();
  }

  private onReply(m: WorkerReply): void {
    if (m.kind !== 'result' && m.kind !== 'run-error') return;
    const job = this.inflight.get(m.id);
    if (!job) return;
    this.inflight.delete(m.id);
    const { items, session } = job;
    session.busy--;
    if (session.state === 'retiring' && session.busy === 0) void this.closeSession(session);
    if (m.kind === 'run-error') {
      this.stats.errors++;
      const err = new VigilError('VIGIL_ERR_MODEL_SHAPE', `${this.spec.name} refused the input: ${m.message}`);
      for (const p of items) p.reject(err);
    } else {
      this.stats.recordBatch(m.ms, items.length, session.index);
      for (const b of m.inputs ?? []) {
        const list = this.pool.get(b.byteLength) ?? [];
        if (list.length < 4) list.push(b);
        this.pool.set(b.byteLength, list);
      }
      const now = performance.now();
      for (let i = 0; i < items.length; i++) {
        const p = items[i]!;
        try {
          p.resolve(items.length === 1 ? toTensors(m.outputs) : slice(m.outputs, i, items.length));
          this.stats.recordTotal(now - p.t0);
        } catch (err) {
          p.reject(err as Error);
        }
      }
    }
    this.pump();
  }

  /** Rejects what `only` runs, or (a crash) everything in flight and queued, with no new runs after. */
  private fail(err: Error, only?: Session): void {
    if (only === undefined) this.closed = true;
    for (const [id, { items, session }] of this.inflight) {
      if (only !== undefined && session !== only) continue;
      this.inflight.delete(id);
      session.busy--;
      for (const p of items) p.reject(err);
    }
    if (only === undefined) for (const p of this.queue.splice(0)) p.reject(err);
  }
}

/** Asks a session worker to finish its runs and exit; terminates it only after 6 s. */
async function closeWorker(worker: Worker, log: Logger): Promise<void> {
  let gone = false;
  const exited = new Promise<void>((r) => worker.once('exit', () => { gone = true; r(); }));
  worker.postMessage({ kind: 'close' });
  // The worker finishes its runs, releases the session and exits by itself. terminate() is the
  // last resort only: ending the thread inside a native run can abort the whole process.
  // The worker is unref'd while it serves; while it closes it must hold the process open, or the
  // daemon ran out of work mid-stop and exited without finishing it (no "stopped" in the log).
  worker.ref();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((r) => (timer = setTimeout(r, 6000)))]);
  clearTimeout(timer);
  if (!gone) {
    log.warn('session worker did not end within 6 s of close: terminating it');
    await worker.terminate();
    await exited;
  }
}

function wireOf(t: ort.Tensor): WireTensor {
  return { type: t.type, dims: [...t.dims], data: t.data as Float32Array };
}

/** Stacks equal-shaped [1,...] tensors into one [n,...] tensor. */
function concat(ts: ort.Tensor[]): WireTensor {
  const first = ts[0]!;
  const per = (first.data as Float32Array).length;
  const Ctor = (first.data as Float32Array).constructor as new (n: number) => Float32Array;
  const data = new Ctor(per * ts.length);
  ts.forEach((t, i) => data.set(t.data as Float32Array, i * per));
  return { type: first.type, dims: [ts.length, ...first.dims.slice(1)], data };
}

function toTensors(outs: Record<string, WireTensor>): Record<string, ort.Tensor> {
  const r: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(outs)) r[k] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
  return r;
}

/** The i-th of n items of batched outputs, as views (no copy). */
function slice(outs: Record<string, WireTensor>, i: number, n: number): Record<string, ort.Tensor> {
  const r: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(outs)) {
    if (t.dims[0] !== n) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Output ${k} [${t.dims.join(',')}] has no batch dimension of ${n}`);
    const data = t.data as Float32Array;
    const per = data.length / n;
    r[k] = new ort.Tensor(t.type as 'float32', data.subarray(i * per, (i + 1) * per), [1, ...t.dims.slice(1)]);
  }
  return r;
}
