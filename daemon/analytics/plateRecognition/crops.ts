import type { Point } from '../../vision/image.js';
import type { Quad } from '../../vision/warp.js';

/**
 * Margins added around a text line before the plate reader sees it, as fractions of the
 * line's height (left/right, top/bottom). Text detectors box the characters tightly, while
 * the CCT readers were trained on whole plates from a plate detector (border, strip and
 * all): a tight crop makes them drop or misread the first character. Several margins are
 * read and the reads compared, so no single guess of the plate's border decides.
 */
export const PLATE_MARGINS: readonly (readonly [number, number])[] = [[0.2, 0.1], [0.4, 0.2], [0.6, 0.3], [0.8, 0.4]];

/** Grows a quad (TL, TR, BR, BL) along its own axes: `mx` × height left and right, `my` × height above and below. */
export function expandQuad(q: Quad, mx: number, my: number): Quad {
  const [tl, tr, br, bl] = q;
  const w = Math.hypot(tr[0] - tl[0], tr[1] - tl[1]) || 1;
  const h = Math.hypot(bl[0] - tl[0], bl[1] - tl[1]) || 1;
  const u: Point = [(tr[0] - tl[0]) / w, (tr[1] - tl[1]) / w];
  const v: Point = [(bl[0] - tl[0]) / h, (bl[1] - tl[1]) / h];
  const dx = mx * h, dy = my * h;
  const m = (p: Point, a: number, b: number): Point => [p[0] + a * u[0] + b * v[0], p[1] + a * u[1] + b * v[1]];
  return [m(tl, -dx, -dy), m(tr, dx, -dy), m(br, dx, dy), m(bl, -dx, dy)];
}
