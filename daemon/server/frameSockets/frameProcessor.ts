import { isInferenceDropped, isVigilError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { FrameAnalyzer, FrameResult } from '../../analytics/frameAnalyzers.js';
import { decodeImage } from '../../vision/codec.js';
import type { ConcurrencyGate } from './limits.js';
import { FrameProtocolError, roundMs } from './protocol.js';

/** One received frame waiting for analysis. */
export interface FrameJob {
  /** Index of the frame on its connection, counting every frame received (dropped ones too). */
  index: number;
  bytes: Buffer;
  /** performance.now() when the last byte arrived. */
  receivedAt: number;
}

/** What analysing one frame gave: a result, or an error to send back. */
export type FrameOutcome =
  | { ok: true; index: number; result: FrameResult; ms: number }
  | { ok: false; index: number; error: FrameProtocolError };

/**
 * Decodes and analyses one frame under the global gate. Never throws: bad bytes
 * become INVALID_FRAME, anything else PROCESSING_ERROR (logged).
 */
export async function analyzeFrame(analyzer: FrameAnalyzer, job: FrameJob, gate: ConcurrencyGate, log: Logger): Promise<FrameOutcome> {
  try {
    const result = await gate.run(async () => {
      // sharp decodes on the libuv pool and ORT runs on its own threads: the event loop stays free.
      const img = await decodeImage(job.bytes);
      return analyzer.analyze(img);
    });
    return { ok: true, index: job.index, result, ms: roundMs(performance.now() - job.receivedAt) };
  } catch (err) {
    if (err instanceof FrameProtocolError) return { ok: false, index: job.index, error: err };
    if (isVigilError(err) && err.code === 'VIGIL_ERR_INVALID_IMAGE') {
      return { ok: false, index: job.index, error: new FrameProtocolError('INVALID_FRAME', err.message) };
    }
    if (isInferenceDropped(err)) {
      return { ok: false, index: job.index, error: new FrameProtocolError('SERVER_BUSY', 'The frame was dropped: the models are busy; send fewer frames.') };
    }
    log.error({ err, analyzer: analyzer.name }, 'frame analysis failed');
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, index: job.index, error: new FrameProtocolError('PROCESSING_ERROR', `The frame could not be analysed: ${why}`) };
  }
}

/**
 * The per-connection latest-frame slot of mode `latest` (newest frame wins, opt-in):
 * one frame in analysis and at most `capacity()` waiting (the batch size, so a batch
 * can be sent in one burst). A newer frame pushes out the oldest waiting one, which
 * counts as dropped: the client gets its newest frames done and a `dropped` count,
 * never an unbounded queue. The default mode answers every frame (OrderedFrameQueue).
 */
export class LatestFrameSlot {
  private busy = false;
  private pending: FrameJob[] = [];
  private dropped = 0;
  private closed = false;

  constructor(
    private readonly process: (job: FrameJob) => Promise<FrameOutcome>,
    /** Receives each outcome plus the frames dropped since the previous outcome. */
    private readonly deliver: (outcome: FrameOutcome, dropped: number) => void,
    private readonly capacity: () => number = () => 1,
  ) {}

  /** Hands a frame in; returns false when an older waiting frame was dropped for it. */
  offer(job: FrameJob): boolean {
    if (this.closed) return false;
    if (!this.busy) {
      void this.runFrom(job);
      return true;
    }
    this.pending.push(job);
    let kept = true;
    while (this.pending.length > Math.max(1, this.capacity())) {
      this.pending.shift();
      this.dropped++;
      kept = false;
    }
    return kept;
  }

  /** Forgets the waiting frames; an analysis in flight finishes but is not delivered. */
  close(): void {
    this.closed = true;
    this.pending = [];
  }

  private async runFrom(first: FrameJob): Promise<void> {
    this.busy = true;
    let job: FrameJob | undefined = first;
    while (job && !this.closed) {
      const outcome = await this.process(job);
      if (this.closed) break;
      const dropped = this.dropped;
      this.dropped = 0;
      try {
        this.deliver(outcome, dropped);
      } catch {
        // A socket closed under us: nothing to tell anyone, and the loop must not die with it.
      }
      job = this.pending.shift();
    }
    this.busy = false;
  }
}
