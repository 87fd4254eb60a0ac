import type { Box, Point } from '../../vision/image.js';
import { KF_SIZE } from './kalmanBox.js';

/** Lifecycle of a track: new (not yet confirmed), tracked, lost (kept for re-identification), removed. */
export enum TrackState {
  New = 0,
  Tracked = 1,
  Lost = 2,
  Removed = 3,
}

/** Which point of a box stands for the object: bottom-centre (feet, wheels) by default. */
export type Anchor = 'bottom-center' | 'center' | 'top-center';

/** Writes the anchor of box (x1,y1,x2,y2) into out[0..1]. */
export function anchorOf(x1: number, y1: number, x2: number, y2: number, anchor: Anchor, out: Float64Array | number[]): void {
  out[0] = (x1 + x2) / 2;
  out[1] = anchor === 'bottom-center' ? y2 : anchor === 'top-center' ? y1 : (y1 + y2) / 2;
}

/**
 * One tracked object. Owned by the tracker and mutated in place each update (no
 * per-frame allocation): copy what you keep.
 */
export class Track {
  readonly id: number;
  state: TrackState = TrackState.New;
  /** Smoothed box (Kalman posterior; the prediction while lost), source pixels. */
  readonly box: Box = [0, 0, 0, 0];
  /** The detection box matched in the last update. */
  readonly detBox: Box = [0, 0, 0, 0];
  /** Score of the last matched detection. */
  score = 0;
  /** Confirmed after `minHits` consecutive matches; only confirmed tracks are reported. */
  confirmed = false;
  hits = 0;
  readonly firstSeenMs: number;
  lastSeenMs: number;
  /** Whether a detection matched this track in the last update. */
  matched = false;
  /** Index of that detection in the array passed to update(), -1 when unmatched. */
  detectionIndex = -1;
  /** Kalman state (see kalmanBox.ts). */
  readonly kf = new Float64Array(KF_SIZE);

  private readonly voteLabels: string[] = [];
  private readonly voteCounts: number[] = [];
  private readonly voteScores: number[] = [];
  private majority = 0;

  // History ring: smoothed box and time of each matched update.
  private readonly hBox: Float32Array;
  private readonly hTime: Float64Array;
  private hStart = 0;
  /** Number of entries in the history ring. */
  historyLength = 0;

  constructor(id: number, timestampMs: number, historySize: number) {
    this.id = id;
    this.firstSeenMs = timestampMs;
    this.lastSeenMs = timestampMs;
    this.hBox = new Float32Array(historySize * 4);
    this.hTime = new Float64Array(historySize);
  }

  /** Majority class over the track's matched detections. */
  get label(): string {
    return this.voteLabels[this.majority] ?? '';
  }

  /** Mean detection score of the majority class. */
  get confidence(): number {
    const n = this.voteCounts[this.majority] ?? 0;
    return n > 0 ? this.voteScores[this.majority]! / n : 0;
  }

  /** Records one matched detection's class vote. */
  vote(label: string, score: number): void {
    let i = this.voteLabels.indexOf(label);
    if (i < 0) {
      i = this.voteLabels.length;
      this.voteLabels.push(label);
      this.voteCounts.push(0);
      this.voteScores.push(0);
    }
    this.voteCounts[i] = this.voteCounts[i]! + 1;
    this.voteScores[i] = this.voteScores[i]! + score;
    if (this.voteCounts[i]! > this.voteCounts[this.majority]!) this.majority = i;
  }

  /** Appends the current smoothed box to the history ring. */
  record(timestampMs: number): void {
    const cap = this.hTime.length;
    if (cap === 0) return;
    let slot: number;
    if (this.historyLength < cap) {
      slot = (this.hStart + this.historyLength) % cap;
      this.historyLength++;
    } else {
      slot = this.hStart;
      this.hStart = (this.hStart + 1) % cap;
    }
    const o = slot * 4;
    this.hBox[o] = this.box[0];
    this.hBox[o + 1] = this.box[1];
    this.hBox[o + 2] = this.box[2];
    this.hBox[o + 3] = this.box[3];
    this.hTime[slot] = timestampMs;
  }

  /** The i-th recorded anchor point (0 = oldest kept) into out; returns its timestamp. */
  historyAnchor(i: number, anchor: Anchor, out: Float64Array | number[]): number {
    const cap = this.hTime.length;
    const slot = (this.hStart + i) % cap;
    const o = slot * 4;
    anchorOf(this.hBox[o]!, this.hBox[o + 1]!, this.hBox[o + 2]!, this.hBox[o + 3]!, anchor, out);
    return this.hTime[slot]!;
  }

  /** The i-th recorded smoothed box (0 = oldest kept) into out[0..3]; returns its timestamp. */
  historyBox(i: number, out: Float64Array | number[]): number {
    const slot = (this.hStart + i) % this.hTime.length;
    const o = slot * 4;
    out[0] = this.hBox[o]!; out[1] = this.hBox[o + 1]!; out[2] = this.hBox[o + 2]!; out[3] = this.hBox[o + 3]!;
    return this.hTime[slot]!;
  }

  /** The recorded anchor points, oldest first (allocates: not for hot paths). */
  history(anchor: Anchor = 'bottom-center'): Point[] {
    const pts: Point[] = [];
    const p = [0, 0];
    for (let i = 0; i < this.historyLength; i++) {
      this.historyAnchor(i, anchor, p);
      pts.push([p[0]!, p[1]!]);
    }
    return pts;
  }
}
