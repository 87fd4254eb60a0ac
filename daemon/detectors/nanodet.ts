import { VigilError } from '../errors.js';
import type { Candidate, GridDecodeOptions } from './yolox.js';

/** One stride's outputs: class probabilities [1,N,C] and distance bins [1,N,4*bins]. */
export interface NanodetLevel {
  stride: number;
  cls: Float32Array;
  clsDims: readonly number[];
  dis: Float32Array;
  disDims: readonly number[];
}

/**
 * NanoDet (GFL) decoding: per anchor point `col*s + 0.5*(s-1)`, class
 * probabilities as given, each side's distance = softmax expectation over bins x stride.
 */
export function decodeNanodet(levels: NanodetLevel[], opts: GridDecodeOptions): Candidate[] {
  const out: Candidate[] = [];
  const thr = opts.scoreThreshold;
  const b = opts.batchIndex ?? 0;
  const probs = new Float32Array(64);
  for (const lv of levels) {
    const s = lv.stride;
    const cols = Math.ceil(opts.inWidth / s);
    const rows = Math.ceil(opts.inHeight / s);
    const n = lv.clsDims[1] ?? 0;
    const nc = lv.clsDims[2] ?? 0;
    const db = lv.disDims[2] ?? 0;
    const bins = db / 4;
    if (n !== cols * rows || lv.disDims[1] !== n || !Number.isInteger(bins) || bins < 1 || bins > 16) {
      throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `NanoDet stride ${s} outputs [${lv.clsDims.join(',')}]/[${lv.disDims.join(',')}] do not fit a ${opts.inWidth}x${opts.inHeight} input`);
    }
    const cBase = b * n * nc;
    const dBase = b * n * db;
    for (let i = 0; i < n; i++) {
      const co = cBase + i * nc;
      let best = -1, bestP = thr;
      for (let c = 0; c < nc; c++) {
        if (opts.classes && !opts.classes.has(c)) continue;
        const p = lv.cls[co + c]!;
        if (p >= bestP) { bestP = p; best = c; }
      }
      if (best < 0) continue;
      const ax = (i % cols) * s + 0.5 * (s - 1);
      const ay = Math.floor(i / cols) * s + 0.5 * (s - 1);
      const d = [0, 0, 0, 0];
      for (let side = 0; side < 4; side++) {
        const o = dBase + i * db + side * bins;
        let max = -Infinity;
        for (let k = 0; k < bins; k++) max = Math.max(max, lv.dis[o + k]!);
        let sum = 0;
        for (let k = 0; k < bins; k++) { const e = Math.exp(lv.dis[o + k]! - max); probs[k] = e; sum += e; }
        let exp = 0;
        for (let k = 0; k < bins; k++) exp += (k * probs[k]!) / sum;
        d[side] = exp * s;
      }
      out.push({ box: [ax - d[0]!, ay - d[1]!, ax + d[2]!, ay + d[3]!], score: bestP, classId: best });
    }
  }
  return out;
}
