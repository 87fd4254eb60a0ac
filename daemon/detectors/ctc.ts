/** One text read from an OCR head: the string plus one confidence per character. */
export interface TextRead {
  text: string;
  /** The characters of `text` (code points, so CJK characters count as one). */
  chars: string[];
  /** Probability of each character in `chars`. */
  confidences: number[];
  /** Mean character probability (0 for an empty read). */
  confidence: number;
}

/** Options for greedy CTC decoding. */
export interface CtcOptions {
  /** Index of the blank class. */
  blank: number;
  /** True when the output is [classes, steps] (LPRNet) rather than [steps, classes]. */
  classMajor?: boolean;
  /** Offset of the first value of this sample in `data` (batched outputs). */
  offset?: number;
  /** Softmax each step first: `auto` does it only when the row is not already a distribution. */
  softmax?: boolean | 'auto';
}

/**
 * Greedy CTC: best class per step, repeats collapsed, blanks dropped. A character's
 * confidence is the highest probability among the steps that produced it.
 * `alphabet[i]` is the text of class i (the blank's entry is never emitted).
 */
export function decodeCtcGreedy(data: Float32Array, steps: number, classes: number, alphabet: readonly string[], opts: CtcOptions): TextRead {
  const off = opts.offset ?? 0;
  const cm = opts.classMajor === true;
  const at = (t: number, c: number): number => data[off + (cm ? c * steps + t : t * classes + c)]!;
  const chars: string[] = [];
  const confidences: number[] = [];
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let bestV = -Infinity;
    let max = -Infinity;
    let sum = 0;
    let min = Infinity;
    for (let c = 0; c < classes; c++) {
      const v = at(t, c);
      if (v > bestV) { bestV = v; best = c; }
      sum += v;
      if (v < min) min = v;
    }
    max = bestV;
    let p = bestV;
    const soft = opts.softmax === true || (opts.softmax !== false && (min < 0 || Math.abs(sum - 1) > 0.02));
    if (soft) {
      let z = 0;
      for (let c = 0; c < classes; c++) z += Math.exp(at(t, c) - max);
      p = 1 / z;
    }
    if (best !== opts.blank && best !== prev) {
      chars.push(alphabet[best] ?? '');
      confidences.push(p);
    } else if (best !== opts.blank && best === prev && confidences.length > 0) {
      const i = confidences.length - 1;
      if (p > confidences[i]!) confidences[i] = p;
    }
    prev = best;
  }
  return finishRead(chars, confidences);
}

/** Builds a TextRead from characters and their probabilities (empty characters dropped). */
export function finishRead(chars: string[], confidences: number[]): TextRead {
  const c: string[] = [];
  const p: number[] = [];
  for (let i = 0; i < chars.length; i++) {
    if (!chars[i]) continue;
    c.push(chars[i]!);
    p.push(confidences[i] ?? 0);
  }
  const confidence = p.length ? p.reduce((a, b) => a + b, 0) / p.length : 0;
  return { text: c.join(''), chars: c, confidences: p, confidence };
}
