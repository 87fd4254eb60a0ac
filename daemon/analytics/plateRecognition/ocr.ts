import type { Tensor } from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { VigilError } from '../../errors.js';
import type { InputSpec, ModelRunner, RunOptions } from '../../inference/types.js';
import type { RgbImage } from '../../vision/image.js';
import { cropImage, prepareInput, resizeImage } from '../../vision/preprocess.js';
import { decodeCctSlots, CCT_ALPHABET } from '../../detectors/cct.js';
import { decodeCtcGreedy, type TextRead } from '../../detectors/ctc.js';

/** A plate read by an OCR strategy; `colour` when the model classifies it (plate_rec_color). */
export interface PlateTextRead extends TextRead {
  colour?: string;
  /** Country the model's region head names (fast-plate-ocr v2), with its probability. */
  region?: string;
  regionConfidence?: number;
}

/** Reads the text of one rectified plate image (upright, tightly cropped). */
export interface PlateOcr {
  readonly name: string;
  /** `double`: the plate has two rows of characters (joined top row first). */
  read(plate: RgbImage, opts?: { double?: boolean }, run?: RunOptions): Promise<PlateTextRead>;
}

/** The plate_rec_color CTC alphabet (index 0 is the blank `#`). */
export const PLATE_REC_CN_ALPHABET = Array.from('#京沪津渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新学警港澳挂使领民航危0123456789ABCDEFGHJKLMNPQRSTUVWXYZ险品');
/** plate_rec_color colour head, by index. */
export const PLATE_COLOURS = ['black', 'blue', 'green', 'white', 'yellow'] as const;
/** LPRNet (CCPD) alphabet; the last entry `-` is the blank. */
export const LPRNET_ALPHABET = [...Array.from('京沪津渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新'), ...Array.from('0123456789ABCDEFGHJKLMNPQRSTUVWXYZIO'), '-'];

/**
 * Joins the two rows of a double-row plate side by side (upper row first), the way
 * the plate_rec models were trained: upper 5/12 of the height, lower from 1/3 down.
 */
export function splitMergeRows(img: RgbImage): RgbImage {
  const upperH = Math.max(1, Math.floor((5 / 12) * img.height));
  const lowerY = Math.floor(img.height / 3);
  const upper = cropImage(img, [0, 0, img.width, upperH]);
  const lower = cropImage(img, [0, lowerY, img.width, img.height]);
  const up = resizeImage(upper, lower.width, lower.height);
  const w = up.width + lower.width;
  const out = Buffer.allocUnsafe(w * lower.height * 3);
  for (let y = 0; y < lower.height; y++) {
    up.data.copy(out, y * w * 3, y * up.width * 3, (y + 1) * up.width * 3);
    lower.data.copy(out, (y * w + up.width) * 3, y * lower.width * 3, (y + 1) * lower.width * 3);
  }
  return { width: w, height: lower.height, data: out };
}

function outputOf(outputs: Record<string, Tensor>, name: string | undefined, model: string): Tensor {
  const t = (name ? outputs[name] : undefined) ?? Object.values(outputs)[0];
  if (!t) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${model} returned no output ${name ?? ''}`);
  return t;
}

function softmaxArgmax(v: Float32Array): { index: number; p: number } {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  let z = 0;
  for (let i = 0; i < v.length; i++) z += Math.exp(v[i]! - v[best]!);
  return { index: best, p: 1 / z };
}

/** Chinese plates with colour: plate_rec_color_cn (CTC over 78 classes + colour head). Opt-in licence. */
export function createPlateRecCnOcr(runner: ModelRunner): PlateOcr {
  const spec = runner.spec;
  const alphabet = spec.labels ?? PLATE_REC_CN_ALPHABET;
  const blank = typeof spec.decode?.blank === 'number' ? spec.decode.blank : 0;
  const input: InputSpec = { ...spec.input, resize: 'stretch' };
  return {
    name: spec.name,
    async read(plate, opts = {}, run) {
      const img = opts.double ? splitMergeRows(plate) : plate;
      const { tensor } = prepareInput(img, input);
      const out = await runner.run({ [input.name]: tensor }, run);
      const names = spec.outputs ?? ['output', '126'];
      const seq = outputOf(out, names[0], spec.name);
      const steps = Number(seq.dims[1]), classes = Number(seq.dims[2]);
      const read: PlateTextRead = decodeCtcGreedy(seq.data as Float32Array, steps, classes, alphabet, { blank, softmax: 'auto' });
      const col = names[1] ? out[names[1]] : undefined;
      if (col) read.colour = PLATE_COLOURS[softmaxArgmax(col.data as Float32Array).index];
      return read;
    },
  };
}

/**
 * Latin plates, one character per slot: fast-plate-ocr CCT (MIT). `regions` names the
 * classes of a region head (v2: 66 countries, from its plate_config yaml), when present.
 */
export function createCctOcr(runner: ModelRunner, regions?: readonly string[]): PlateOcr {
  const spec = runner.spec;
  const alphabet = spec.labels?.join('') ?? CCT_ALPHABET;
  const input: InputSpec = { ...spec.input, resize: 'stretch' };
  return {
    name: spec.name,
    async read(plate, opts = {}, run) {
      // The global models were trained on both layouts; rows joined only for the CTC models.
      void opts;
      const { tensor } = prepareInput(plate, input);
      const out = await runner.run({ [input.name]: tensor }, run);
      const t = outputOf(out, spec.outputs?.[0], spec.name);
      const read: PlateTextRead = decodeCctSlots(t.data as Float32Array, t.dims, alphabet);
      const head = regions && spec.outputs?.[1] ? out[spec.outputs[1]] : undefined;
      if (head && regions) {
        const v = head.data as Float32Array;
        let best = 0;
        for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
        if (regions[best] !== undefined) { read.region = regions[best]; read.regionConfidence = v[best]!; }
      }
      return read;
    },
  };
}

/** The `plate_regions` list of a fast-plate-ocr plate_config yaml. */
export function loadCctRegions(path: string): string[] {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new VigilError('VIGIL_ERR_MODEL_MISSING', `Plate OCR config ${path} cannot be read: ${(err as Error).message}`);
  }
  const list = (doc as { plate_regions?: unknown } | null)?.plate_regions;
  if (!Array.isArray(list) || !list.every((r) => typeof r === 'string')) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Plate OCR config ${path} has no plate_regions list`);
  return list as string[];
}

/** Loads a PP-OCR dictionary: one symbol per line; class i+1 is line i, the last class a space. */
export function loadPpocrDictionary(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new VigilError('VIGIL_ERR_MODEL_MISSING', `PP-OCR dictionary ${path} cannot be read: ${(err as Error).message}`);
  }
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ' '];
}

/** Runs one OCR model on a (row-joined) plate crop and returns its first output. */
async function runPlate(runner: ModelRunner, input: InputSpec, img: RgbImage, run: RunOptions | undefined): Promise<Tensor> {
  const { tensor } = prepareInput(img, input);
  return outputOf(await runner.run({ [input.name]: tensor }, run), runner.spec.outputs?.[0], runner.spec.name);
}

/** General text recognition: PP-OCRv4 rec (Apache); the manifest's input letterboxes to 48 high, right-padded to 320. */
export function createPpocrRecOcr(runner: ModelRunner, dictionary: string[]): PlateOcr {
  const spec = runner.spec;
  const input: InputSpec = { ...spec.input, resize: 'letterbox-topleft' };
  return {
    name: spec.name,
    async read(plate, o = {}, run) {
      const t = await runPlate(runner, input, o.double ? splitMergeRows(plate) : plate, run);
      const steps = Number(t.dims[1]), classes = Number(t.dims[2]);
      if (classes !== dictionary.length) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `PP-OCR rec has ${classes} classes, dictionary ${dictionary.length}`);
      return dropSpaces(decodeCtcGreedy(t.data as Float32Array, steps, classes, dictionary, { blank: 0, softmax: false }));
    },
  };
}

/** LPRNet (CCPD, Chinese): class-major CTC, blank last. Unreliable with repeated characters. */
export function createLprnetOcr(runner: ModelRunner): PlateOcr {
  const spec = runner.spec;
  const alphabet = spec.labels ?? LPRNET_ALPHABET;
  const input: InputSpec = { ...spec.input, resize: 'stretch' };
  return {
    name: spec.name,
    async read(plate, o = {}, run) {
      const t = await runPlate(runner, input, o.double ? splitMergeRows(plate) : plate, run);
      const classes = Number(t.dims[t.dims.length - 2]), steps = Number(t.dims[t.dims.length - 1]);
      return decodeCtcGreedy(t.data as Float32Array, steps, classes, alphabet, { blank: classes - 1, classMajor: true, softmax: 'auto' });
    },
  };
}

/** Removes spaces (PP-OCR reads `KRN 301`), keeping per-character confidences aligned. */
function dropSpaces(r: TextRead): TextRead {
  const chars: string[] = [];
  const confidences: number[] = [];
  r.chars.forEach((c, i) => { if (c.trim()) { chars.push(c); confidences.push(r.confidences[i]!); } });
  const confidence = confidences.length ? confidences.reduce((a, b) => a + b, 0) / confidences.length : 0;
  return { text: chars.join(''), chars, confidences, confidence };
}
