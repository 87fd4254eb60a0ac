import { randomUUID } from 'node:crypto';
import { normalize } from './embedder.js';

/**
 * Online clustering of strangers: an UNKNOWN capture joins the nearest cluster whose
 * centroid is at least `threshold` similar, else starts a new `unknown_id`.
 */
export class UnknownClusters {
  private ids: string[] = [];
  private sums: Float32Array[] = [];

  constructor(private readonly threshold: number) {}

  get size(): number {
    return this.ids.length;
  }

  /** Re-seeds from stored captures (oldest first is not needed: centroids are sums). */
  seed(rows: { unknown_id: string; vector: Float32Array }[]): void {
    this.ids = [];
    this.sums = [];
    for (const r of rows) this.join(r.unknown_id, r.vector);
  }

  /** Returns the cluster id for this embedding and adds it to that cluster. */
  assign(e: Float32Array): { unknownId: string; similarity: number; isNew: boolean } {
    let best = -1, bi = -1;
    const c = new Float32Array(e.length);
    for (let i = 0; i < this.sums.length; i++) {
      c.set(this.sums[i]!);
      const s = dotN(normalize(c), e);
      if (s > best) { best = s; bi = i; }
    }
    if (bi >= 0 && best >= this.threshold) {
      this.join(this.ids[bi]!, e);
      return { unknownId: this.ids[bi]!, similarity: best, isNew: false };
    }
    const id = randomUUID();
    this.join(id, e);
    return { unknownId: id, similarity: best, isNew: true };
  }

  /** Forgets a cluster (enrolled as a person). */
  remove(unknownId: string): void {
    const i = this.ids.indexOf(unknownId);
    if (i >= 0) { this.ids.splice(i, 1); this.sums.splice(i, 1); }
  }

  private join(id: string, e: Float32Array): void {
    let i = this.ids.indexOf(id);
    if (i < 0) { this.ids.push(id); this.sums.push(new Float32Array(e.length)); i = this.ids.length - 1; }
    const s = this.sums[i]!;
    if (s.length !== e.length) return;
    for (let k = 0; k < e.length; k++) s[k]! += e[k]!;
  }
}

function dotN(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
