import { randomUUID } from 'node:crypto';
import type { Logger } from '../../log.js';
import type { ModelProvider, RunOptions } from '../../inference/types.js';
import { blurScore } from '../../vision/align.js';
import { decodeImage, encodeJpeg } from '../../vision/codec.js';
import type { Box, Point, RgbImage } from '../../vision/image.js';
import { cropImage, resizeImage } from '../../vision/preprocess.js';
import { createFaceEmbedder, type FaceEmbedder } from './embedder.js';
import { createFaceDetector, type FaceDetector } from './faceDetector.js';
import { GalleryIndex, type MatchResult } from './galleryIndex.js';
import type { CaptureRecord, FaceGalleryPort, StoredFace } from './galleryPort.js';
import { assessQuality, DEFAULT_GATES, type FaceQuality, type QualityGates } from './quality.js';
import { UnknownClusters } from './unknownClusters.js';

/** Face recognition settings (config `analytics.face-recognition`), with defaults. */
export interface FaceRecognitionConfig {
  /** Face-detector model name; default: the manifest's face-detector role (YuNet). */
  detectorModel?: string;
  /** Face-embedder model name; default: the manifest's face-embedder role (faceplugin fr_feature). */
  embedderModel?: string;
  /** Lowest cosine similarity for KNOWN. Default 0.40. */
  matchThreshold: number;
  /** Required lead over the second-best person. Default 0.08. */
  margin: number;
  /** Quality gates on stream faces. */
  gates: QualityGates;
  /** Quality gates on enrolment photos (stricter size). */
  enrollGates: QualityGates;
  /** Similarity for two UNKNOWN captures to share an unknown_id. Default 0.45. */
  clusterThreshold: number;
  /** Tracked frames before a decision is published. Default 3. */
  decisionFrames: number;
  /** Frames a face track may be missed before it ends. Default 3. */
  maxMissed: number;
  /** Publish an update event when a track's decision changes later. Default true. */
  updates: boolean;
  /** A stranger's newest captures that keep their image and embedding. Default 20. */
  unknownRecentImages: number;
  /** Older captures of one stranger that keep them too: the best by quality. Default 5. */
  unknownImages: number;
}

export const DEFAULT_FACE_CONFIG: FaceRecognitionConfig = {
  matchThreshold: 0.4,
  margin: 0.08,
  gates: DEFAULT_GATES,
  enrollGates: { ...DEFAULT_GATES, minFaceSize: 60 },
  clusterThreshold: 0.45,
  decisionFrames: 3,
  maxMissed: 3,
  updates: true,
  // The dashboard lists the 20 newest captures for confirm/reject; enrolling a stranger takes its
  // best 5. Older captures of the same face beyond those only fill the disk.
  unknownRecentImages: 20,
  unknownImages: 5,
};

/** One face found and (when it passed the gates) embedded. */
export interface AnalyzedFace {
  box: Box;
  score: number;
  landmarks: Point[];
  estimatedLandmarks: boolean;
  quality: FaceQuality;
  aligned: RgbImage;
  /** Null when the face failed the quality gates. */
  embedding: Float32Array | null;
}

/** A face as the frame sockets report it. */
export interface IdentifiedFace {
  box: Box;
  score: number;
  landmarks: Point[];
  quality: Omit<FaceQuality, 'score'> & { score: number };
  match: { person_id: string; name: string; relationship: string; confidence: number } | null;
  /** Best similarity seen (also when below threshold), and why the decision went the way it did. */
  similarity: number;
  reason: MatchResult['reason'] | 'quality';
}

/** Result of the stateless `identify` (no tracking). */
export interface IdentifyResult {
  faces: IdentifiedFace[];
}

/** What FaceRecognizer needs; main builds these. */
export interface FaceRecognizerDeps {
  models: ModelProvider;
  gallery: FaceGalleryPort;
  log: Logger;
  config?: Partial<FaceRecognitionConfig>;
}

/**
 * Face recognition core, shared by every stream and socket: detect → quality gates
 * → align → embed → match against the in-memory gallery index. Owns the index, the
 * unknown clusters and capture recording; `FaceAdmin` (faceAdmin.ts) changes the gallery.
 */
export class FaceRecognizer {
  readonly config: FaceRecognitionConfig;
  readonly gallery: FaceGalleryPort;
  readonly index = new GalleryIndex();
  readonly clusters: UnknownClusters;
  private detector?: FaceDetector;
  private embedder?: FaceEmbedder;
  private readonly log: Logger;
  private reembedState = { running: false, done: 0, total: 0 };

  constructor(private readonly deps: FaceRecognizerDeps) {
    this.config = { ...DEFAULT_FACE_CONFIG, ...deps.config, gates: { ...DEFAULT_GATES, ...deps.config?.gates }, enrollGates: { ...DEFAULT_FACE_CONFIG.enrollGates, ...deps.config?.enrollGates } };
    this.gallery = deps.gallery;
    this.log = deps.log.child({ component: 'faces' });
    this.clusters = new UnknownClusters(this.config.clusterThreshold);
  }

  /** Loads the models, re-embeds the gallery if the embedder changed, builds the index. */
  async start(): Promise<void> {
    const { models } = this.deps;
    const det = this.config.detectorModel ? await models.get(this.config.detectorModel) : await models.forRole('face-detector');
    const emb = this.config.embedderModel ? await models.get(this.config.embedderModel) : await models.forRole('face-embedder');
    this.detector = createFaceDetector(det);
    this.embedder = createFaceEmbedder(emb);
    this.log.info({ detector: det.spec.name, embedder: emb.spec.name }, 'face recognition models loaded');
    await this.reembed();
    this.refresh();
    this.clusters.seed(this.gallery.unknownCaptures(this.model, 5000).reverse());
  }

  /** The embedder model name (embeddings are stored per model). */
  get model(): string {
    return this.emb().model;
  }

  /** Re-embed progress (for status and logs). */
  get reembedProgress(): { running: boolean; done: number; total: number } {
    return { ...this.reembedState };
  }

  /** Rebuilds the match index from the gallery (after enrol/remove/reject/confirm). */
  refresh(): void {
    this.index.load(this.gallery.positives(this.model), this.gallery.negatives(this.model));
  }

  /**
   * Embeds, from their stored crops, every photo and negative lacking an embedding for
   * the current model (a changed embedder invalidates the old ones), logging progress.
   */
  async reembed(onProgress?: (done: number, total: number) => void): Promise<number> {
    const todo = this.gallery.missingEmbeddings(this.model);
    if (todo.length === 0) return 0;
    this.reembedState = { running: true, done: 0, total: todo.length };
    this.log.info({ model: this.model, total: todo.length }, 're-embedding the face gallery for a new embedder');
    let done = 0;
    for (const item of todo) {
      try {
        const img = await decodeImage(item.face.crop);
        const e = await this.emb().embedAligned(this.emb().align(img, item.face.landmarks));
        this.gallery.putEmbedding(item.ref, this.model, e);
      } catch (err) {
        this.log.warn({ err, ref: item.ref }, 'cannot re-embed a stored face');
      }
      done++;
      this.reembedState.done = done;
      onProgress?.(done, todo.length);
      if (done % 50 === 0 || done === todo.length) this.log.info({ done, total: todo.length }, 're-embedding progress');
    }
    this.gallery.pruneEmbeddings(this.model);
    this.reembedState.running = false;
    this.refresh();
    return done;
  }

  /** Detects, gates, aligns and embeds every face of an image. */
  async analyze(img: RgbImage, run?: RunOptions, gates = this.config.gates): Promise<AnalyzedFace[]> {
    const faces = await this.det().detect(img, run);
    const out: AnalyzedFace[] = [];
    for (const f of faces) {
      const aligned = this.emb().align(img, f.keypoints);
      const quality = assessQuality(f.box, f.keypoints, blurScore(aligned), f.score, gates, !f.estimatedLandmarks);
      const embedding = quality.ok ? await this.emb().embedAligned(aligned, run) : null;
      out.push({ box: f.box, score: f.score, landmarks: f.keypoints, estimatedLandmarks: f.estimatedLandmarks, quality, aligned, embedding });
    }
    return out;
  }

  /** Matches one embedding with the configured thresholds. */
  match(e: Float32Array): MatchResult {
    return this.index.match(e, this.config);
  }

  /** Stateless detect + embed + match for the frame sockets (no tracking, nothing stored). */
  async identify(img: RgbImage, run?: RunOptions): Promise<IdentifyResult> {
    const faces = await this.analyze(img, run);
    return {
      faces: faces.map((f) => {
        const m = f.embedding ? this.match(f.embedding) : null;
        const p = m?.personId ? this.gallery.getPerson(m.personId) : undefined;
        return {
          box: f.box, score: f.score, landmarks: f.landmarks,
          quality: { size: f.quality.size, blur: f.quality.blur, yaw: f.quality.yaw, roll: f.quality.roll, score: f.quality.score, ok: f.quality.ok, reasons: f.quality.reasons },
          match: p && m ? { person_id: p.person_id, name: p.name, relationship: p.relationship, confidence: m.similarity } : null,
          similarity: m?.similarity ?? 0,
          reason: m ? m.reason : 'quality',
        };
      }),
    };
  }

  /** A crop around the face (2x its box, at most 256 px) with landmarks in crop pixels: what is stored. */
  async storedFace(img: RgbImage, box: Box, landmarks: readonly Point[]): Promise<StoredFace> {
    const { image, box: cb, landmarks: lm } = faceCrop(img, box, landmarks);
    return { crop: await encodeJpeg(image, 90), landmarks: lm, box: cb };
  }

  /** Stores a stream capture (embedding + crop) and returns its id (the event's `variation`). */
  async recordCapture(c: Omit<CaptureRecord, 'capture_id'>, img: RgbImage, box: Box, landmarks: readonly Point[], e: Float32Array): Promise<string> {
    const capture_id = randomUUID();
    this.gallery.addCapture({ ...c, capture_id }, await this.storedFace(img, box, landmarks), this.model, e, { thin: { newest: this.config.unknownRecentImages, best: this.config.unknownImages } });
    return capture_id;
  }

  private det(): FaceDetector {
    if (!this.detector) throw new Error('FaceRecognizer.start() has not run');
    return this.detector;
  }

  private emb(): FaceEmbedder {
    if (!this.embedder) throw new Error('FaceRecognizer.start() has not run');
    return this.embedder;
  }
}

/** Cuts a square region of twice the face size around it, scaled to at most 256 px; landmarks follow. */
export function faceCrop(img: RgbImage, box: Box, landmarks: readonly Point[]): { image: RgbImage; box: Box; landmarks: Point[] } {
  const cx = (box[0] + box[2]) / 2, cy = (box[1] + box[3]) / 2;
  const half = Math.max(box[2] - box[0], box[3] - box[1]);
  const x1 = Math.max(0, Math.floor(cx - half)), y1 = Math.max(0, Math.floor(cy - half));
  const x2 = Math.min(img.width, Math.ceil(cx + half)), y2 = Math.min(img.height, Math.ceil(cy + half));
  let image = cropImage(img, [x1, y1, x2, y2]);
  let k = 1;
  const longest = Math.max(image.width, image.height);
  if (longest > 256) {
    k = 256 / longest;
    image = resizeImage(image, Math.max(1, Math.round(image.width * k)), Math.max(1, Math.round(image.height * k)));
  }
  const lm = landmarks.map((p) => [(p[0] - x1) * k, (p[1] - y1) * k] as Point);
  return { image, box: [(box[0] - x1) * k, (box[1] - y1) * k, (box[2] - x1) * k, (box[3] - y1) * k], landmarks: lm };
}
