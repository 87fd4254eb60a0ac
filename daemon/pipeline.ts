import { isInferenceDropped } from './errors.js';
import type { Logger } from './log.js';
import type { Observation, StreamAnalytic } from './analytics/types.js';
import { EventLane } from './events/eventLane.js';
import { ChangeGate, type ChangeGateOptions } from './vision/changeGate.js';
import type { Frame } from './streams/frame.js';
import type { StreamEntry } from '../config/types.js';

/** Per-stream counters shown by status and metrics. */
export interface PipelineStats {
  streamId: string;
  framesIn: number;
  framesAnalysed: number;
  framesDropped: number;
  /** Frames the change gate let pass unanalysed (nothing moved). */
  framesStill?: number;
  observations: number;
  errors: number;
  /** Unix ms when the oldest frame in analysis started, or null when idle. */
  busySince: number | null;
  lastAnalysedAt: number | null;
  /** Mean analysis time of the last frames, ms. */
  analysisMs: number;
  /** Observations found but not yet stored and published. */
  eventBacklog?: number;
  /** Times analysis paused because the event backlog reached `eventBacklog` in PipelineDeps. */
  eventStalls?: number;
}

export interface PipelineDeps {
  log: Logger;
  /** Builds the analytics one stream runs (loads models on first use). */
  createAnalytics(stream: StreamEntry, log: Logger): Promise<StreamAnalytic[]>;
  /**
   * Takes an observation on to events/ and the store in two steps, beside the next frame's
   * analysis; must not throw. The slow part (a crop's JPEG) runs for several waiting
   * observations at once; the delivery it resolves with is called one at a time, in order.
   */
  prepareEmit(obs: Observation, stream: StreamEntry): Promise<() => Promise<void>>;
  /** Observations a stream may have waiting for delivery before its analysis pauses (default 64). */
  eventBacklog?: number;
  /** A change gate in front of every stream's analytics (a stream's `motion_gate` overrides `enabled`). */
  motionGate?: ChangeGateOptions & { enabled: boolean };
}

/** An observation with the stream entry it was found under (its address goes into the event). */
interface Emission {
  obs: Observation;
  entry: StreamEntry;
}

interface Slot {
  entry: StreamEntry;
  log: Logger;
  analytics: StreamAnalytic[];
  ready: Promise<void>;
  pending: Frame | null;
  running: Promise<void> | null;
  /** Wakes a drain waiting with a frame in flight for the next frame to arrive. */
  wake: (() => void) | null;
  /** Start times of the frames in analysis, oldest first (two at most, see drain); `busySince` is the first. */
  starts: number[];
  /** Events in per-stream order, off the frame path; kept across a config change so order holds. */
  lane: EventLane<Emission>;
  /** Skips frames that barely differ from the last analysed one; null when off. */
  gate: ChangeGate | null;
  stats: PipelineStats;
}

/**
 * Runs each stream's analytics on its frames. A stream holds at most one frame waiting:
 * when analysis is slower than the stream's fps, older frames are dropped (and counted)
 * instead of queueing, so one slow stream never delays another or grows memory, and the
 * frame analysed next is always the newest. Observations go to the stream's EventLane:
 * crop encoding, store and publish never hold the next frame's inference.
 */
export class AnalyticsPipeline {
  private readonly slots = new Map<string, Slot>();
  private stopped = false;

  constructor(private readonly deps: PipelineDeps) {}

  /** Adds or replaces a stream's analytics (a config change rebuilds its state); rejects when they cannot be built. */
  async setStream(entry: StreamEntry): Promise<void> {
    const old = this.slots.get(entry.id);
    const log = this.deps.log.child({ component: 'pipeline', stream: entry.id });
    const slot: Slot = {
      entry,
      log,
      analytics: [],
      ready: Promise.resolve(),
      pending: null,
      running: null,
      wake: null,
      starts: [],
      lane: old?.lane ?? this.newLane(log),
      gate: this.gateFor(entry),
      stats: old?.stats ?? emptyStats(entry.id),
    };
    this.slots.set(entry.id, slot);
    if (old) this.closeAnalytics(old);
    let failure: unknown = null;
    slot.ready = this.deps.createAnalytics(entry, log).then(
      (analytics) => {
        if (this.slots.get(entry.id) === slot) slot.analytics = analytics;
        else for (const a of analytics) a.close?.();
      },
      (err: unknown) => {
        failure = err;
        if (this.slots.get(entry.id) === slot) this.slots.delete(entry.id);
      },
    );
    await slot.ready;
    // The caller decides: fatal at start-up, an API error for a stream added live.
    if (failure) throw failure;
  }

  removeStream(id: string): void {
    const slot = this.slots.get(id);
    if (!slot) return;
    this.slots.delete(id);
    this.closeAnalytics(slot);
  }

  /** Called for every decoded frame; never blocks. */
  onFrame(frame: Frame): void {
    const slot = this.slots.get(frame.streamId);
    if (!slot || this.stopped) return;
    slot.stats.framesIn++;
    if (slot.pending) {
      slot.stats.framesDropped++;
      slot.pending.release?.(); // never seen by an analytic: its buffer can take a later frame
    }
    slot.pending = frame;
    if (slot.wake) slot.wake();
    else if (!slot.running) slot.running = this.drain(slot);
  }

  stats(): PipelineStats[] {
    return [...this.slots.values()].map((s) => ({ ...s.stats, busySince: s.starts[0] ?? null, eventBacklog: s.lane.stats.backlog, eventStalls: s.lane.stats.stalls }));
  }

  /** True unless some stream's analysis has been stuck on one frame for `stuckMs`. */
  healthy(stuckMs = 60_000, now = Date.now()): boolean {
    for (const s of this.slots.values()) if (s.starts.length > 0 && now - s.starts[0]! > stuckMs) return false;
    return true;
  }

  /** Lets in-flight frames finish and their events reach the sink (up to `timeoutMs`), then closes every analytic. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopped = true;
    const slots = [...this.slots.values()];
    const running = slots.map((s) => s.running).filter((p): p is Promise<void> => p !== null);
    const flushed = Promise.allSettled(running).then(() => Promise.allSettled(slots.map((s) => s.lane.idle())));
    await Promise.race([flushed, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    for (const slot of this.slots.values()) this.closeAnalytics(slot);
    this.slots.clear();
  }

  /**
   * Analyses the stream's newest frame whenever there is room. When every analytic of the
   * stream `overlaps` and no other stream is in analysis, a second frame starts while the
   * first is still in the model: its input is prepared on this thread while the model runs
   * the first, so the model does not wait for JavaScript. Results still reach the event
   * lane in frame order.
   */
  private async drain(slot: Slot): Promise<void> {
    await slot.ready;
    const depth = slot.analytics.length > 0 && slot.analytics.every((a) => a.overlaps) ? 2 : 1;
    const inflight = new Set<Promise<void>>();
    let previous: Promise<void> = Promise.resolve();
    while (!this.stopped && this.slots.get(slot.entry.id) === slot) {
      if (!slot.pending) {
        if (inflight.size === 0) break;
        // A frame is in the model: wait for it to finish or for the next frame to arrive.
        await Promise.race([...inflight, new Promise<void>((r) => (slot.wake = r))]);
        slot.wake = null;
        continue;
      }
      // Other streams in analysis keep the model busy already: a second frame would only queue there.
      if (inflight.size >= depth || (inflight.size > 0 && this.othersBusy(slot))) {
        await Promise.race(inflight);
        continue;
      }
      // A store that falls behind pauses this stream only; frames arriving meanwhile replace the pending one.
      const room = slot.lane.room();
      if (room) {
        await room;
        continue;
      }
      const frame = slot.pending;
      slot.pending = null;
      if (slot.gate && !slot.gate.pass(frame, frame.timestamp)) {
        slot.stats.framesStill = (slot.stats.framesStill ?? 0) + 1;
        frame.release?.();
        continue;
      }
      const job = this.analyse(slot, frame, previous);
      previous = job;
      inflight.add(job);
      void job.finally(() => inflight.delete(job));
      if (depth === 1) await job;
    }
    // Frames still in analysis only when stopped or replaced; otherwise end now, in the same turn as
    // the check above, so a frame arriving meanwhile finds `running` cleared and starts a new drain.
    if (inflight.size > 0) await Promise.all(inflight);
    slot.running = null;
  }

  private othersBusy(slot: Slot): boolean {
    for (const s of this.slots.values()) if (s !== slot && s.starts.length > 0) return true;
    return false;
  }

  /** Runs one frame through every analytic; its observations join the lane after those of `previous`. */
  private async analyse(slot: Slot, frame: Frame, previous: Promise<void>): Promise<void> {
    const started = Date.now();
    slot.starts.push(started);
    let dropped = false;
    const results = await Promise.all(
      slot.analytics.map((a) =>
        a.process(frame).catch((err: unknown) => {
          // A model queue that dropped the frame (others waited longer): a drop, not a fault.
          if (isInferenceDropped(err)) dropped = true;
          else {
            slot.stats.errors++;
            slot.log.warn({ err, analytic: a.name }, 'analytic failed on a frame; skipping the frame');
          }
          return [] as Observation[];
        }),
      ),
    );
    await previous;
    if (slot.analytics.every((a) => a.copiesFrames) && !cropsPointInto(results, frame)) frame.release?.();
    const took = Date.now() - started;
    slot.starts.splice(slot.starts.indexOf(started), 1);
    if (dropped) slot.stats.framesDropped++;
    else slot.stats.framesAnalysed++;
    slot.stats.lastAnalysedAt = Date.now();
    slot.stats.analysisMs = slot.stats.analysisMs === 0 ? took : slot.stats.analysisMs * 0.9 + took * 0.1;
    // A stream replaced or removed meanwhile: its old analytics' results are stale.
    if (this.slots.get(slot.entry.id) !== slot) return;
    const found = results.flat();
    slot.stats.observations += found.length;
    slot.lane.push(found.map((obs) => ({ obs, entry: slot.entry })));
  }

  private gateFor(entry: StreamEntry): ChangeGate | null {
    const g = this.deps.motionGate;
    const on = entry.motion_gate ?? g?.enabled ?? false;
    return on ? new ChangeGate({ threshold: g?.threshold ?? 4, maxSkipMs: g?.maxSkipMs ?? 5000 }) : null;
  }

  private newLane(log: Logger): EventLane<Emission> {
    return new EventLane<Emission>((e) => this.deps.prepareEmit(e.obs, e.entry), this.deps.eventBacklog ?? 64, log);
  }

  private closeAnalytics(slot: Slot): void {
    for (const a of slot.analytics) {
      try {
        a.close?.();
      } catch (err) {
        slot.log.warn({ err, analytic: a.name }, 'analytic close failed');
      }
    }
    slot.analytics = [];
  }
}

function emptyStats(streamId: string): PipelineStats {
  return { streamId, framesIn: 0, framesAnalysed: 0, framesDropped: 0, observations: 0, errors: 0, busySince: null, lastAnalysedAt: null, framesStill: 0, analysisMs: 0, eventBacklog: 0, eventStalls: 0 };
}

/** Whether an observation's crop still points into the frame's memory (then the frame is kept). */
function cropsPointInto(results: Observation[][], frame: Frame): boolean {
  for (const list of results) for (const o of list) if (o.crop && o.crop.image.data.buffer === frame.data.buffer) return true;
  return false;
}
