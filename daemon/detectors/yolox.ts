import { VigilError } from '../errors.js';
import type { Box } from '../vision/image.js';

/** A raw detection in model-input pixels, before NMS and letterbox undo. */
export interface Candidate {
  box: Box;
  score: number;
  classId: number;
}

/** Options shared by the grid decoders. */
export interface GridDecodeOptions {
  inWidth: number;
  inHeight: number;
  scoreThreshold: number;
  /** Keep only these class ids (all when absent). */
  classes?: ReadonlySet<number>;
  /** Which image of a batched output to read (default 0). */
  batchIndex?: number;
}

/** Grid cell x/y and stride for every output row, cached per input size. */
interface Grid { gx: Float32Array; gy: Float32Array; stride: Float32Array }
const grids = new Map<string, Grid>();

function yoloxGrid(w: number, h: number, strides: readonly number[]): Grid {
  const key = `${w}x${h}:${strides.join(',')}`;
  let g = grids.get(key);
  if (g) return g;
  let n = 0;
  for (const s of strides) n += Math.ceil(h / s) * Math.ceil(w / s);
  g = { gx: new Float32Array(n), gy: new Float32Array(n), stride: new Float32Array(n) };
  let i = 0;
  for (const s of strides) {
    const cols = Math.ceil(w / s), rows = Math.ceil(h / s);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++, i++) { g.gx[i] = c; g.gy[i] = r; g.stride[i] = s; }
  }
  grids.set(key, g);
  return g;
}

/**
 * YOLOX head decoding: rows `[x,y,w,h,obj,cls...]` over strides 8/16/32,
 * obj and cls already sigmoided; `cx=(x+gx)*s`, `w=exp(w)*s`, score = obj*max(cls).
 */
export function decodeYolox(data: Float32Array, dims: readonly number[], opts: GridDecodeOptions): Candidate[] {
  const rows = dims[1] ?? 0;
  const width = dims[2] ?? 0;
  const grid = yoloxGrid(opts.inWidth, opts.inHeight, [8, 16, 32]);
  if (dims.length !== 3 || width < 6 || rows !== grid.gx.length) {
    throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `YOLOX output [${dims.join(',')}] does not fit a ${opts.inWidth}x${opts.inHeight} input (expected [N,${grid.gx.length},5+classes])`);
  }
  const nc = width - 5;
  const thr = opts.scoreThreshold;
  const base = (opts.batchIndex ?? 0) * rows * width;
  const out: Candidate[] = [];
  for (let i = 0; i < rows; i++) {
    const o = base + i * width;
    const obj = data[o + 4]!;
    if (obj < thr) continue; // score = obj*cls <= obj
    let best = 0, bestP = -1;
    for (let c = 0; c < nc; c++) {
      if (opts.classes && !opts.classes.has(c)) continue;
      const p = data[o + 5 + c]!;
      if (p > bestP) { bestP = p; best = c; }
    }
    const score = obj * bestP;
    if (score < thr) continue;
    const s = grid.stride[i]!;
    const cx = (data[o]! + grid.gx[i]!) * s;
    const cy = (data[o + 1]! + grid.gy[i]!) * s;
    const hw = (Math.exp(data[o + 2]!) * s) / 2;
    const hh = (Math.exp(data[o + 3]!) * s) / 2;
    out.push({ box: [cx - hw, cy - hh, cx + hw, cy + hh], score, classId: best });
  }
  return out;
}
