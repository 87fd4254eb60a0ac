import type { WebSocket } from 'uWebSockets.js';
import type { FrameAnalyzer, FrameResult } from '../../analytics/frameAnalyzers.js';
import type { Logger } from '../../log.js';
import { analyzeFrame, LatestFrameSlot, type FrameOutcome } from './frameProcessor.js';
import { FrameRateLimiter, type ConcurrencyGate, type FrameLimits } from './limits.js';
import { errorReply, FrameProtocolError, type FrameErrorCode } from './protocol.js';

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
  gate: ConcurrencyGate;
  log: Logger;
}

/** What uWS keeps per socket: the connection object (set at upgrade). */
export interface SocketData {
  conn: FrameConnection;
}

const RATE_NOTICE_MS = 250;

/**
 * State and plumbing shared by `/ws/identify` and `/ws/<analytic>`: frame
 * indexes, the rate limiter, the latest-frame slot, liveness, and safe sends.
 * Subclasses decide how text messages parse and how results look.
 */
export abstract class FrameConnection {
  ws: WebSocket<SocketData> | undefined;
  closed = false;
  lastSeen = performance.now();
  lastBeat = performance.now();
  protected nextIndex = 0;
  private protocolErrors = 0;
  private readonly limiter: FrameRateLimiter;
  private readonly slot: LatestFrameSlot;
  private rateRefused = 0;
  private lastRateNotice = -Infinity;

  constructor(protected readonly ctx: ConnectionContext, readonly key: string) {
    this.limiter = new FrameRateLimiter(ctx.limits.maxFps);
    this.slot = new LatestFrameSlot(
      (job) => analyzeFrame(ctx.analyzer, job, ctx.gate, ctx.log),
      (outcome, dropped) => this.onOutcome(outcome, dropped),
      () => this.queueCapacity(),
    );
  }

  /** Sent once the socket is open. */
  abstract greeting(): object | undefined;
  /** A text message arrived. */
  abstract onText(text: string): void;
  /** A frame's analysis ended. */
  protected abstract onOutcome(outcome: FrameOutcome, dropped: number): void;

  /** Drops not yet reported: a failed frame's drops ride on the next good result. */
  private droppedCarry = 0;

  /**
   * Shared outcome bookkeeping: a failed frame gets its error reply (and its drops carried);
   * a good one returns every drop to report with it. Null when the frame failed.
   */
  protected settleOutcome(outcome: FrameOutcome, dropped: number): number | null {
    if (!outcome.ok) {
      this.droppedCarry += dropped;
      this.sendError(outcome.error.code, outcome.error.message, outcome.index);
      return null;
    }
    const all = dropped + this.droppedCarry;
    this.droppedCarry = 0;
    return all;
  }
  /** The periodic liveness tick (heartbeat JSON or a WebSocket ping). */
  abstract beat(): void;

  /** Frames that may wait behind the one in analysis (the batch size on analytic sockets). */
  protected queueCapacity(): number {
    return 1;
  }

  /** A binary message arrived (already copied out of uWS's buffer). */
  onBinary(bytes: Buffer): void {
    this.submitFrame(bytes);
  }

  /** Checks size and rate, then hands the frame to the latest-frame slot. */
  protected submitFrame(bytes: Buffer, index = this.nextIndex++): void {
    if (bytes.length > this.ctx.limits.maxFrameBytes) {
      this.sendError('FRAME_TOO_LARGE', `The frame is ${bytes.length} bytes; the limit is ${this.ctx.limits.maxFrameBytes}.`, index);
      return;
    }
    if (!this.limiter.take()) {
      this.refuseForRate(index);
      return;
    }
    this.protocolErrors = 0;
    this.slot.offer({ index, bytes, receivedAt: performance.now() });
  }

  /** Tells a too-fast sender, at most every 250 ms, how many frames were refused. */
  private refuseForRate(index: number): void {
    this.rateRefused++;
    const now = performance.now();
    if (now - this.lastRateNotice < RATE_NOTICE_MS) return;
    this.lastRateNotice = now;
    const n = this.rateRefused;
    this.rateRefused = 0;
    this.sendError('RATE_LIMITED', `More than ${this.ctx.limits.maxFps} frames a second: ${n} frame(s) refused.`, index);
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
    this.slot.close();
  }

  /** Result fields every reply carries. */
  protected meta(outcome: { index: number; ms: number }, dropped: number): { frame_index: number; server_processing_time: number; dropped: number } {
    return { frame_index: outcome.index, server_processing_time: outcome.ms, dropped };
  }
}

export type { FrameResult };
