import type { VectorRow } from './galleryPort.js';

/** Decision thresholds of a match. */
export interface MatchThresholds {
  /** Lowest cosine similarity to a person's best photo for KNOWN. */
  matchThreshold: number;
  /** Required lead of the best person over the second-best person. */
  margin: number;
}

/** The outcome of matching one embedding against the gallery. */
export interface MatchResult {
  /** The accepted person, or null (UNKNOWN). */
  personId: string | null;
  /** Best person regardless of acceptance (for reports and votes). */
  candidateId: string | null;
  similarity: number;
  secondSimilarity: number;
  /** Highest similarity to a stored negative of the candidate (-1 when none). */
  negativeSimilarity: number;
  /** Why: `match`, `empty`, `below-threshold`, `margin`, `negative`. */
  reason: 'match' | 'empty' | 'below-threshold' | 'margin' | 'negative';
}

/**
 * In-memory matcher over the gallery: every positive embedding in one flat
 * Float32Array (row-major), so a match is one pass of dot products, best per person.
 */
export class GalleryIndex {
  private dim = 0;
  private rows = new Float32Array(0);
  private rowPerson = new Int32Array(0);
  private persons: string[] = [];
  private best = new Float32Array(0);
  private negatives = new Map<number, Float32Array[]>();

  /** Number of positive embeddings. */
  get size(): number {
    return this.rowPerson.length;
  }

  get personCount(): number {
    return this.persons.length;
  }

  /** Replaces the contents (called after every gallery change; cheap compared to an embedding). */
  load(positives: VectorRow[], negatives: VectorRow[] = []): void {
    const ids = new Map<string, number>();
    this.dim = positives[0]?.vector.length ?? 0;
    const usable = positives.filter((p) => p.vector.length === this.dim);
    this.rows = new Float32Array(usable.length * this.dim);
    this.rowPerson = new Int32Array(usable.length);
    usable.forEach((p, i) => {
      let id = ids.get(p.person_id);
      if (id === undefined) ids.set(p.person_id, (id = ids.size));
      this.rows.set(p.vector, i * this.dim);
      this.rowPerson[i] = id;
    });
    this.persons = [...ids.keys()];
    this.best = new Float32Array(this.persons.length);
    this.negatives = new Map();
    for (const n of negatives) {
      const id = ids.get(n.person_id);
      if (id === undefined || n.vector.length !== this.dim) continue;
      const list = this.negatives.get(id) ?? [];
      list.push(n.vector);
      this.negatives.set(id, list);
    }
  }

  /** Best similarity to each person's photos: person id → cosine. */
  scores(e: Float32Array): Map<string, number> {
    this.scan(e);
    const m = new Map<string, number>();
    this.persons.forEach((p, i) => m.set(p, this.best[i]!));
    return m;
  }

  /** Matches a normalised embedding: threshold, margin over the second person, then the negatives check. */
  match(e: Float32Array, t: MatchThresholds): MatchResult {
    if (this.persons.length === 0 || e.length !== this.dim) {
      return { personId: null, candidateId: null, similarity: 0, secondSimilarity: 0, negativeSimilarity: -1, reason: 'empty' };
    }
    this.scan(e);
    let b1 = -1, s1 = -2, s2 = -2;
    for (let p = 0; p < this.best.length; p++) {
      const s = this.best[p]!;
      if (s > s1) { s2 = s1; s1 = s; b1 = p; } else if (s > s2) s2 = s;
    }
    if (s2 < -1) s2 = 0; // a single person: the margin is measured against "nobody".
    let neg = -1;
    for (const v of this.negatives.get(b1) ?? []) neg = Math.max(neg, dot(e, v, 0, this.dim));
    const candidateId = this.persons[b1]!;
    const base = { candidateId, similarity: s1, secondSimilarity: s2, negativeSimilarity: neg };
    if (s1 < t.matchThreshold) return { ...base, personId: null, reason: 'below-threshold' };
    if (s1 - s2 < t.margin) return { ...base, personId: null, reason: 'margin' };
    // Closer to something the operator said is *not* this person than to the person's photos.
    if (neg >= s1) return { ...base, personId: null, reason: 'negative' };
    return { ...base, personId: candidateId, reason: 'match' };
  }

  private scan(e: Float32Array): void {
    const best = this.best.fill(-2);
    const rows = this.rows, rp = this.rowPerson, d = this.dim;
    for (let r = 0, off = 0; r < rp.length; r++, off += d) {
      const s = dot(e, rows, off, d);
      const p = rp[r]!;
      if (s > best[p]!) best[p] = s;
    }
  }
}

/** Dot product of `a` with `b[off .. off+d)`, unrolled by 4 (the hot loop of matching). */
function dot(a: Float32Array, b: Float32Array, off: number, d: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 3 < d; i += 4) {
    s0 += a[i]! * b[off + i]!;
    s1 += a[i + 1]! * b[off + i + 1]!;
    s2 += a[i + 2]! * b[off + i + 2]!;
    s3 += a[i + 3]! * b[off + i + 3]!;
  }
  for (; i < d; i++) s0 += a[i]! * b[off + i]!;
  return s0 + s1 + s2 + s3;
}
