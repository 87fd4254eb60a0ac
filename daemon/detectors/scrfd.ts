import { VigilError } from '../errors.js';
import type { Point } from '../vision/image.js';
import type { Detection } from './types.js';
import type { FaceDecodeOptions, RawOutput } from './yunet.js';

/**
 * Decodes SCRFD *_kps outputs (scores, distances, keypoints for strides 8/16/32,
 * 2 anchors per cell) into faces with 5 landmarks, in model-input pixels, before NMS.
 * Outputs are matched to strides by their size, not their names (exports differ).
 */
export function decodeScrfd(out: Record<string, RawOutput>, inWidth: number, inHeight: number, opts: FaceDecodeOptions = {}): Detection[] {
  const thr = opts.scoreThreshold ?? 0.5;
  const anchors = 2;
  const tensors = Object.values(out);
  const faces: Detection[] = [];
  for (const s of [8, 16, 32]) {
    const cols = Math.ceil(inWidth / s), rows = Math.ceil(inHeight / s);
    const n = cols * rows * anchors;
    // Match by size *and* last dimension: 3200x4 distances (stride 16) have as many values as 12800x1 scores (stride 8).
    const pick = (last: number): RawOutput | undefined => tensors.find((t) => t.data.length === n * last && t.dims[t.dims.length - 1] === last);
    const score = pick(1), dist = pick(4), kps = pick(10);
    if (!score || !dist || !kps) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `SCRFD outputs for stride ${s} (${n} anchors) not found for a ${inWidth}x${inHeight} input`);
    const sc = score.data, d = dist.data, k = kps.data;
    for (let i = 0; i < n; i++) {
      const p = sc[i]!;
      if (p < thr) continue;
      const cell = (i / anchors) | 0;
      const col = cell % cols, row = (cell - col) / cols;
      const cx = col * s, cy = row * s;
      const keypoints: Point[] = [];
      for (let j = 0; j < 5; j++) keypoints.push([cx + k[i * 10 + 2 * j]! * s, cy + k[i * 10 + 2 * j + 1]! * s]);
      faces.push({
        box: [cx - d[i * 4]! * s, cy - d[i * 4 + 1]! * s, cx + d[i * 4 + 2]! * s, cy + d[i * 4 + 3]! * s],
        score: p, classId: 0, label: 'face', keypoints,
      });
    }
  }
  return faces;
}
