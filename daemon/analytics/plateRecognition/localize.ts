import type { RunOptions } from '../../inference/types.js';
import type { Box, Point, RgbImage } from '../../vision/image.js';
import { cropImage, resizeImage } from '../../vision/preprocess.js';
import type { Quad } from '../../vision/warp.js';
import type { PlateDetector } from '../../detectors/yolov5Plate.js';
import type { TextDetector } from '../../detectors/ppocrDet.js';
import type { Detection } from '../../detectors/types.js';
import { PLATE_MARGINS } from './crops.js';

/** A plate candidate in the pixels of the image given to `locate`. */
export interface PlateRegion {
  box: Box;
  /** TL, TR, BR, BL when the localiser gives them (perspective warp before OCR). */
  corners?: Quad;
  score: number;
  /** Two rows of characters. */
  double: boolean;
  /** For a double-row plate found as two text lines: the lines, top first (each read on its own). */
  lines?: Quad[];
  /** Margins to read it with (fractions of its height, see crops.ts): set for text lines, which are boxed tighter than plates. */
  margins?: readonly (readonly [number, number])[];
}

/** Finds plate candidates; `withinVehicle` says the image is a vehicle crop (not a whole frame). */
export interface PlateLocalizer {
  readonly name: string;
  locate(img: RgbImage, opts?: { withinVehicle?: boolean }, run?: RunOptions): Promise<PlateRegion[]>;
}

/** Localisation by a plate detector model (yolov5-plate or retina-plate family); best first. */
export function createDetectorLocalizer(detector: PlateDetector): PlateLocalizer {
  return {
    name: detector.runner.spec.name,
    async locate(img, _opts, run) {
      const dets = await detector.detect(img, run);
      return dets.map((d) => ({ box: d.box, corners: quadOf(d), score: d.score, double: d.classId === 1 }));
    },
  };
}

/** Tunables of the text-detector fallback. */
export interface TextLocalizerOptions {
  /** Fraction of a vehicle crop's height, from the top, skipped (plates sit low). Default 0.35. */
  skipTop?: number;
  /** Accepted width/height of a single text line. Default 1.3..9. */
  minAspect?: number;
  maxAspect?: number;
  /** Candidates kept per image, by score × size. Default 6 in a vehicle, 10 in a frame. */
  maxCandidates?: number;
  /** A vehicle crop whose long side is shorter is enlarged to it before text detection (at most `maxUpscale`×). Default 960, 2. */
  upscaleTo?: number;
  maxUpscale?: number;
}

/**
 * The permissive fallback: a text detector (PP-OCR det) on the lower part of the
 * vehicle (or the whole frame), keeping plate-shaped lines; two stacked lines of
 * similar width become one double-row plate.
 */
export function createTextLocalizer(detector: TextDetector, opts: TextLocalizerOptions = {}): PlateLocalizer {
  const skipTop = opts.skipTop ?? 0.35;
  const minAspect = opts.minAspect ?? 1.3;
  const maxAspect = opts.maxAspect ?? 9;
  const upscaleTo = opts.upscaleTo ?? 960;
  const maxUpscale = opts.maxUpscale ?? 2;
  return {
    name: detector.runner.spec.name,
    async locate(img, o = {}, run) {
      const y0 = o.withinVehicle ? Math.floor(img.height * skipTop) : 0;
      const part = y0 > 0 ? cropImage(img, [0, y0, img.width, img.height]) : img;
      // A small vehicle crop is enlarged first: the text detector misses characters under ~10 px.
      const f = o.withinVehicle ? Math.min(maxUpscale, upscaleTo / Math.max(part.width, part.height)) : 1;
      const input = f > 1.05 ? resizeImage(part, Math.round(part.width * f), Math.round(part.height * f)) : part;
      const k = input === part ? 1 : part.width / input.width;
      const dets = (await detector.detect(input, run)).map((d) => shift(k === 1 ? d : scaleDetection(d, k), y0));
      const regions = groupLines(dets);
      const plausible = regions.filter((r) => {
        const w = r.box[2] - r.box[0], h = r.box[3] - r.box[1];
        const a = r.double ? w / (h / 2) : w / h;
        return h >= 8 && a >= minAspect && a <= maxAspect;
      });
      const max = opts.maxCandidates ?? (o.withinVehicle ? 6 : 10);
      const size = (r: PlateRegion): number => Math.sqrt((r.box[2] - r.box[0]) * (r.box[3] - r.box[1]));
      return plausible.sort((a, b) => b.score * size(b) - a.score * size(a)).slice(0, max).map((r) => ({ ...r, margins: PLATE_MARGINS }));
    },
  };
}

function scaleDetection(d: Detection, k: number): Detection {
  return { ...d, box: [d.box[0] * k, d.box[1] * k, d.box[2] * k, d.box[3] * k], keypoints: d.keypoints?.map(([x, y]) => [x * k, y * k] as Point) };
}

function shift(d: Detection, dy: number): Detection {
  if (!dy) return d;
  return { ...d, box: [d.box[0], d.box[1] + dy, d.box[2], d.box[3] + dy], keypoints: d.keypoints?.map(([x, y]) => [x, y + dy] as Point) };
}

function quadOf(d: Detection): Quad | undefined {
  const k = d.keypoints;
  return k && k.length === 4 ? (k as Quad) : undefined;
}

/**
 * Text lines as plate candidates: every line alone, plus every pair stacked like the
 * two rows of a plate. Pairs are not exclusive (a brand badge above a plate also
 * stacks): the reader's format check picks the pairing that reads as a plate.
 */
export function groupLines(dets: Detection[]): PlateRegion[] {
  const pairs: { i: number; j: number; gap: number }[] = [];
  for (let i = 0; i < dets.length; i++) {
    for (let j = 0; j < dets.length; j++) {
      const a = dets[i]!.box, b = dets[j]!.box;
      if (i === j || b[1] <= a[1]) continue;
      const ha = a[3] - a[1], hb = b[3] - b[1];
      const wa = a[2] - a[0], wb = b[2] - b[0];
      const overlapX = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
      const gap = b[1] - a[3];
      // Upper row no wider and not much taller than the lower one, not tiny, touching or close.
      if (overlapX > 0.6 * Math.min(wa, wb) && wa <= wb * 1.15 && ha >= 0.5 * hb && ha <= 1.2 * hb
        && gap > -0.6 * ha && gap < 0.5 * Math.max(ha, hb)) pairs.push({ i, j, gap: Math.abs(gap) });
    }
  }
  pairs.sort((x, y) => x.gap - y.gap);
  const out: PlateRegion[] = [];
  for (const { i, j } of pairs) {
    const a = dets[i]!, b = dets[j]!;
    const box: Box = [Math.min(a.box[0], b.box[0]), a.box[1], Math.max(a.box[2], b.box[2]), b.box[3]];
    out.push({ box, score: (a.score + b.score) / 2, double: true, lines: [quadOf(a) ?? boxQuad(a.box), quadOf(b) ?? boxQuad(b.box)] });
  }
  dets.forEach((d) => { out.push({ box: d.box, corners: quadOf(d), score: d.score, double: false }); });
  // Plate text split at a space or dash (`R10 7555`, `627·WWI`): two pieces side by side on one
  // line, as one more candidate; the reader prefers it over a piece whose text it contains.
  for (const a of dets) {
    for (const b of dets) {
      if (a === b || b.box[0] <= a.box[0]) continue;
      const ha = a.box[3] - a.box[1], hb = b.box[3] - b.box[1];
      const h = Math.max(ha, hb);
      const overlapY = Math.min(a.box[3], b.box[3]) - Math.max(a.box[1], b.box[1]);
      const gap = b.box[0] - a.box[2];
      if (overlapY < 0.6 * Math.min(ha, hb) || Math.min(ha, hb) < 0.7 * h || gap < -0.3 * h || gap > 1.2 * h) continue;
      const qa = quadOf(a) ?? boxQuad(a.box), qb = quadOf(b) ?? boxQuad(b.box);
      const box: Box = [a.box[0], Math.min(a.box[1], b.box[1]), b.box[2], Math.max(a.box[3], b.box[3])];
      out.push({ box, corners: [qa[0], qb[1], qb[2], qa[3]], score: Math.min(a.score, b.score), double: false });
    }
  }
  return out;
}

/** The corners of an axis-aligned box, TL, TR, BR, BL. */
export function boxQuad(b: Box): Quad {
  return [[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]];
}
