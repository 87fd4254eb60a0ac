import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { isInferenceDropped } from '../errors.js';
import type { Logger } from '../log.js';
import { createDensityEstimator } from '../detectors/density.js';
import { createObjectDetector } from '../detectors/objectDetector.js';
import type { RgbImage } from '../vision/image.js';
import { prepareInput, rectInput } from '../vision/preprocess.js';
import { modelSource } from './onnxShape.js';
import { InferenceEngine, type InferenceEngineOptions } from './engine.js';
import type { InputSpec, ModelRunner, RunOptions } from './types.js';

/** A session over a model file or its bytes (onnxruntime's typings take one or the other, not the union). */
export function createSession(source: string | Uint8Array, opts: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  return typeof source === 'string' ? ort.InferenceSession.create(source, opts) : ort.InferenceSession.create(source, opts);
}

/** Latency summary in ms. */
export interface LatencyStats {
  mean: number;
  p50: number;
  p99: number;
}

/** What `vigil models bench NAME` prints. */
export interface ModelBenchResult {
  model: string;
  provider: string;
  frames: number;
  /** session.run only, on ready tensors, in this thread. */
  ortOnly: LatencyStats;
  /** prepareInput only. */
  pre: LatencyStats;
  /** pre + queue + worker inference + decode, as analytics see it. */
  full: LatencyStats;
  /** full.mean / ortOnly.mean. */
  overhead: number;
  /** Whether `full` includes the family's decoder (yolox, nanodet, density); else pre + infer. */
  decoded: boolean;
}

export function stats(ms: number[]): LatencyStats {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor((s.length - 1) * q))] ?? 0;
  const r = (v: number): number => Math.round(v * 100) / 100;
  return { mean: r(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)), p50: r(at(0.5)), p99: r(at(0.99)) };
}

/** The full path of a model as analytics use it: pre + infer + the family's decoder when we have it. */
export function fullPath(runner: ModelRunner): { decoded: boolean; call(img: RgbImage, run?: RunOptions): Promise<unknown> } {
  const fam = runner.spec.family;
  if (fam === 'yolox' || fam === 'nanodet') { const d = createObjectDetector(runner); return { decoded: true, call: (i, r) => d.detect(i, r) }; }
  if (fam === 'density') { const d = createDensityEstimator(runner); return { decoded: true, call: (i, r) => d.estimate(i, {}, r) }; }
  return { decoded: false, call: (i, r) => runner.run({ [runner.spec.input.name]: prepareInput(i, runner.spec.input).tensor }, r) };
}

/** Measures one model on the given frames: ORT-only vs the full path. */
export async function benchModel(
  name: string,
  frames: RgbImage[],
  opts: { count: number; dataDir: string; mirrorDir?: string; log: Logger; threads?: { intraOp: number; interOp: number }; providers?: string[]; engine?: InferenceEngine },
): Promise<ModelBenchResult> {
  const threads = opts.threads ?? { intraOp: Math.max(1, Math.floor(availableParallelism() / 2)), interOp: 1 };
  const engine = opts.engine ?? new InferenceEngine({ log: opts.log, dataDir: opts.dataDir, mirrorDir: opts.mirrorDir, providers: opts.providers ?? ['cpu'], threads } satisfies InferenceEngineOptions);
  try {
    const runner = await engine.get(name);
    const spec = runner.spec;
    // ORT-only: a session in this thread with the same settings, fed ready tensors.
    const { join } = await import('node:path');
    const sessionOpts: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: threads.intraOp, interOpNumThreads: threads.interOp, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3,
      executionProviders: runner.provider === 'cpu' ? ['cpu'] : [runner.provider, 'cpu'],
    };
    // The graph and inputs the analytics use: a model loaded with its input size freed sees the frame's aspect.
    const source = modelSource(join(opts.dataDir, 'models', spec.file), spec, !!runner.freeSize);
    const session = await createSession(source, sessionOpts);
    const inputFor = (f: RgbImage): InputSpec => (runner.freeSize ? rectInput(f.width, f.height, spec.input) : spec.input);
    const tensors = frames.map((f) => prepareInput(f, inputFor(f)).tensor);
    const pre: number[] = [];
    for (let i = 0; i < Math.min(opts.count, 50); i++) { const f = frames[i % frames.length]!; const t = performance.now(); prepareInput(f, inputFor(f)); pre.push(performance.now() - t); }
    const path = fullPath(runner);
    await session.run({ [spec.input.name]: tensors[0]! });
    await path.call(frames[0]!);
    // Interleaved, so both measurements see the same machine load.
    const ortMs: number[] = [];
    const full: number[] = [];
    for (let i = 0; i < opts.count; i++) {
      let t = performance.now();
      await session.run({ [spec.input.name]: tensors[i % tensors.length]! });
      ortMs.push(performance.now() - t);
      t = performance.now();
      await path.call(frames[i % frames.length]!);
      full.push(performance.now() - t);
    }
    await session.release();
    const o = stats(ortMs), f = stats(full);
    return { model: name, provider: runner.provider, frames: opts.count, ortOnly: o, pre: stats(pre), full: f, overhead: Math.round((f.mean / o.mean) * 100) / 100, decoded: path.decoded };
  } finally {
    if (!opts.engine) await engine.stop();
  }
}

/** Frames/s when `streams` callers each push `perStream` frames through one model concurrently. */
export async function streamThroughput(engine: InferenceEngine, name: string, frames: RgbImage[], streams: number, perStream: number): Promise<{ fps: number; drops: number }> {
  const runner = await engine.get(name);
  const path = fullPath(runner);
  let drops = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: streams }, async (_, s) => {
    for (let i = 0; i < perStream; i++) {
      try {
        await path.call(frames[(s * perStream + i) % frames.length]!, { stream: `s${s}` });
      } catch (err) {
        if (isInferenceDropped(err)) drops++;
        else throw err;
      }
    }
  }));
  return { fps: Math.round(((streams * perStream - drops) / ((performance.now() - t0) / 1000)) * 10) / 10, drops };
}

/** A deterministic 640x360 test frame (gradients and blocks) when no image is at hand. */
export function syntheticFrame(w = 640, h = 360): RgbImage {
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = (y * w + x) * 3;
    data[o] = (x * 255) / w; data[o + 1] = (y * 255) / h; data[o + 2] = ((x >> 5) + (y >> 5)) & 1 ? 200 : 40;
  }
  return { width: w, height: h, data };
}
