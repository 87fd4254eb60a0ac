import type { Tensor } from 'onnxruntime-node';
import { VigilError } from '../../errors.js';
import { decodeBlazeface } from '../../detectors/blazeface.js';
import { nms } from '../../detectors/nms.js';
import { decodeScrfd } from '../../detectors/scrfd.js';
import type { Detection } from '../../detectors/types.js';
import { decodeUltraface } from '../../detectors/ultraface.js';
import { decodeYunet, type RawOutput } from '../../detectors/yunet.js';
import type { InputSpec, ModelRunner, RunOptions } from '../../inference/types.js';
import type { Box, Point, RgbImage } from '../../vision/image.js';
import { dynamicInputSize, prepareInput, undoLetterbox, undoPoint } from '../../vision/preprocess.js';

/** Tunables of a face detector; defaults come from the manifest's `decode`, then the family. */
export interface FaceDetectorOptions {
  scoreThreshold?: number;
  nmsIou?: number;
  /** Longest side fed to dynamic-size models (YuNet); default 640. */
  maxInputSize?: number;
}

/** A face in source pixels with 5 ArcFace-ordered landmarks (estimated from the box when the model has none). */
export interface FaceDetection extends Detection {
  keypoints: Point[];
  /** True when the landmarks were not predicted (UltraFace): alignment is rough and pose is unknown. */
  estimatedLandmarks: boolean;
}

/** Finds faces with 5 landmarks in RGB images (YuNet, SCRFD, UltraFace or BlazeFace family). */
export interface FaceDetector {
  readonly runner: ModelRunner;
  detect(img: RgbImage, run?: RunOptions): Promise<FaceDetection[]>;
}

type Decoder = (out: Record<string, RawOutput>, w: number, h: number, o: { scoreThreshold?: number }) => Detection[];

const FAMILIES: Record<string, { decode: Decoder; scoreThreshold: number; nmsIou: number }> = {
  yunet: { decode: decodeYunet, scoreThreshold: 0.9, nmsIou: 0.3 },
  scrfd: { decode: decodeScrfd, scoreThreshold: 0.5, nmsIou: 0.4 },
  ultraface: { decode: decodeUltraface, scoreThreshold: 0.7, nmsIou: 0.3 },
  blazeface: { decode: decodeBlazeface, scoreThreshold: 0.75, nmsIou: 0.3 },
};

/** Landmarks of the ArcFace template as fractions of a face box (for detectors without landmarks). */
const BOX_TEMPLATE: readonly Point[] = [[0.31, 0.43], [0.69, 0.43], [0.5, 0.62], [0.35, 0.8], [0.65, 0.8]];

/** Places the 5 template landmarks inside a box. */
export function landmarksFromBox(box: Box): Point[] {
  const w = box[2] - box[0], h = box[3] - box[1];
  return BOX_TEMPLATE.map(([fx, fy]) => [box[0] + fx * w, box[1] + fy * h] as Point);
}

/** Builds a face detector over a loaded face-detector model. */
export function createFaceDetector(runner: ModelRunner, opts: FaceDetectorOptions = {}): FaceDetector {
  const spec = runner.spec;
  const fam = FAMILIES[spec.family];
  if (!fam) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} is of family ${spec.family}, not a face detector (${Object.keys(FAMILIES).join(', ')})`);
  const num = (k: string): number | undefined => (typeof spec.decode?.[k] === 'number' ? (spec.decode[k] as number) : undefined);
  const scoreThreshold = opts.scoreThreshold ?? num('scoreThreshold') ?? fam.scoreThreshold;
  const nmsIou = opts.nmsIou ?? num('nmsIou') ?? fam.nmsIou;
  const maxSide = opts.maxInputSize ?? 640;

  function inputFor(img: RgbImage): InputSpec {
    if (!spec.input.dynamicSize) return spec.input;
    // Dynamic models are fed near the image's own aspect, so small faces keep their pixels.
    const size = dynamicInputSize(img.width, img.height, spec.input.multiple ?? 32, maxSide);
    return { ...spec.input, ...size };
  }

  return {
    runner,
    async detect(img: RgbImage, run?: RunOptions): Promise<FaceDetection[]> {
      const input = inputFor(img);
      const { tensor, meta } = prepareInput(img, input);
      const outputs = (await runner.run({ [input.name]: tensor }, run)) as Record<string, Tensor>;
      const raw = fam.decode(outputs as unknown as Record<string, RawOutput>, meta.inWidth, meta.inHeight, { scoreThreshold });
      const faces: FaceDetection[] = [];
      for (const d of nms(raw, nmsIou, { agnostic: true })) {
        const box = undoLetterbox(d.box, meta);
        if (box[2] - box[0] < 2 || box[3] - box[1] < 2) continue;
        const estimated = !d.keypoints || d.keypoints.length < 5;
        const keypoints = estimated ? landmarksFromBox(box) : d.keypoints!.map((p) => undoPoint(p, meta));
        faces.push({ box, score: d.score, classId: 0, label: 'face', keypoints, estimatedLandmarks: estimated });
      }
      return faces;
    },
  };
}
