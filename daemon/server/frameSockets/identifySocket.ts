import { FrameConnection, type ConnectionContext } from './connection.js';
import type { FrameReply } from './orderedQueue.js';
import { FrameProtocolError, parseIdentifyMessage } from './protocol.js';

/**
 * One `/ws/identify` connection: `{"type":"frame","data":"<base64>"}` in,
 * `{"type":"identification", timestamp, face_detected, match, ...}` out for the
 * largest face; `{"type":"heartbeat"}` every heartbeatS, answered by `{"type":"pong"}`.
 * Every frame gets one reply in order (an error reply for a frame that was refused or
 * failed, `skipped: true` when it was merely not analysed); `{"type":"set_mode",
 * "mode":"latest"}` makes the newest frame win instead. Errors never close the socket.
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
      msg = parseIdentifyMessage(text, this.ctx.maxFrameBytes);
    } catch (err) {
      if (!(err instanceof FrameProtocolError)) throw err;
      // A bad frame still uses an index and answers in its turn, so replies line up with what the client sent.
      const isFrame = err.code === 'INVALID_FRAME' || err.code === 'FRAME_TOO_LARGE';
      if (isFrame) this.refuseFrame(this.nextIndex++, err.code, err.message);
      else this.protocolError(err);
      return;
    }
    switch (msg.type) {
      case 'frame':
        this.submitFrame(msg.data);
        return;
      case 'set_mode':
        this.setMode(msg.mode);
        this.send({ type: 'status', status: 'mode_updated', mode: msg.mode });
        return;
      case 'ping':
        this.send({ type: 'pong', timestamp: new Date().toISOString() });
        return;
      case 'pong':
        return; // lastSeen is already updated by the socket handler
    }
  }

  protected override onReply(reply: FrameReply): void {
    if (reply.kind === 'refused') {
      this.sendError(reply.code, reply.message, reply.index);
      return;
    }
    const { outcome } = reply;
    const all = this.droppedFor(reply);
    if (!outcome.ok) {
      this.sendError(outcome.error.code, outcome.error.message, outcome.index);
      return;
    }
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
