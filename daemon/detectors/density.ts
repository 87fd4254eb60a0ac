import type { Tensor } from 'onnxruntime-node';
import { VigilError } from '../errors.js';
import type { ModelRunner, RunOptions } from '../inference/types.js';
import type { Point, RgbImage } from '../vision/image.js';
import { prepareInput, type LetterboxMeta } from '../vision/preprocess.js';

/** A density map tensor: [1,1,h,w] (or [1,h,w] / [h,w]); its sum is the count. */
export interface DensityMap {
  data: Float32Array;
  dims: readonly number[];
}

/** Map height and width of a density output, whatever its leading dims. */
export function densityMapSize(map: DensityMap): { w: number; h: number } {
  const d = map.dims;
  const h = d[d.length - 2], w = d[d.length - 1];
  if (d.length < 2 || !h || !w || d.slice(0, -2).some((x) => x !== 1) || map.data.length < w * h) {
    throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `A density map must be [1,1,h,w], got [${d.join(',')}]`);
  }
  return { w, h };
}

/** Count in the whole map: the sum of its cells (negative noise clipped to 0). */
export function densityCount(map: DensityMap): number {
  const { w, h } = densityMapSize(map);
  let s = 0;
  for (let i = 0; i < w * h; i++) { const v = map.data[i]!; if (v > 0) s += v; }
  return s;
}

const masks = new Map<string, Uint8Array>();

/**
 * Count inside a polygon given in source-image pixels: the polygon is mapped through
 * the letterbox into model-input pixels, then onto map cells (cell centre inside = counted).
 */
export function densityCountInArea(map: DensityMap, polygon: Point[], meta: LetterboxMeta): number {
  const { w, h } = densityMapSize(map);
  if (polygon.length < 3) throw new VigilError('VIGIL_ERR_CONFIG', 'A counting area needs at least 3 points');
  const key = `${w}x${h}:${meta.inWidth}x${meta.inHeight}:${meta.scaleX},${meta.scaleY},${meta.padX},${meta.padY}:${polygon.join(';')}`;
  let mask = masks.get(key);
  if (!mask) {
    // Source px → input px → map cells (the map covers the whole model input).
    const fx = w / meta.inWidth, fy = h / meta.inHeight;
    const poly = polygon.map(([x, y]): Point => [(x * meta.scaleX + meta.padX) * fx, (y * meta.scaleY + meta.padY) * fy]);
    mask = new Uint8Array(w * h);
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) mask[r * w + c] = inside(c + 0.5, r + 0.5, poly) ? 1 : 0;
    if (masks.size > 256) masks.clear();
    masks.set(key, mask);
  }
  let s = 0;
  for (let i = 0; i < w * h; i++) if (mask[i]) { const v = map.data[i]!; if (v > 0) s += v; }
  return s;
}

/** Even-odd rule point-in-polygon. */
function inside(x: number, y: number, poly: Point[]): boolean {
  let c = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!, [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

/** Crowd estimate: the total and per named area. */
export interface DensityEstimate {
  total: number;
  areas: Record<string, number>;
}

/** Runs a density-family model on images and sums its map, optionally per polygon area. */
export function createDensityEstimator(runner: ModelRunner): { estimate(img: RgbImage, areas?: Record<string, Point[]>, run?: RunOptions): Promise<DensityEstimate> } {
  const spec = runner.spec;
  if (spec.family !== 'density') throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} is of family ${spec.family}, not density`);
  return {
    async estimate(img, areas = {}, run) {
      const { tensor, meta } = prepareInput(img, spec.input, runner.inputBuffer?.(spec.input.dtype, spec.input.width * spec.input.height * 3));
      const out = await runner.run({ [spec.input.name]: tensor }, run);
      const t: Tensor | undefined = out[spec.outputs?.[0] ?? Object.keys(out)[0]!];
      if (!t) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} returned no density map`);
      const map = { data: t.data as Float32Array, dims: t.dims };
      const res: DensityEstimate = { total: densityCount(map), areas: {} };
      for (const [name, poly] of Object.entries(areas)) res.areas[name] = densityCountInArea(map, poly, meta);
      return res;
    },
  };
}
