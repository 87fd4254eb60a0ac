/**
 * The path of one tracked vehicle, for an event's `direction`: votes of its steps, restarted when
 * the track jumps back against it (another vehicle took the track over).
 */
import type { Box } from '../../vision/image.js';

export type Point = [number, number];

const DIRECTIONS = ['Left', 'Right', 'Up', 'Down'] as const;

export class VehiclePath {
  /** Where the current path starts (the tracker's smoothed box centre). */
  private first: Point;
  private last: Point;
  /** The detection's own centre at the last match (the smoothed one lags after a jump). */
  private lastRaw: Point;
  /** Widest smoothed box seen, px: the yardstick of "has moved". */
  private width = 0;
  /** Per-step votes of the dominant motion axis (Left, Right, Up, Down): one jump cannot outvote a path. */
  private steps: [number, number, number, number] = [0, 0, 0, 0];
  /** The path broke and restarts once the smoothed box follows the detection. */
  private settling = false;
  /** The direction (index into DIRECTIONS) of the path before the last break: what a further jump is measured against; -1 none. */
  private way = -1;

  constructor(smoothed: Box, raw: Box) {
    this.first = this.last = centre(smoothed);
    this.lastRaw = centre(raw);
    this.width = smoothed[2] - smoothed[0];
  }

  /**
   * The track's next match: the tracker's smoothed box (a raw box's edges jump with occlusion or
   * a car behind and fake vertical motion) and the detection's own. True when the path broke.
   */
  add(smoothed: Box, raw: Box): boolean {
    const c = centre(smoothed), r = centre(raw);
    this.width = Math.max(this.width, smoothed[2] - smoothed[0]);
    const step = stepIndex(this.last, c);
    let broke = false;
    if (this.jumpsBack(c, step)) {
      // Another vehicle took the track over (or a looped clip restarted): the path starts again,
      // so that `direction` is the current vehicle's.
      this.way = majorityIndex(this.steps, this.way);
      this.steps.fill(0);
      this.settling = true;
      this.first = c;
      broke = true;
    } else if (this.settling && (step < 0 || step !== stepIndex(this.lastRaw, r))) {
      // After a jump the smoothed box glides on towards the new vehicle for a few samples: the
      // path starts once it moves the way the detection does.
      this.first = c;
    } else {
      this.settling = false;
      if (step >= 0) this.steps[step]!++;
    }
    this.last = c;
    this.lastRaw = r;
    return broke;
  }

  /** The yardstick of a real move, px: a quarter of the widest box, at least 8. */
  private get minMove(): number {
    return Math.max(8, this.width / 4);
  }

  private get moved(): boolean {
    return Math.hypot(this.last[0] - this.first[0], this.last[1] - this.first[1]) >= this.minMove;
  }

  /**
   * Whether there is a path to name: the vehicle clearly moved, or its steps did, one way (3 or
   * more, twice all the others: jitter scatters). The second covers a path whose start lies on
   * another vehicle the track was matched to first.
   */
  get hasPath(): boolean {
    if (this.moved) return true;
    let best = 0, sum = 0;
    for (const v of this.steps) { sum += v; best = Math.max(best, v); }
    return best >= 3 && best >= 2 * (sum - best);
  }

  /** The event's `direction`: the way most steps went, '' without a path. */
  get direction(): string {
    return this.hasPath ? majorityDirection(this.steps) : '';
  }

  /**
   * Whether the step to `c` (dominant axis `step`) is a real move (minMove) against the direction
   * the path has taken so far. Jitter stays below the yardstick; a vehicle does not reverse by a
   * quarter of its length between two samples.
   */
  private jumpsBack(c: Point, step: number): boolean {
    if (Math.hypot(c[0] - this.last[0], c[1] - this.last[1]) < this.minMove) return false;
    // A new path without steps of its own yet is held to the one before it.
    const way = majorityIndex(this.steps, this.way);
    // DIRECTIONS pairs opposites: Left/Right, Up/Down.
    return way >= 0 && step === (way ^ 1);
  }
}

function centre(b: Box): Point {
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
}

/** The dominant axis of the move from `a` to `b`, as an index into DIRECTIONS; -1 for a sub-pixel move. */
function stepIndex(a: Point, b: Point): number {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  if (Math.max(Math.abs(dx), Math.abs(dy)) < 1) return -1;
  if (Math.abs(dx) >= Math.abs(dy)) return dx < 0 ? 0 : 1;
  return dy < 0 ? 2 : 3;
}

/** Adds one step's vote: the dominant axis of the move from `a` to `b` (sub-pixel moves don't vote). */
export function stepVote(votes: [number, number, number, number], a: Point, b: Point): void {
  const i = stepIndex(a, b);
  if (i >= 0) votes[i]!++;
}

/** The index of the direction most steps took; `none` when no step voted. */
function majorityIndex(votes: readonly number[], none = -1): number {
  let best = 0;
  for (let i = 1; i < votes.length; i++) if (votes[i]! > votes[best]!) best = i;
  return votes[best]! > 0 ? best : none;
}

/** The direction most steps of the track took. */
export function majorityDirection(votes: readonly number[]): string {
  const i = majorityIndex(votes);
  return i < 0 ? '' : DIRECTIONS[i]!;
}
