import type { RgbImage } from './image.js';

/** Settings of a change gate (config `inference.motion_gate`). */
export interface ChangeGateOptions {
  /** Mean absolute luma change (0-255) over the grid that counts as change. */
  threshold: number;
  /** Let a frame through at least this often even when nothing changes (trackers age, counts refresh). */
  maxSkipMs: number;
  /** Grid columns sampled (rows follow the aspect ratio). */
  cols?: number;
}

/** A grid point whose luma moved this much is a changed point (sensor noise stays well under it). */
const POINT_CHANGE = 24;
/** This many changed points pass a frame: a distant person (~10x25 px at 640x360) covers 2-3. */
const MIN_CHANGED_POINTS = 3;

/**
 * A cheap "is anything happening" test in front of the detector: a coarse luma grid
 * (about 64x36 points, a few thousand reads a frame) compared with the grid of the last
 * frame let through, so slow drift still adds up to a pass. A frame passes when the mean
 * change reaches `threshold` (light, large movement) or when a few points changed strongly
 * (someone small entering a quiet scene, whom a mean over the whole frame misses). Two grids, reused.
 */
export class ChangeGate {
  private ref: Uint8Array | null = null;
  private cur: Uint8Array | null = null;
  private lastPassAt = -Infinity;
  private readonly cols: number;

  constructor(private readonly opts: ChangeGateOptions) {
    this.cols = Math.max(4, opts.cols ?? 64);
  }

  /** True when the frame should be analysed. */
  pass(img: RgbImage, now: number): boolean {
    const cols = Math.min(this.cols, img.width);
    const rows = Math.max(1, Math.min(img.height, Math.round((cols * img.height) / img.width)));
    const n = cols * rows;
    if (!this.cur || this.cur.length !== n) {
      this.cur = new Uint8Array(n);
      this.ref = null;
    }
    const cur = this.cur;
    const src = img.data;
    const sx = img.width / cols;
    const sy = img.height / rows;
    let diff = 0;
    let strong = 0;
    const ref = this.ref;
    for (let r = 0, i = 0; r < rows; r++) {
      const row = Math.floor((r + 0.5) * sy) * img.width;
      for (let c = 0; c < cols; c++, i++) {
        const o = (row + Math.floor((c + 0.5) * sx)) * 3;
        const y = (src[o]! + 2 * src[o + 1]! + src[o + 2]!) >> 2;
        cur[i] = y;
        if (ref) {
          const d = Math.abs(y - ref[i]!);
          diff += d;
          if (d >= POINT_CHANGE) strong++;
        }
      }
    }
    const changed = !ref || diff / n >= this.opts.threshold || strong >= MIN_CHANGED_POINTS;
    if (!changed && now - this.lastPassAt < this.opts.maxSkipMs) return false;
    // The passed frame becomes the reference: swap buffers instead of copying.
    this.cur = this.ref ?? new Uint8Array(n);
    this.ref = cur;
    this.lastPassAt = now;
    return true;
  }
}
