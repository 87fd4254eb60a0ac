/** Frame buffers kept for reuse: one waiting, two in analysis, one shown live, one arriving. */
const POOL_MAX = 4;

/**
 * A frame buffer's holders (the pipeline, the live view): each `retain` needs a `release`, and the
 * buffer carries a later frame only after the last one. Extra releases are ignored.
 */
export interface FrameLease {
  retain(): void;
  release(): void;
}

/**
 * Cuts ffmpeg's rawvideo byte stream into whole frames of exactly frameBytes.
 * A frame lying wholly inside one pipe chunk is handed out as a view (no copy); otherwise
 * the chunks are copied once into a frame buffer (never concatenated chunk by chunk), taken
 * from a small pool when every holder released one (a frame dropped unseen, or analysed by
 * analytics that keep copies), else fresh. A frame owns its bytes until its lease is released:
 * consumers may keep it as long as they like.
 */
export class FrameReader {
  private frameBytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private current: Buffer | undefined;
  private filled = 0;
  private readonly pool: Buffer[] = [];
  /** Where a direct read lands while the frame size is unknown (copied out by commit). */
  private staging: Buffer | undefined;
  /** Whether the last readTarget() was the staging buffer. */
  private staged = false;
  /** Frames that reused a released buffer (no allocation). */
  reused = 0;

  constructor(
    /** The lease starts with one holder, the receiver; the buffer is pooled once every holder released it. */
    private readonly onFrame: (data: Buffer, lease?: FrameLease) => void,
    /** Bytes held while the frame size is still unknown before giving up. */
    private readonly maxPendingBytes = 64 * 1024 * 1024,
  ) {}

  /** Sets the frame size (from ffmpeg's output header); bytes held until now are cut. */
  setFrameBytes(bytes: number): void {
    if (!(bytes > 0)) throw new RangeError(`frame size must be positive, got ${bytes}`);
    this.frameBytes = bytes;
    this.pool.length = 0;
    const held = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const chunk of held) this.push(chunk);
  }

  get sizeKnown(): boolean {
    return this.frameBytes > 0;
  }

  /** Feeds a chunk from the pipe; returns false when too much arrived before the size was known. */
  push(chunk: Buffer): boolean {
    if (this.frameBytes === 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return this.pendingBytes <= this.maxPendingBytes;
    }
    const size = this.frameBytes;
    let off = 0;
    while (off < chunk.length) {
      if (this.filled === 0 && chunk.length - off >= size) {
        this.onFrame(chunk.subarray(off, off + size));
        off += size;
        continue;
      }
      const copied = chunk.copy(this.take(), this.filled, off, Math.min(chunk.length, off + size - this.filled));
      this.filled += copied;
      off += copied;
      if (this.filled === size) this.finishFrame();
    }
    return true;
  }

  /**
   * Direct reads (a socket's `onread`): the memory the next read should fill. Once the frame
   * size is known that is the rest of the frame being assembled, so bytes land where the
   * frame lives: no chunk allocation, no copy. Pair every read with commit(n).
   */
  readTarget(): Buffer {
    this.staged = this.frameBytes === 0;
    if (this.staged) return (this.staging ??= Buffer.allocUnsafe(64 * 1024));
    return this.take().subarray(this.filled);
  }

  /** Direct reads: `n` bytes arrived in the buffer readTarget() last gave; false as for push(). */
  commit(n: number): boolean {
    if (this.staged) return this.push(Buffer.from(this.staging!.subarray(0, n))); // size unknown then: held as before
    this.filled += n;
    if (this.filled === this.frameBytes) this.finishFrame();
    return true;
  }

  /** The frame buffer being filled: a released one when there is one, else fresh. */
  private take(): Buffer {
    if (!this.current) {
      const spare = this.pool.pop();
      if (spare) this.reused++;
      this.current = spare ?? Buffer.allocUnsafe(this.frameBytes);
    }
    return this.current;
  }

  private finishFrame(): void {
    const frame = this.current!;
    this.current = undefined;
    this.filled = 0;
    this.onFrame(frame, this.lease(frame));
  }

  private lease(frame: Buffer): FrameLease {
    let holders = 1;
    return {
      retain: () => {
        if (holders > 0) holders++;
      },
      release: () => {
        if (holders === 0 || --holders > 0) return;
        if (frame.length === this.frameBytes && this.pool.length < POOL_MAX) this.pool.push(frame);
      },
    };
  }

  /** Bytes of an incomplete frame left over (a truncated last frame is dropped). */
  get partialBytes(): number {
    return this.filled;
  }
}
