import { VigilError } from '../errors.js';
import type { Detection } from './types.js';
import type { FaceDecodeOptions, RawOutput } from './yunet.js';

/**
 * Decodes UltraFace outputs `scores` [1,N,2] (softmaxed) and `boxes` [1,N,4]
 * (normalised x1,y1,x2,y2) into faces in model-input pixels, before NMS.
 * UltraFace gives no landmarks.
 */
export function decodeUltraface(out: Record<string, RawOutput>, inWidth: number, inHeight: number, opts: FaceDecodeOptions = {}): Detection[] {
  const thr = opts.scoreThreshold ?? 0.7;
  const scores = out.scores, boxes = out.boxes;
  if (!scores || !boxes || scores.data.length * 2 !== boxes.data.length) {
    throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `UltraFace needs outputs scores [1,N,2] and boxes [1,N,4] (have ${Object.keys(out).join(', ')})`);
  }
  const n = scores.data.length / 2;
  const sc = scores.data, b = boxes.data;
  const faces: Detection[] = [];
  for (let i = 0; i < n; i++) {
    const p = sc[i * 2 + 1]!;
    if (p < thr) continue;
    faces.push({
      box: [b[i * 4]! * inWidth, b[i * 4 + 1]! * inHeight, b[i * 4 + 2]! * inWidth, b[i * 4 + 3]! * inHeight],
      score: p, classId: 0, label: 'face',
    });
  }
  return faces;
}
