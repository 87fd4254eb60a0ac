// `npm run bench -- plates`: per-vehicle localisation + OCR time and events/s on one core, for the
// permissive default and the opt-in Chinese pipeline, on the media plate images.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import { readImageFile } from '../daemon/vision/codec.js';
import { buildPlateReader, CN_PLATE_MODELS, DEFAULT_PLATE_MODELS, type PlateModelsConfig } from '../daemon/analytics/plateRecognition/index.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const MEDIA = process.env.VIGIL_MEDIA_MIRROR ?? resolve(ROOT, '../shared/media');
const MODELS = process.env.VIGIL_MODEL_MIRROR ?? resolve(ROOT, '../shared/models');
const IMAGES = ['plate_cn_green_single_green.jpg', 'plate_cn_yellow_single_yellow.jpg', 'plate_cn_double_yellow.jpg', 'plate_cn_police.jpg',
  'plate_cn_two_plates_Quicker_20220930_181044.png', 'plate_cn_blue_two_cars_single_blue.jpg'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function median(v: number[]): number {
  const s = v.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Runs the benchmark and prints one line per pipeline. */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-plates-'));
  const engine = new InferenceEngine({ log: silentLogger(), dataDir: dir, mirrorDir: MODELS, providers: ['cpu'], threads: { intraOp: 1, interOp: 1 } });
  try {
    const images = await Promise.all(IMAGES.map((f) => readImageFile(join(MEDIA, f))));
    const pipelines: [string, PlateModelsConfig][] = [['permissive (ppocr det + cct/ppocr rec)', DEFAULT_PLATE_MODELS], ['opt-in cn (yolov5 plate + plate_rec)', CN_PLATE_MODELS]];
    for (const [name, models] of pipelines) {
      const reader = await buildPlateReader(engine, join(dir, 'models'), models, { formats: ['cn'] });
      const vehicles = await Promise.all(images.map((img) => reader.detectVehicles(img)));
      const det: number[] = [];
      const perVehicle: number[] = [];
      let plates = 0;
      for (let r = 0; r < ROUNDS + 1; r++) {
        for (let i = 0; i < images.length; i++) {
          const t0 = performance.now();
          await reader.detectVehicles(images[i]!);
          const t1 = performance.now();
          if (r > 0) det.push(t1 - t0);
          for (const v of vehicles[i]!) {
            const s = performance.now();
            const p = await reader.readVehicle(images[i]!, v);
            if (r > 0) { perVehicle.push(performance.now() - s); if (p) plates++; }
          }
        }
      }
      const loc = median(perVehicle);
      // One event needs a few reads (the vote): events/s on one core = 1000 / (reads × per-vehicle ms).
      const reads = 3;
      console.log(`plates ${name}: vehicle detection ${median(det).toFixed(1)} ms/frame; localisation+OCR ${loc.toFixed(1)} ms/vehicle `
        + `(p90 ${perVehicle.sort((a, b) => a - b)[Math.floor(perVehicle.length * 0.9)]!.toFixed(1)}); plates read ${plates}/${perVehicle.length}; `
        + `~${(1000 / (reads * loc)).toFixed(1)} events/s on one core at ${reads} reads per event (plus detection per frame)`);
    }
  } finally {
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

