import type { Logger } from '../../log.js';
import { isInferenceDropped, toVigilError } from '../../errors.js';
import type { Frame } from '../../streams/frame.js';
import type { Box, RgbImage } from '../../vision/image.js';
import { cropImage } from '../../vision/preprocess.js';
import { ByteTracker, type ByteTrackerOptions } from '../tracker/byteTracker.js';
import type { Observation, StreamAnalytic } from '../types.js';
import { DedupWindow, KnownPlates, type KnownPlate } from './knownPlates.js';
import type { PlateReader } from './reader.js';
import { VehiclePath } from './vehiclePath.js';
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
  path: VehiclePath;
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
    // A weak vote whose text no single read gave (reads that differ in several places, mixed
    // per character) is no plate anyone saw.
    if (!v || !st.crop || v.agreeing < 1) return null;
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
        direction: st.path.direction,
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
    else if (!p.st.path.hasPath && st.path.hasPath) {
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
      // A pause over 10 s (a reconnect) is not the sampling rate.
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
          let st = states.get(tr.id);
          if (!st) {
            st = { vote: new PlateVote(), reads: [], attempts: 0, blind: 0, announced: false, label: det.label, maxScore: 0, path: new VehiclePath(tr.box, det.box), bestConf: -1, crop: null, plateTypes: new Map() };
            states.set(tr.id, st);
          } else if (st.path.add(tr.box, det.box) && st.stableAt !== undefined) {
            // The track's path broke (another vehicle took it over): a stable read waits for the
            // new path to move, as a new track's would.
            st.stableAt = frame.timestamp;
          }
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
          if (st.stableAt !== undefined && (st.path.hasPath || frame.timestamp - st.stableAt >= STILL_MS)) {
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
          if (v && (v.agreeing < minAgreeing || !st.path.hasPath)) park(id, st, v.text, frame.timestamp);
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

/** Whether a box touches the image border (within a pixel). */
function atEdge(b: Box, img: { width: number; height: number }): boolean {
  return b[0] <= 1 || b[1] <= 1 || b[2] >= img.width - 1 || b[3] >= img.height - 1;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
