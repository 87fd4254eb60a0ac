import { VigilError } from '../errors.js';
import type { ModelRunner } from '../inference/types.js';
import { prepareInput } from '../vision/preprocess.js';
import { nms } from './nms.js';
import { platesToDetections, type PlateCandidate, type PlateDetector } from './yolov5Plate.js';

const MIN_SIZES = [[24, 48], [96, 192], [384, 768]] as const;
const STEPS = [8, 16, 32] as const;
const priorCache = new Map<string, Float32Array>();

/** RetinaFace priors (cx, cy, w, h in input pixels) for an input size, cached. */
export function retinaPriors(width: number, height: number): Float32Array {
  const key = `${width}x${height}`;
  const hit = priorCache.get(key);
  if (hit) return hit;
  const vals: number[] = [];
  STEPS.forEach((step, k) => {
    const rows = Math.ceil(height / step), cols = Math.ceil(width / step);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) for (const m of MIN_SIZES[k]!) vals.push((j + 0.5) * step, (i + 0.5) * step, m, m);
  });
  const p = Float32Array.from(vals);
  priorCache.set(key, p);
  return p;
}

/**
 * Decodes RetinaFace-style plate outputs (loc [N,4], conf [N,2], landms [N,8]; variances
 * 0.1/0.2; landmarks BR, BL, TL, TR) into candidates in input pixels, corners reordered TL, TR, BR, BL.
 */
export function decodeRetinaPlate(loc: Float32Array, conf: Float32Array, landms: Float32Array, width: number, height: number, scoreThreshold: number): PlateCandidate[] {
  const priors = retinaPriors(width, height);
  const n = priors.length / 4;
  if (loc.length !== n * 4 || conf.length !== n * 2 || landms.length !== n * 8) {
    throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `retina-plate outputs do not match ${n} priors for ${width}x${height}`);
  }
  const out: PlateCandidate[] = [];
  for (let i = 0; i < n; i++) {
    let s = conf[i * 2 + 1]!;
    const s0 = conf[i * 2]!;
    // Accept raw logits too: softmax over the two classes.
    if (s < 0 || s > 1 || s0 < 0 || s0 > 1) s = 1 / (1 + Math.exp(s0 - s));
    if (s < scoreThreshold) continue;
    const px = priors[i * 4]!, py = priors[i * 4 + 1]!, pw = priors[i * 4 + 2]!, ph = priors[i * 4 + 3]!;
    const cx = px + loc[i * 4]! * 0.1 * pw;
    const cy = py + loc[i * 4 + 1]! * 0.1 * ph;
    const w = pw * Math.exp(loc[i * 4 + 2]! * 0.2);
    const h = ph * Math.exp(loc[i * 4 + 3]! * 0.2);
    const lm = (k: number): [number, number] => [px + landms[i * 8 + 2 * k]! * 0.1 * pw, py + landms[i * 8 + 2 * k + 1]! * 0.1 * ph];
    out.push({ box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], score: s, classId: 0, corners: [lm(2), lm(3), lm(0), lm(1)] });
  }
  return out;
}

/** A plate detector over a `retina-plate` model (plate_detect_retina_mnet_cn); single-row only. */
export function createRetinaPlateDetector(runner: ModelRunner, opts: { scoreThreshold?: number; nmsIou?: number } = {}): PlateDetector {
  const spec = runner.spec;
  if (spec.family !== 'retina-plate') throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} is of family ${spec.family}, not retina-plate`);
  const num = (k: string): number | undefined => (typeof spec.decode?.[k] === 'number' ? (spec.decode[k] as number) : undefined);
  const scoreThreshold = opts.scoreThreshold ?? num('scoreThreshold') ?? 0.5;
  const nmsIou = opts.nmsIou ?? num('nmsIou') ?? 0.4;
  const [locName, confName, lmName] = spec.outputs ?? ['loc', 'conf', 'landms'];
  return {
    runner,
    async detect(img, run) {
      const { tensor, meta } = prepareInput(img, spec.input);
      const o = await runner.run({ [spec.input.name]: tensor }, run);
      const loc = o[locName!], conf = o[confName!], lm = o[lmName!];
      if (!loc || !conf || !lm) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} lacks loc/conf/landms outputs`);
      const cands = decodeRetinaPlate(loc.data as Float32Array, conf.data as Float32Array, lm.data as Float32Array, meta.inWidth, meta.inHeight, scoreThreshold);
      return platesToDetections(nms(cands, nmsIou, { agnostic: true }), meta);
    },
  };
}
