import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { VigilError, isVigilError } from '../errors.js';
import type { Logger } from '../log.js';
import { ModelCatalog } from '../../models/catalog.js';
import { ensureModel } from '../../models/fetcher.js';
import type { ModelMetrics } from './metrics.js';
import { QueuedModelRunner, startSessionWorker } from './modelRunner.js';
import { checkModelShape } from './shapeCheck.js';
import type { WorkerInit } from './workerProtocol.js';
import { planThreads, type SessionPlan } from './threadBudget.js';
import type { ModelProvider, ModelRole, ModelRunner, ModelSpec } from './types.js';

/** What main hands the engine (config `inference:` plus paths). */
export interface InferenceEngineOptions {
  log: Logger;
  /** Model cache lives in `<dataDir>/models`; a user manifest may sit at `<dataDir>/models.yaml`. */
  dataDir: string;
  /** Take model bytes from this directory (default: VIGIL_MODEL_MIRROR). */
  mirrorDir?: string;
  /** Execution providers in order of preference, e.g. ['tensorrt','cuda','cpu']; cpu is always the floor. */
  providers: string[];
  /** ORT threads per session (default: planThreads for one model); spinning false turns intra-op spin-waiting off. */
  threads?: { intraOp: number; interOp: number; spinning?: boolean };
  /** Sessions of a model and their threads, asked when it loads (default: one session with `threads`); replicas run on CPU only. */
  sessions?: (model: string) => SessionPlan;
  /** Model per role; unset roles use the manifest defaults. */
  roles?: Partial<Record<ModelRole, string>>;
  /** Batching for dynamic-batch models (default maxBatch 4, maxWaitMs 4). */
  batch?: { maxBatch: number; maxWaitMs: number };
  /** Frames waiting per model before the oldest are dropped (default 8). */
  queueDepth?: number;
  /** Feed `rectMultiple` models the frame's aspect instead of their square (default true; config `inference.rect_inputs`). */
  rectInputs?: boolean;
  /** Load onnxruntime from a custom build (module path or absolute path of its index.js). */
  ortModulePath?: string;
  /** Extra manifest files (YAML/JSON) besides `<dataDir>/models.{yaml,json}`. */
  manifestPaths?: string[];
  /** Fetch missing models at load (default true); false: a missing model is VIGIL_ERR_MODEL_MISSING. */
  fetch?: boolean;
  /** Called with every latency sample of every model (e.g. a Prometheus histogram). */
  onLatency?: (model: string, stage: 'run' | 'total', ms: number) => void;
  /** A ready catalog instead of loading one (tests). */
  catalog?: ModelCatalog;
}

/** Loads each model once (lazily, on first ask), shares it, and reports its metrics. */
export class InferenceEngine implements ModelProvider {
  readonly catalog: ModelCatalog;
  private readonly loading = new Map<string, Promise<QueuedModelRunner>>();
  private readonly loaded = new Map<string, QueuedModelRunner>();
  /** How each loaded model's sessions were started: what a re-plan compares with and starts again. */
  private readonly started = new Map<string, { plan: SessionPlan; init: Omit<WorkerInit, 'kind'> }>();
  /** Re-plans of a model run one after another. */
  private readonly replanning = new Map<string, Promise<void>>();
  /** Providers found unavailable on this machine: logged once, then skipped. */
  private readonly unavailable = new Set<string>();
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly opts: InferenceEngineOptions) {
    this.log = opts.log.child({ component: 'inference' });
    this.catalog = opts.catalog ?? ModelCatalog.load({ dataDir: opts.dataDir, extraPaths: opts.manifestPaths });
    if (!opts.providers.length) throw new VigilError('VIGIL_ERR_CONFIG', 'inference.providers must name at least one execution provider (e.g. [cpu])');
    if (opts.providers.includes('tensorrt')) tensorRtCache(opts.dataDir);
  }

  /** The shared runner of a model, loading it (fetch, verify, session, warm-up) on first use. */
  get(name: string): Promise<ModelRunner> {
    return this.getQueued(name);
  }

  /** The configured (or default) model of a role. */
  forRole(role: ModelRole): Promise<ModelRunner> {
    try {
      return this.get(this.catalog.nameForRole(role, this.opts.roles));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The spec a role resolves to, without loading it. */
  specForRole(role: ModelRole): ModelSpec {
    return this.catalog.get(this.catalog.nameForRole(role, this.opts.roles));
  }

  /** Per-model metrics of every loaded model. */
  metrics(): ModelMetrics[] {
    return [...this.loaded.values()].map((r) => r.metrics());
  }

  /**
   * Asks the `sessions` plan again for every model loaded or loading (streams were added, removed,
   * enabled or disabled) and applies it where it changed: the new sessions start and warm up beside
   * the old ones, then take the frames while the old ones finish theirs. Only models on CPU; when
   * no new session starts, the old ones stay.
   */
  replan(): Promise<void> {
    return Promise.all([...this.loading.keys()].map((name) => {
      const next = (this.replanning.get(name) ?? Promise.resolve()).then(() => this.replanModel(name));
      this.replanning.set(name, next);
      return next;
    })).then(() => undefined);
  }

  private async replanModel(name: string): Promise<void> {
    const runner = await this.loading.get(name)?.catch(() => undefined);
    const was = this.started.get(name);
    if (!runner || !was || this.stopped || !this.opts.sessions || runner.provider !== 'cpu') return;
    const log = this.log.child({ model: name });
    try {
      const plan = this.opts.sessions(name);
      if (plan.replicas === was.plan.replicas && plan.intraOp === was.plan.intraOp && plan.spinning === was.plan.spinning) return;
      const init = { ...was.init, providers: ['cpu'], threads: { ...was.init.threads, intraOp: plan.intraOp, spinning: plan.spinning } };
      const tries = await Promise.allSettled(Array.from({ length: plan.replicas }, () => startSessionWorker(init)));
      const workers = tries.flatMap((r) => (r.status === 'fulfilled' ? [r.value.worker] : []));
      const failed = tries.find((r) => r.status === 'rejected');
      if (failed) log.warn({ err: (failed.reason as Error).message }, `model ${name}: ${workers.length} of ${plan.replicas} new sessions started`);
      if (workers.length === 0) return;
      await runner.replaceSessions(workers, warmFeeds(runner));
      this.started.set(name, { plan: { ...plan, replicas: workers.length }, init });
      log.info({ sessions: workers.length, threads: init.threads, before: was.plan }, `model ${name} now runs ${workers.length} session(s) of ${plan.intraOp} thread(s) (was ${was.plan.replicas} of ${was.plan.intraOp})`);
    } catch (err) {
      if (!this.stopped) log.warn({ err }, `model ${name}: new thread plan not applied, the sessions stay as they were`);
    }
  }

  /** Unloads every model (queued frames are rejected with VIGIL_ERR_INFERENCE_STOPPED). */
  async stop(): Promise<void> {
    this.stopped = true;
    // Session workers are unref'd: a load or re-plan still starting one would otherwise let the
    // process run out of work and exit in the middle of this stop.
    const hold = setInterval(() => undefined, 60_000);
    try {
      await Promise.allSettled([...this.replanning.values()]);
      const all = await Promise.allSettled([...this.loading.values()]);
      await Promise.allSettled(all.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    } finally {
      clearInterval(hold);
    }
    this.loaded.clear();
    this.loading.clear();
  }

  private getQueued(name: string): Promise<QueuedModelRunner> {
    if (this.stopped) return Promise.reject(new VigilError('VIGIL_ERR_INFERENCE_STOPPED'));
    let p = this.loading.get(name);
    if (!p) {
      p = this.load(name);
      this.loading.set(name, p);
      // A failed load may be retried later (e.g. after the file is fixed).
      p.catch(() => this.loading.delete(name));
    }
    return p;
  }

  private async load(name: string): Promise<QueuedModelRunner> {
    const spec = this.catalog.get(name);
    const log = this.log.child({ model: name });
    if (!spec.permissive) log.warn({ licence: spec.licence }, `model ${name} is not under a permissive licence: ${spec.licence}`);
    const mirrorDir = this.opts.mirrorDir ?? process.env.VIGIL_MODEL_MIRROR;
    let path: string;
    try {
      path = await ensureModel(spec, this.opts.fetch === false ? { dataDir: this.opts.dataDir, mirrorDir: '/nonexistent-no-fetch' } : { dataDir: this.opts.dataDir, mirrorDir, log: this.log });
    } catch (err) {
      if (isVigilError(err) && err.code === 'VIGIL_ERR_MODEL_HASH') throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new VigilError('VIGIL_ERR_MODEL_MISSING', `Model ${name} (${spec.file}) is not in ${this.opts.dataDir}/models and could not be fetched: ${why}`, { model: name });
    }
    const base = this.opts.threads ?? planThreads({ models: 1 });
    const plan = this.opts.sessions?.(name) ?? { replicas: 1, intraOp: base.intraOp, spinning: base.spinning ?? false };
    const threads = { intraOp: plan.intraOp, interOp: base.interOp, spinning: plan.spinning };
    const init = {
      modelPath: path, providers: this.opts.providers, unavailable: [...this.unavailable], threads, ortModulePath: this.opts.ortModulePath,
      ...(spec.input.rectMultiple && this.opts.rectInputs !== false ? { freeInput: { name: spec.input.name, layout: spec.input.layout, width: spec.input.width, height: spec.input.height, multiple: spec.input.rectMultiple } } : {}),
    };
    const { worker, ready } = await startSessionWorker(init);
    const workers = [worker];
    // More sessions only on CPU: an accelerator runs one model's requests one after another anyway.
    if (ready.provider === 'cpu' && plan.replicas > 1) {
      const more = await Promise.allSettled(Array.from({ length: plan.replicas - 1 }, () => startSessionWorker({ ...init, providers: ['cpu'] })));
      for (const r of more) if (r.status === 'fulfilled') workers.push(r.value.worker);
      const failed = more.find((r) => r.status === 'rejected');
      if (failed) log.warn({ err: (failed.reason as Error).message }, `model ${name}: ${workers.length} of ${plan.replicas} sessions started`);
    }
    for (const s of ready.skipped) {
      if (this.unavailable.has(s.provider)) continue;
      this.unavailable.add(s.provider);
      this.log.warn({ provider: s.provider, reason: s.reason }, `execution provider ${s.provider} is not available here: skipped`);
    }
    let dynamicBatch: boolean;
    try {
      dynamicBatch = checkModelShape(spec, ready.inputs, ready.outputs).dynamicBatch && spec.dynamicBatch !== false;
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    const b = this.opts.batch ?? { maxBatch: 4, maxWaitMs: 4 };
    const runner = new QueuedModelRunner(spec, ready.provider, workers, ready.inputs, ready.outputs, dynamicBatch,
      { maxBatch: Math.max(1, b.maxBatch), maxWaitMs: Math.max(0, b.maxWaitMs), queueDepth: Math.max(1, this.opts.queueDepth ?? 8) }, log);
    try {
      await warmUp(runner);
    } catch (err) {
      await runner.close();
      throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${name} failed its warm-up run: ${(err as Error).message}`);
    }
    if (this.stopped) { await runner.close(); throw new VigilError('VIGIL_ERR_INFERENCE_STOPPED'); }
    this.loaded.set(name, runner);
    this.started.set(name, { plan: { ...plan, replicas: workers.length }, init });
    const onLatency = this.opts.onLatency;
    if (onLatency) runner.stats.onSample = (stage, ms) => onLatency(name, stage, ms); // after warm-up: not counted
    const rect = spec.input.rectMultiple ? { inputSize: runner.freeSize ? `frame aspect, up to ${spec.input.width}x${spec.input.height}` : `${spec.input.width}x${spec.input.height}` } : {};
    log.info({ provider: ready.provider, dynamicBatch, threads, sessions: workers.length, ...rect }, `model ${name} loaded on ${ready.provider}${workers.length > 1 ? ` (${workers.length} sessions of ${threads.intraOp} thread(s))` : ''}`);
    return runner;
  }
}

/**
 * TensorRT builds an engine per model on first load (minutes on a Jetson): keep them under the
 * data dir. The Node binding passes only deviceId to the TensorRT provider, which then reads its
 * cache settings from these variables; set before any session starts, unless the operator did.
 */
function tensorRtCache(dataDir: string): void {
  const dir = join(dataDir, 'trt-cache');
  mkdirSync(dir, { recursive: true });
  process.env.ORT_TENSORRT_ENGINE_CACHE_ENABLE ??= '1';
  process.env.ORT_TENSORRT_CACHE_PATH ??= dir;
  process.env.ORT_TENSORRT_ENGINE_CACHE_PATH ??= dir;
  process.env.ORT_TENSORRT_TIMING_CACHE_ENABLE ??= '1';
}

/** One zero-filled run on each session at the manifest's input size, so the first real frames are not slow. */
async function warmUp(runner: QueuedModelRunner): Promise<void> {
  const feeds = warmFeeds(runner);
  if (!feeds) return;
  await runner.runOnEach(feeds);
  runner.stats.resetCounts();
}

/** Zero-filled inputs at the manifest's size (a warm-up run), for single-input models. */
function warmFeeds(runner: QueuedModelRunner): (() => Record<string, ort.Tensor>) | undefined {
  const spec = runner.spec;
  if (runner.inputs.length !== 1) return undefined;
  const { width: w, height: h, layout, dtype } = spec.input;
  const dims = layout === 'NCHW' ? [1, 3, h, w] : [1, h, w, 3];
  const n = 3 * w * h;
  return () => ({ [spec.input.name]: dtype === 'uint8' ? new ort.Tensor('uint8', new Uint8Array(n), dims) : new ort.Tensor('float32', new Float32Array(n), dims) });
}
