// `npm run bench -- inference [--load] [--full]`: yolox_nano on real frames at the daemon's own
// thread plan (planThreads, as main computes it for one model). Limit: ORT alone, a session in
// this thread fed ready tensors. Product: the full path the streams use (pre-processing, the
// engine's worker hop, decode, NMS). Interleaved in blocks so load on a shared machine hits
// both alike; wall-clock and CPU-time per inference side by side. --full adds two sessions
// at once with spinning on and off (the reason the plan turns it off).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createObjectDetector } from '../daemon/detectors/objectDetector.js';
import { createSession } from '../daemon/inference/benchmark.js';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { modelSource } from '../daemon/inference/onnxShape.js';
import { planThreads, type ThreadPlan } from '../daemon/inference/threadBudget.js';
import type { ModelSpec } from '../daemon/inference/types.js';
import { silentLogger } from '../daemon/log.js';
import type { RgbImage } from '../daemon/vision/image.js';
import { prepareInput, rectInput } from '../daemon/vision/preprocess.js';
import { mediaPath, modelMirror } from '../test/helpers/paths.js';
import { benchProviders, cpuNow, cpuSince, f1, f2, loadLine, wantsFull, withOptionalLoad } from './lib/measure.js';

const BLOCK = 10;
const ROUNDS = 6;

/** Decodes the first n frames of a clip to RGB at w x h through ffmpeg. */
export async function videoFrames(path: string, n: number, w = 640, h = 360): Promise<RgbImage[]> {
  const ff = spawn('ffmpeg', ['-v', 'error', '-i', path, '-frames:v', String(n), '-vf', `scale=${w}:${h}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  const chunks: Buffer[] = [];
  for await (const c of ff.stdout) chunks.push(c as Buffer);
  const all = Buffer.concat(chunks);
  const size = w * h * 3;
  const frames: RgbImage[] = [];
  for (let o = 0; o + size <= all.length; o += size) frames.push({ width: w, height: h, data: all.subarray(o, o + size) });
  if (!frames.length) throw new Error(`ffmpeg produced no frames from ${path}`);
  return frames;
}

/** The session options of the limit side: the plan's threads and the bench's providers. */
export function ortOptions(plan: Pick<ThreadPlan, 'intraOp' | 'spinning'>): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: benchProviders(),
    intraOpNumThreads: plan.intraOp, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3,
    ...(plan.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
}

/** An ORT session in this thread with the plan's settings and the bench's providers: the limit side. */
export function ortSession(file: string, plan: Pick<ThreadPlan, 'intraOp' | 'spinning'>, spec?: ModelSpec): Promise<ort.InferenceSession> {
  // The same graph the daemon loads: a `rectMultiple` model with its input size freed.
  return createSession(spec ? modelSource(file, spec) : file, ortOptions(plan));
}

export async function run(): Promise<void> {
  await withOptionalLoad(async () => {
    const plan = planThreads({ models: 1 });
    const frames = await videoFrames(mediaPath('video_street_pedestrians_640x360.mp4'), 60);
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
    const engine = new InferenceEngine({ log: silentLogger(), dataDir, mirrorDir: modelMirror(), providers: benchProviders(), threads: plan });
    try {
      const runner = await engine.get('yolox_nano');
      const spec = runner.spec;
      const detector = createObjectDetector(runner);
      const session = await ortSession(join(dataDir, 'models', spec.file), plan, spec);
      // Fed what the daemon feeds: the frame's aspect for a model loaded with its size freed.
      const tensors = frames.map((f) => prepareInput(f, runner.freeSize ? rectInput(f.width, f.height, spec.input) : spec.input).tensor);
      console.log(`yolox_nano on ${runner.provider}, ${frames.length} frames 640x360, thread plan: ${plan.intraOp} intra-op of ${plan.cores} cores, spinning ${plan.spinning ? 'on' : 'off'}; ${loadLine()}`);
      await session.run({ [spec.input.name]: tensors[0]! });
      await detector.detect(frames[0]!);
      const ortSide = { wall: 0, cpu: 0, n: 0 };
      const fullSide = { wall: 0, cpu: 0, n: 0 };
      let i = 0;
      for (let r = 0; r < ROUNDS; r++) {
        let c = cpuNow();
        for (let k = 0; k < BLOCK; k++, i++) await session.run({ [spec.input.name]: tensors[i % tensors.length]! });
        let d = cpuSince(c);
        ortSide.wall += d.wallMs; ortSide.cpu += d.processMs; ortSide.n += BLOCK;
        c = cpuNow();
        for (let k = 0; k < BLOCK; k++, i++) await detector.detect(frames[i % frames.length]!);
        d = cpuSince(c);
        fullSide.wall += d.wallMs; fullSide.cpu += d.processMs; fullSide.n += BLOCK;
      }
      const ow = ortSide.wall / ortSide.n, oc = ortSide.cpu / ortSide.n, fw = fullSide.wall / fullSide.n, fc = fullSide.cpu / fullSide.n;
      console.log(`ORT alone:  ${f1(ow)} ms/inference wall, ${f1(oc)} CPU-ms/inference`);
      console.log(`full path:  ${f1(fw)} ms/inference wall, ${f1(fc)} CPU-ms/inference`);
      console.log(`ratio ORT/full: wall ${f2(ow / fw)}, CPU ${f2(oc / fc)} (1.00 = no overhead); ${loadLine()}`);
      await session.release();
      if (wantsFull()) await twoSessions(join(dataDir, 'models', spec.file), spec, tensors);
    } finally {
      await engine.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

/** Two sessions running at once (people + another model), spinning on vs off, interleaved. */
async function twoSessions(file: string, spec: ModelSpec, tensors: ort.Tensor[]): Promise<void> {
  const input = spec.input.name;
  const plan = planThreads({ models: 2 });
  const rate = { on: 0, off: 0 };
  for (let r = 0; r < 2; r++) {
    for (const spinning of [true, false]) {
      const a = await ortSession(file, { intraOp: plan.intraOp, spinning }, spec);
      const b = await ortSession(file, { intraOp: plan.intraOp, spinning }, spec);
      const t0 = performance.now();
      let n = 0;
      // ORT's node binding runs session.run on its own thread pool, so two awaits overlap.
      await Promise.all([a, b].map(async (s) => { for (let k = 0; k < 20; k++, n++) await s.run({ [input]: tensors[k % tensors.length]! }); }));
      rate[spinning ? 'on' : 'off'] += n / ((performance.now() - t0) / 1000) / 2;
      await a.release();
      await b.release();
    }
  }
  console.log(`two sessions at once (${plan.intraOp} intra-op each): spinning on ${f1(rate.on)} inferences/s, off ${f1(rate.off)}; ${loadLine()}`);
}
