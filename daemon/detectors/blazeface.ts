import { VigilError } from '../errors.js';
import type { Point } from '../vision/image.js';
import type { Detection } from './types.js';
import type { FaceDecodeOptions, RawOutput } from './yunet.js';

/** Anchor centres (normalised) of BlazeFace front: 16x16 x 2 then 8x8 x 6. */
function anchors(): Float32Array {
  const a = new Float32Array(896 * 2);
  let i = 0;
  for (const [grid, per] of [[16, 2], [8, 6]] as const) {
    for (let y = 0; y < grid; y++) for (let x = 0; x < grid; x++) for (let k = 0; k < per; k++) {
      a[i++] = (x + 0.5) / grid;
      a[i++] = (y + 0.5) / grid;
    }
  }
  return a;
}
const ANCHORS = anchors();

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, v))));

/**
 * Decodes BlazeFace front 128 (scores [1,512,1] + [1,384,1] raw logits, regressors
 * [1,N,16]) into faces in model-input pixels, before NMS. Its six keypoints (eyes,
 * nose, mouth centre, ears) become the 5 ArcFace landmarks: mouth corners are
 * placed either side of the mouth centre along the eye line.
 */
export function decodeBlazeface(out: Record<string, RawOutput>, inWidth: number, inHeight: number, opts: FaceDecodeOptions = {}): Detection[] {
  const thr = opts.scoreThreshold ?? 0.75;
  const t = Object.values(out);
  const s16 = t.find((x) => x.data.length === 512), s8 = t.find((x) => x.data.length === 384);
  const r16 = t.find((x) => x.data.length === 512 * 16), r8 = t.find((x) => x.data.length === 384 * 16);
  if (!s16 || !s8 || !r16 || !r8) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', 'BlazeFace front needs scores [1,512,1], [1,384,1] and regressors [1,512,16], [1,384,16]');
  const faces: Detection[] = [];
  const parts: [RawOutput, RawOutput, number][] = [[s16, r16, 0], [s8, r8, 512]];
  for (const [sc, rg, base] of parts) {
    const n = sc.data.length;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(sc.data[i]!);
      if (p < thr) continue;
      const ax = ANCHORS[(base + i) * 2]!, ay = ANCHORS[(base + i) * 2 + 1]!;
      const r = (j: number): number => rg.data[i * 16 + j]! / 128;
      const cx = ax + r(0), cy = ay + r(1), w = r(2), h = r(3);
      const kp = (j: number): Point => [(ax + r(4 + 2 * j)) * inWidth, (ay + r(5 + 2 * j)) * inHeight];
      const eyeA = kp(0), eyeB = kp(1), nose = kp(2), mouth = kp(3);
      // Mouth corners sit about 0.4 eye distances either side of the mouth centre.
      const dx = (eyeB[0] - eyeA[0]) * 0.4, dy = (eyeB[1] - eyeA[1]) * 0.4;
      faces.push({
        box: [(cx - w / 2) * inWidth, (cy - h / 2) * inHeight, (cx + w / 2) * inWidth, (cy + h / 2) * inHeight],
        score: p, classId: 0, label: 'face',
        keypoints: [eyeA, eyeB, nose, [mouth[0] - dx, mouth[1] - dy], [mouth[0] + dx, mouth[1] + dy]],
      });
    }
  }
  return faces;
}
