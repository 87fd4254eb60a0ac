import type { RunOptions } from '../../inference/types.js';
import type { Detection } from '../../detectors/types.js';
import { iou } from '../../detectors/nms.js';
import type { Box, RgbImage } from '../../vision/image.js';
import { cropImage } from '../../vision/preprocess.js';
import { quadSize, warpQuad, type Quad } from '../../vision/warp.js';
import { DEFAULT_PLATE_FORMATS, normalisePlate, REGION_FORMATS, resolveFormats, WEAK_FORMATS, type PlateFormat, type PlateFormatConfig } from './formats.js';
import { expandQuad } from './crops.js';
import { boxQuad, type PlateLocalizer, type PlateRegion } from './localize.js';
import type { PlateOcr, PlateTextRead } from './ocr.js';

/** Road vehicles whose plates are read (COCO names). */
export const PLATE_VEHICLE_CLASSES = ['car', 'motorcycle', 'bus', 'truck'] as const;

/** Anything that finds labelled boxes (createObjectDetector satisfies it). */
export interface VehicleDetector {
  detect(img: RgbImage, run?: RunOptions): Promise<Detection[]>;
}

/** What the reader is built from: main picks the models by manifest/config. */
export interface PlateReaderDeps {
  /** Vehicle detector (yolox_nano); null reads plates on the whole frame only. */
  vehicles: VehicleDetector | null;
  localizer: PlateLocalizer;
  /** OCR strategies, tried in order until a read matches a format (e.g. [CCT, PP-OCR rec]). */
  ocr: PlateOcr[];
}

/** Reader tunables (config `plate-recognition` options). */
export interface PlateReaderOptions {
  /** Plate formats, preset names or `{name, pattern}`. Default: DEFAULT_PLATE_FORMATS (every region's). */
  formats?: PlateFormatConfig[];
  /** Drop reads that match no format. Default true. */
  requireFormat?: boolean;
  /** Vehicle classes to read. Default car, motorcycle, bus, truck. */
  vehicleClasses?: string[];
  /** Minimum vehicle detection score. Default 0.35. */
  minVehicleScore?: number;
  /** Vehicles whose box is shorter than this (px) on either side are skipped. Default 32. */
  minVehicleSize?: number;
  /** Reads shorter than this are dropped. Default 4. */
  minChars?: number;
}

/** The vehicle a plate belongs to. */
export interface PlateVehicle {
  label: string;
  box: Box;
  confidence: number;
}

/** One plate read from one image. `text`/`confidence`/`box`/`type` fit frameAnalyzers' PlateReading. */
export interface PlateResult {
  /** Plate box in image pixels. */
  box: Box;
  corners?: Quad;
  /** Normalised plate number (A-Z, 0-9, CJK; separators dropped). */
  text: string;
  chars: string[];
  confidences: number[];
  /** Mean character confidence of the read. */
  confidence: number;
  /** Colour (CN models) and `-double`, else `single` / `double`. */
  plate_type: string;
  type: string;
  /** Matched format name, null when none matched (only with requireFormat false). */
  format: string | null;
  /** Localisation score. */
  score: number;
  /** O/0, I/1, B/8 substitutions the format check made. */
  corrections: number;
  /** OCR strategy that produced the read. */
  ocr: string;
  /** Country named by the reader's region head (fast-plate-ocr v2), when it has one. */
  region?: string;
  vehicle?: PlateVehicle;
}

/**
 * Stateless plate reading: vehicles → plate localisation inside each vehicle (whole
 * frame when none is found) → perspective rectification → OCR chain → normalisation.
 * Shared by the stream analytic (which adds tracking and the vote) and the frame sockets.
 */
export class PlateReader {
  readonly formats: PlateFormat[];
  private readonly requireFormat: boolean;
  private readonly vehicleClasses: Set<string>;
  private readonly minVehicleScore: number;
  private readonly minVehicleSize: number;
  private readonly minChars: number;

  constructor(private readonly deps: PlateReaderDeps, opts: PlateReaderOptions = {}) {
    this.formats = resolveFormats(opts.formats ?? DEFAULT_PLATE_FORMATS);
    this.requireFormat = opts.requireFormat ?? true;
    this.vehicleClasses = new Set(opts.vehicleClasses ?? PLATE_VEHICLE_CLASSES);
    this.minVehicleScore = opts.minVehicleScore ?? 0.35;
    this.minVehicleSize = opts.minVehicleSize ?? 32;
    this.minChars = opts.minChars ?? 4;
  }

  /** Every plate in one image, with its vehicle when one was detected (the `analyze` of the frame sockets). */
  async read(img: RgbImage, run?: RunOptions): Promise<PlateResult[]> {
    const vehicles = await this.detectVehicles(img, run);
    if (vehicles.length === 0) return this.readFrame(img, run);
    const out: PlateResult[] = [];
    for (const v of vehicles) {
      const r = await this.readVehicle(img, v, run);
      // Overlapping vehicle boxes (car + truck on one object) can find the same plate twice.
      if (r && !out.some((o) => o.text === r.text || iou(o.box, r.box) > 0.5)) out.push(r);
    }
    // A plate with no vehicle box around it (cut off, unusual vehicle, close-up): look at the whole frame.
    return out.length ? out : this.readFrame(img, run);
  }

  /** Vehicles of the configured classes, score and size filtered, best first. */
  async detectVehicles(img: RgbImage, run?: RunOptions): Promise<Detection[]> {
    if (!this.deps.vehicles) return [];
    const dets = await this.deps.vehicles.detect(img, run);
    return dets.filter((d) => this.vehicleClasses.has(d.label) && d.score >= this.minVehicleScore
      && d.box[2] - d.box[0] >= this.minVehicleSize && d.box[3] - d.box[1] >= this.minVehicleSize);
  }

  /** The best plate read inside one vehicle box, or null. */
  async readVehicle(img: RgbImage, vehicle: Detection, run?: RunOptions): Promise<PlateResult | null> {
    // A little margin: the plate sits on the bumper, at the edge of the box.
    const [x1, y1, x2, y2] = vehicle.box;
    const mx = (x2 - x1) * 0.04, my = (y2 - y1) * 0.04;
    const box: Box = [Math.max(0, x1 - mx), Math.max(0, y1 - my), Math.min(img.width, x2 + mx), Math.min(img.height, y2 + my)];
    const ox = Math.floor(box[0]), oy = Math.floor(box[1]);
    const crop = cropImage(img, box);
    // A vehicle cut by the top of the frame may show its plate anywhere: search all of it.
    const regions = (await this.deps.localizer.locate(crop, { withinVehicle: y1 > 2 }, run)).map((r) => shiftRegion(r, ox, oy));
    const reads = await this.readRegions(img, regions, 1, run);
    const r = reads[0];
    if (!r) return null;
    r.vehicle = { label: vehicle.label, box: vehicle.box, confidence: vehicle.score };
    return r;
  }

  /** Plates on the whole frame (close-ups, or no vehicle detector). */
  async readFrame(img: RgbImage, run?: RunOptions): Promise<PlateResult[]> {
    const regions = await this.deps.localizer.locate(img, { withinVehicle: false }, run);
    return this.readRegions(img, regions, 8, run);
  }

  /** Reads every region; keeps up to `max` distinct plates, best read first (format fit, then confidence). */
  private async readRegions(img: RgbImage, regions: PlateRegion[], max: number, run?: RunOptions): Promise<PlateResult[]> {
    const reads: PlateResult[] = [];
    const order = new Map<PlateResult, { i: number; line: boolean }>();
    for (const [i, region] of regions.entries()) {
      const r = await this.readRegion(img, region, run);
      if (r) { reads.push(r); order.set(r, { i, line: !!region.margins }); }
      // A short line (`7555` of `R10 7555`, `627` of `627·WWI`) may be half of a plate split at a
      // space or dash whose other half the text detector missed: read it again, widened. A longer
      // read containing it that fits as well makes it a fragment (below).
      if (r && region.margins && !region.double && r.text.length <= SHORT_READ) {
        const wide = await this.readRegion(img, widened(region, img), run);
        if (wide && wide.text.length > r.text.length && wide.text.includes(r.text) && rank(wide) >= rank(r)) {
          reads.push(wide);
          order.set(wide, { i, line: true });
        }
      }
    }
    // A plate detector's own ranking is kept (its best box is the vehicle's plate, not a neighbour's
    // plate read more confidently); text lines, which include badges and stickers, go by confidence.
    reads.sort((a, b) => rank(b) - rank(a) || (order.get(a)!.line && order.get(b)!.line ? b.confidence - a.confidence : order.get(a)!.i - order.get(b)!.i));
    const out: PlateResult[] = [];
    for (const r of reads) {
      if (out.length >= max) break;
      if (r.format === null && this.requireFormat) continue;
      if (isFragment(r, reads)) continue;
      // Two regions of one plate (a line and its row pair, or overlapping lines) read once.
      if (!out.some((o) => o.text === r.text || iou(o.box, r.box) > 0.3)) out.push(r);
    }
    return out;
  }

  /**
   * Reads one region: every crop of it (margins, see crops.ts) through the OCR chain. The
   * reads are compared rather than the first one trusted: a text read by several crops
   * outweighs one read once, and a read that fits an expected format outranks one that
   * fits none. The chain stops at the first model whose best read fits a format without
   * correction. A read fitting no format keeps half its confidence.
   */
  async readRegion(img: RgbImage, region: PlateRegion, run?: RunOptions): Promise<PlateResult | null> {
    const all: PlateResult[] = [];
    for (const [i, ocr] of this.deps.ocr.entries()) {
      const reads: PlateResult[] = [];
      // Fallback readers (slower general text readers, e.g. PP-OCR rec, trained on text lines) read the line as found.
      for (const raw of await this.ocrRegion(img, i > 0 ? { ...region, margins: undefined } : region, ocr, run)) {
        const n = normalisePlate(raw.chars, raw.confidences, this.formats);
        if (n.chars.length < this.minChars) continue;
        // Lower confidence for a read fitting no expected format, or not the format of the country
        // the reader recognises (when that country's format is expected): other crops may read it better.
        const confidence = mean(n.confidences) * (n.format === null ? 0.5 : this.fitsRegion(n.text, raw) ? 1 : 0.8);
        const rows = region.double ? '-double' : '';
        const type = raw.colour ? `${raw.colour}${rows}` : region.double ? 'double' : 'single';
        reads.push({
          box: region.box, ...(region.corners ? { corners: region.corners } : {}),
          text: n.text, chars: n.chars, confidences: n.confidences, confidence,
          plate_type: type, type, format: n.format, corrections: n.corrections, score: region.score, ocr: ocr.name,
          ...(raw.region ? { region: raw.region } : {}),
        });
      }
      const best = pickRead(reads);
      if (best && best.format !== null && best.corrections === 0) return best;
      all.push(...reads);
    }
    return pickRead(all);
  }

  /** False when the reader's region head is sure of a country whose expected format `text` does not fit. */
  private fitsRegion(text: string, raw: PlateTextRead): boolean {
    const name = raw.region ? REGION_FORMATS[raw.region] : undefined;
    const f = name && (raw.regionConfidence ?? 0) >= 0.8 ? this.formats.find((x) => x.name === name) : undefined;
    return !f || f.pattern.test(text);
  }

  /** The OCR reads of one region: one per crop margin (text lines), or the corners as given (plate detectors). */
  private async ocrRegion(img: RgbImage, region: PlateRegion, ocr: PlateOcr, run?: RunOptions): Promise<PlateTextRead[]> {
    const q = region.corners ?? boxQuad(region.box);
    const sz = quadSize(q);
    if (sz.width < 8 || sz.height < 4) return [];
    const crops = region.margins?.length ? region.margins.map(([mx, my]) => expandQuad(q, mx, my)) : [q];
    const reads: PlateTextRead[] = [];
    for (const c of crops) reads.push(await ocr.read(rectify(img, c), { double: region.double }, run));
    if (!region.lines || region.lines.length < 2 || reads.some((r) => normalisePlate(r.chars, r.confidences, this.formats).format !== null)) return reads;
    // Two text lines of one plate: read each, join top row first.
    const chars: string[] = [];
    const confidences: number[] = [];
    for (const line of region.lines) {
      const r = await ocr.read(rectify(img, line), {}, run);
      chars.push(...r.chars);
      confidences.push(...r.confidences);
    }
    reads.push({ text: chars.join(''), chars, confidences, confidence: mean(confidences) });
    return reads;
  }
}

/**
 * Format fit as a rank: a direct match 3 (2 for a weak format such as `vanity`, which any
 * word fits), a match only after O/0-style corrections 1, none 0.
 */
function rank(r: PlateResult): number {
  if (r.format === null) return 0;
  if (r.corrections) return 1;
  return WEAK_FORMATS.has(r.format) ? 2 : 3;
}

/** Reads this short from a text line are re-read widened (most plate formats have 5 or more characters). */
const SHORT_READ = 4;

/** A text line grown by 1.5 × its height left and right, kept inside the image. */
function widened(region: PlateRegion, img: RgbImage): PlateRegion {
  const clamp = ([x, y]: readonly [number, number]): [number, number] => [Math.min(img.width - 1, Math.max(0, x)), Math.min(img.height - 1, Math.max(0, y))];
  const q = expandQuad(region.corners ?? boxQuad(region.box), 1.5, 0).map(clamp) as Quad;
  const xs = q.map((p) => p[0]), ys = q.map((p) => p[1]);
  return { ...region, corners: q, box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] };
}

/** A read whose text is part of a longer, as well ranked read over the same place (a plate split at a space). */
function isFragment(r: PlateResult, reads: readonly PlateResult[]): boolean {
  return reads.some((o) => o !== r && o.text.length > r.text.length && o.text.includes(r.text) && rank(o) >= rank(r) && contains(o.box, r.box));
}

function contains(outer: Box, inner: Box): boolean {
  const iw = Math.min(outer[2], inner[2]) - Math.max(outer[0], inner[0]), ih = Math.min(outer[3], inner[3]) - Math.max(outer[1], inner[1]);
  return iw > 0 && ih > 0 && iw * ih >= 0.7 * (inner[2] - inner[0]) * (inner[3] - inner[1]);
}

/**
 * The read a set of reads of one plate agrees on: best rank, then the text whose reads'
 * confidences sum highest; its most confident read is returned, with the mean
 * confidence of the reads of that text (a text read once among many crops counts less).
 */
export function pickRead(reads: readonly PlateResult[]): PlateResult | null {
  const groups = new Map<string, PlateResult[]>();
  for (const r of reads) groups.set(r.text, [...(groups.get(r.text) ?? []), r]);
  let best: { r: PlateResult; rank: number; weight: number } | null = null;
  for (const g of groups.values()) {
    const top = g.reduce((a, b) => (b.confidence > a.confidence ? b : a));
    const weight = g.reduce((a, b) => a + b.confidence, 0);
    const rk = rank(top);
    if (!best || rk > best.rank || (rk === best.rank && weight > best.weight)) best = { r: top, rank: rk, weight };
  }
  return best?.r ?? null;
}

function rectify(img: RgbImage, q: Quad): RgbImage {
  const sz = quadSize(q);
  return warpQuad(img, q, sz.width, sz.height);
}

function mean(v: number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
}

function shiftRegion(r: PlateRegion, dx: number, dy: number): PlateRegion {
  const sq = (q: Quad): Quad => q.map(([x, y]) => [x + dx, y + dy]) as Quad;
  return {
    ...r,
    box: [r.box[0] + dx, r.box[1] + dy, r.box[2] + dx, r.box[3] + dy],
    ...(r.corners ? { corners: sq(r.corners) } : {}),
    ...(r.lines ? { lines: r.lines.map(sq) } : {}),
  };
}
