import { VigilError } from '../errors.js';
import type { Point, RgbImage } from './image.js';

/** Four corners of a quadrilateral: top-left, top-right, bottom-right, bottom-left. */
export type Quad = [Point, Point, Point, Point];

/**
 * The 3x3 homography (row-major, h[8] = 1) that maps each `from[i]` to `to[i]`.
 * Solved as the usual 8x8 linear system by Gaussian elimination with partial pivoting.
 */
export function homography(from: Quad, to: Quad): Float64Array {
  const a = new Float64Array(8 * 9);
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!;
    const [u, v] = to[i]!;
    const r0 = (2 * i) * 9;
    const r1 = (2 * i + 1) * 9;
    a.set([x, y, 1, 0, 0, 0, -u * x, -u * y, u], r0);
    a.set([0, 0, 0, x, y, 1, -v * x, -v * y, v], r1);
  }
  for (let c = 0; c < 8; c++) {
    let p = c;
    for (let r = c + 1; r < 8; r++) if (Math.abs(a[r * 9 + c]!) > Math.abs(a[p * 9 + c]!)) p = r;
    if (Math.abs(a[p * 9 + c]!) < 1e-12) throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'Degenerate quadrilateral: three corners are collinear');
    if (p !== c) for (let k = 0; k < 9; k++) { const t = a[c * 9 + k]!; a[c * 9 + k] = a[p * 9 + k]!; a[p * 9 + k] = t; }
    const d = a[c * 9 + c]!;
    for (let k = c; k < 9; k++) a[c * 9 + k]! /= d;
    for (let r = 0; r < 8; r++) {
      if (r === c) continue;
      const f = a[r * 9 + c]!;
      if (f === 0) continue;
      for (let k = c; k < 9; k++) a[r * 9 + k]! -= f * a[c * 9 + k]!;
    }
  }
  const h = new Float64Array(9);
  for (let i = 0; i < 8; i++) h[i] = a[i * 9 + 8]!;
  h[8] = 1;
  return h;
}

/**
 * Rectifies the quadrilateral `corners` (TL, TR, BR, BL in `img` pixels) into an
 * upright `width` x `height` image by a perspective warp with bilinear sampling;
 * points outside the source read as black. Used to flatten a tilted plate before OCR.
 */
export function warpQuad(img: RgbImage, corners: Quad, width: number, height: number): RgbImage {
  if (!(width >= 1 && height >= 1)) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `Bad warp size ${width}x${height}`);
  const w = Math.round(width);
  const h = Math.round(height);
  // Map output pixels back into the source (inverse mapping: no holes).
  const m = homography([[0, 0], [w, 0], [w, h], [0, h]], corners);
  const out = Buffer.alloc(w * h * 3);
  const src = img.data;
  const sw = img.width;
  const sh = img.height;
  let o = 0;
  for (let y = 0; y < h; y++) {
    // Sample at pixel centres.
    const py = y + 0.5;
    for (let x = 0; x < w; x++, o += 3) {
      const px = x + 0.5;
      const d = m[6]! * px + m[7]! * py + 1;
      const sx = (m[0]! * px + m[1]! * py + m[2]!) / d - 0.5;
      const sy = (m[3]! * px + m[4]! * py + m[5]!) / d - 0.5;
      if (!(sx > -1 && sy > -1 && sx < sw && sy < sh)) continue;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const xa = x0 < 0 ? 0 : x0;
      const ya = y0 < 0 ? 0 : y0;
      const xb = x0 + 1 >= sw ? sw - 1 : x0 + 1;
      const yb = y0 + 1 >= sh ? sh - 1 : y0 + 1;
      const i00 = (ya * sw + xa) * 3, i01 = (ya * sw + xb) * 3, i10 = (yb * sw + xa) * 3, i11 = (yb * sw + xb) * 3;
      for (let c = 0; c < 3; c++) {
        const top = src[i00 + c]! * (1 - fx) + src[i01 + c]! * fx;
        const bot = src[i10 + c]! * (1 - fx) + src[i11 + c]! * fx;
        out[o + c] = top * (1 - fy) + bot * fy + 0.5;
      }
    }
  }
  return { width: w, height: h, data: out };
}

/** Output size for rectifying a quad: its mean edge lengths (at least 1 px each). */
export function quadSize(q: Quad): { width: number; height: number } {
  const d = (a: Point, b: Point): number => Math.hypot(a[0] - b[0], a[1] - b[1]);
  return {
    width: Math.max(1, Math.round((d(q[0], q[1]) + d(q[3], q[2])) / 2)),
    height: Math.max(1, Math.round((d(q[0], q[3]) + d(q[1], q[2])) / 2)),
  };
}
