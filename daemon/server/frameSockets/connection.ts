import type { WebSocket } from 'uWebSockets.js';
import type { FrameAnalyzer, FrameResult } from '../../analytics/frameAnalyzers.js';
import type { Logger } from '../../log.js';
import { analyzeFrame, LatestFrameSlot } from './frameProcessor.js';
import { FrameRateLimiter, type ConcurrencyGate, type FrameLimits } from './limits.js';
import { OrderedFrameQueue, type FrameReply } from './orderedQueue.js';
import { errorReply, FrameProtocolError, type FrameErrorCode, type FrameMode } from './protocol.js';

/** Close codes a frame socket may end with (4000-4999 are the application's). */
export const CLOSE = {
  GOING_AWAY: 1001,
  POLICY: 1008,
  HEARTBEAT_TIMEOUT: 4000,
  PROTOCOL_BROKEN: 4002,
} as const;

/** Everything a connection needs from the server side. */
export interface ConnectionContext {
  analyzer: FrameAnalyzer;
  limits: FrameLimits;
  /** Largest frame this socket accepts (its protocol's own limit). */
  maxFrameBytes: number;
  /** `?mode=` of the upgrade request: `all` (default) or `latest`. */
  mode: FrameMode;
  gate: ConcurrencyGate;
  log: Logger;
  /** Counts replies by kind for /metrics (optional). */
  count?: (kind: 'result' | 'failed' | 'skipped') => void;
}

/** What uWS keeps per socket: the connection object (set at upgrade). */
export interface SocketData {
  conn: FrameConnection;
}

const RATE_NOTICE_MS = 250;

/**
 * State and plumbing shared by every frame socket: frame indexes, the rate limiter,
 * the frame queue of the connection's mode, liveness, and safe sends. In mode `all`
 * (the default) every frame gets exactly one reply, in order (OrderedFrameQueue); in
 * mode `latest` the newest frame wins and replies carry a `dropped` count
 * (LatestFrameSlot). Subclasses decide how messages parse and how replies look.
 */
export abstract class FrameConnection {
  ws: WebSocket<SocketData> | undefined;
  closed = false;
  lastSeen = performance.now();
  lastBeat = performance.now();
  protected nextIndex = 0;
  protected mode: FrameMode;
  private protocolErrors = 0;
  private readonly limiter: FrameRateLimiter;
  private ordered: OrderedFrameQueue;
  private latest: LatestFrameSlot | undefined;
  private rateRefused = 0;
  private lastRateNotice = -Infinity;

  constructor(protected readonly ctx: ConnectionContext, readonly key: string) {
    this.limiter = new FrameRateLimiter(ctx.limits.maxFps);
    this.mode = ctx.mode;
    this.ordered = this.newOrdered();
    if (this.mode === 'latest') this.latest = this.newLatest();
  }

  /** Sent once the socket is open. */
  abstract greeting(): object | undefined;
  /** A text message arrived. */
  abstract onText(text: string): void;
  /** The one reply of a frame (or, in mode latest, of the frames it stands for). */
  protected abstract onReply(reply: FrameReply): void;
  /** The periodic liveness tick (heartbeat JSON or a WebSocket ping). */
  abstract beat(): void;

  /** Frames that may wait behind the one in analysis. */
  protected queueCapacity(): number {
    return this.ctx.limits.queueFrames;
  }

  /** Frames that may wait in mode latest (the batch size on analytic sockets). */
  protected latestCapacity(): number {
    return 1;
  }

  /** A binary message arrived (already copied out of uWS's buffer). */
  onBinary(bytes: Buffer): void {
    this.submitFrame(bytes);
  }

  /** Switches mode for the frames that follow; frames already queued are answered as before. */
  protected setMode(mode: FrameMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    if (mode === 'latest') this.latest = this.newLatest();
    else {
      this.latest?.close();
      this.latest = undefined;
      this.ordered = this.newOrdered();
    }
  }

  /** Checks size and rate, then queues the frame. */
  protected submitFrame(bytes: Buffer, index = this.nextIndex++): void {
    if (bytes.length > this.ctx.maxFrameBytes) {
      this.refuseFrame(index, 'FRAME_TOO_LARGE', `The frame is ${bytes.length} bytes; the limit of this socket is ${this.ctx.maxFrameBytes}.`);
      return;
    }
    if (!this.limiter.take()) {
      this.refuseForRate(index);
      return;
    }
    this.protocolErrors = 0;
    const job = { index, bytes, receivedAt: performance.now() };
    if (this.latest) this.latest.offer(job);
    else this.ordered.offer(job);
  }

  /** Sends what is no frame's reply after the replies of the frames before it (mode all), or now (mode latest). */
  protected inTurn(fn: () => void): void {
    if (this.latest) fn();
    else this.ordered.after(fn);
  }

  /** A frame that will not be analysed: its reply waits its turn (mode all) or goes now (mode latest). */
  protected refuseFrame(index: number, code: FrameErrorCode, message: string): void {
    if (this.latest) this.onReplyCounted({ kind: 'refused', index, code, message });
    else this.ordered.refuse(index, code, message);
  }

  /** Mode all: every refused frame is answered. Mode latest: a notice at most every 250 ms. */
  private refuseForRate(index: number): void {
    const why = `More than ${this.ctx.limits.maxFps} frames a second on this connection`;
    if (!this.latest) {
      this.ordered.refuse(index, 'RATE_LIMITED', `${why}: frame refused.`);
      return;
    }
    this.rateRefused++;
    const now = performance.now();
    if (now - this.lastRateNotice < RATE_NOTICE_MS) return;
    this.lastRateNotice = now;
    const n = this.rateRefused;
    this.rateRefused = 0;
    this.sendError('RATE_LIMITED', `${why}: ${n} frame(s) refused.`, index);
  }

  /** Replies to a malformed message; too many in a row mean the client lost the protocol: close. */
  protected protocolError(err: FrameProtocolError | { code: FrameErrorCode; message: string }, index?: number): void {
    this.sendError(err.code, err.message, index);
    if (++this.protocolErrors >= this.ctx.limits.maxProtocolErrors) {
      this.end(CLOSE.PROTOCOL_BROKEN, 'too many protocol errors');
    }
  }

  protected sendError(code: FrameErrorCode, message: string, index?: number): void {
    this.send(errorReply(code, message, index));
  }

  /** Sends JSON text unless the socket is gone; a slow reader's overflow is dropped by uWS (maxBackpressure). */
  send(payload: string | object): void {
    if (this.closed || !this.ws) return;
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    try {
      this.ws.send(text, false);
    } catch (err) {
      this.ctx.log.debug({ err }, 'send on a closing frame socket');
    }
  }

  end(code: number, reason: string): void {
    if (this.closed || !this.ws) return;
    try {
      this.ws.end(code, reason);
    } catch {
      // Already closed by the peer in the same tick.
    }
  }

  /** Called from uWS's close handler. */
  onClose(): void {
    this.closed = true;
    this.ws = undefined;
    this.ordered.close();
    this.latest?.close();
  }

  /** Result fields every reply carries. */
  protected meta(outcome: { index: number; ms: number }, dropped: number): { frame_index: number; server_processing_time: number; dropped: number } {
    return { frame_index: outcome.index, server_processing_time: outcome.ms, dropped };
  }

  private droppedCarry = 0;

  /** Mode latest: a failed frame's drops ride on the next good result, so every drop is reported once. */
  protected droppedFor(reply: Extract<FrameReply, { kind: 'outcome' }>): number {
    if (!reply.outcome.ok) {
      this.droppedCarry += reply.dropped;
      return 0;
    }
    const all = reply.dropped + this.droppedCarry;
    this.droppedCarry = 0;
    return all;
  }

  private onReplyCounted(reply: FrameReply): void {
    if (this.ctx.count) {
      const kind = reply.kind === 'refused' ? 'skipped' : reply.outcome.ok ? 'result' : 'failed';
      this.ctx.count(kind);
    }
    this.onReply(reply);
  }

  private newOrdered(): OrderedFrameQueue {
    return new OrderedFrameQueue(
      (job) => analyzeFrame(this.ctx.analyzer, job, this.ctx.gate, this.ctx.log),
      (reply) => this.onReplyCounted(reply),
      () => this.queueCapacity(),
      () => this.end(CLOSE.POLICY, 'too many frames waiting for their replies'),
    );
  }

  private newLatest(): LatestFrameSlot {
    return new LatestFrameSlot(
      (job) => analyzeFrame(this.ctx.analyzer, job, this.ctx.gate, this.ctx.log),
      (outcome, dropped) => this.onReplyCounted({ kind: 'outcome', outcome, dropped }),
      () => this.latestCapacity(),
    );
  }
}

export type { FrameResult };
