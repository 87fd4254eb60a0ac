import { VigilError } from '../errors.js';
import type { ModelRunner, RunOptions } from '../inference/types.js';
import type { Box, Point, RgbImage } from '../vision/image.js';
import { prepareInput, undoLetterbox, undoPoint, type LetterboxMeta } from '../vision/preprocess.js';
import { nms } from './nms.js';
import type { Detection } from './types.js';

/** A plate found by a plate detector, in model-input pixels, corners TL, TR, BR, BL. */
export interface PlateCandidate {
  box: Box;
  score: number;
  /** 0 single-row plate, 1 double-row plate. */
  classId: number;
  corners: [Point, Point, Point, Point];
}

/** Labels of the two plate classes, by class id. */
export const PLATE_LABELS = ['plate', 'plate-double'] as const;

/**
 * Decodes a YOLOv5-face-style plate output [1, N, 15] = cx, cy, w, h, obj,
 * 4 corners (x, y), cls_single, cls_double. Score = obj × best class.
 */
export function decodeYolov5Plate(data: Float32Array, dims: readonly number[], scoreThreshold: number): PlateCandidate[] {
  const n = Number(dims[1]);
  const stride = Number(dims[2]);
  if (dims.length !== 3 || stride < 15) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `yolov5-plate output [${dims.join(',')}] is not [1,N,15]`);
  const out: PlateCandidate[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * stride;
    const obj = data[o + 4]!;
    if (obj < scoreThreshold) continue;
    const c0 = data[o + 13]!;
    const c1 = data[o + 14]!;
    const classId = c1 > c0 ? 1 : 0;
    const score = obj * (classId ? c1 : c0);
    if (score < scoreThreshold) continue;
    const cx = data[o]!, cy = data[o + 1]!, w = data[o + 2]!, h = data[o + 3]!;
    out.push({
      box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2],
      score,
      classId,
      corners: [[data[o + 5]!, data[o + 6]!], [data[o + 7]!, data[o + 8]!], [data[o + 9]!, data[o + 10]!], [data[o + 11]!, data[o + 12]!]],
    });
  }
  return out;
}

/** Maps plate candidates from model input back to source pixels and makes Detections of them. */
export function platesToDetections(cands: PlateCandidate[], meta: LetterboxMeta): Detection[] {
  const dets: Detection[] = [];
  for (const c of cands) {
    const box = undoLetterbox(c.box, meta);
    if (box[2] - box[0] < 2 || box[3] - box[1] < 2) continue;
    dets.push({ box, score: c.score, classId: c.classId, label: PLATE_LABELS[c.classId] ?? 'plate', keypoints: c.corners.map((p) => undoPoint(p, meta)) });
  }
  return dets;
}

/** Finds plates (box, 4 corners, single/double row) in an image. */
export interface PlateDetector {
  readonly runner: ModelRunner;
  detect(img: RgbImage, run?: RunOptions): Promise<Detection[]>;
}

/** A plate detector over a `yolov5-plate` model (e.g. plate_detect_yolov5_cn). */
export function createYolov5PlateDetector(runner: ModelRunner, opts: { scoreThreshold?: number; nmsIou?: number } = {}): PlateDetector {
  const spec = runner.spec;
  if (spec.family !== 'yolov5-plate') throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} is of family ${spec.family}, not yolov5-plate`);
  const num = (k: string): number | undefined => (typeof spec.decode?.[k] === 'number' ? (spec.decode[k] as number) : undefined);
  const scoreThreshold = opts.scoreThreshold ?? num('scoreThreshold') ?? 0.3;
  const nmsIou = opts.nmsIou ?? num('nmsIou') ?? 0.5;
  return {
    runner,
    async detect(img, run) {
      const { tensor, meta } = prepareInput(img, spec.input);
      const outputs = await runner.run({ [spec.input.name]: tensor }, run);
      const t = outputs[spec.outputs?.[0] ?? 'output'] ?? Object.values(outputs)[0];
      if (!t) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} returned no output`);
      const kept = nms(decodeYolov5Plate(t.data as Float32Array, t.dims, scoreThreshold), nmsIou, { agnostic: true });
      return platesToDetections(kept, meta);
    },
  };
}
