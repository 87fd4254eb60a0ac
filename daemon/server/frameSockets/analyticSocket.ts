import { FrameConnection, type ConnectionContext } from './connection.js';
import type { FrameOutcome } from './frameProcessor.js';
import { FrameProtocolError, parseAnalyticMessage } from './protocol.js';

/**
 * One `/ws/<analytic>` connection: `{"action":"start_frame","fileSize":N}` then N
 * binary bytes (or a bare binary frame); `set_batch_size` groups K results into
 * one JSON list. Every result: `{type:"result", analytic, ...result, frame_index,
 * server_processing_time, dropped}`.
 */
export class AnalyticConnection extends FrameConnection {
  private batchSize = 1;
  private batch: object[] = [];
  /** Set by start_frame: the size the next binary message must have; `discard` after a refused start_frame. */
  private expecting: { size: number; discard: boolean } | undefined;

  constructor(ctx: ConnectionContext, key: string) {
    super(ctx, key);
  }

  protected override queueCapacity(): number {
    return this.batchSize;
  }

  override greeting(): object {
    return this.status('connected');
  }

  private status(status: string): object {
    const l = this.ctx.limits;
    return {
      type: 'status',
      status,
      analytic: this.ctx.analyzer.name,
      batch_size: this.batchSize,
      max_batch_size: l.maxBatchSize,
      max_frame_bytes: l.maxFrameBytes,
      max_fps: l.maxFps,
    };
  }

  override onBinary(bytes: Buffer): void {
    const exp = this.expecting;
    this.expecting = undefined;
    if (!exp) {
      this.submitFrame(bytes);
      return;
    }
    const index = this.nextIndex++;
    if (exp.discard) return; // its FRAME_TOO_LARGE was already sent for the start_frame
    if (bytes.length !== exp.size) {
      this.protocolError({ code: 'FILE_SIZE_MISMATCH', message: `start_frame announced ${exp.size} bytes; the binary message has ${bytes.length}.` }, index);
      return;
    }
    this.submitFrame(bytes, index);
  }

  override onText(text: string): void {
    if (this.expecting) {
      // The announced frame never came: forget it, so the client can start over.
      this.expecting = undefined;
      this.protocolError({ code: 'EXPECTED_BINARY', message: 'A binary frame was expected after start_frame; the announced frame is abandoned.' });
      return;
    }
    let msg;
    try {
      msg = parseAnalyticMessage(text, this.ctx.limits);
    } catch (err) {
      if (err instanceof FrameProtocolError) this.protocolError(err);
      else throw err;
      return;
    }
    switch (msg.action) {
      case 'start_frame':
        if (msg.fileSize > this.ctx.limits.maxFrameBytes) {
          this.expecting = { size: msg.fileSize, discard: true };
          this.sendError('FRAME_TOO_LARGE', `fileSize ${msg.fileSize} exceeds the limit of ${this.ctx.limits.maxFrameBytes} bytes; the frame will be ignored.`);
        } else {
          this.expecting = { size: msg.fileSize, discard: false };
        }
        return;
      case 'set_batch_size':
        this.flush();
        this.batchSize = msg.batchSize;
        this.send(this.status('batch_size_updated'));
        return;
      case 'ping':
        this.send({ type: 'pong', timestamp: new Date().toISOString() });
        return;
    }
  }

  protected override onOutcome(outcome: FrameOutcome, dropped: number): void {
    const all = this.settleOutcome(outcome, dropped);
    if (all === null || !outcome.ok) return;
    this.batch.push({ type: 'result', analytic: this.ctx.analyzer.name, ...outcome.result, ...this.meta(outcome, all) });
    if (this.batch.length >= this.batchSize) this.flush();
  }

  /** Sends what the batch holds: one object when the batch size is 1, else a list. */
  private flush(): void {
    if (this.batch.length === 0) return;
    const out = this.batchSize === 1 && this.batch.length === 1 ? this.batch[0]! : this.batch;
    this.batch = [];
    this.send(out);
  }

  override beat(): void {
    // Clients of this protocol know no heartbeat message: a WebSocket ping is answered by every client library.
    if (this.closed || !this.ws) return;
    try {
      this.ws.ping();
    } catch {
      // closing
    }
  }
}
