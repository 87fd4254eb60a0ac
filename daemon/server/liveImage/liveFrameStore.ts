/**
 * The latest frame of each stream and what to draw on it: the one place the live image
 * socket (`/ws/live`) reads from. Main feeds it from the frame path (each frame on its
 * way into the analytics: one reference kept per stream, no copy: frames own their
 * bytes) and hands the socket only the read side, `LiveFrameSource`.
 */
import type { Frame } from '../../streams/frame.js';
import type { Box, RgbImage } from '../../vision/image.js';

/** A box to draw, in pixels of the stream's frame. */
export interface LiveDetection {
  box: Box;
  label?: string;
  trackId?: number | string;
  score?: number;
}

/** Counting lines and zones, normalised 0..1 as in the stream config. */
export interface LiveGeometry {
  lines: { name: string; points: [number, number][] }[];
  zones: { name: string; polygon: [number, number][] }[];
}

/** The latest frame of a stream with its overlay. */
export interface LiveFrame {
  streamId: string;
  /** Grows by one with every frame the store takes for this stream. */
  seq: number;
  /** Unix ms the frame was read. */
  timestamp: number;
  image: RgbImage;
  /** Detections reported for a frame at most `holdMs` older than this one. */
  detections: LiveDetection[];
  /** Changes when the detections change (part of the cache key of annotated encodes). */
  overlayVersion: number;
  geometry: LiveGeometry;
}

/** What the live socket reads: the latest frame of a stream, and which streams have one. */
export interface LiveFrameSource {
  latest(streamId: string): LiveFrame | undefined;
  streamIds(): string[];
}

interface StreamSlot {
  frame: Frame;
  seq: number;
  /** The last report of each source (people and vehicle counting report apart). */
  reports: Map<string, { detections: LiveDetection[]; at: number }>;
  overlayVersion: number;
}

export interface LiveFrameStoreOptions {
  /** Lines and zones of a stream (main: the stream registry's geometry). */
  geometry?: (streamId: string) => LiveGeometry | undefined;
  /** How long reported detections stay drawn without a newer report, ms (default 1500). */
  holdMs?: number;
}

/** Keeps one frame per stream and the detections last reported for it. */
export class LiveFrameStore implements LiveFrameSource {
  private readonly slots = new Map<string, StreamSlot>();
  private readonly holdMs: number;

  constructor(private readonly opts: LiveFrameStoreOptions = {}) {
    this.holdMs = opts.holdMs ?? 1500;
  }

  /** Takes a stream's newest frame (called for every frame; O(1), no copy: holds it until the next one). */
  putFrame(frame: Frame): void {
    frame.retain?.();
    const slot = this.slots.get(frame.streamId);
    if (slot) {
      slot.frame.release?.();
      slot.frame = frame;
      slot.seq++;
    } else {
      this.slots.set(frame.streamId, { frame, seq: 1, reports: new Map(), overlayVersion: 0 });
    }
  }

  /** What an analytic (`source`) found on a stream's frame of `timestamp`, boxes in that frame's pixels; replaces its previous report. */
  putDetections(streamId: string, timestamp: number, detections: LiveDetection[], source = 'analytics'): void {
    const slot = this.slots.get(streamId);
    if (!slot) return;
    slot.reports.set(source, { detections, at: timestamp });
    slot.overlayVersion++;
  }

  /** Forgets a removed stream. */
  removeStream(streamId: string): void {
    this.slots.get(streamId)?.frame.release?.();
    this.slots.delete(streamId);
  }

  latest(streamId: string): LiveFrame | undefined {
    const slot = this.slots.get(streamId);
    if (!slot) return undefined;
    const f = slot.frame;
    const detections: LiveDetection[] = [];
    let stale = 0;
    for (const r of slot.reports.values()) {
      if (f.timestamp - r.at <= this.holdMs) detections.push(...r.detections);
      else stale++;
    }
    return {
      streamId,
      seq: slot.seq,
      timestamp: f.timestamp,
      image: f,
      detections,
      // Reports going stale change what is drawn, so they change the version too.
      overlayVersion: slot.overlayVersion * 16 + stale,
      geometry: this.opts.geometry?.(streamId) ?? { lines: [], zones: [] },
    };
  }

  streamIds(): string[] {
    return [...this.slots.keys()];
  }
}
