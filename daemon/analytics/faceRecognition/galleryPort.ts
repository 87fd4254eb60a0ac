import type { Box, Point } from '../../vision/image.js';

/** An enrolled person as the API shows it. */
export interface PersonRecord {
  person_id: string;
  name: string;
  relationship: string;
  notes: string;
  created_at: number;
  photo_count: number;
}

/** One stored face photo of a person (crop JPEG kept so embeddings can be recomputed). */
export interface PhotoRecord {
  photo_id: string;
  person_id: string;
  /** `enroll` (uploaded), `confirm` (a capture confirmed by an operator), `unknown` (enrolled from an unknown cluster). */
  source: string;
  capture_id: string | null;
  /** Quality measured at enrolment (size, blur, yaw, ...). */
  quality: Record<string, number>;
  created_at: number;
}

/** A face seen on a stream (or in an identify call) with its embedding and crop. */
export interface CaptureRecord {
  capture_id: string;
  stream_id: string;
  track_id: number;
  timestamp: number;
  decision: 'KNOWN' | 'UNKNOWN';
  person_id: string | null;
  similarity: number;
  unknown_id: string | null;
  quality: number;
}

/** A stored face crop with its landmarks in crop pixels: enough to re-align and re-embed. */
export interface StoredFace {
  crop: Buffer;
  landmarks: Point[];
  box: Box;
}

/** An embedding row of the gallery: a positive photo or a negative capture of a person. */
export interface VectorRow {
  person_id: string;
  ref: string;
  vector: Float32Array;
}

/**
 * What face recognition needs from storage. daemon/store/faceGallery.ts implements it
 * over SQLite; main hands it in, so store/ holds no recognition logic.
 */
export interface FaceGalleryPort {
  createPerson(p: { name: string; relationship?: string; notes?: string }): PersonRecord;
  updatePerson(id: string, p: { name?: string; relationship?: string; notes?: string }): PersonRecord | undefined;
  getPerson(id: string): PersonRecord | undefined;
  listPersons(): PersonRecord[];
  removePerson(id: string): boolean;
  listPhotos(personId: string): PhotoRecord[];
  addPhoto(personId: string, face: StoredFace, meta: { source: string; capture_id?: string | null; quality: Record<string, number> }): PhotoRecord;
  getPhotoCrop(photoId: string): Buffer | undefined;
  /** Stores the embedding of a photo or capture (`ref`) for one embedder model. */
  putEmbedding(ref: string, model: string, vector: Float32Array): void;
  /** All photo embeddings of the model (positives). */
  positives(model: string): VectorRow[];
  /** All negative-capture embeddings of the model. */
  negatives(model: string): VectorRow[];
  addNegative(personId: string, captureId: string): void;
  /** Drops a negative (an operator confirmed that capture after all); true when one was removed. */
  removeNegative(personId: string, captureId: string): boolean;
  /** Photos and negative captures that lack an embedding for `model` (to re-embed after a model change). */
  missingEmbeddings(model: string): { ref: string; face: StoredFace }[];
  /** Drops embeddings of other models (after re-embedding). */
  pruneEmbeddings(keepModel: string): number;
  /** With `thin`: a stranger keeps the image and embedding of its newest captures and the best older ones only. */
  addCapture(c: CaptureRecord, face: StoredFace, model: string, vector: Float32Array, opts?: { thin?: { newest: number; best: number } }): void;
  /** A thinned capture (see addCapture, and retention's crops_max_age_days) comes with an empty `face.crop`. */
  getCapture(id: string): (CaptureRecord & { face: StoredFace }) | undefined;
  getCaptureVector(id: string, model: string): Float32Array | undefined;
  setCaptureUnknown(id: string, unknownId: string | null): void;
  /** UNKNOWN captures with their cluster id and embedding (to rebuild clusters at start). */
  unknownCaptures(model: string, limit: number): { capture_id: string; unknown_id: string; timestamp: number; vector: Float32Array }[];
  /** Clusters of strangers: one row per unknown_id. */
  listUnknowns(): { unknown_id: string; count: number; first_seen: number; last_seen: number; best_capture_id: string; streams: string[] }[];
  /** Best first; `withImage` leaves out thinned captures. */
  capturesOfUnknown(unknownId: string, limit: number, opts?: { withImage?: boolean }): CaptureRecord[];
  /** Drops captures older than `beforeMs` (not those used as negatives or photos). */
  pruneCaptures(beforeMs: number): number;
}
