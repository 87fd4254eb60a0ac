import { FrameConnection, type ConnectionContext } from './connection.js';
import type { FrameReply } from './orderedQueue.js';
import { closeCodeFor, closeReason, errorObject, FrameProtocolError, parseAnalyticMessage, SKIP_CODES, type FrameErrorCode } from './protocol.js';

/**
 * One `/ws/<analytic>` connection (the Skylark-style protocol): `{"action":"start_frame",
 * "fileSize":N}` then N bytes as one binary message; `set_batch_size` groups K replies
 * into one JSON list; `set_mode` picks `all` (default: one reply per frame, in order) or
 * `latest`. Results: `{type:"result", analytic, ...result, frame_index,
 * server_processing_time, dropped}` (+ `syncId` when start_frame had one). As the
 * protocol says, a failure breaks the connection: the error reply, then a close with a
 * code and a `CODE: message` reason. Skipped frames are not failures.
 */
export class AnalyticConnection extends FrameConnection {
  private batchSize = 1;
  private batch: object[] = [];
  /** Set by start_frame: the size (and syncId) the next binary message must have. */
  private expecting: { size: number; syncId?: string | number } | undefined;
  /** syncIds of frames still waiting for their reply. */
  private readonly syncIds = new Map<number, string | number>();
  private broken = false;

  constructor(ctx: ConnectionContext, key: string) {
    super(ctx, key);
  }

  protected override latestCapacity(): number {
    return this.batchSize;
  }

  protected override queueCapacity(): number {
    return Math.max(this.ctx.limits.queueFrames, this.batchSize);
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
      mode: this.mode,
      max_batch_size: l.maxBatchSize,
      max_frame_bytes: this.ctx.maxFrameBytes,
      max_fps: l.maxFps,
      queue_frames: this.queueCapacity(),
    };
  }

  override onBinary(bytes: Buffer): void {
    if (this.broken) return;
    const exp = this.expecting;
    this.expecting = undefined;
    if (!exp) {
      this.fail('EXPECTED_START_FRAME', `A binary frame must follow {"action":"start_frame","fileSize":N}; this one (${bytes.length} bytes) came without.`);
      return;
    }
    const index = this.nextIndex++;
    if (bytes.length !== exp.size) {
      this.fail('FILE_SIZE_MISMATCH', `start_frame announced ${exp.size} bytes; the binary message has ${bytes.length}.`, index);
      return;
    }
    if (exp.syncId !== undefined) this.syncIds.set(index, exp.syncId);
    this.submitFrame(bytes, index);
  }

  override onText(text: string): void {
    if (this.broken) return;
    if (this.expecting) {
      this.expecting = undefined;
      this.fail('EXPECTED_BINARY', 'A binary frame was expected after start_frame; a text message came instead.');
      return;
    }
    let msg;
    try {
      msg = parseAnalyticMessage(text, this.ctx.limits);
    } catch (err) {
      if (!(err instanceof FrameProtocolError)) throw err;
      this.fail(err.code, err.message);
      return;
    }
    switch (msg.action) {
      case 'start_frame':
        if (msg.fileSize > this.ctx.maxFrameBytes) {
          this.fail('FRAME_TOO_LARGE', `fileSize ${msg.fileSize} exceeds the limit of ${this.ctx.maxFrameBytes} bytes.`, this.nextIndex);
          return;
        }
        this.expecting = msg.syncId === undefined ? { size: msg.fileSize } : { size: msg.fileSize, syncId: msg.syncId };
        return;
      case 'set_batch_size':
        this.flush();
        this.batchSize = msg.batchSize;
        this.send(this.status('batch_size_updated'));
        return;
      case 'set_mode':
        this.flush();
        this.setMode(msg.mode);
        this.send(this.status('mode_updated'));
        return;
      case 'set_database':
        return;
      case 'ping':
        this.send({ type: 'pong', timestamp: new Date().toISOString() });
        return;
    }
  }

  protected override onReply(reply: FrameReply): void {
    if (this.broken) return;
    if (reply.kind === 'refused') {
      if (SKIP_CODES.has(reply.code)) this.add(this.withSync(reply.index, errorObject(reply.code, reply.message, reply.index)));
      else this.fail(reply.code, reply.message, reply.index);
      return;
    }
    const { outcome } = reply;
    const dropped = this.droppedFor(reply);
    if (!outcome.ok) {
      if (SKIP_CODES.has(outcome.error.code)) this.add(this.withSync(outcome.index, errorObject(outcome.error.code, outcome.error.message, outcome.index)));
      else this.fail(outcome.error.code, outcome.error.message, outcome.index);
      return;
    }
    this.add(this.withSync(outcome.index, { type: 'result', analytic: this.ctx.analyzer.name, ...outcome.result, ...this.meta(outcome, dropped) }));
  }

  private withSync<T extends object>(index: number, o: T): T {
    const sync = this.syncIds.get(index);
    if (sync === undefined) return o;
    this.syncIds.delete(index);
    return { ...o, syncId: sync };
  }

  private add(item: object): void {
    this.batch.push(item);
    if (this.batch.length >= this.batchSize) this.flush();
  }

  /** A failure breaks the connection (the protocol's rule): what the batch holds, the error, then the close. */
  private fail(code: FrameErrorCode, message: string, index?: number): void {
    this.flush();
    this.send(index === undefined ? errorObject(code, message) : this.withSync(index, errorObject(code, message, index)));
    this.broken = true;
    this.end(closeCodeFor(code), closeReason(code, message));
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
