import { VigilError } from '../errors.js';
import { finishRead, type TextRead } from './ctc.js';

/** The fast-plate-ocr `global` alphabet: 36 characters plus the pad symbol `_`. */
export const CCT_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_';

/**
 * Decodes a fast-plate-ocr CCT output [N, slots, alphabet] for one image: the best
 * character per slot, pad slots (`_`) dropped. Confidence per character is its slot probability.
 */
export function decodeCctSlots(data: Float32Array, dims: readonly number[], alphabet: string = CCT_ALPHABET, batchIndex = 0, pad = '_'): TextRead {
  const slots = Number(dims[1]);
  const classes = Number(dims[2]);
  if (dims.length !== 3 || classes !== alphabet.length) {
    throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `CCT output [${dims.join(',')}] does not fit a ${alphabet.length}-symbol alphabet`);
  }
  const base = batchIndex * slots * classes;
  const chars: string[] = [];
  const confidences: number[] = [];
  for (let s = 0; s < slots; s++) {
    let best = 0;
    let bestV = -Infinity;
    const o = base + s * classes;
    for (let c = 0; c < classes; c++) {
      const v = data[o + c]!;
      if (v > bestV) { bestV = v; best = c; }
    }
    const ch = alphabet[best]!;
    // Pads can sit in the middle on a bad read; dropping them all keeps the text compact.
    if (ch === pad) continue;
    chars.push(ch);
    confidences.push(bestV);
  }
  return finishRead(chars, confidences);
}
