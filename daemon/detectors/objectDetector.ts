import type { Tensor } from 'onnxruntime-node';
import { VigilError } from '../errors.js';
import type { ModelRunner, RunOptions } from '../inference/types.js';
import type { RgbImage } from '../vision/image.js';
import { prepareInput, rectInput, undoLetterbox, type LetterboxMeta } from '../vision/preprocess.js';
import { decodeNanodet, type NanodetLevel } from './nanodet.js';
import { nms } from './nms.js';
import type { Detection } from './types.js';
import { decodeYolox, type Candidate, type GridDecodeOptions } from './yolox.js';

/** Tunables of an object detector; defaults come from the manifest's `decode`, then the family. */
export interface ObjectDetectorOptions {
  scoreThreshold?: number;
  nmsIou?: number;
  /** Keep only these labels, e.g. ['person'] or ['car','bus','truck','motorcycle']. */
  classes?: string[];
  /** Boxes of different classes overlapping more than this are one object (car vs truck); default 0.8. */
  crossClassIou?: number;
  /** Feed the frame's aspect when the model allows it (default true); false keeps the manifest's square. */
  frameAspect?: boolean;
}

/** Finds objects in RGB images with a YOLOX- or NanoDet-family model. */
export interface ObjectDetector {
  readonly runner: ModelRunner;
  /** Detections in source-image pixels, best first. `run.stream` names the caller for fair dropping. */
  detect(img: RgbImage, run?: RunOptions): Promise<Detection[]>;
}

const FAMILY_DEFAULTS = {
  yolox: { scoreThreshold: 0.3, nmsIou: 0.45 },
  nanodet: { scoreThreshold: 0.35, nmsIou: 0.6 },
} as const;

/** Builds a detector over a loaded yolox/nanodet model (light_person_detector is yolox-style). */
export function createObjectDetector(runner: ModelRunner, opts: ObjectDetectorOptions = {}): ObjectDetector {
  const spec = runner.spec;
  if (spec.family !== 'yolox' && spec.family !== 'nanodet') {
    throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} is of family ${spec.family}, not an object detector (yolox, nanodet)`);
  }
  const family = spec.family;
  const labels = spec.labels ?? [];
  const num = (k: string): number | undefined => (typeof spec.decode?.[k] === 'number' ? (spec.decode[k] as number) : undefined);
  const scoreThreshold = opts.scoreThreshold ?? num('scoreThreshold') ?? FAMILY_DEFAULTS[family].scoreThreshold;
  const nmsIou = opts.nmsIou ?? num('nmsIou') ?? FAMILY_DEFAULTS[family].nmsIou;
  const crossClassIou = opts.crossClassIou ?? 0.8;
  const aspect = opts.frameAspect !== false && !!runner.freeSize;
  let classes: Set<number> | undefined;
  if (opts.classes) {
    classes = new Set();
    for (const name of opts.classes) {
      const id = labels.indexOf(name);
      if (id < 0) throw new VigilError('VIGIL_ERR_CONFIG', `Model ${spec.name} has no class "${name}" (labels: ${labels.slice(0, 12).join(', ')}${labels.length > 12 ? ', ...' : ''})`);
      classes.add(id);
    }
  }

  function decode(outputs: Record<string, Tensor>, meta: LetterboxMeta): Candidate[] {
    const o: GridDecodeOptions = { inWidth: meta.inWidth, inHeight: meta.inHeight, scoreThreshold, classes };
    if (family === 'yolox') {
      const name = spec.outputs?.[0] ?? Object.keys(outputs)[0]!;
      const t = outputs[name];
      if (!t) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} has no output ${name}`);
      return decodeYolox(t.data as Float32Array, t.dims, o);
    }
    const levels: NanodetLevel[] = [];
    for (const stride of [8, 16, 32]) {
      const cls = outputs[`cls_pred_stride_${stride}`];
      const dis = outputs[`dis_pred_stride_${stride}`];
      if (!cls || !dis) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `NanoDet model ${spec.name} lacks cls/dis_pred_stride_${stride} outputs`);
      levels.push({ stride, cls: cls.data as Float32Array, clsDims: cls.dims, dis: dis.data as Float32Array, disDims: dis.dims });
    }
    return decodeNanodet(levels, o);
  }

  return {
    runner,
    async detect(img: RgbImage, run?: RunOptions): Promise<Detection[]> {
      const input = aspect ? rectInput(img.width, img.height, spec.input) : spec.input;
      const { tensor, meta } = prepareInput(img, input, runner.inputBuffer?.(input.dtype, input.width * input.height * 3));
      const outputs = await runner.run({ [spec.input.name]: tensor }, run);
      // Class-wise NMS, then a loose class-agnostic pass so one vehicle is not both car and truck.
      let candidates: Candidate[];
      try {
        candidates = decode(outputs, meta);
      } finally {
        runner.recycle?.(outputs); // read: the model's next outputs go into these buffers
      }
      const kept = nms(nms(candidates, nmsIou), crossClassIou, { agnostic: true });
      const dets: Detection[] = [];
      for (const c of kept) {
        const box = undoLetterbox(c.box, meta);
        if (box[2] - box[0] < 1 || box[3] - box[1] < 1) continue;
        dets.push({ box, score: c.score, classId: c.classId, label: labels[c.classId] ?? String(c.classId) });
      }
      return dets;
    },
  };
}
