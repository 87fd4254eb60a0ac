import type { FrameResult } from '../../analytics/frameAnalyzers.js';
import { FrameConnection, type ConnectionContext } from './connection.js';
import type { FrameReply } from './orderedQueue.js';
import type { FrameErrorCode } from './protocol.js';

/** A MobiledgeX-style face-detection reply, strings where that protocol writes strings. */
export interface MobiledgexReply {
  success: 'true' | 'false';
  /** Milliseconds with 3 decimals, as a string. */
  server_processing_time: string;
  /** `[x1, y1, x2, y2]` per face, only when success is "true" (the protocol omits it otherwise). */
  rects?: number[][];
  /** Vigil's additions on a frame that was not analysed: why, the socket code and the frame's index. */
  error?: string;
  code?: string;
  frame_index?: number;
}

/** `{success, server_processing_time, rects}` from a `face-detect` result (`faces[].box`). */
export function mobiledgexReply(result: FrameResult, ms: number): MobiledgexReply {
  const faces = Array.isArray(result.faces) ? (result.faces as { box: { x1: number; y1: number; x2: number; y2: number } }[]) : [];
  const time = ms.toFixed(3);
  if (faces.length === 0) return { success: 'false', server_processing_time: time };
  return { success: 'true', server_processing_time: time, rects: faces.map((f) => [f.box.x1, f.box.y1, f.box.x2, f.box.y2]) };
}

/** The failure shape: success "false" plus `error` (the protocol's own key for it) and Vigil's code. */
export function mobiledgexError(code: FrameErrorCode | string, message: string, index?: number): MobiledgexReply {
  const r: MobiledgexReply = { success: 'false', server_processing_time: '0.000', error: message, code };
  if (index !== undefined) r.frame_index = index;
  return r;
}

/**
 * One `/ws/detector/detect/` connection (the MobiledgeX face-detection protocol): a
 * binary message is an image, answered `{"success":"true","server_processing_time":
 * "12.345","rects":[[x1,y1,x2,y2],...]}` (or `"success":"false"` without rects when no
 * face); a text message is echoed back unchanged, in its turn. One reply per image, in order; the
 * mode can only be chosen with `?mode=latest` (text is echoed, never parsed).
 */
export class MobiledgexConnection extends FrameConnection {
  constructor(ctx: ConnectionContext, key: string) {
    super(ctx, key);
  }

  override greeting(): undefined {
    return undefined; // the protocol's server says nothing until it is sent something
  }

  override onText(text: string): void {
    // The protocol's server handles messages one by one: the echo comes after the replies of earlier images.
    this.inTurn(() => this.send(text));
  }

  protected override onReply(reply: FrameReply): void {
    if (reply.kind === 'refused') {
      this.send(mobiledgexError(reply.code, reply.message, reply.index));
      return;
    }
    const { outcome } = reply;
    if (!outcome.ok) {
      this.send(mobiledgexError(outcome.error.code, outcome.error.message, outcome.index));
      return;
    }
    this.send(mobiledgexReply(outcome.result, outcome.ms));
  }

  override beat(): void {
    if (this.closed || !this.ws) return;
    try {
      this.ws.ping();
    } catch {
      // closing
    }
  }
}
