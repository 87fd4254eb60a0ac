/**
 * Cuts ffmpeg's rawvideo byte stream into whole frames of exactly frameBytes.
 * A frame lying wholly inside one pipe chunk is handed out as a view (no copy); otherwise
 * the chunks are copied once into a fresh frame buffer (never concatenated chunk by chunk).
 * Each frame owns its bytes: consumers may keep it as long as they like.
 */
export class FrameReader {
  private frameBytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private current: Buffer | undefined;
  private filled = 0;

  constructor(
    private readonly onFrame: (data: Buffer) => void,
    /** Bytes held while the frame size is still unknown before giving up. */
    private readonly maxPendingBytes = 64 * 1024 * 1024,
  ) {}

  /** Sets the frame size (from ffmpeg's output header); bytes held until now are cut. */
  setFrameBytes(bytes: number): void {
    if (!(bytes > 0)) throw new RangeError(`frame size must be positive, got ${bytes}`);
    this.frameBytes = bytes;
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
      this.current ??= Buffer.allocUnsafe(size);
      const copied = chunk.copy(this.current, this.filled, off, Math.min(chunk.length, off + size - this.filled));
      this.filled += copied;
      off += copied;
      if (this.filled === size) {
        const frame = this.current;
        this.current = undefined;
        this.filled = 0;
        this.onFrame(frame);
      }
    }
    return true;
  }

  /** Bytes of an incomplete frame left over (a truncated last frame is dropped). */
  get partialBytes(): number {
    return this.filled;
  }
}
