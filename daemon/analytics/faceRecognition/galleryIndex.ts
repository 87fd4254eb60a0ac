import type { VectorRow } from './galleryPort.js';
import { createDotScanner, dot, type DotScanner } from './galleryMatcher.js';

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
 * In-memory matcher over the gallery: every positive embedding in one row-major
 * matrix, so a match is one pass of dot products (WebAssembly SIMD where available,
 * see galleryMatcher.ts), then the best row per person.
 */
export class GalleryIndex {
  private dim = 0;
  private readonly scanner: DotScanner;
  /** Similarity of the query to each row (reused between matches). */
  private sims = new Float32Array(0);
  private rowPerson = new Int32Array(0);
  private persons: string[] = [];
  private best = new Float32Array(0);
  /** Rows of person p: personRows[personStart[p] .. personStart[p+1]). */
  private personStart = new Int32Array(1);
  private personRows = new Int32Array(0);
  private negatives = new Map<number, Float32Array[]>();

  /** `scanner: 'js'` forces the plain JS loop (benchmark baseline, tests). */
  constructor(opts: { scanner?: 'auto' | 'js' } = {}) {
    this.scanner = createDotScanner(opts.scanner ?? 'auto');
  }

  /** Which dot-product kernel matches run on. */
  get kernel(): DotScanner['kind'] {
    return this.scanner.kind;
  }

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
    const rows = new Float32Array(usable.length * this.dim);
    this.rowPerson = new Int32Array(usable.length);
    usable.forEach((p, i) => {
      let id = ids.get(p.person_id);
      if (id === undefined) ids.set(p.person_id, (id = ids.size));
      rows.set(p.vector, i * this.dim);
      this.rowPerson[i] = id;
    });
    this.scanner.load(rows, usable.length, this.dim);
    this.sims = new Float32Array(usable.length);
    this.persons = [...ids.keys()];
    this.best = new Float32Array(this.persons.length);
    this.personStart = new Int32Array(this.persons.length + 1);
    for (const p of this.rowPerson) this.personStart[p + 1]!++;
    for (let p = 0; p < this.persons.length; p++) this.personStart[p + 1]! += this.personStart[p]!;
    this.personRows = new Int32Array(this.rowPerson.length);
    const fill = this.personStart.slice(0, -1);
    this.rowPerson.forEach((p, r) => { this.personRows[fill[p]!++] = r; });
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
    let b1 = -1, b2 = -1, s1 = -2, s2 = -2;
    for (let p = 0; p < this.best.length; p++) {
      const s = this.best[p]!;
      if (s > s1) { s2 = s1; b2 = b1; s1 = s; b1 = p; } else if (s > s2) { s2 = s; b2 = p; }
    }
    // Re-score the two leaders with the reference loop, so the reported similarities (and
    // the ties with negatives below) are bit for bit those of the plain JS scan.
    s1 = this.exactBest(e, b1);
    if (b2 >= 0) {
      s2 = this.exactBest(e, b2);
      if (s2 > s1) [b1, b2, s1, s2] = [b2, b1, s2, s1];
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

  /** Best similarity to person p's rows by the reference dot product. */
  private exactBest(e: Float32Array, p: number): number {
    let best = -2;
    for (let i = this.personStart[p]!; i < this.personStart[p + 1]!; i++) {
      const s = dot(e, this.scanner.row(this.personRows[i]!), 0, this.dim);
      if (s > best) best = s;
    }
    return best;
  }

  private scan(e: Float32Array): void {
    const best = this.best.fill(-2);
    const sims = this.sims, rp = this.rowPerson;
    this.scanner.scan(e, sims);
    for (let r = 0; r < rp.length; r++) {
      const s = sims[r]!, p = rp[r]!;
      if (s > best[p]!) best[p] = s;
    }
  }
}
