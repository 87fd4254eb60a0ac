import type { Detection } from '../detectors/types.js';
import { isInferenceDropped } from '../errors.js';
import type { RunOptions } from '../inference/types.js';
import type { Logger } from '../log.js';
import type { CounterStore } from '../store/counterStore.js';
import type { Frame } from '../streams/frame.js';
import type { Box, RgbImage } from '../vision/image.js';
import { cropImage } from '../vision/preprocess.js';
import { parseGeometry, type LineConfig, type ZoneConfig } from './geometry/geometryConfig.js';
import { GeometryCounter, type GeometryEvent } from './geometry/geometryCounter.js';
import { ObjectEvents, type ObjectEventOptions } from './objectEvents.js';
import { ByteTracker, type ByteTrackerOptions } from './tracker/byteTracker.js';
import type { Track } from './tracker/track.js';
import type { AnalyticId, AnalyticName, Observation, StreamAnalytic } from './types.js';

/** Anything that finds objects in a frame (the object detector of detectors/objectDetector.ts). */
export interface FrameDetector {
  detect(img: RgbImage, run?: RunOptions): Promise<Detection[]>;
}

/** What main hands a counting analytic. */
export interface CountingDeps {
  /**
   * COCO detector; build it with a low scoreThreshold (0.1) so that ByteTrack's
   * second pass sees weak boxes. Classes outside `classes` are ignored here anyway.
   */
  detector: FrameDetector;
  log: Logger;
  /** Persistent line/zone counters; without it counts live only in events. */
  counters?: CounterStore;
  /** Told what each analysed frame shows (tracks with ids when lines/zones are set), e.g. for the live view. */
  onDetections?: DetectionsListener;
}

/** What a counting analytic saw on one frame: boxes in that frame's pixels. */
export type DetectionsListener = (streamId: string, timestamp: number, source: string, items: { box: Box; label: string; score: number; trackId?: number }[]) => void;

/** Per-stream options of people/vehicle counting (config `analytics.<name>` merged with the stream's lines/zones). */
export interface CountingOptions {
  /** `area_name` of line and presence events (default: the stream id). */
  areaName?: string;
  /** Labels counted (people: [person]; vehicles: [car, motorcycle, bus, truck]). */
  classes?: string[];
  /** Counting lines of this stream. */
  lines?: LineConfig[];
  /** Zones of this stream. */
  zones?: ZoneConfig[];
  /**
   * One event per sampled frame with objects (count + best crop), the older mode; default false.
   * Without it and without lines/zones, each tracked object sends its own events (see `objects`).
   */
  presence?: boolean;
  /** Per-object events and count summaries, used when there are no lines or zones and presence is off. */
  objects?: ObjectEventOptions;
  /** Smallest detection score that counts as present in presence events. Default 0.5. */
  presenceThreshold?: number;
  /** Seconds between occupancy events per zone, unless the zone sets interval_s. Default 0 (off). */
  occupancyInterval?: number;
  /** ByteTrack tunables. */
  tracker?: ByteTrackerOptions;
  /** Extra margin around a crop, fraction of the box size. Default 0.1. */
  cropPadding?: number;
  /**
   * Longest side of an object's crop (presence, line, zone and per-object events): a thumbnail,
   * what the dashboard's feed shows. Zone occupancy crops keep `crops.max_side`. Default 112.
   */
  cropMaxSide?: number;
}

interface Kind {
  name: AnalyticName;
  id: AnalyticId;
  classes: string[];
}

/** Per-track extras the analytic keeps: the best crop seen so far. */
interface TrackExtra {
  bestScore: number;
  crop: RgbImage | null;
}

/**
 * People counting (NFV4-PC). ByteTrack tracks persons. Without lines or zones: one
 * event per tracked person (appear, optionally update/leave) and a count summary every
 * interval; `presence` switches to one event per sampled frame instead. With lines or
 * zones: one event per track per line crossing, zone entry/exit and occupancy events,
 * and persistent counters.
 */
export function createPeopleCounting(deps: CountingDeps, streamId: string, options: CountingOptions = {}): StreamAnalytic {
  return createTrackCounting({ name: 'people-counting', id: 'NFV4-PC', classes: ['person'] }, deps, streamId, options);
}

/** The counting analytic behind people and vehicle counting. */
export function createTrackCounting(kind: Kind, deps: CountingDeps, streamId: string, options: CountingOptions): StreamAnalytic {
  const log = deps.log.child({ component: kind.name, stream: streamId });
  const geometry = parseGeometry({ lines: options.lines ?? [], zones: options.zones ?? [] });
  const classes = new Set(options.classes ?? kind.classes);
  const areaName = options.areaName ?? streamId;
  const geo = new GeometryCounter(geometry);
  const presence = options.presence ?? false;
  const cropMaxSide = options.cropMaxSide ?? 112;
  const objects = geo.empty && !presence
    ? new ObjectEvents({ analyticId: kind.id, streamId, areaName, summaryLabel: kind.classes.length === 1 ? kind.classes[0]! : 'vehicle', cropMaxSide }, options.objects)
    : null;
  const presenceThreshold = options.presenceThreshold ?? 0.5;
  const padding = options.cropPadding ?? 0.1;
  const tracker = new ByteTracker(options.tracker);
  const extras = new Map<number, TrackExtra>();
  const zoneIntervalMs = geometry.zones.map((z) => (z.interval_s ?? options.occupancyInterval ?? 0) * 1000);
  const zoneLastMs = geometry.zones.map(() => NaN);
  const kept: Detection[] = [];
  const geoEvents: GeometryEvent[] = [];
  let lastIndex = -1;
  let lastTracks: readonly Track[] = [];

  if (deps.counters) {
    for (const l of geometry.lines) deps.counters.ensure(streamId, kind.name, 'line', l.name);
    for (const z of geometry.zones) deps.counters.ensure(streamId, kind.name, 'zone', z.name);
  }

  function paddedCrop(img: RgbImage, b: Box): { image: RgbImage; box: Box } {
    const pw = (b[2] - b[0]) * padding, ph = (b[3] - b[1]) * padding;
    const box: Box = [Math.max(0, b[0] - pw), Math.max(0, b[1] - ph), Math.min(img.width, b[2] + pw), Math.min(img.height, b[3] + ph)];
    // A copy: the frame buffer may be reused once process() returns.
    const image = cropImage(img, box);
    return { image, box: [0, 0, image.width, image.height] };
  }

  function presenceEvent(frame: Frame): Observation | null {
    let best: Detection | null = null;
    let count = 0;
    for (const d of kept) {
      if (d.score < presenceThreshold) continue;
      count++;
      if (!best || d.score > best.score) best = d;
    }
    if (!best) return null;
    const label = kind.classes.length === 1 ? kind.classes[0]! : best.label;
    return {
      analyticId: kind.id, streamId, timestamp: frame.timestamp, crop: { ...paddedCrop(frame, best.box), maxSide: cropMaxSide },
      primaryText: label, secondaryText: '',
      data: { area_name: areaName, confidence: round(best.score), label, direction: '', line: '', count, trigger: 'presence' },
    };
  }

  function trackEvent(frame: Frame, ev: GeometryEvent, track: Track): Observation {
    const extra = extras.get(track.id);
    const crop = { ...(extra?.crop ? { image: extra.crop, box: [0, 0, extra.crop.width, extra.crop.height] as Box } : paddedCrop(frame, track.box)), maxSide: cropMaxSide };
    const counterKind = ev.kind === 'line' ? 'line' : 'zone';
    const totals = deps.counters?.add(streamId, kind.name, counterKind, ev.name, ev.inOut, frame.timestamp);
    const isLine = ev.kind === 'line';
    const zi = isLine ? -1 : geo.zoneNames.indexOf(ev.name);
    return {
      analyticId: kind.id, streamId, timestamp: frame.timestamp, crop,
      primaryText: track.label, secondaryText: '',
      data: {
        area_name: isLine ? areaName : ev.name, confidence: round(track.confidence), label: track.label,
        direction: ev.direction, line: isLine ? ev.name : '', track_id: track.id, in_out: ev.inOut,
        // Lines: the running total of this direction; zones: how many are inside now.
        count: isLine ? (totals ? totals[ev.inOut] : undefined) : geo.occupancy[zi],
        trigger: ev.kind,
      },
    };
  }

  function occupancyEvents(frame: Frame, out: Observation[]): void {
    for (let i = 0; i < zoneIntervalMs.length; i++) {
      const every = zoneIntervalMs[i]!;
      const n = geo.occupancy[i] ?? 0;
      deps.counters?.setCurrent(streamId, kind.name, geometry.zones[i]!.name, n);
      if (!(every > 0)) continue;
      if (!Number.isNaN(zoneLastMs[i]!) && frame.timestamp - zoneLastMs[i]! < every) continue;
      zoneLastMs[i] = frame.timestamp;
      const z = geometry.zones[i]!;
      const xs = z.polygon.map((p) => p[0] * frame.width), ys = z.polygon.map((p) => p[1] * frame.height);
      const box: Box = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
      const label = kind.classes.length === 1 ? kind.classes[0]! : 'vehicle';
      out.push({
        analyticId: kind.id, streamId, timestamp: frame.timestamp, crop: paddedCrop(frame, box),
        primaryText: label, secondaryText: '',
        data: { area_name: z.name, confidence: 1, label, direction: '', line: '', count: n, trigger: 'occupancy' },
      });
    }
  }

  /** Per-object events: the tracker's view of this frame, without lines or zones. */
  function trackObjects(frame: Frame, out: Observation[]): void {
    const tracks = tracker.update(kept, frame.timestamp);
    lastTracks = tracks; // the tracker's own array: read only until the next update
    objects!.update(frame.timestamp, tracks, tracker.removedIds, (box) => paddedCrop(frame, box).image, out);
  }

  function track(frame: Frame, out: Observation[]): void {
    const tracks = tracker.update(kept, frame.timestamp);
    lastTracks = tracks; // the tracker's own array: read only until the next update
    for (const id of tracker.removedIds) {
      geo.forget(id);
      extras.delete(id);
    }
    geo.setFrameSize(frame.width, frame.height);
    geoEvents.length = 0;
    for (const t of tracks) {
      if (!t.matched) continue;
      let extra = extras.get(t.id);
      if (!extra) {
        extra = { bestScore: 0, crop: null };
        extras.set(t.id, extra);
      }
      // Keep the best-looking crop; re-crop only on a clear improvement.
      if (t.score > extra.bestScore + 0.03) {
        extra.bestScore = t.score;
        extra.crop = paddedCrop(frame, t.detBox).image;
      }
      const before = geoEvents.length;
      if (!geo.has(t.id)) {
        // Just confirmed: replay where it has been, so a crossing before confirmation counts.
        replayHistory(t);
      } else {
        geo.observe(t.id, t.box[0], t.box[1], t.box[2], t.box[3], geoEvents);
      }
      for (let i = before; i < geoEvents.length; i++) {
        const ev = geoEvents[i]!;
        if (ev.emit) out.push(trackEvent(frame, ev, t));
        else deps.counters?.add(streamId, kind.name, 'zone', ev.name, ev.inOut, frame.timestamp);
      }
    }
    occupancyEvents(frame, out);
  }

  function report(frame: Frame): void {
    const items = geo.empty && !objects
      ? kept.filter((d) => d.score >= presenceThreshold).map((d) => ({ box: d.box, label: d.label, score: round(d.score) }))
      : lastTracks.filter((t) => t.matched && t.confirmed).map((t) => ({ box: [...t.box] as Box, label: t.label, score: round(t.confidence), trackId: t.id }));
    try {
      deps.onDetections?.(streamId, frame.timestamp, kind.name, items);
    } catch (err) {
      log.warn({ err }, 'detections listener failed');
    }
  }

  function replayHistory(t: Track): void {
    const b = [0, 0, 0, 0];
    for (let i = 0; i < t.historyLength; i++) {
      t.historyBox(i, b);
      geo.observe(t.id, b[0]!, b[1]!, b[2]!, b[3]!, geoEvents);
    }
  }

  /** Applies one frame's detections (null: detection failed) to the tracks; frames come in order. */
  function apply(frame: Frame, dets: Detection[] | null): Observation[] {
    const out: Observation[] = [];
    if (frame.index < lastIndex) {
      // The stream reconnected: old tracks cannot continue across the gap.
      tracker.reset();
      for (const id of tracker.removedIds) { geo.forget(id); extras.delete(id); }
      objects?.reset(frame.timestamp, out);
    }
    lastIndex = frame.index;
    if (!dets) return out;
    kept.length = 0;
    for (const d of dets) if (classes.has(d.label)) kept.push(d);
    if (presence) {
      const ev = presenceEvent(frame);
      if (ev) out.push(ev);
    }
    if (!geo.empty) track(frame, out);
    else if (objects) trackObjects(frame, out);
    if (deps.onDetections) report(frame);
    return out;
  }

  /** The previous frame's turn: detections of overlapping frames are applied in call order. */
  let order: Promise<unknown> = Promise.resolve();

  return {
    name: kind.name,
    overlaps: true,
    // Crops are cut as copies (paddedCrop); detections and tracks hold boxes only.
    copiesFrames: true,
    process(frame: Frame): Promise<Observation[]> {
      // The model input is prepared now, while an earlier frame may still be in the model.
      const detected = deps.detector.detect(frame, { stream: streamId }).then(
        (dets) => ({ dets, err: null }),
        (err: unknown) => ({ dets: null, err }),
      );
      const result = order.then(() => detected).then(({ dets, err }) => {
        // Dropped by a model that cannot keep up: the pipeline counts it as a dropped frame.
        if (isInferenceDropped(err)) throw err;
        if (err) log.warn({ err }, 'detection failed; frame skipped');
        return apply(frame, dets);
      });
      order = result.catch(() => undefined);
      return result;
    },
    close(): void {
      tracker.reset();
      extras.clear();
      objects?.reset(Date.now(), []);
    },
  };
}

function round(v: number): number {
  return Math.round(v * 10000) / 10000;
}
