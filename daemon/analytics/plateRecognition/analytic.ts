import type { Logger } from '../../log.js';
import { isInferenceDropped, toVigilError } from '../../errors.js';
import type { Frame } from '../../streams/frame.js';
import type { Box, RgbImage } from '../../vision/image.js';
import { cropImage } from '../../vision/preprocess.js';
import { ByteTracker, type ByteTrackerOptions } from '../tracker/byteTracker.js';
import type { Observation, StreamAnalytic } from '../types.js';
import { DedupWindow, KnownPlates, type KnownPlate } from './knownPlates.js';
import type { PlateReader } from './reader.js';
import { PlateVote, type VoteRead } from './vote.js';

/** Per-stream options of `plate-recognition` (config), with defaults. */
export interface PlateRecognitionOptions {
  /** `area_name` of the events. Default ''. */
  areaName?: string;
  /** Reads that must agree before a track's plate is announced. Default 3. */
  minAgreeing?: number;
  /** The same plate on this stream is not re-announced within this window. Default 300000 (5 min). */
  dedupWindowMs?: number;
  /** Watch list with wildcards; a match adds status/tags to the event. */
  knownPlates?: KnownPlate[];
  /** Reads that find a plate are tried at most this often per track, reads that find none twice as often; later frames only track. Default 12. */
  maxReadsPerTrack?: number;
  /** Reads below this mean character confidence are not voted. Default 0.5. */
  minReadConfidence?: number;
  /** Vehicle tracker tunables (ByteTrack). */
  tracker?: ByteTrackerOptions;
}

/** Vote state of one tracked vehicle. */
interface TrackState {
  vote: PlateVote;
  /** The reads voted so far, kept so that a later track of the same vehicle can take them over. */
  reads: VoteRead[];
  /** Reads tried that found a plate, and tried that found none (see maxReadsPerTrack). */
  attempts: number;
  blind: number;
  announced: boolean;
  label: string;
  maxScore: number;
  first: [number, number];
  last: [number, number];
  /** The detection's own centre at the last match (the smoothed one lags after a jump). */
  lastRaw: [number, number];
  /** The path broke (see jumpsBack) and restarts once the smoothed box follows the detection. */
  settling: boolean;
  /** The direction of the path before the last break: what a further jump is measured against. */
  way: string;
  /** Widest smoothed box seen, px: the yardstick of "has moved". */
  width: number;
  /** Per-step votes of the dominant motion axis (Left, Right, Up, Down): one jump cannot outvote a path. */
  steps: [number, number, number, number];
  /** When the vote first reached the agreement bar. */
  stableAt?: number;
  bestConf: number;
  crop: RgbImage | null;
  plateTypes: Map<string, number>;
}

/** The NFV4-LPR stream analytic: track vehicles, read plates, vote per track, dedup, announce. */
export interface PlateRecognitionAnalytic extends StreamAnalytic {
  /** Announces the tracks still pending (end of stream); also called by close(). */
  flush(timestampMs?: number): Observation[];
}

/**
 * Builds the per-stream plate analytic over a shared PlateReader (main builds one
 * reader per model choice and hands it to every stream that enables plates).
 */
export function createPlateRecognition(reader: PlateReader, opts: PlateRecognitionOptions = {}, log?: Logger): PlateRecognitionAnalytic {
  const minAgreeing = Math.max(1, opts.minAgreeing ?? 3);
  const maxReads = opts.maxReadsPerTrack ?? 12;
  const minConf = opts.minReadConfidence ?? 0.5;
  const areaName = opts.areaName ?? '';
  const known = new KnownPlates(opts.knownPlates ?? []);
  const dedup = new DedupWindow(opts.dedupWindowMs ?? 300_000);
  // Few samples per second at most: new tracks after one hit, and a generous buffer.
  const tracker = new ByteTracker({ minHits: 1, maxLostMs: 2000, ...opts.tracker });
  const states = new Map<number, TrackState>();
  // Ended tracks too weak to announce (below the agreement bar, or no direction yet), by plate:
  // a vehicle whose track broke (occlusion, a slow frame, an ID switch) usually reappears as a
  // new track within moments; that track takes the reads over, so one event carries the plate
  // and its path, and the fragment does not hold the dedup window with an empty direction.
  const parked = new Map<string, { id: number; st: TrackState; endedAt: number }>();
  let streamId = '';
  let lastTs = 0;
  // Mean time between analysed frames (a saturated box samples a stream a second or more apart).
  let sampleMs = 0;

  function announce(id: number, st: TrackState, ts: number): Observation | null {
    st.announced = true;
    const v = st.vote.result();
    if (!v || !st.crop) return null;
    if (dedup.isDuplicate(v.text, ts)) return null;
    // Reads below the agreement bar a few characters from a plate announced moments ago are most
    // likely that plate misread (a car behind it, a partly hidden plate): not a second vehicle.
    if (v.agreeing < minAgreeing) {
      const near = dedup.nearMiss(v.text, ts, NEAR_MISS_MS);
      if (near !== undefined) {
        log?.debug({ stream: streamId, plate: v.text, near, reads: v.reads }, 'weak plate read taken as a misread of a recent plate');
        return null;
      }
    }
    dedup.mark(v.text, ts);
    const k = known.match(v.text);
    let plateType = '';
    let n = 0;
    for (const [t, c] of st.plateTypes) if (c > n) { n = c; plateType = t; }
    return {
      analyticId: 'NFV4-LPR',
      streamId,
      timestamp: ts,
      crop: { image: st.crop, box: [0, 0, st.crop.width, st.crop.height] },
      primaryText: v.text,
      secondaryText: st.label,
      data: {
        label: st.label,
        area_name: areaName,
        direction: hasPath(st) ? majorityDirection(st.steps) : '',
        confidence: round3(st.maxScore),
        plate_type: plateType,
        plate_number: v.text,
        plate_confidence: round3(v.confidence),
        status: k.status,
        tags: k.tags,
        ...(k.known_plate ? { known_plate: k.known_plate } : {}),
        ...(k.name ? { name: k.name } : {}),
        track_id: id,
        reads: v.reads,
      },
    };
  }

  /**
   * A weak ended track waits for a new one of its plate. A second fragment of the same plate joins
   * the first; the event then takes the path of whichever has one (the first may be a car seen
   * only for a moment).
   */
  function park(id: number, st: TrackState, text: string, ts: number): void {
    const p = parked.get(text);
    if (!p) parked.set(text, { id, st, endedAt: ts });
    else if (!hasPath(p.st) && hasPath(st)) {
      takeReads(st, p.st);
      p.id = id;
      p.st = st;
    } else takeReads(p.st, st);
  }

  /** A live track now reading a parked plate takes over its reads (its own path gives the direction). */
  function adoptParked(st: TrackState): void {
    const text = parked.size ? st.vote.result()?.text : undefined;
    const p = text === undefined ? undefined : parked.get(text);
    if (!p) return;
    parked.delete(text!);
    takeReads(st, p.st);
  }

  async function readUnlessDropped(...args: Parameters<PlateReader['readVehicle']>): Promise<Awaited<ReturnType<PlateReader['readVehicle']>> | undefined> {
    try {
      return await reader.readVehicle(...args);
    } catch (err) {
      if (isInferenceDropped(err)) return undefined;
      throw err;
    }
  }

  return {
    name: 'plate-recognition',
    async process(frame: Frame): Promise<Observation[]> {
      streamId = frame.streamId;
      const gap = frame.timestamp - lastTs;
      if (lastTs > 0 && gap > 0 && gap < 10_000) sampleMs = sampleMs ? sampleMs + (gap - sampleMs) / 8 : gap;
      lastTs = frame.timestamp;
      const out: Observation[] = [];
      try {
        const run = { stream: frame.streamId };
        const dets = await reader.detectVehicles(frame, run);
        const tracks = tracker.update(dets, frame.timestamp);
        for (const tr of tracks) {
          if (tr.detectionIndex < 0) continue;
          const det = dets[tr.detectionIndex]!;
          // The tracker's smoothed box: a raw box's edges jump (occlusion, a car behind) and fake vertical motion.
          const c = centre(tr.box);
          const raw = centre(det.box);
          let st = states.get(tr.id);
          if (!st) {
            st = { vote: new PlateVote(), reads: [], attempts: 0, blind: 0, announced: false, label: det.label, maxScore: 0, first: c, last: c, lastRaw: raw, settling: false, way: '', width: 0, steps: [0, 0, 0, 0], bestConf: -1, crop: null, plateTypes: new Map() };
            states.set(tr.id, st);
          }
          st.width = Math.max(st.width, tr.box[2] - tr.box[0]);
          if (jumpsBack(st, c)) {
            // The box jumped back against the path: another vehicle took the track over (or a looped
            // clip restarted). The path starts again, so `direction` is the current vehicle's; a
            // stable read then waits for this path to move, as a new one would.
            st.way = majorityDirection(st.steps) || st.way;
            st.steps = [0, 0, 0, 0];
            st.settling = true;
            st.first = c;
            if (st.stableAt !== undefined) st.stableAt = frame.timestamp;
          } else if (st.settling && (stepWay(st.last, c) === '' || stepWay(st.last, c) !== stepWay(st.lastRaw, raw))) {
            // After a jump the smoothed box glides on towards the new vehicle for a few samples: the
            // path starts once it moves the way the detection does.
            st.first = c;
          } else {
            st.settling = false;
            stepVote(st.steps, st.last, c);
          }
          st.last = c;
          st.lastRaw = raw;
          st.label = tr.label;
          st.maxScore = Math.max(st.maxScore, det.score);
          if (st.announced) continue;
          // Plate work only for vehicles not yet read confidently: a stable vote stops the reads.
          if (st.attempts < maxReads && st.blind < 2 * maxReads && st.stableAt === undefined) {
            const read = await readUnlessDropped(frame, det, run);
            // Dropped by the model queue (undefined): nothing spent, the next frame reads again; the
            // rest of this frame (other vehicles, ended tracks) goes on. No plate found: a car
            // entering before its plate shows has a larger allowance than reads.
            if (read === null) st.blind++;
            else if (read) st.attempts++;
            // A plate cut by the frame's edge (a car entering or leaving) reads as some other plate.
            if (read && read.confidence >= minConf && !atEdge(read.box, frame)) {
              st.vote.add(read);
              st.reads.push(read);
              adoptParked(st);
              st.plateTypes.set(read.plate_type, (st.plateTypes.get(read.plate_type) ?? 0) + 1);
              if (read.confidence > st.bestConf) {
                st.bestConf = read.confidence;
                st.crop = cropImage(frame, det.box);
              }
            }
          }
          // A stable plate waits until the vehicle has a path (hasPath), so that `direction`
          // reflects its motion, not box jitter; but a car waiting at a barrier is announced
          // after STILL_MS without one, and a track that ends is announced anyway.
          const v = st.vote.result();
          if (v && v.agreeing >= minAgreeing) st.stableAt ??= frame.timestamp;
          if (st.stableAt !== undefined && (hasPath(st) || frame.timestamp - st.stableAt >= STILL_MS)) {
            const o = announce(tr.id, st, frame.timestamp);
            if (o) out.push(o);
          }
        }
        // Tracks that ended: announce what their reads say, even below the agreement bar; a weak
        // one waits PARK_MS (PARK_SAMPLES) for a new track of the same plate first.
        for (const id of tracker.removedIds) {
          const st = states.get(id);
          states.delete(id);
          if (!st || st.announced) continue;
          const v = st.vote.result();
          if (v && (v.agreeing < minAgreeing || !hasPath(st))) park(id, st, v.text, frame.timestamp);
          else {
            const o = announce(id, st, frame.timestamp);
            if (o) out.push(o);
          }
        }
        for (const [text, p] of parked) {
          // On a slowly sampled stream (a saturated box) the new track needs longer for its reads.
          if (frame.timestamp - p.endedAt < Math.max(PARK_MS, PARK_SAMPLES * sampleMs)) continue;
          parked.delete(text);
          const o = announce(p.id, p.st, frame.timestamp);
          if (o) out.push(o);
        }
        for (const id of [...states.keys()]) if (!tracker.all.some((t) => t.id === id)) states.delete(id);
      } catch (err) {
        // Vehicle detection dropped by the model queue, before anything changed: the pipeline
        // counts the frame as dropped. Reads dropped later do not get here (readUnlessDropped).
        if (isInferenceDropped(err)) throw err;
        // A bad frame must not stop the stream.
        log?.warn({ err: toVigilError(err), stream: frame.streamId }, 'plate recognition failed on a frame');
      }
      return out;
    },
    flush(timestampMs = lastTs): Observation[] {
      const out: Observation[] = [];
      for (const { id, st } of parked.values()) {
        const o = announce(id, st, timestampMs);
        if (o) out.push(o);
      }
      parked.clear();
      for (const [id, st] of states) {
        if (st.announced) continue;
        const o = announce(id, st, timestampMs);
        if (o) out.push(o);
      }
      states.clear();
      return out;
    },
    close(): void {
      states.clear();
      parked.clear();
    },
  };
}

/** How long a stable read waits for motion before it is announced without a direction. */
const STILL_MS = 2000;
/** How long a weak ended track waits for a new track of the same plate before it is announced alone. */
const PARK_MS = 3000;
/** ... and at least this many analysed frames of the stream. */
const PARK_SAMPLES = 10;
/** How far back a weak read looks for the announced plate it may be a misread of. */
const NEAR_MISS_MS = 15_000;

/** Adds the reads (votes, plate types, best vehicle score) of `from` to `into`. */
function takeReads(into: TrackState, from: TrackState): void {
  for (const r of from.reads) { into.vote.add(r); into.reads.push(r); }
  for (const [t, c] of from.plateTypes) into.plateTypes.set(t, (into.plateTypes.get(t) ?? 0) + c);
  into.maxScore = Math.max(into.maxScore, from.maxScore);
}

/** The yardstick of a real move, px: a quarter of the widest box, at least 8. */
function minMove(st: { width: number }): number {
  return Math.max(8, st.width / 4);
}

function moved(st: { first: [number, number]; last: [number, number]; width: number }): boolean {
  return Math.hypot(st.last[0] - st.first[0], st.last[1] - st.first[1]) >= minMove(st);
}

/**
 * Whether the track has a path to name: it clearly moved, or its steps did, one way (3 or more,
 * twice all the others: jitter scatters). The second covers a path whose start lies on another
 * vehicle the track was matched to first.
 */
function hasPath(st: { first: [number, number]; last: [number, number]; width: number; steps: readonly number[] }): boolean {
  if (moved(st)) return true;
  let best = 0, sum = 0;
  for (const v of st.steps) { sum += v; best = Math.max(best, v); }
  return best >= 3 && best >= 2 * (sum - best);
}

/**
 * Whether the step to `c` is a real move (see minMove) against the direction the path has taken
 * so far. Jitter stays below the yardstick; a vehicle does not reverse by a quarter of its length
 * between two samples.
 */
function jumpsBack(st: { last: [number, number]; width: number; steps: readonly number[]; way: string }, c: [number, number]): boolean {
  const dx = c[0] - st.last[0], dy = c[1] - st.last[1];
  if (Math.hypot(dx, dy) < minMove(st)) return false;
  // A new path without steps of its own yet is held to the one before it.
  const way = majorityDirection(st.steps) || st.way;
  if (way === 'Left' || way === 'Right') return Math.abs(dx) >= Math.abs(dy) && (dx > 0) === (way === 'Left');
  if (way === 'Up' || way === 'Down') return Math.abs(dy) > Math.abs(dx) && (dy > 0) === (way === 'Up');
  return false;
}

/** Whether a box touches the image border (within a pixel). */
function atEdge(b: Box, img: { width: number; height: number }): boolean {
  return b[0] <= 1 || b[1] <= 1 || b[2] >= img.width - 1 || b[3] >= img.height - 1;
}

function centre(b: Box): [number, number] {
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
}

const DIRECTIONS = ['Left', 'Right', 'Up', 'Down'] as const;

/** The dominant axis of the move from `a` to `b`, as an index into DIRECTIONS; -1 for a sub-pixel move. */
function stepIndex(a: [number, number], b: [number, number]): number {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  if (Math.max(Math.abs(dx), Math.abs(dy)) < 1) return -1;
  if (Math.abs(dx) >= Math.abs(dy)) return dx < 0 ? 0 : 1;
  return dy < 0 ? 2 : 3;
}

function stepWay(a: [number, number], b: [number, number]): string {
  const i = stepIndex(a, b);
  return i < 0 ? '' : DIRECTIONS[i]!;
}

/** Adds one step's vote: the dominant axis of the move from `a` to `b` (sub-pixel moves don't vote). */
export function stepVote(votes: [number, number, number, number], a: [number, number], b: [number, number]): void {
  const i = stepIndex(a, b);
  if (i >= 0) votes[i]!++;
}

/** The direction most steps of the track took. */
export function majorityDirection(votes: readonly number[]): string {
  let best = 0;
  for (let i = 1; i < votes.length; i++) if (votes[i]! > votes[best]!) best = i;
  return votes[best]! > 0 ? DIRECTIONS[best]! : '';
}

/** Dominant axis of the motion from the first to the last sighting; '' when it barely moved. */
export function direction(first: [number, number], last: [number, number], minPx = 8): string {
  const dx = last[0] - first[0], dy = last[1] - first[1];
  if (Math.max(Math.abs(dx), Math.abs(dy)) < minPx) return '';
  if (Math.abs(dx) >= Math.abs(dy)) return dx > 0 ? 'Right' : 'Left';
  return dy > 0 ? 'Down' : 'Up';
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
