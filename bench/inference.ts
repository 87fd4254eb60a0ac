// `npm run bench -- inference`: yolox_nano on 200 real frames — ORT-only vs the full
// path (pre + infer + decode), the overhead ratio, 1 vs 4 streams, and resize costs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { benchModel, stats, streamThroughput } from '../daemon/inference/benchmark.js';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import type { RgbImage } from '../daemon/vision/image.js';
import { prepareInput } from '../daemon/vision/preprocess.js';
import { BUILTIN_MODELS } from '../models/manifest.js';
import { mediaPath, modelMirror } from '../test/helpers/paths.js';

const FRAMES = 200;

/** Decodes the first n frames of a 640x360 clip to RGB through ffmpeg. */
async function videoFrames(path: string, n: number, w = 640, h = 360): Promise<RgbImage[]> {
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

export async function run(): Promise<void> {
  const threads = { intraOp: Math.max(1, Math.floor(availableParallelism() / 2)), interOp: 1 };
  const frames = await videoFrames(mediaPath('video_street_pedestrians_640x360.mp4'), FRAMES);
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const log = silentLogger();
  console.log(`${frames.length} frames 640x360, ${availableParallelism()} cores, ORT intra-op threads ${threads.intraOp}`);
  try {
    // Resize: our fused bilinear (resize+letterbox+BGR+NCHW float in one pass) vs sharp resize + our conversion.
    const spec = BUILTIN_MODELS.find((m) => m.name === 'yolox_nano')!.input;
    const ours: number[] = [];
    const viaSharp: number[] = [];
    for (let i = 0; i < 100; i++) {
      const f = frames[i % frames.length]!;
      let t = performance.now();
      prepareInput(f, spec);
      ours.push(performance.now() - t);
      t = performance.now();
      const small = await sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } }).resize(416, 234, { kernel: 'linear' }).raw().toBuffer();
      prepareInput({ width: 416, height: 234, data: small }, spec);
      viaSharp.push(performance.now() - t);
    }
    console.log(`pre-processing 640x360 -> 416x416 letterbox: fused typed-array bilinear ${stats(ours).mean} ms, sharp resize + convert ${stats(viaSharp).mean} ms`);

    const engine = new InferenceEngine({ log, dataDir, mirrorDir: modelMirror(), providers: ['cpu'], threads, batch: { maxBatch: 4, maxWaitMs: 4 }, queueDepth: 16 });
    const r = await benchModel('yolox_nano', frames, { count: FRAMES, dataDir, log, threads, engine });
    console.log(`yolox_nano ORT-only:          mean ${r.ortOnly.mean} ms  p50 ${r.ortOnly.p50}  p99 ${r.ortOnly.p99}`);
    console.log(`yolox_nano full path:         mean ${r.full.mean} ms  p50 ${r.full.p50}  p99 ${r.full.p99}  (pre ${r.pre.mean} ms, worker hop + decode + NMS the rest)`);
    console.log(`overhead ratio full/ORT-only: ${r.overhead}  (goal <= 1.15)`);
    const one = await streamThroughput(engine, 'yolox_nano', frames, 1, FRAMES);
    const four = await streamThroughput(engine, 'yolox_nano', frames, 4, FRAMES / 4);
    console.log(`yolox_nano throughput: 1 stream ${one.fps} fps, 4 streams ${four.fps} fps total (${four.drops} dropped)`);
    // A dynamic-batch model shows batching: plate OCR on real plate crops.
    const plates = await Promise.all(['plate_crop_latin_KRW301.png', 'plate_crop_latin_AD799KB.png'].map(async (f) => {
      const { data, info } = await sharp(mediaPath(f)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return { width: info.width, height: info.height, data };
    }));
    const o1 = await streamThroughput(engine, 'plate_ocr_cct_xs_v1_global', plates, 1, 200);
    const o4 = await streamThroughput(engine, 'plate_ocr_cct_xs_v1_global', plates, 4, 50);
    const m = engine.metrics().find((x) => x.model === 'plate_ocr_cct_xs_v1_global')!;
    console.log(`plate_ocr_cct (dynamic batch): 1 stream ${o1.fps} fps, 4 streams ${o4.fps} fps (mean batch over both runs ${m.meanBatch})`);
    await engine.stop();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
