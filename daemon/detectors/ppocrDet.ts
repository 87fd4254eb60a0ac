import { VigilError } from '../errors.js';
import type { InputSpec, ModelRunner, RunOptions } from '../inference/types.js';
import type { Box, Point, RgbImage } from '../vision/image.js';
import { dynamicInputSize, prepareInput, type LetterboxMeta } from '../vision/preprocess.js';
import type { Detection } from './types.js';

/** DB (differentiable binarisation) post-processing tunables, PaddleOCR defaults. */
export interface DbOptions {
  /** Pixel threshold on the probability map. */
  threshold?: number;
  /** Minimum mean probability of a region. */
  boxThreshold?: number;
  /** How far the shrunk text kernel is grown back (area × ratio / perimeter). */
  unclipRatio?: number;
  /** Regions with a short side below this (map pixels) are dropped. */
  minSize?: number;
}

/** A text region on the map: axis box and rotated corners (TL, TR, BR, BL), map pixels. */
export interface TextRegion {
  box: Box;
  corners: [Point, Point, Point, Point];
  score: number;
}

/**
 * Turns a DB probability map [h, w] into text regions: 4-connected components of
 * pixels above `threshold`, each fitted with a rotated rectangle (principal axes)
 * and unclipped. Pure typed-array code, one pass plus one pass per region.
 */
export function decodeDbMap(prob: Float32Array, w: number, h: number, opts: DbOptions = {}): TextRegion[] {
  const thr = opts.threshold ?? 0.3;
  const boxThr = opts.boxThreshold ?? 0.6;
  const unclip = opts.unclipRatio ?? 1.5;
  const minSize = opts.minSize ?? 3;
  if (prob.length < w * h) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `DB map has ${prob.length} values, expected ${w}x${h}`);
  const seen = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  const regions: TextRegion[] = [];
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || prob[start]! <= thr) continue;
    // Flood fill; the stack array doubles as the list of the component's pixels.
    let top = 0;
    let len = 0;
    stack[top++] = start;
    seen[start] = 1;
    let sx = 0, sy = 0, sp = 0;
    while (top > len) {
      const p = stack[len++]!;
      const x = p % w, y = (p - x) / w;
      sx += x; sy += y; sp += prob[p]!;
      if (x > 0 && !seen[p - 1] && prob[p - 1]! > thr) { seen[p - 1] = 1; stack[top++] = p - 1; }
      if (x < w - 1 && !seen[p + 1] && prob[p + 1]! > thr) { seen[p + 1] = 1; stack[top++] = p + 1; }
      if (y > 0 && !seen[p - w] && prob[p - w]! > thr) { seen[p - w] = 1; stack[top++] = p - w; }
      if (y < h - 1 && !seen[p + w] && prob[p + w]! > thr) { seen[p + w] = 1; stack[top++] = p + w; }
    }
    const n = len;
    if (n < minSize * minSize) continue;
    const score = sp / n;
    if (score < boxThr) continue;
    const mx = sx / n, my = sy / n;
    let cxx = 0, cyy = 0, cxy = 0;
    for (let i = 0; i < n; i++) {
      const p = stack[i]!;
      const dx = (p % w) - mx, dy = Math.floor(p / w) - my;
      cxx += dx * dx; cyy += dy * dy; cxy += dx * dy;
    }
    const theta = 0.5 * Math.atan2(2 * cxy, cxx - cyy);
    const ux = Math.cos(theta), uy = Math.sin(theta);
    let a0 = Infinity, a1 = -Infinity, b0 = Infinity, b1 = -Infinity;
    for (let i = 0; i < n; i++) {
      const p = stack[i]!;
      const dx = (p % w) - mx, dy = Math.floor(p / w) - my;
      const a = dx * ux + dy * uy, b = -dx * uy + dy * ux;
      if (a < a0) a0 = a; if (a > a1) a1 = a; if (b < b0) b0 = b; if (b > b1) b1 = b;
    }
    // Pixel extents are centres: widen by half a pixel each side.
    let len1 = a1 - a0 + 1, len2 = b1 - b0 + 1;
    if (Math.min(len1, len2) < minSize) continue;
    const d = (len1 * len2 * unclip) / (2 * (len1 + len2));
    len1 += 2 * d; len2 += 2 * d;
    const ca = (a0 + a1) / 2, cb = (b0 + b1) / 2;
    const cx = mx + ca * ux - cb * uy, cy = my + ca * uy + cb * ux;
    const corner = (sa: number, sb: number): Point => [cx + (sa * len1 / 2) * ux - (sb * len2 / 2) * uy, cy + (sa * len1 / 2) * uy + (sb * len2 / 2) * ux];
    let pts: Point[] = [corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1)];
    // Long axis may be vertical for a rotated fit: order corners TL, TR, BR, BL by position.
    pts = orderCorners(pts);
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    regions.push({
      box: [Math.max(0, Math.min(...xs)), Math.max(0, Math.min(...ys)), Math.min(w, Math.max(...xs) + 1), Math.min(h, Math.max(...ys) + 1)],
      corners: pts as TextRegion['corners'],
      score,
    });
  }
  return regions;
}

/** Orders four points as TL, TR, BR, BL (by x+y and y-x extremes, as OpenCV users do). */
export function orderCorners(pts: Point[]): Point[] {
  const bySum = pts.slice().sort((a, b) => a[0] + a[1] - (b[0] + b[1]));
  const byDiff = pts.slice().sort((a, b) => a[1] - a[0] - (b[1] - b[0]));
  return [bySum[0]!, byDiff[0]!, bySum[3]!, byDiff[3]!];
}

/** Finds text lines in images with a PP-OCR det (DB) model. */
export interface TextDetector {
  readonly runner: ModelRunner;
  /** Text regions in source pixels; `keypoints` are the rotated corners TL, TR, BR, BL. */
  detect(img: RgbImage, run?: RunOptions): Promise<Detection[]>;
}

/** A text detector over a `ppocr-det` model; the image is resized so its long side is at most `maxSide`. */
export function createPpocrTextDetector(runner: ModelRunner, opts: DbOptions & { maxSide?: number } = {}): TextDetector {
  const spec = runner.spec;
  if (spec.family !== 'ppocr-det') throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} is of family ${spec.family}, not ppocr-det`);
  const maxSide = opts.maxSide ?? 640;
  return {
    runner,
    async detect(img, run) {
      const size = dynamicInputSize(img.width, img.height, spec.input.multiple ?? 32, maxSide);
      // Paddle stretches to the rounded size rather than padding.
      const input: InputSpec = { ...spec.input, width: size.width, height: size.height, resize: 'stretch' };
      const { tensor, meta } = prepareInput(img, input);
      const o = await runner.run({ [input.name]: tensor }, run);
      const t = o[spec.outputs?.[0] ?? 'sigmoid_0.tmp_0'] ?? Object.values(o)[0];
      if (!t) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} returned no output`);
      const mh = Number(t.dims[2]), mw = Number(t.dims[3]);
      return decodeDbMap(t.data as Float32Array, mw, mh, opts).map((r) => regionToDetection(r, meta, mw, mh));
    },
  };
}

function regionToDetection(r: TextRegion, meta: LetterboxMeta, mw: number, mh: number): Detection {
  // The map may be smaller than the input; scale map px → input px → source px.
  const fx = meta.inWidth / mw / meta.scaleX, fy = meta.inHeight / mh / meta.scaleY;
  const box: Box = [
    Math.max(0, r.box[0] * fx), Math.max(0, r.box[1] * fy),
    Math.min(meta.srcWidth, r.box[2] * fx), Math.min(meta.srcHeight, r.box[3] * fy),
  ];
  return { box, score: r.score, classId: 0, label: 'text', keypoints: r.corners.map(([x, y]) => [x * fx, y * fy] as Point) };
}
