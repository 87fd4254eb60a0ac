import { VigilError } from '../errors.js';
import type { Point, RgbImage } from './image.js';

/** The ArcFace 112x112 reference positions: eye (image left), eye (image right), nose, mouth left, mouth right. */
export const ARCFACE_REFERENCE: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** A 2x3 affine matrix [a, -b, tx; b, a, ty] as [a, b, tx, ty] (rotation + uniform scale + shift). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Least-squares similarity transform mapping `src` points onto `dst` (Umeyama without reflection). */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Similarity {
  const n = Math.min(src.length, dst.length);
  if (n < 2) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `A similarity transform needs at least 2 point pairs, got ${n}`);
  let msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[i]![0]; msy += src[i]![1]; mdx += dst[i]![0]; mdy += dst[i]![1];
  }
  msx /= n; msy /= n; mdx /= n; mdy /= n;
  let ss = 0, sa = 0, sb = 0;
  for (let i = 0; i < n; i++) {
    const xs = src[i]![0] - msx, ys = src[i]![1] - msy;
    const xd = dst[i]![0] - mdx, yd = dst[i]![1] - mdy;
    ss += xs * xs + ys * ys;
    sa += xs * xd + ys * yd;
    sb += xs * yd - ys * xd;
  }
  if (!(ss > 1e-9)) throw new VigilError('VIGIL_ERR_FACE_QUALITY', 'Face landmarks collapse onto one point: the face cannot be aligned');
  const a = sa / ss;
  const b = sb / ss;
  return { a, b, tx: mdx - (a * msx - b * msy), ty: mdy - (b * msx + a * msy) };
}

/** Applies a similarity transform to a point. */
export function applySimilarity(m: Similarity, p: Point): Point {
  return [m.a * p[0] - m.b * p[1] + m.tx, m.b * p[0] + m.a * p[1] + m.ty];
}

/**
 * Warps `img` by `m` (source -> destination) into a w x h image, bilinear, black border
 * (as OpenCV's warpAffine: destination pixel (u,v) reads source M^-1 (u,v)).
 */
export function warpSimilarity(img: RgbImage, m: Similarity, w: number, h: number): RgbImage {
  const det = m.a * m.a + m.b * m.b;
  if (!(det > 1e-12)) throw new VigilError('VIGIL_ERR_INTERNAL', 'Degenerate alignment transform');
  // Inverse of [a -b; b a] is [a b; -b a] / det.
  const ia = m.a / det, ib = m.b / det;
  const itx = -(ia * m.tx + ib * m.ty);
  const ity = -(-ib * m.tx + ia * m.ty);
  const out = Buffer.alloc(w * h * 3);
  const src = img.data;
  const W = img.width, H = img.height, stride = W * 3;
  let o = 0;
  for (let v = 0; v < h; v++) {
    // Source coordinates advance linearly along a destination row.
    let sx = ib * v + itx;
    let sy = ia * v + ity;
    for (let u = 0; u < w; u++, o += 3, sx += ia, sy -= ib) {
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      if (x0 < -1 || y0 < -1 || x0 >= W || y0 >= H) continue;
      const fx = sx - x0, fy = sy - y0;
      const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      const inX0 = x0 >= 0, inX1 = x0 + 1 < W, inY0 = y0 >= 0, inY1 = y0 + 1 < H;
      const i00 = y0 * stride + x0 * 3;
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        if (inY0 && inX0) acc += src[i00 + c]! * w00;
        if (inY0 && inX1) acc += src[i00 + 3 + c]! * w01;
        if (inY1 && inX0) acc += src[i00 + stride + c]! * w10;
        if (inY1 && inX1) acc += src[i00 + stride + 3 + c]! * w11;
        out[o + c] = acc + 0.5;
      }
    }
  }
  return { width: w, height: h, data: out };
}

/** Aligns a face to the ArcFace 112x112 template from its 5 landmarks. */
export function alignFace(img: RgbImage, landmarks: readonly Point[], size = 112): RgbImage {
  if (landmarks.length < 5) throw new VigilError('VIGIL_ERR_FACE_QUALITY', `Face alignment needs 5 landmarks, got ${landmarks.length}`);
  const k = size / 112;
  const ref = k === 1 ? ARCFACE_REFERENCE : ARCFACE_REFERENCE.map((p) => [p[0] * k, p[1] * k] as Point);
  return warpSimilarity(img, estimateSimilarity(landmarks.slice(0, 5), ref), size, size);
}

/**
 * Sharpness as the variance of the 4-neighbour Laplacian of the luma, over the
 * central region (skips the black warp border). Higher is sharper; an aligned
 * 112x112 face from a decent photo scores in the hundreds, a blurred one < ~30.
 */
export function blurScore(img: RgbImage, margin = 0.15): number {
  const W = img.width, H = img.height;
  const x0 = Math.max(1, Math.floor(W * margin)), x1 = Math.min(W - 1, Math.ceil(W * (1 - margin)));
  const y0 = Math.max(1, Math.floor(H * margin)), y1 = Math.min(H - 1, Math.ceil(H * (1 - margin)));
  if (x1 <= x0 || y1 <= y0) return 0;
  const gray = new Float32Array(W * H);
  const d = img.data;
  for (let i = 0, p = 0; i < gray.length; i++, p += 3) gray[i] = 0.299 * d[p]! + 0.587 * d[p + 1]! + 0.114 * d[p + 2]!;
  let sum = 0, sum2 = 0, n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0, i = y * W + x0; x < x1; x++, i++) {
      const l = gray[i - 1]! + gray[i + 1]! + gray[i - W]! + gray[i + W]! - 4 * gray[i]!;
      sum += l; sum2 += l * l; n++;
    }
  }
  const mean = sum / n;
  return sum2 / n - mean * mean;
}
