/** One read of a track's plate, normalised. */
export interface VoteRead {
  chars: readonly string[];
  confidences: readonly number[];
}

/** The combined plate of a track. */
export interface VoteResult {
  text: string;
  /** Mean over positions of the winning character's share of the weight. */
  confidence: number;
  /** Reads whose text equals `text`. */
  agreeing: number;
  reads: number;
}

/**
 * Per-track plate vote: reads are grouped by length (the length with the most
 * total confidence wins), then each position takes the character with the largest
 * summed confidence. A lone misread character is outvoted by the other reads.
 */
export class PlateVote {
  private readonly byLength = new Map<number, { weight: number; pos: Map<string, number>[]; texts: Map<string, number> }>();
  private count = 0;

  /** Adds one read (ignored when empty). */
  add(read: VoteRead): void {
    const n = read.chars.length;
    if (n === 0) return;
    this.count++;
    let g = this.byLength.get(n);
    if (!g) {
      g = { weight: 0, pos: Array.from({ length: n }, () => new Map<string, number>()), texts: new Map() };
      this.byLength.set(n, g);
    }
    const text = read.chars.join('');
    g.texts.set(text, (g.texts.get(text) ?? 0) + 1);
    for (let i = 0; i < n; i++) {
      // Tiny floor so a zero-confidence read still counts as one voice.
      const w = Math.max(1e-3, read.confidences[i] ?? 0);
      g.weight += w / n;
      const m = g.pos[i]!;
      m.set(read.chars[i]!, (m.get(read.chars[i]!) ?? 0) + w);
    }
  }

  /** Number of reads added. */
  get reads(): number {
    return this.count;
  }

  /** The current vote, or null before any read. */
  result(): VoteResult | null {
    let g: { weight: number; pos: Map<string, number>[]; texts: Map<string, number> } | undefined;
    for (const v of this.byLength.values()) if (!g || v.weight > g.weight) g = v;
    if (!g) return null;
    let text = '';
    let conf = 0;
    for (const m of g.pos) {
      let best = '';
      let bw = -1;
      let tot = 0;
      for (const [ch, w] of m) { tot += w; if (w > bw) { bw = w; best = ch; } }
      text += best;
      conf += tot > 0 ? bw / tot : 0;
    }
    return { text, confidence: conf / g.pos.length, agreeing: g.texts.get(text) ?? 0, reads: this.count };
  }
}
