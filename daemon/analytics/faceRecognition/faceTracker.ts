import { iou } from '../../detectors/nms.js';
import type { Box } from '../../vision/image.js';

/** Tracker tunables. */
export interface FaceTrackerOptions {
  /** Lowest IoU to continue a track. Default 0.3. */
  minIou: number;
  /** Frames a track may go unseen before it ends. Default 3. */
  maxMissed: number;
}

/** One tracked face; `T` is what the caller keeps per track (votes, best crop). */
export interface FaceTrack<T> {
  id: number;
  box: Box;
  hits: number;
  missed: number;
  state: T;
}

/**
 * A greedy IoU tracker for faces: at the few fps face recognition samples, a face
 * barely moves between frames, so best-IoU-first association is enough.
 */
export class FaceTracker<T> {
  private tracks: FaceTrack<T>[] = [];
  private nextId = 1;

  constructor(private readonly opts: FaceTrackerOptions, private readonly init: () => T) {}

  /**
   * Associates this frame's boxes with tracks. Returns, per box, its track, and the
   * tracks that ended (unseen for more than maxMissed frames).
   */
  update(boxes: Box[]): { assigned: FaceTrack<T>[]; ended: FaceTrack<T>[] } {
    const pairs: [number, number, number][] = [];
    for (let t = 0; t < this.tracks.length; t++) {
      for (let b = 0; b < boxes.length; b++) {
        const o = iou(this.tracks[t]!.box, boxes[b]!);
        if (o >= this.opts.minIou) pairs.push([o, t, b]);
      }
    }
    pairs.sort((x, y) => y[0] - x[0]);
    const usedT = new Uint8Array(this.tracks.length);
    const assigned: (FaceTrack<T> | undefined)[] = new Array(boxes.length);
    for (const [, t, b] of pairs) {
      if (usedT[t] || assigned[b]) continue;
      usedT[t] = 1;
      const tr = this.tracks[t]!;
      tr.box = boxes[b]!;
      tr.hits++;
      tr.missed = 0;
      assigned[b] = tr;
    }
    const ended: FaceTrack<T>[] = [];
    const alive: FaceTrack<T>[] = [];
    this.tracks.forEach((tr, t) => {
      if (!usedT[t]) tr.missed++;
      (tr.missed > this.opts.maxMissed ? ended : alive).push(tr);
    });
    for (let b = 0; b < boxes.length; b++) {
      if (!assigned[b]) {
        const tr: FaceTrack<T> = { id: this.nextId++, box: boxes[b]!, hits: 1, missed: 0, state: this.init() };
        alive.push(tr);
        assigned[b] = tr;
      }
    }
    this.tracks = alive;
    return { assigned: assigned as FaceTrack<T>[], ended };
  }

  /** Ends every track (stream removed). */
  drain(): FaceTrack<T>[] {
    const all = this.tracks;
    this.tracks = [];
    return all;
  }
}
