import { FrameConnection, type ConnectionContext } from './connection.js';
import type { FrameOutcome } from './frameProcessor.js';
import { FrameProtocolError, parseIdentifyMessage } from './protocol.js';

/**
 * One `/ws/identify` connection: `{"type":"frame","data":"<base64>"}` in,
 * `{"type":"identification", timestamp, face_detected, match, ...}` out for the
 * largest face; `{"type":"heartbeat"}` every heartbeatS, answered by `{"type":"pong"}`.
 */
export class IdentifyConnection extends FrameConnection {

  constructor(ctx: ConnectionContext, key: string) {
    super(ctx, key);
  }

  override greeting(): undefined {
    // The kiosk clients of this protocol expect nothing on connect; the first heartbeat tells them we are alive.
    return undefined;
  }

  override onText(text: string): void {
    let msg;
    try {
      msg = parseIdentifyMessage(text, this.ctx.limits.maxFrameBytes);
    } catch (err) {
      if (!(err instanceof FrameProtocolError)) throw err;
      // A bad frame still uses an index, so error replies line up with what the client sent.
      const isFrame = err.code === 'INVALID_FRAME' || err.code === 'FRAME_TOO_LARGE';
      if (isFrame) this.sendError(err.code, err.message, this.nextIndex++);
      else this.protocolError(err);
      return;
    }
    switch (msg.type) {
      case 'frame':
        this.submitFrame(msg.data);
        return;
      case 'ping':
        this.send({ type: 'pong', timestamp: new Date().toISOString() });
        return;
      case 'pong':
        return; // lastSeen is already updated by the socket handler
    }
  }

  protected override onOutcome(outcome: FrameOutcome, dropped: number): void {
    const all = this.settleOutcome(outcome, dropped);
    if (all === null || !outcome.ok) return;
    const r = outcome.result;
    this.send({
      type: 'identification',
      timestamp: new Date().toISOString(),
      face_detected: r.face_detected === true,
      match: r.match ?? null,
      ...this.meta(outcome, all),
    });
  }

  override beat(): void {
    this.send({ type: 'heartbeat', timestamp: new Date().toISOString() });
  }
}
