import { VigilError } from '../../errors.js';
import type { Box } from '../../vision/image.js';
import { Assignment } from './assignment.js';
import { DEFAULT_WEIGHTS, kfBox, kfInit, kfPredict, kfUpdate, type KalmanWeights } from './kalmanBox.js';
import { Track, TrackState } from './track.js';

/** What the tracker needs from a detection (Detection satisfies it). */
export interface TrackInput {
  box: Box;
  score: number;
  label: string;
}

/** ByteTrack tunables; defaults follow the paper, with time in ms so any sampling rate works. */
export interface ByteTrackerOptions {
  /** Detections at or above this score go to the first association pass. Default 0.5. */
  highThreshold?: number;
  /** Detections between this and highThreshold rescue tracks in the second pass. Default 0.1. */
  lowThreshold?: number;
  /** An unmatched detection starts a track only at or above this score. Default 0.6. */
  newTrackThreshold?: number;
  /** Largest 1-IoU cost (score-fused) accepted in the first pass. Default 0.8. */
  matchThreshold?: number;
  /** Largest 1-IoU cost in the second (low-score) pass. Default 0.5. */
  lowMatchThreshold?: number;
  /** Largest 1-IoU cost for matching unconfirmed tracks. Default 0.7. */
  unconfirmedMatchThreshold?: number;
  /** Consecutive matches before a track is confirmed and reported. Default 2. */
  minHits?: number;
  /** How long a lost track waits to be re-found before it is removed. Default 1500 ms. */
  maxLostMs?: number;
  /**
   * Buffered IoU: boxes grow by this fraction of their size on each side before
   * IoU, so that objects moving far between sparse samples (2-5 fps) still overlap. Default 0.15 (0.3 merged neighbours on the street clip at 2 fps).
   */
  iouBuffer?: number;
  /** Multiply detection score into the first-pass similarity (ByteTrack's fuse_score). Default true. */
  fuseScore?: boolean;
  /** Boxes kept in each track's history ring. Default 64. */
  historySize?: number;
  /** Kalman noise weights relative to box height. */
  kalman?: KalmanWeights;
}

const DEFAULTS: Required<ByteTrackerOptions> = {
  highThreshold: 0.5,
  lowThreshold: 0.1,
  newTrackThreshold: 0.6,
  matchThreshold: 0.8,
  lowMatchThreshold: 0.5,
  unconfirmedMatchThreshold: 0.7,
  minHits: 2,
  maxLostMs: 1500,
  iouBuffer: 0.15,
  fuseScore: true,
  historySize: 64,
  kalman: DEFAULT_WEIGHTS,
};

/**
 * Multi-object tracking by detection, ByteTrack-style: Kalman motion, IoU
 * association of high-score then low-score detections, birth and death by
 * tunables. `update()` returns the confirmed tracks seen or predicted this frame.
 */
export class ByteTracker {
  readonly options: Required<ByteTrackerOptions>;
  private nextId = 1;
  private tracks: Track[] = [];
  private lastMs = NaN;
  private stepMs = NaN;
  private readonly lap = new Assignment();
  private cost = new Float64Array(256);
  // Reused per-update work lists (indices into `tracks` / detections).
  private readonly pool: number[] = [];
  private readonly rest: number[] = [];
  private readonly unconf: number[] = [];
  private readonly high: number[] = [];
  private readonly low: number[] = [];
  private readonly left: number[] = [];
  private readonly detUsed: Uint8Array[] = [new Uint8Array(64)];
  private readonly output: Track[] = [];
  /** Ids of the tracks removed during the last update (confirmed ones only). */
  readonly removedIds: number[] = [];

  constructor(opts: ByteTrackerOptions = {}) {
    this.options = { ...DEFAULTS, ...opts };
    const o = this.options;
    const bad: string[] = [];
    for (const k of ['highThreshold', 'lowThreshold', 'newTrackThreshold', 'matchThreshold', 'lowMatchThreshold', 'unconfirmedMatchThreshold'] as const) {
      if (!(o[k] >= 0 && o[k] <= 1)) bad.push(`${k} must be within 0..1`);
    }
    if (!(o.lowThreshold <= o.highThreshold)) bad.push('lowThreshold must not exceed highThreshold');
    if (!(Number.isInteger(o.minHits) && o.minHits >= 1)) bad.push('minHits must be an integer >= 1');
    if (!(o.maxLostMs >= 0)) bad.push('maxLostMs must be >= 0');
    if (!(o.iouBuffer >= 0 && o.iouBuffer <= 2)) bad.push('iouBuffer must be within 0..2');
    if (!(Number.isInteger(o.historySize) && o.historySize >= 2)) bad.push('historySize must be an integer >= 2');
    if (bad.length) throw new VigilError('VIGIL_ERR_CONFIG', `Invalid tracker options: ${bad.join('; ')}`);
  }

  /** Every live track, including new and lost ones (read-only view). */
  get all(): readonly Track[] {
    return this.tracks;
  }

  /**
   * Feeds one sampled frame's detections (source pixels) taken at `timestampMs`.
   * Returns the confirmed tracks that are tracked now (matched or not-yet-lost);
   * the array is reused by the next call.
   */
  update(dets: readonly TrackInput[], timestampMs: number): Track[] {
    const o = this.options;
    const dt = this.step(timestampMs);
    this.removedIds.length = 0;
    let used = this.detUsed[0]!;
    if (used.length < dets.length) used = this.detUsed[0] = new Uint8Array(dets.length * 2);
    used.fill(0, 0, dets.length);

    // Split detections by score (ByteTrack's two passes).
    const high = this.high, low = this.low;
    high.length = low.length = 0;
    for (let i = 0; i < dets.length; i++) {
      const s = dets[i]!.score;
      if (s >= o.highThreshold) high.push(i);
      else if (s >= o.lowThreshold) low.push(i);
    }

    // Predict every live track; split confirmed/lost (pool) from unconfirmed.
    const pool = this.pool, unconf = this.unconf;
    pool.length = unconf.length = 0;
    for (let t = 0; t < this.tracks.length; t++) {
      const tr = this.tracks[t]!;
      tr.matched = false;
      tr.detectionIndex = -1;
      if (tr.state !== TrackState.Tracked) tr.kf[7] = 0; // a lost box keeps its size
      kfPredict(tr.kf, dt, o.kalman);
      kfBox(tr.kf, tr.box);
      if (tr.confirmed) pool.push(t);
      else unconf.push(t);
    }

    // 1) confirmed + lost tracks vs high-score detections.
    const rest = this.rest;
    this.associate(pool, high, dets, o.matchThreshold, o.fuseScore, timestampMs, rest, o.iouBuffer);
    // 2) still-tracked leftovers vs low-score detections (lost tracks are not rescued by weak boxes).
    const tracked = this.left;
    tracked.length = 0;
    for (const t of rest) if (this.tracks[t]!.state === TrackState.Tracked) tracked.push(t);
    const unmatchedLow: number[] = this.pool; // reuse: pool is consumed
    this.associate(tracked, low, dets, o.lowMatchThreshold, false, timestampMs, unmatchedLow, o.iouBuffer);
    for (const t of unmatchedLow) {
      const tr = this.tracks[t]!;
      if (tr.state === TrackState.Tracked) tr.state = TrackState.Lost;
    }
    // 3) unconfirmed tracks vs the high detections left; an unmatched new track dies.
    const highLeft = this.left;
    highLeft.length = 0;
    for (const d of high) if (!used[d]) highLeft.push(d);
    // A new track has no velocity yet: a wider buffer lets a fast mover make its second match.
    this.associate(unconf, highLeft, dets, o.unconfirmedMatchThreshold, o.fuseScore, timestampMs, rest, 2 * o.iouBuffer);
    for (const t of rest) this.tracks[t]!.state = TrackState.Removed;

    // 4) births from confident unmatched detections.
    for (const d of high) {
      if (used[d]) continue;
      const det = dets[d]!;
      if (det.score < o.newTrackThreshold) continue;
      const tr = new Track(this.nextId++, timestampMs, o.historySize);
      const b = det.box;
      kfInit(tr.kf, b[0], b[1], b[2], b[3], o.kalman);
      this.applyMatch(tr, det, d, timestampMs);
      tr.state = o.minHits <= 1 ? TrackState.Tracked : TrackState.New;
      tr.confirmed = o.minHits <= 1;
      this.tracks.push(tr);
    }

    // 5) deaths: removed now, or lost for too long. Compact in place.
    let w = 0;
    for (let t = 0; t < this.tracks.length; t++) {
      const tr = this.tracks[t]!;
      if (tr.state === TrackState.Lost && timestampMs - tr.lastSeenMs > o.maxLostMs) tr.state = TrackState.Removed;
      if (tr.state === TrackState.Removed) {
        if (tr.confirmed) this.removedIds.push(tr.id);
        continue;
      }
      this.tracks[w++] = tr;
    }
    this.tracks.length = w;

    const out = this.output;
    out.length = 0;
    for (const tr of this.tracks) if (tr.confirmed && tr.state === TrackState.Tracked) out.push(tr);
    return out;
  }

  /** Forgets every track (e.g. after a stream reconnect); ids keep increasing. */
  reset(): void {
    for (const tr of this.tracks) if (tr.confirmed) this.removedIds.push(tr.id);
    this.tracks.length = 0;
    this.lastMs = NaN;
  }

  /** Steps since the last update, against a running estimate of the sampling interval. */
  private step(t: number): number {
    if (Number.isNaN(this.lastMs)) {
      this.lastMs = t;
      return 1;
    }
    const d = t - this.lastMs;
    this.lastMs = t;
    if (!(d > 0)) return 1;
    // The nominal interval follows the median-ish rate: drops do not stretch it much.
    this.stepMs = Number.isNaN(this.stepMs) ? d : this.stepMs + 0.1 * (Math.min(d, 3 * this.stepMs) - this.stepMs);
    return Math.min(20, Math.max(0.1, d / this.stepMs));
  }

  /** Matches `trackIdx` to `detIdx` by buffered IoU; unmatched track indices go to `unmatched`. */
  private associate(trackIdx: number[], detIdx: number[], dets: readonly TrackInput[], limit: number, fuse: boolean, ts: number, unmatched: number[], buf: number): void {
    const n = trackIdx.length, m = detIdx.length;
    if (n === 0 || m === 0) {
      if (unmatched !== trackIdx) {
        unmatched.length = 0;
        for (const t of trackIdx) unmatched.push(t);
      }
      return;
    }
    if (this.cost.length < n * m) this.cost = new Float64Array(Math.max(n * m, this.cost.length * 2));
    const cost = this.cost;
    for (let i = 0; i < n; i++) {
      const b = this.tracks[trackIdx[i]!]!.box;
      for (let j = 0; j < m; j++) {
        const det = dets[detIdx[j]!]!;
        const sim = bufferedIou(b, det.box, buf);
        cost[i * m + j] = 1 - (fuse ? sim * det.score : sim);
      }
    }
    this.lap.solve(cost, n, m, limit);
    const used = this.detUsed[0]!;
    // trackIdx may alias `unmatched` (the caller reuses lists): collect first.
    let k = 0;
    const pending = this.scratch(n);
    for (let i = 0; i < n; i++) {
      const t = trackIdx[i]!;
      const j = this.lap.rowMatch[i]!;
      if (j < 0) { pending[k++] = t; continue; }
      const d = detIdx[j]!;
      used[d] = 1;
      const tr = this.tracks[t]!;
      const b = dets[d]!.box;
      kfUpdate(tr.kf, b[0], b[1], b[2], b[3], this.options.kalman);
      this.applyMatch(tr, dets[d]!, d, ts);
      tr.state = TrackState.Tracked;
      if (!tr.confirmed && tr.hits >= this.options.minHits) tr.confirmed = true;
    }
    unmatched.length = 0;
    for (let i = 0; i < k; i++) unmatched.push(pending[i]!);
  }

  private scratchBuf = new Int32Array(64);
  private scratch(n: number): Int32Array {
    if (this.scratchBuf.length < n) this.scratchBuf = new Int32Array(n * 2);
    return this.scratchBuf;
  }

  private applyMatch(tr: Track, det: TrackInput, d: number, ts: number): void {
    kfBox(tr.kf, tr.box);
    const b = det.box;
    tr.detBox[0] = b[0]; tr.detBox[1] = b[1]; tr.detBox[2] = b[2]; tr.detBox[3] = b[3];
    tr.score = det.score;
    tr.matched = true;
    tr.detectionIndex = d;
    tr.hits++;
    tr.lastSeenMs = ts;
    tr.vote(det.label, det.score);
    tr.record(ts);
  }
}

/** IoU of two x1,y1,x2,y2 boxes after growing each by `b` of its width/height on every side. */
export function bufferedIou(a: Box, c: Box, b: number): number {
  const aw = (a[2] - a[0]) * b, ah = (a[3] - a[1]) * b;
  const cw = (c[2] - c[0]) * b, ch = (c[3] - c[1]) * b;
  const ax1 = a[0] - aw, ay1 = a[1] - ah, ax2 = a[2] + aw, ay2 = a[3] + ah;
  const cx1 = c[0] - cw, cy1 = c[1] - ch, cx2 = c[2] + cw, cy2 = c[3] + ch;
  const iw = Math.min(ax2, cx2) - Math.max(ax1, cx1);
  if (iw <= 0) return 0;
  const ih = Math.min(ay2, cy2) - Math.max(ay1, cy1);
  if (ih <= 0) return 0;
  const inter = iw * ih;
  const union = (ax2 - ax1) * (ay2 - ay1) + (cx2 - cx1) * (cy2 - cy1) - inter;
  return union > 0 ? inter / union : 0;
}
