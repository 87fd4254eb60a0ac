// `npm run bench -- plates [DIR]`: the default plate reader over photos with ground truth
// (default ../shared/media/plates_bench: eu, us, br); per region plate found, exact reads,
// character error rate and time per photo. PLATES_MODELS=cn uses the opt-in Chinese preset,
// PLATES_OCR=a,b another OCR chain, PLATES_FORMATS=a,b the expected formats, BENCH_VERBOSE=1 prints every photo.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import { buildPlateReader, CN_PLATE_MODELS, DEFAULT_PLATE_MODELS } from '../daemon/analytics/plateRecognition/index.js';
import { evaluatePlates, formatSummary, loadPlateTruth, summarise } from '../daemon/analytics/plateRecognition/evaluate.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const MEDIA = process.env.VIGIL_MEDIA_MIRROR ?? resolve(ROOT, '../shared/media');
const MODELS = process.env.VIGIL_MODEL_MIRROR ?? resolve(ROOT, '../shared/models');

/** Runs the benchmark over `args[0]` (a folder of regions, or one region's folder). */
export async function run(args: string[] = []): Promise<void> {
  const dir = resolve(args[0] ?? join(MEDIA, 'plates_bench'));
  const truths = loadPlateTruth(dir);
  const data = mkdtempSync(join(tmpdir(), 'vigil-bench-plates-'));
  const engine = new InferenceEngine({ log: silentLogger(), dataDir: data, mirrorDir: MODELS, providers: ['cpu'], threads: { intraOp: 1, interOp: 1 } });
  try {
    const preset = process.env.PLATES_MODELS === 'cn' ? CN_PLATE_MODELS : DEFAULT_PLATE_MODELS;
    const ocr = process.env.PLATES_OCR?.split(',').filter(Boolean);
    const models = ocr?.length ? { ...preset, ocr } : preset;
    const formats = process.env.PLATES_FORMATS?.split(',').filter(Boolean);
    const reader = await buildPlateReader(engine, join(data, 'models'), models, formats ? { formats } : {});
    // One warm-up read so that session creation is not counted in the first photo.
    await evaluatePlates(reader, truths.slice(0, 1));
    const verbose = process.env.BENCH_VERBOSE === '1';
    const scores = await evaluatePlates(reader, truths, (s) => {
      if (verbose || !s.exact) console.log(`${s.exact ? 'ok  ' : 'MISS'} ${s.region}/${s.file}: truth ${s.truth} read ${s.read || '-'}${s.found ? '' : ' (not found)'} ${Math.round(s.ms)} ms`);
    });
    console.log(`\nplates on ${dir} (models: ${models.plateLocalizer} + ${models.ocr.join(', ')}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
    console.log(formatSummary(summarise(scores)));
  } finally {
    await engine.stop();
    rmSync(data, { recursive: true, force: true });
  }
}
