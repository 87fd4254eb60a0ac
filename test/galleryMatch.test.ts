// The WebAssembly SIMD gallery scan decides exactly as the plain JS scan on real face
// embeddings (YuNet + both embedders on the media photos), alone and hidden among 10k
// random distractors; and it still tells the people apart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFaceEmbedder, normalize } from '../daemon/analytics/faceRecognition/embedder.js';
import { createFaceDetector } from '../daemon/analytics/faceRecognition/faceDetector.js';
import { GalleryIndex } from '../daemon/analytics/faceRecognition/galleryIndex.js';
import type { VectorRow } from '../daemon/analytics/faceRecognition/galleryPort.js';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import { readImageFile } from '../daemon/vision/codec.js';
import { mediaPath, modelMirror } from './helpers/paths.js';

/** Photo → person; face_biden_1 is a crop of the two-people photo, so it is left out. */
const PHOTOS: Record<string, string> = {
  'face_obama_1.jpg': 'obama', 'face_obama_2.jpg': 'obama', 'face_obama_3.jpg': 'obama',
  'face_biden_2.jpg': 'biden', 'face_kit_harington_1.jpg': 'kit', 'face_kit_harington_2.jpg': 'kit',
  'face_rose_leslie_1.jpg': 'rose', 'face_rose_leslie_2.jpg': 'rose',
};
const T = { matchThreshold: 0.4, margin: 0.08 };

let dataDir: string;
let engine: InferenceEngine;
before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-gallery-'));
  engine = new InferenceEngine({ log: silentLogger(), dataDir, mirrorDir: modelMirror(), providers: ['cpu'], threads: { intraOp: 1, interOp: 1 } });
});
after(async () => {
  await engine?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function distractors(n: number, dim: number): VectorRow[] {
  let s = 11;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) - 0.5;
  return Array.from({ length: n }, (_, i) => ({ person_id: `x${i >> 1}`, ref: `d${i}`, vector: normalize(Float32Array.from({ length: dim }, rnd)) }));
}

describe('gallery match on real embeddings: WebAssembly SIMD vs the JS scan', () => {
  for (const embedder of ['face_embed_faceplugin_fr_feature', 'face_embed_mobilefacenet_unknown']) {
    it(`${embedder}: same decisions, similarities within 1e-4, each photo matched to its person`, async () => {
      const det = createFaceDetector(await engine.get('yunet_2023mar'));
      const emb = createFaceEmbedder(await engine.get(embedder));
      const rows: VectorRow[] = [];
      for (const [file, person] of Object.entries(PHOTOS)) {
        const img = await readImageFile(mediaPath(file));
        const [face] = await det.detect(img);
        rows.push({ person_id: person, ref: file, vector: await emb.embedAligned(emb.align(img, face!.keypoints)) });
      }
      const dim = rows[0]!.vector.length;
      for (const gallerySize of ['real only', 'among 10k distractors']) {
        const all = gallerySize === 'real only' ? rows : [...distractors(10_000, dim), ...rows];
        for (const probe of rows) {
          // Leave the probe's own photo out, so each query is a real "other photo" match.
          const others = all.filter((r) => r !== probe);
          const fast = new GalleryIndex(), slow = new GalleryIndex({ scanner: 'js' });
          fast.load(others);
          slow.load(others);
          const a = fast.match(probe.vector, T), b = slow.match(probe.vector, T);
          assert.equal(fast.kernel, 'wasm-simd');
          assert.deepEqual([a.candidateId, a.personId, a.reason], [b.candidateId, b.personId, b.reason], `${probe.ref} (${gallerySize})`);
          assert.ok(Math.abs(a.similarity - b.similarity) < 1e-4 && Math.abs(a.secondSimilarity - b.secondSimilarity) < 1e-4);
          // Everyone here has another photo in the gallery except Biden (one usable photo).
          if (probe.person_id !== 'biden') assert.equal(a.candidateId, probe.person_id, `${probe.ref} (${gallerySize}) → ${a.candidateId} ${a.similarity.toFixed(3)}`);
        }
      }
    });
  }
});
