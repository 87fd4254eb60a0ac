// One ORT session in its own thread: session.run in onnxruntime-node is synchronous
// native code, so running it here keeps the daemon's event loop free.
import { parentPort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import type * as Ort from 'onnxruntime-node';
import { freeInputSize } from './onnxShape.js';
import type { ValueMeta, WireTensor, WorkerInit, WorkerReply, WorkerRequest } from './workerProtocol.js';

let ort: typeof Ort;
let session: Ort.InferenceSession | undefined;
/** Runs started and not finished: the session is released only after the last (see 'close'). */
let running = 0;
let idle: (() => void) | undefined;
let closing = false;

/** Output buffers handed back by the engine, by byte length: the next run writes into them. */
const spares = new Map<number, ArrayBuffer[]>();
/** Each output's type and dims on the last run, with the input dims it came from. */
const lastOutputs = new Map<string, { inputKey: string; type: string; dims: number[] }>();

/**
 * A preallocated output from a spare buffer when the model's output shape is known for these
 * input dims, so the engine's thread gets the same buffer back instead of a fresh one. Only for
 * single-output models: with several outputs (YuNet), onnxruntime-node 1.30 left some
 * preallocated buffers unwritten, so they came back holding an earlier run's values.
 */
function fetchesFor(inputKey: string): Record<string, Ort.Tensor> | null {
  const names = session!.outputNames;
  if (names.length !== 1) return null;
  const last = lastOutputs.get(names[0]!);
  if (!last || last.inputKey !== inputKey || last.type !== 'float32') return null;
  const b = spares.get(last.dims.reduce((x, y) => x * y, 1) * 4)?.pop();
  return b ? { [names[0]!]: new ort.Tensor('float32', new Float32Array(b), last.dims) } : null;
}

function post(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(msg, transfer);
}

/** onnxruntime-node, or a custom build given as a package name, a package directory or its entry file. */
async function loadOrt(modulePath?: string): Promise<typeof Ort> {
  if (!modulePath) return (await import('onnxruntime-node')) as typeof Ort;
  // require.resolve accepts a directory with package.json (ESM import of a directory does not).
  const resolved = createRequire(import.meta.url).resolve(modulePath);
  const spec = isAbsolute(resolved) ? pathToFileURL(resolved).href : resolved;
  const m = (await import(spec)) as typeof Ort & { default?: typeof Ort };
  return m.InferenceSession ? m : (m.default as typeof Ort);
}

function toOrt(t: WireTensor): Ort.Tensor {
  return new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
}

async function init(msg: WorkerInit): Promise<void> {
  try {
    ort = await loadOrt(msg.ortModulePath);
  } catch (err) {
    post({ kind: 'init-error', code: 'VIGIL_ERR_MODEL_LOAD', message: `Cannot load onnxruntime from ${msg.ortModulePath}: ${(err as Error).message}` });
    return;
  }
  const skipped: { provider: string; reason: string }[] = [];
  const base = {
    intraOpNumThreads: msg.threads.intraOp,
    interOpNumThreads: msg.threads.interOp,
    executionMode: 'sequential' as const,
    graphOptimizationLevel: 'all' as const,
    logSeverityLevel: 3 as const,
    // Spinning workers busy-wait between runs, stealing the cores other sessions and ffmpeg need.
    ...(msg.threads.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
  };
  // Execution providers in config order: each one that cannot start is skipped; cpu is the floor.
  const order = msg.providers.filter((p) => !msg.unavailable.includes(p));
  if (!order.includes('cpu')) order.push('cpu');
  let lastErr = '';
  let freed: Uint8Array | undefined;
  if (msg.freeInput) {
    try {
      freed = freeInputSize(await readFile(msg.modelPath), msg.freeInput.name, msg.freeInput.layout, msg.freeInput);
    } catch {
      // Not a model this can rewrite, or not the size the manifest says: it loads as it is
      // (the ready reply's shapes say so, and the engine's shape check names a wrong size).
    }
  }
  for (const provider of order) {
    try {
      // TensorRT hands the nodes it cannot build to CUDA rather than straight to the CPU.
      const eps = provider === 'cpu' ? ['cpu'] : provider === 'tensorrt' ? ['tensorrt', 'cuda', 'cpu'] : [provider, 'cpu'];
      const opts = { ...base, executionProviders: eps };
      // The freed model first; a provider or graph that cannot take it gets the file as it is.
      session = (freed && msg.freeInput ? await freedSession(freed, msg.freeInput, opts) : undefined) ?? (await ort.InferenceSession.create(msg.modelPath, opts));
      const meta = (list: readonly Ort.InferenceSession.ValueMetadata[]): ValueMeta[] =>
        list.map((m) => ({ name: m.name, type: m.isTensor ? m.type : 'non-tensor', shape: m.isTensor ? [...m.shape] : [] }));
      post({ kind: 'ready', provider, skipped, inputs: meta(session.inputMetadata), outputs: meta(session.outputMetadata) });
      return;
    } catch (err) {
      lastErr = (err as Error).message.split('\n')[0] ?? '';
      if (provider !== 'cpu') skipped.push({ provider, reason: lastErr });
    }
  }
  post({ kind: 'init-error', code: 'VIGIL_ERR_MODEL_LOAD', message: `onnxruntime cannot load ${msg.modelPath}: ${lastErr}`, skipped });
}

/**
 * A session of the freed model, if it loads and runs at a non-square size: a graph with a fixed
 * shape inside (a Reshape to the exported size) fails here, not on frames. The trial size is a
 * 16:9 frame's (most cameras), so a provider that builds per size (TensorRT) builds that one.
 */
async function freedSession(model: Uint8Array, input: NonNullable<WorkerInit['freeInput']>, opts: Ort.InferenceSession.SessionOptions): Promise<Ort.InferenceSession | undefined> {
  let s: Ort.InferenceSession | undefined;
  try {
    s = await ort.InferenceSession.create(model, opts);
    const h = Math.min(input.height - input.multiple, Math.ceil((input.width * 9 / 16 + input.multiple) / input.multiple) * input.multiple);
    const meta = s.inputMetadata.find((m) => m.name === input.name);
    const type = meta?.isTensor ? meta.type : 'float32';
    const n = input.width * h * 3;
    const data = type === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
    const dims = input.layout === 'NCHW' ? [1, 3, h, input.width] : [1, h, input.width, 3];
    await s.run({ [input.name]: new ort.Tensor(type as 'float32', data as Float32Array, dims) });
    return s;
  } catch {
    await s?.release().catch(() => {});
    return undefined;
  }
}

async function run(msg: Extract<WorkerRequest, { kind: 'run' }>): Promise<void> {
  if (closing || !session) {
    post({ kind: 'run-error', id: msg.id, message: 'the model is being unloaded' });
    return;
  }
  running++;
  try {
    const feeds: Record<string, Ort.Tensor> = {};
    const inputs: ArrayBuffer[] = [];
    for (const [k, t] of Object.entries(msg.feeds)) {
      feeds[k] = toOrt(t);
      const b = (t.data as Float32Array).buffer;
      if (b instanceof ArrayBuffer && (t.data as Float32Array).byteLength === b.byteLength) inputs.push(b);
    }
    for (const b of msg.spare ?? []) {
      const list = spares.get(b.byteLength) ?? [];
      if (list.length < 4) list.push(b);
      spares.set(b.byteLength, list);
    }
    let inputKey = '';
    for (const [k, t] of Object.entries(feeds)) inputKey += `${k}:${t.dims.join('x')};`;
    const fetches = fetchesFor(inputKey);
    const t0 = performance.now();
    let out: Ort.InferenceSession.OnnxValueMapType;
    try {
      out = fetches ? await session!.run(feeds, fetches) : await session!.run(feeds);
    } catch (err) {
      // A shape the preallocated outputs do not fit: run again with outputs ORT allocates.
      if (!fetches) throw err;
      lastOutputs.clear();
      out = await session!.run(feeds);
    }
    const ms = performance.now() - t0;
    const outputs: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [k, t] of Object.entries(out)) {
      // ORT wrote into the preallocated tensor: hand that buffer back, not the copy it returns.
      const data = (fetches?.[k]?.data ?? t.data) as Float32Array;
      outputs[k] = { type: t.type, dims: [...t.dims], data };
      lastOutputs.set(k, { inputKey, type: t.type, dims: [...t.dims] });
      if (data.buffer instanceof ArrayBuffer && !transfer.includes(data.buffer)) transfer.push(data.buffer);
    }
    // Input buffers go back to the engine's pool once ORT is done with them.
    for (const b of inputs) if (!transfer.includes(b)) transfer.push(b);
    post({ kind: 'result', id: msg.id, outputs, ms, inputs }, transfer);
  } catch (err) {
    post({ kind: 'run-error', id: msg.id, message: (err as Error).message.split('\n')[0] ?? String(err) });
  } finally {
    if (--running === 0) idle?.();
  }
}

parentPort!.on('message', (msg: WorkerRequest) => {
  if (msg.kind === 'init') void init(msg);
  else if (msg.kind === 'run') void run(msg);
  else if (msg.kind === 'close') {
    // Releasing a session while a run is inside it, or terminating this thread then, made the
    // native code throw where nothing catches it (`terminate called after throwing an instance of
    // 'Napi::Error'`, about 1 SIGTERM in 9): finish the runs, release, then end on our own.
    closing = true;
    void (async () => {
      if (running > 0) await new Promise<void>((r) => (idle = r));
      try { await session?.release(); } catch { /* closing anyway */ }
      session = undefined;
      post({ kind: 'closed' });
      // In a worker this ends the thread only, here at a safe point: no native call in progress.
      process.exit(0);
    })();
  }
});
