import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { VigilError } from '../../errors.js';
import type { Box, RgbImage } from '../../vision/image.js';
import { readImageFile } from '../../vision/codec.js';

/** One ground-truth plate: `file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE` (box = top-left + size). */
export interface PlateTruth {
  region: string;
  file: string;
  path: string;
  box: Box;
  plate: string;
}

/** What the evaluation needs from a read (PlateResult fits). */
export interface EvalRead {
  text: string;
  confidence: number;
  box: Box;
}

/** The scored outcome of one photo. */
export interface PhotoScore {
  region: string;
  file: string;
  truth: string;
  /** The read compared with the truth ('' when nothing was read). */
  read: string;
  /** A read overlaps the ground-truth box. */
  found: boolean;
  exact: boolean;
  /** Edit distance between read and truth. */
  edits: number;
  ms: number;
}

/** Per-region (and total) figures. */
export interface RegionSummary {
  region: string;
  photos: number;
  found: number;
  exact: number;
  /** Character error rate: edits / truth characters. */
  cer: number;
  medianMs: number;
  p95Ms: number;
}

/**
 * Ground truth of a folder: either `.txt` files beside the photos (one region, named
 * after the folder) or sub-folders, one per region. Unreadable lines → VIGIL_ERR_BAD_REQUEST.
 */
export function loadPlateTruth(dir: string): PlateTruth[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new VigilError('VIGIL_ERR_NOT_FOUND', `Plate benchmark folder ${dir} does not exist`);
  const subdirs = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()).sort();
  const regions = subdirs.length ? subdirs.map((d) => [d, join(dir, d)] as const) : [[basename(dir), dir] as const];
  const out: PlateTruth[] = [];
  for (const [region, rdir] of regions) {
    for (const f of readdirSync(rdir).filter((n) => n.endsWith('.txt')).sort()) {
      const lines = readFileSync(join(rdir, f), 'utf8').split(/\r?\n/).filter((l) => l.trim());
      for (const line of lines) {
        const c = line.split('\t');
        const [x, y, w, h] = c.slice(1, 5).map(Number);
        if (c.length < 6 || [x, y, w, h].some((v) => v === undefined || !Number.isFinite(v))) {
          throw new VigilError('VIGIL_ERR_BAD_REQUEST', `${join(rdir, f)}: expected "file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE", got "${line.slice(0, 80)}"`);
        }
        out.push({ region, file: c[0]!, path: join(rdir, c[0]!), box: [x!, y!, x! + w!, y! + h!], plate: normaliseTruth(c[5]!) });
      }
    }
  }
  if (!out.length) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `No ground-truth .txt files in ${dir} (or its sub-folders)`);
  return out;
}

/** Plate text as compared: upper case, separators dropped. */
export function normaliseTruth(s: string): string {
  return s.toUpperCase().replace(/[\s\-.·_]/gu, '');
}

/** Levenshtein distance over code points. */
export function editDistance(a: string, b: string): number {
  const x = Array.from(a), y = Array.from(b);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length]!;
}

/** Share of the smaller box covered by the intersection. */
function overlap(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]), ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const s = Math.min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]));
  return s > 0 ? (iw * ih) / s : 0;
}

/**
 * Scores the reads of one photo: the read compared is the most confident one over the
 * ground-truth plate (found), else the most confident read anywhere (not found).
 */
export function scorePhoto(truth: PlateTruth, reads: readonly EvalRead[], ms: number): PhotoScore {
  const over = reads.filter((r) => overlap(r.box, truth.box) >= 0.3);
  const pool = over.length ? over : reads;
  const best = pool.reduce<EvalRead | null>((b, r) => (!b || r.confidence > b.confidence ? r : b), null);
  const read = best?.text ?? '';
  return { region: truth.region, file: truth.file, truth: truth.plate, read, found: over.length > 0, exact: read === truth.plate, edits: editDistance(read, truth.plate), ms };
}

function quantile(v: number[], q: number): number {
  const s = v.slice().sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : NaN;
}

/** Per-region summaries plus an `all` row. */
export function summarise(scores: readonly PhotoScore[]): RegionSummary[] {
  const regions = [...new Set(scores.map((s) => s.region))];
  const one = (region: string, v: readonly PhotoScore[]): RegionSummary => {
    const chars = v.reduce((a, s) => a + Array.from(s.truth).length, 0);
    return {
      region, photos: v.length, found: v.filter((s) => s.found).length, exact: v.filter((s) => s.exact).length,
      cer: chars ? v.reduce((a, s) => a + s.edits, 0) / chars : 0,
      medianMs: quantile(v.map((s) => s.ms), 0.5), p95Ms: quantile(v.map((s) => s.ms), 0.95),
    };
  };
  const rows = regions.map((r) => one(r, scores.filter((s) => s.region === r)));
  if (regions.length > 1) rows.push(one('all', scores));
  return rows;
}

/** The summary as a Markdown table. */
export function formatSummary(rows: readonly RegionSummary[]): string {
  const pct = (n: number, d: number): string => `${d ? ((100 * n) / d).toFixed(1) : '0.0'} % (${n}/${d})`;
  const lines = ['| region | photos | plate found | exact read | CER | median ms | p95 ms |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(`| ${r.region} | ${r.photos} | ${pct(r.found, r.photos)} | ${pct(r.exact, r.photos)} | ${(100 * r.cer).toFixed(1)} % | ${Math.round(r.medianMs)} | ${Math.round(r.p95Ms)} |`);
  }
  return lines.join('\n');
}

/** Anything that reads every plate of an image (PlateReader fits). */
export interface EvalReader {
  read(img: RgbImage): Promise<EvalRead[]>;
}

/**
 * Runs the reader over every ground-truth photo, one at a time (timings are per photo,
 * whole pipeline, image decoding excluded); `onPhoto` sees each score as it comes.
 */
export async function evaluatePlates(reader: EvalReader, truths: readonly PlateTruth[], onPhoto?: (s: PhotoScore) => void): Promise<PhotoScore[]> {
  const out: PhotoScore[] = [];
  for (const t of truths) {
    let img: RgbImage;
    try {
      img = await readImageFile(t.path);
    } catch (err) {
      throw new VigilError('VIGIL_ERR_INVALID_IMAGE', `Cannot read ${t.path}: ${(err as Error).message}`);
    }
    const t0 = performance.now();
    const reads = await reader.read(img);
    const s = scorePhoto(t, reads, performance.now() - t0);
    out.push(s);
    onPhoto?.(s);
  }
  return out;
}
