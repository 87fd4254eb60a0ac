import type { MatchResult } from './galleryIndex.js';

/** The label of one frame's match: a person id or UNKNOWN. */
export const UNKNOWN = 'UNKNOWN';

/** A track's running vote: each frame's label weighted by the face's quality. */
export class TrackVote {
  private weight = new Map<string, number>();
  private simSum = new Map<string, number>();
  total = 0;
  frames = 0;

  /** Adds one frame's match with its quality weight (0..1). */
  add(m: MatchResult, quality: number): void {
    const label = m.personId ?? UNKNOWN;
    const w = Math.max(1e-3, quality);
    this.weight.set(label, (this.weight.get(label) ?? 0) + w);
    // For UNKNOWN the similarity reported is that to the best (rejected) candidate.
    this.simSum.set(label, (this.simSum.get(label) ?? 0) + w * m.similarity);
    this.total += w;
    this.frames++;
  }

  /** The winning label, its share of the weight and its quality-weighted mean similarity. */
  decision(): { label: string; share: number; similarity: number } {
    let label = UNKNOWN, best = -1;
    for (const [l, w] of this.weight) if (w > best || (w === best && l === UNKNOWN)) { best = w; label = l; }
    const w = this.weight.get(label) ?? 0;
    return { label, share: this.total > 0 ? w / this.total : 0, similarity: w > 0 ? (this.simSum.get(label) ?? 0) / w : 0 };
  }
}
