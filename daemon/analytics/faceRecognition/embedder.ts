import { VigilError } from '../../errors.js';
import type { ModelRunner, RunOptions } from '../../inference/types.js';
import { alignFace } from '../../vision/align.js';
import type { Point, RgbImage } from '../../vision/image.js';
import { prepareInput } from '../../vision/preprocess.js';

/** Turns a face into an L2-normalised embedding (cosine similarity = dot product). */
export interface FaceEmbedder {
  readonly runner: ModelRunner;
  /** Model name, stored beside each embedding: a different model invalidates them. */
  readonly model: string;
  /** Aligns the face to 112x112 from its 5 landmarks. */
  align(img: RgbImage, landmarks: readonly Point[]): RgbImage;
  /** Embeds an already aligned 112x112 face. */
  embedAligned(aligned: RgbImage, run?: RunOptions): Promise<Float32Array>;
}

/** L2-normalises in place and returns the vector. */
export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const k = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i]! *= k;
  return v;
}

/** Dot product of two equal-length vectors (cosine similarity when both are normalised). */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}

/** Builds an embedder over a loaded face-embedder model (family `embedding`). */
export function createFaceEmbedder(runner: ModelRunner): FaceEmbedder {
  const spec = runner.spec;
  if (spec.family !== 'embedding') throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} is of family ${spec.family}, not a face embedder (embedding)`);
  const size = spec.input.width;
  const outName = spec.outputs?.[0];
  return {
    runner,
    model: spec.name,
    align: (img, landmarks) => alignFace(img, landmarks, size),
    async embedAligned(aligned, run) {
      const { tensor } = prepareInput(aligned, spec.input);
      const out = await runner.run({ [spec.input.name]: tensor }, run);
      const t = outName ? out[outName] : Object.values(out)[0];
      if (!t) throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Embedder ${spec.name} returned no output ${outName ?? ''}`);
      return normalize(Float32Array.from(t.data as Float32Array));
    },
  };
}
