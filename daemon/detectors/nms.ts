import type { Box } from '../vision/image.js';

/** Intersection over union of two x1,y1,x2,y2 boxes. */
export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  if (iw <= 0) return 0;
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Anything NMS can sort: a box, a score and (for class-wise NMS) a class id. */
export interface Scored {
  box: Box;
  score: number;
  classId?: number;
}

/**
 * Greedy non-maximum suppression, class-wise unless `agnostic`: keeps the best
 * box of each overlapping group (IoU > iouThreshold). Returns survivors by score, at most `maxOut`.
 */
export function nms<T extends Scored>(items: T[], iouThreshold: number, opts: { agnostic?: boolean; maxOut?: number } = {}): T[] {
  const maxOut = opts.maxOut ?? 300;
  const sorted = items.slice().sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  const removed = new Uint8Array(sorted.length);
  for (let i = 0; i < sorted.length && kept.length < maxOut; i++) {
    if (removed[i]) continue;
    const a = sorted[i]!;
    kept.push(a);
    for (let j = i + 1; j < sorted.length; j++) {
      if (removed[j]) continue;
      const b = sorted[j]!;
      if (!opts.agnostic && (a.classId ?? 0) !== (b.classId ?? 0)) continue;
      if (iou(a.box, b.box) > iouThreshold) removed[j] = 1;
    }
  }
  return kept;
}
