import { VigilError } from '../errors.js';
import type { Point } from '../vision/image.js';
import type { Detection } from './types.js';

/** A raw output tensor as decoders read it (an ort.Tensor fits). */
export interface RawOutput {
  data: ArrayLike<number>;
  dims: readonly number[];
}

export interface FaceDecodeOptions {
  /** Minimum face score (YuNet default 0.9, OpenCV's). */
  scoreThreshold?: number;
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/**
 * Decodes YuNet (2023mar / 2026may) outputs `cls_S`, `obj_S`, `bbox_S`, `kps_S` for
 * strides 8/16/32 into faces with 5 landmarks, in model-input pixels, before NMS.
 * `inWidth`/`inHeight` are the size actually fed (multiples of 32).
 */
export function decodeYunet(out: Record<string, RawOutput>, inWidth: number, inHeight: number, opts: FaceDecodeOptions = {}): Detection[] {
  const thr = opts.scoreThreshold ?? 0.9;
  const faces: Detection[] = [];
  for (const s of [8, 16, 32]) {
    const cls = out[`cls_${s}`], obj = out[`obj_${s}`], bbox = out[`bbox_${s}`], kps = out[`kps_${s}`];
    if (!cls || !obj || !bbox || !kps) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `YuNet output for stride ${s} is missing (have ${Object.keys(out).join(', ')})`);
    const cols = Math.ceil(inWidth / s);
    const rows = Math.ceil(inHeight / s);
    const n = cols * rows;
    if (cls.data.length !== n || bbox.data.length !== n * 4 || kps.data.length !== n * 10) {
      throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `YuNet stride ${s}: expected ${n} cells for a ${inWidth}x${inHeight} input, got ${cls.data.length}`);
    }
    const c = cls.data, o = obj.data, b = bbox.data, k = kps.data;
    for (let i = 0; i < n; i++) {
      const score = Math.sqrt(clamp01(c[i]!) * clamp01(o[i]!));
      if (score < thr) continue;
      const col = i % cols, row = (i - col) / cols;
      const cx = (col + b[i * 4]!) * s, cy = (row + b[i * 4 + 1]!) * s;
      const w = Math.exp(b[i * 4 + 2]!) * s, h = Math.exp(b[i * 4 + 3]!) * s;
      const keypoints: Point[] = [];
      for (let j = 0; j < 5; j++) keypoints.push([(k[i * 10 + 2 * j]! + col) * s, (k[i * 10 + 2 * j + 1]! + row) * s]);
      faces.push({ box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], score, classId: 0, label: 'face', keypoints });
    }
  }
  return faces;
}
