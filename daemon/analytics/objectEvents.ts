import type { Box, RgbImage } from '../vision/image.js';
import type { Track } from './tracker/track.js';
import type { AnalyticId, Observation } from './types.js';

/** What a tracked object can announce: it appeared, its crop got much better, it left. */
export type TrackEventType = 'appear' | 'update' | 'leave';

/** Options of per-object events (config `analytics.people-counting` / `vehicle-counting`). */
export interface ObjectEventOptions {
  /** Which object events are sent. Default [appear]: one event per object; leaves are summed up in the summary. */
  events?: TrackEventType[];
  /** Frames a confirmed track must be matched in before it is announced. Default 3. */
  confirmFrames?: number;
  /** Best detection score a track needs before it is announced. Default 0.5. */
  confirmScore?: number;
  /** An update is sent when the best score rose by this much since the last event (and `update` is enabled). Default 0.15. */
  updateGain?: number;
  /** Updates per object at most. Default 1. */
  maxUpdates?: number;
  /** Seconds between count summaries; 0 = none. Default 10. */
  intervalS?: number;
}

/** Who the events are about: fixed per stream and analytic. */
export interface ObjectEventContext {
  analyticId: AnalyticId;
  streamId: string;
  areaName: string;
  /** Label of summaries (person, vehicle). */
  summaryLabel: string;
  /** Longest side of an object's crop in its event (a thumbnail); unset: `crops.max_side`. */
  cropMaxSide?: number;
}

interface Tracked {
  firstMs: number;
  lastMs: number;
  frames: number;
  bestScore: number;
  crop: RgbImage | null;
  label: string;
  confidence: number;
  announced: boolean;
  /** Best score when the last event was sent. */
  sentScore: number;
  updates: number;
  cropSent: boolean;
}

/** Leaves listed in one summary at most (the `left` count is always exact). */
const MAX_LEFT_LISTED = 50;

/**
 * Per-object events of counting without lines or zones: one `appear` event once a track is
 * confirmed (with its best crop so far), an optional `update` when the best crop improves a
 * lot, an optional `leave` with the dwell time, and every `interval` seconds one `summary`
 * without a crop (objects in view now, the peak, who appeared and left). The crop travels
 * with a track's first event only: later events of the same object refer to it by track_id.
 */
export class ObjectEvents {
  private readonly events: ReadonlySet<TrackEventType>;
  private readonly confirmFrames: number;
  private readonly confirmScore: number;
  private readonly updateGain: number;
  private readonly maxUpdates: number;
  private readonly intervalMs: number;
  private readonly tracks = new Map<number, Tracked>();
  private lastSummaryMs = NaN;
  private appeared = 0;
  private peak = 0;
  private readonly left: { track_id: number; dwell_s: number }[] = [];
  private leftCount = 0;

  constructor(private readonly ctx: ObjectEventContext, opts: ObjectEventOptions = {}) {
    this.events = new Set(opts.events ?? ['appear']);
    this.confirmFrames = Math.max(1, Math.trunc(opts.confirmFrames ?? 3));
    this.confirmScore = opts.confirmScore ?? 0.5;
    this.updateGain = opts.updateGain ?? 0.15;
    this.maxUpdates = Math.max(0, Math.trunc(opts.maxUpdates ?? 1));
    this.intervalMs = Math.max(0, (opts.intervalS ?? 10) * 1000);
  }

  /**
   * One analysed frame: `tracks` are the tracker's confirmed tracks, `removed` the ids it dropped.
   * `cropOf` cuts a padded copy of a box from the frame (called only when a crop is kept).
   */
  update(timestamp: number, tracks: readonly Track[], removed: readonly number[], cropOf: (box: Box) => RgbImage, out: Observation[]): void {
    for (const id of removed) this.leave(id, timestamp, out);
    let inView = 0;
    for (const t of tracks) {
      if (!t.matched) continue;
      let s = this.tracks.get(t.id);
      if (!s) {
        s = { firstMs: t.firstSeenMs, lastMs: timestamp, frames: 0, bestScore: 0, crop: null, label: t.label, confidence: 0, announced: false, sentScore: 0, updates: 0, cropSent: false };
        this.tracks.set(t.id, s);
      }
      s.frames++;
      s.lastMs = timestamp;
      s.label = t.label;
      s.confidence = t.confidence;
      // Keep the best-looking crop; re-crop only on a clear improvement, and only while an event may still send it.
      if (t.score > s.bestScore + 0.03) {
        s.bestScore = t.score;
        if (!s.cropSent || this.events.has('update')) s.crop = cropOf(t.detBox);
      }
      if (!s.announced && s.frames >= this.confirmFrames && s.bestScore >= this.confirmScore) {
        s.announced = true;
        s.sentScore = s.bestScore;
        this.appeared++;
        if (this.events.has('appear')) out.push(this.objectEvent(t.id, s, 'appear', timestamp));
      } else if (s.announced && this.events.has('update') && s.updates < this.maxUpdates && s.bestScore >= s.sentScore + this.updateGain) {
        s.updates++;
        s.sentScore = s.bestScore;
        s.cropSent = false; // the point of an update is its better crop
        out.push(this.objectEvent(t.id, s, 'update', timestamp));
      }
      if (s.announced) inView++;
    }
    this.peak = Math.max(this.peak, inView);
    this.summary(timestamp, inView, out);
  }

  /** The stream restarted or the analytic closes: tracks are gone (their leaves are counted). */
  reset(timestamp: number, out: Observation[]): void {
    for (const id of [...this.tracks.keys()]) this.leave(id, timestamp, out);
  }

  private leave(id: number, timestamp: number, out: Observation[]): void {
    const s = this.tracks.get(id);
    if (!s) return;
    this.tracks.delete(id);
    if (!s.announced) return;
    const dwell = Math.round((s.lastMs - s.firstMs) / 100) / 10;
    this.leftCount++;
    if (this.left.length < MAX_LEFT_LISTED) this.left.push({ track_id: id, dwell_s: dwell });
    if (this.events.has('leave')) out.push(this.objectEvent(id, s, 'leave', timestamp, dwell));
  }

  private summary(timestamp: number, inView: number, out: Observation[]): void {
    if (this.intervalMs === 0) return;
    if (Number.isNaN(this.lastSummaryMs)) {
      this.lastSummaryMs = timestamp; // the first interval starts with the first frame
      return;
    }
    if (timestamp - this.lastSummaryMs < this.intervalMs) return;
    // On a fixed grid, so that frames arriving late (a loaded box) do not stretch every interval;
    // after a long gap (stream down) the grid restarts at this frame.
    const next = timestamp - this.lastSummaryMs < 2 * this.intervalMs ? this.lastSummaryMs + this.intervalMs : timestamp;
    const c = this.ctx;
    out.push({
      analyticId: c.analyticId, streamId: c.streamId, timestamp, crop: null,
      primaryText: c.summaryLabel, secondaryText: '',
      data: {
        area_name: c.areaName, confidence: 1, label: c.summaryLabel, direction: '', line: '',
        event_type: 'summary', trigger: 'summary', count: inView, max_count: this.peak,
        appeared: this.appeared, left: this.leftCount, left_tracks: this.left.splice(0),
        interval: Math.round((timestamp - this.lastSummaryMs) / 100) / 10,
      },
    });
    this.lastSummaryMs = next;
    this.appeared = this.leftCount = 0;
    this.peak = inView;
  }

  private objectEvent(id: number, s: Tracked, type: TrackEventType, timestamp: number, dwell?: number): Observation {
    const c = this.ctx;
    const crop = !s.cropSent && s.crop ? { image: s.crop, box: [0, 0, s.crop.width, s.crop.height] as Box, maxSide: c.cropMaxSide } : null;
    if (crop) s.cropSent = true;
    return {
      analyticId: c.analyticId, streamId: c.streamId, timestamp, crop,
      primaryText: s.label, secondaryText: '',
      data: {
        area_name: c.areaName, confidence: Math.round(s.confidence * 10000) / 10000, label: s.label, direction: '', line: '',
        event_type: type, trigger: 'track', track_id: id, first_seen: String(Math.trunc(s.firstMs)),
        dwell_s: dwell ?? Math.round((s.lastMs - s.firstMs) / 100) / 10,
      },
    };
  }
}
