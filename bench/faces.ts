// `npm run bench -- faces`: per face, detect + align + embed + match ms on the media face photos,
// and the match time against a gallery of 10k synthetic embeddings (goal < 2 ms), new kernel vs the old JS scan.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalize } from '../daemon/analytics/faceRecognition/embedder.js';
import { FaceRecognizer } from '../daemon/analytics/faceRecognition/faceRecognizer.js';
import { GalleryIndex } from '../daemon/analytics/faceRecognition/galleryIndex.js';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import { openDatabase } from '../daemon/store/database.js';
import { FaceGallery } from '../daemon/store/faceGallery.js';
import { readImageFile } from '../daemon/vision/codec.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const MEDIA = process.env.VIGIL_MEDIA_MIRROR ?? resolve(ROOT, '../shared/media');
const MODELS = process.env.VIGIL_MODEL_MIRROR ?? resolve(ROOT, '../shared/models');
const IMAGES = ['face_obama_2.jpg', 'face_biden_2.jpg', 'face_kit_harington_2.jpg', 'face_rose_leslie_1.jpg', 'faces_obama_biden_3people.jpg'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const median = (v: number[]): number => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;

/** Random unit vectors (seeded LCG, so runs compare). */
function synthetic(n: number, dim: number, seed = 7): Float32Array[] {
  let s = seed;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) - 0.5;
  return Array.from({ length: n }, () => normalize(Float32Array.from({ length: dim }, rnd)));
}

/** Runs the benchmark and prints one line per stage. */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-faces-'));
  const engine = new InferenceEngine({ log: silentLogger(), dataDir: dir, mirrorDir: MODELS, providers: ['cpu'], threads: { intraOp: 1, interOp: 1 } });
  const db = openDatabase(join(dir, 'vigil.db'));
  try {
    for (const detectorModel of ['yunet_2023mar', 'scrfd_2.5g_kps']) {
      const rec = new FaceRecognizer({ models: engine, gallery: new FaceGallery(db), log: silentLogger(), config: { detectorModel } });
      await rec.start();
      const images = await Promise.all(IMAGES.map((f) => readImageFile(join(MEDIA, f))));
      const det: number[] = [], emb: number[] = [], match: number[] = [];
      let faces = 0;
      for (let r = 0; r < ROUNDS + 1; r++) {
        for (const img of images) {
          const t0 = performance.now();
          const found = await rec.analyze(img);
          const t1 = performance.now();
          let m = 0;
          for (const f of found) if (f.embedding) { const a = performance.now(); rec.match(f.embedding); m += performance.now() - a; }
          if (r === 0) continue; // warm-up
          faces += found.length;
          det.push(t1 - t0);
          match.push(m / Math.max(1, found.length));
          emb.push((t1 - t0) / Math.max(1, found.length));
        }
      }
      console.log(`${detectorModel} + ${rec.model}: per image (detect+align+embed) median ${median(det).toFixed(1)} ms; per face ${median(emb).toFixed(1)} ms; match ${median(match).toFixed(3)} ms (${faces / ROUNDS} faces/round)`);
    }
    // The gallery scan: WebAssembly SIMD kernel (what the daemon runs) against the plain JS loop it replaced.
    for (const dim of [512, 128]) {
      const vecs = synthetic(10_000, dim);
      const q = synthetic(1, dim, 99)[0]!;
      const line: string[] = [];
      for (const scanner of ['auto', 'js'] as const) {
        const index = new GalleryIndex({ scanner });
        index.load(vecs.map((vector, i) => ({ person_id: `p${i >> 1}`, ref: `r${i}`, vector })));
        for (let i = 0; i < 20; i++) index.match(q, { matchThreshold: 0.4, margin: 0.08 });
        const times: number[] = [];
        for (let i = 0; i < 100; i++) { const a = performance.now(); index.match(q, { matchThreshold: 0.4, margin: 0.08 }); times.push(performance.now() - a); }
        times.sort((a, b) => a - b);
        line.push(`${index.kernel} median ${median(times).toFixed(2)} ms, p90 ${times[89]!.toFixed(2)} ms`);
      }
      console.log(`match against 10k synthetic ${dim}-d embeddings (5k persons, goal < 2 ms): ${line[0]}; old ${line[1]}`);
    }
  } finally {
    db.close();
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
