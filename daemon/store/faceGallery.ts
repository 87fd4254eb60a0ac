import { randomUUID } from 'node:crypto';
import { migrate, type Db } from './database.js';

// Row shapes mirror daemon/analytics/faceRecognition/galleryPort.ts; the class satisfies
// that interface structurally, so store/ does not import analytics code.
type Point = [number, number];
type Box = [number, number, number, number];

interface PersonRecord { person_id: string; name: string; relationship: string; notes: string; created_at: number; photo_count: number }
interface PhotoRecord { photo_id: string; person_id: string; source: string; capture_id: string | null; quality: Record<string, number>; created_at: number }
interface CaptureRecord {
  capture_id: string; stream_id: string; track_id: number; timestamp: number; decision: 'KNOWN' | 'UNKNOWN';
  person_id: string | null; similarity: number; unknown_id: string | null; quality: number;
}
interface StoredFace { crop: Buffer; landmarks: Point[]; box: Box }
interface VectorRow { person_id: string; ref: string; vector: Float32Array }

const MIGRATIONS = [
  `CREATE TABLE face_persons (
     person_id TEXT PRIMARY KEY, name TEXT NOT NULL, relationship TEXT NOT NULL DEFAULT '',
     notes TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE TABLE face_photos (
     photo_id TEXT PRIMARY KEY, person_id TEXT NOT NULL REFERENCES face_persons(person_id) ON DELETE CASCADE,
     source TEXT NOT NULL, capture_id TEXT, crop_jpeg BLOB NOT NULL, landmarks TEXT NOT NULL, box TEXT NOT NULL,
     quality TEXT NOT NULL, created_at INTEGER NOT NULL);
   CREATE INDEX face_photos_person ON face_photos(person_id);
   CREATE TABLE face_captures (
     capture_id TEXT PRIMARY KEY, stream_id TEXT NOT NULL, track_id INTEGER NOT NULL, timestamp INTEGER NOT NULL,
     decision TEXT NOT NULL, person_id TEXT, similarity REAL NOT NULL, unknown_id TEXT, quality REAL NOT NULL,
     crop_jpeg BLOB NOT NULL, landmarks TEXT NOT NULL, box TEXT NOT NULL);
   CREATE INDEX face_captures_unknown ON face_captures(unknown_id) WHERE unknown_id IS NOT NULL;
   CREATE INDEX face_captures_time ON face_captures(timestamp);
   CREATE TABLE face_negatives (
     person_id TEXT NOT NULL REFERENCES face_persons(person_id) ON DELETE CASCADE,
     capture_id TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (person_id, capture_id));
   CREATE TABLE face_embeddings (
     ref TEXT NOT NULL, model TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (ref, model));`,
  // Retention asks, per NFV4-FR event it would delete, whether an enrolment photo came from it.
  `CREATE INDEX face_photos_capture ON face_photos(capture_id) WHERE capture_id IS NOT NULL;`,
  // Retention's crop-age pass walks only captures that still have an image (sightings pile up).
  `CREATE INDEX face_captures_imaged ON face_captures(timestamp) WHERE length(crop_jpeg) > 0;`,
];

/** SQL over an events row aliased `e`: true for NFV4-FR events whose capture became an enrolment photo (kept by retention). */
export const ENROLLED_EVENT_SQL =
  "e.analytic_id = 'NFV4-FR' AND EXISTS (SELECT 1 FROM face_photos p WHERE p.capture_id = json_extract(e.json, '$.pipeline_data.variation'))";

/** How many captures of one stranger keep their image: the newest, and the best of the older ones. */
export interface CaptureThinning { newest: number; best: number }

/** A capture's columns but its image. */
const SIGHTING_COLUMNS = 'capture_id, stream_id, track_id, timestamp, decision, person_id, similarity, unknown_id, quality, landmarks, box';

/** SQL over a face_captures row: not used as a negative or an enrolment photo. */
const NOT_USED_SQL = 'capture_id NOT IN (SELECT capture_id FROM face_negatives) AND capture_id NOT IN (SELECT capture_id FROM face_photos WHERE capture_id IS NOT NULL)';

const toBlob = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
function fromBlob(b: Buffer): Float32Array {
  // Copy: SQLite's buffer may not be 4-byte aligned.
  const out = new Float32Array(b.length / 4);
  Buffer.from(out.buffer).set(b);
  return out;
}

/** The face gallery in SQLite: persons, photos (crop + landmarks), embeddings per model, negatives, captures. */
export class FaceGallery {
  constructor(private readonly db: Db) {
    migrate(db, 'faces', MIGRATIONS);
  }

  createPerson(p: { name: string; relationship?: string; notes?: string }): PersonRecord {
    const id = randomUUID();
    const now = Date.now();
    this.db.prepare('INSERT INTO face_persons (person_id, name, relationship, notes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, p.name, p.relationship ?? '', p.notes ?? '', now, now);
    return this.getPerson(id)!;
  }

  updatePerson(id: string, p: { name?: string; relationship?: string; notes?: string }): PersonRecord | undefined {
    const cur = this.getPerson(id);
    if (!cur) return undefined;
    this.db.prepare('UPDATE face_persons SET name = ?, relationship = ?, notes = ?, updated_at = ? WHERE person_id = ?')
      .run(p.name ?? cur.name, p.relationship ?? cur.relationship, p.notes ?? cur.notes, Date.now(), id);
    return this.getPerson(id);
  }

  getPerson(id: string): PersonRecord | undefined {
    return this.db.prepare(`SELECT p.person_id, p.name, p.relationship, p.notes, p.created_at,
      (SELECT COUNT(*) FROM face_photos f WHERE f.person_id = p.person_id) AS photo_count
      FROM face_persons p WHERE p.person_id = ?`).get(id) as PersonRecord | undefined;
  }

  listPersons(): PersonRecord[] {
    return this.db.prepare(`SELECT p.person_id, p.name, p.relationship, p.notes, p.created_at,
      (SELECT COUNT(*) FROM face_photos f WHERE f.person_id = p.person_id) AS photo_count
      FROM face_persons p ORDER BY p.name, p.created_at`).all() as PersonRecord[];
  }

  removePerson(id: string): boolean {
    const tx = this.db.transaction(() => {
      this.db.prepare('DELETE FROM face_embeddings WHERE ref IN (SELECT photo_id FROM face_photos WHERE person_id = ?)').run(id);
      return this.db.prepare('DELETE FROM face_persons WHERE person_id = ?').run(id).changes > 0;
    });
    return tx();
  }

  listPhotos(personId: string): PhotoRecord[] {
    const rows = this.db.prepare('SELECT photo_id, person_id, source, capture_id, quality, created_at FROM face_photos WHERE person_id = ? ORDER BY created_at')
      .all(personId) as (Omit<PhotoRecord, 'quality'> & { quality: string })[];
    return rows.map((r) => ({ ...r, quality: JSON.parse(r.quality) as Record<string, number> }));
  }

  addPhoto(personId: string, face: StoredFace, meta: { source: string; capture_id?: string | null; quality: Record<string, number> }): PhotoRecord {
    const id = randomUUID();
    const now = Date.now();
    this.db.prepare(`INSERT INTO face_photos (photo_id, person_id, source, capture_id, crop_jpeg, landmarks, box, quality, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(id, personId, meta.source, meta.capture_id ?? null, face.crop, JSON.stringify(face.landmarks), JSON.stringify(face.box), JSON.stringify(meta.quality), now);
    return { photo_id: id, person_id: personId, source: meta.source, capture_id: meta.capture_id ?? null, quality: meta.quality, created_at: now };
  }

  getPhotoCrop(photoId: string): Buffer | undefined {
    return (this.db.prepare('SELECT crop_jpeg FROM face_photos WHERE photo_id = ?').get(photoId) as { crop_jpeg: Buffer } | undefined)?.crop_jpeg;
  }

  putEmbedding(ref: string, model: string, vector: Float32Array): void {
    this.db.prepare('INSERT INTO face_embeddings (ref, model, dim, vector) VALUES (?, ?, ?, ?) ON CONFLICT(ref, model) DO UPDATE SET dim = excluded.dim, vector = excluded.vector')
      .run(ref, model, vector.length, toBlob(vector));
  }

  positives(model: string): VectorRow[] {
    const rows = this.db.prepare(`SELECT f.person_id, f.photo_id AS ref, e.vector FROM face_photos f
      JOIN face_embeddings e ON e.ref = f.photo_id AND e.model = ? ORDER BY f.person_id`).all(model) as { person_id: string; ref: string; vector: Buffer }[];
    return rows.map((r) => ({ person_id: r.person_id, ref: r.ref, vector: fromBlob(r.vector) }));
  }

  negatives(model: string): VectorRow[] {
    const rows = this.db.prepare(`SELECT n.person_id, n.capture_id AS ref, e.vector FROM face_negatives n
      JOIN face_embeddings e ON e.ref = n.capture_id AND e.model = ?`).all(model) as { person_id: string; ref: string; vector: Buffer }[];
    return rows.map((r) => ({ person_id: r.person_id, ref: r.ref, vector: fromBlob(r.vector) }));
  }

  addNegative(personId: string, captureId: string): void {
    this.db.prepare('INSERT OR IGNORE INTO face_negatives (person_id, capture_id, created_at) VALUES (?, ?, ?)').run(personId, captureId, Date.now());
  }

  removeNegative(personId: string, captureId: string): boolean {
    return this.db.prepare('DELETE FROM face_negatives WHERE person_id = ? AND capture_id = ?').run(personId, captureId).changes > 0;
  }

  missingEmbeddings(model: string): { ref: string; face: StoredFace }[] {
    const rows = this.db.prepare(`
      SELECT photo_id AS ref, crop_jpeg, landmarks, box FROM face_photos
        WHERE NOT EXISTS (SELECT 1 FROM face_embeddings e WHERE e.ref = photo_id AND e.model = ?)
      UNION ALL
      SELECT c.capture_id AS ref, c.crop_jpeg, c.landmarks, c.box FROM face_captures c
        WHERE c.capture_id IN (SELECT capture_id FROM face_negatives)
          AND NOT EXISTS (SELECT 1 FROM face_embeddings e WHERE e.ref = c.capture_id AND e.model = ?)`)
      .all(model, model) as { ref: string; crop_jpeg: Buffer; landmarks: string; box: string }[];
    return rows.map((r) => ({ ref: r.ref, face: { crop: r.crop_jpeg, landmarks: JSON.parse(r.landmarks) as Point[], box: JSON.parse(r.box) as Box } }));
  }

  pruneEmbeddings(keepModel: string): number {
    return this.db.prepare('DELETE FROM face_embeddings WHERE model != ?').run(keepModel).changes;
  }

  /**
   * Stores a capture. With `thin`, a stranger seen again keeps the image and embedding of only its
   * `newest` captures and of the `best` (by quality) of the older ones; the others keep their row
   * (a sighting, for counts and dates) without them. Captures used as photos or negatives are
   * never thinned.
   */
  addCapture(c: CaptureRecord, face: StoredFace, model: string, vector: Float32Array, opts: { thin?: CaptureThinning } = {}): void {
    const tx = this.db.transaction(() => {
      this.db.prepare(`INSERT INTO face_captures (capture_id, stream_id, track_id, timestamp, decision, person_id, similarity, unknown_id, quality, crop_jpeg, landmarks, box)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(c.capture_id, c.stream_id, c.track_id, c.timestamp, c.decision, c.person_id, c.similarity, c.unknown_id, c.quality,
          face.crop, JSON.stringify(face.landmarks), JSON.stringify(face.box));
      this.putEmbedding(c.capture_id, model, vector);
      if (c.unknown_id && opts.thin) this.thinUnknown(c.unknown_id, opts.thin);
    });
    tx();
  }

  private thinUnknown(unknownId: string, keep: CaptureThinning): void {
    const ids = (this.db.prepare(`SELECT capture_id FROM face_captures
      WHERE unknown_id = ? AND length(crop_jpeg) > 0 AND ${NOT_USED_SQL}
        AND capture_id NOT IN (SELECT capture_id FROM face_captures WHERE unknown_id = ? ORDER BY timestamp DESC, rowid DESC LIMIT ?)
      ORDER BY quality DESC LIMIT -1 OFFSET ?`).pluck().all(unknownId, unknownId, keep.newest, keep.best)) as string[];
    this.toSightings(ids);
  }

  /**
   * Drops the image and embedding of up to `limit` captures older than `beforeMs`, oldest first
   * (retention.crops_max_age_days: face crops live no longer than event crops, strangers' too);
   * photos and negatives stay. Returns how many went.
   */
  thinCapturesBefore(beforeMs: number, limit: number): number {
    const ids = this.db.prepare(`SELECT capture_id FROM face_captures
      WHERE length(crop_jpeg) > 0 AND timestamp < ? AND ${NOT_USED_SQL} ORDER BY timestamp LIMIT ?`).pluck().all(beforeMs, limit) as string[];
    this.db.transaction(() => this.toSightings(ids))();
    return ids.length;
  }

  /** Captures become sightings: their row stays (counts, dates) without image and embedding. */
  private toSightings(ids: string[]): void {
    const read = this.db.prepare(`SELECT ${SIGHTING_COLUMNS} FROM face_captures WHERE capture_id = ?`);
    const drop = this.db.prepare('DELETE FROM face_captures WHERE capture_id = ?');
    const put = this.db.prepare(`INSERT INTO face_captures (${SIGHTING_COLUMNS}, crop_jpeg)
      VALUES (@capture_id, @stream_id, @track_id, @timestamp, @decision, @person_id, @similarity, @unknown_id, @quality, @landmarks, @box, x'')`);
    const dropVectors = this.db.prepare('DELETE FROM face_embeddings WHERE ref = ?');
    for (const id of ids) {
      // Deleted and stored again rather than updated: a row shrunk in place keeps its leaf page
      // to itself, while a new small row shares the last page with the others.
      const row = read.get(id) as Record<string, unknown>;
      drop.run(id);
      put.run(row);
      dropVectors.run(id);
    }
  }

  getCapture(id: string): (CaptureRecord & { face: StoredFace }) | undefined {
    const r = this.db.prepare('SELECT * FROM face_captures WHERE capture_id = ?').get(id) as
      (CaptureRecord & { crop_jpeg: Buffer; landmarks: string; box: string }) | undefined;
    if (!r) return undefined;
    const { crop_jpeg, landmarks, box, ...rec } = r;
    return { ...rec, face: { crop: crop_jpeg, landmarks: JSON.parse(landmarks) as Point[], box: JSON.parse(box) as Box } };
  }

  getCaptureVector(id: string, model: string): Float32Array | undefined {
    const r = this.db.prepare('SELECT vector FROM face_embeddings WHERE ref = ? AND model = ?').get(id, model) as { vector: Buffer } | undefined;
    return r ? fromBlob(r.vector) : undefined;
  }

  setCaptureUnknown(id: string, unknownId: string | null): void {
    this.db.prepare('UPDATE face_captures SET unknown_id = ? WHERE capture_id = ?').run(unknownId, id);
  }

  unknownCaptures(model: string, limit: number): { capture_id: string; unknown_id: string; timestamp: number; vector: Float32Array }[] {
    const rows = this.db.prepare(`SELECT c.capture_id, c.unknown_id, c.timestamp, e.vector FROM face_captures c
      JOIN face_embeddings e ON e.ref = c.capture_id AND e.model = ?
      WHERE c.unknown_id IS NOT NULL ORDER BY c.timestamp DESC LIMIT ?`).all(model, limit) as { capture_id: string; unknown_id: string; timestamp: number; vector: Buffer }[];
    return rows.map((r) => ({ ...r, vector: fromBlob(r.vector) }));
  }

  listUnknowns(): { unknown_id: string; count: number; first_seen: number; last_seen: number; best_capture_id: string; streams: string[] }[] {
    const rows = this.db.prepare(`SELECT unknown_id, COUNT(*) AS count, MIN(timestamp) AS first_seen, MAX(timestamp) AS last_seen,
        (SELECT capture_id FROM face_captures b WHERE b.unknown_id = c.unknown_id ORDER BY length(b.crop_jpeg) > 0 DESC, b.quality DESC LIMIT 1) AS best_capture_id,
        GROUP_CONCAT(DISTINCT stream_id) AS streams
      FROM face_captures c WHERE unknown_id IS NOT NULL GROUP BY unknown_id ORDER BY last_seen DESC`).all() as
      { unknown_id: string; count: number; first_seen: number; last_seen: number; best_capture_id: string; streams: string }[];
    return rows.map((r) => ({ ...r, streams: r.streams ? r.streams.split(',') : [] }));
  }

  capturesOfUnknown(unknownId: string, limit: number, opts: { withImage?: boolean } = {}): CaptureRecord[] {
    return this.db.prepare(`SELECT capture_id, stream_id, track_id, timestamp, decision, person_id, similarity, unknown_id, quality
      FROM face_captures WHERE unknown_id = ? ${opts.withImage ? 'AND length(crop_jpeg) > 0' : ''} ORDER BY quality DESC LIMIT ?`).all(unknownId, limit) as CaptureRecord[];
  }

  pruneCaptures(beforeMs: number): number {
    const tx = this.db.transaction(() => {
      this.db.prepare(`DELETE FROM face_embeddings WHERE ref IN (SELECT capture_id FROM face_captures WHERE timestamp < ? AND ${NOT_USED_SQL})`).run(beforeMs);
      return this.db.prepare(`DELETE FROM face_captures WHERE timestamp < ? AND ${NOT_USED_SQL}`).run(beforeMs).changes;
    });
    return tx();
  }
}
