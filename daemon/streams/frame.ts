import type { RgbImage } from '../vision/image.js';

/** One decoded, sampled frame of a stream, as it leaves streams/. */
export interface Frame extends RgbImage {
  streamId: string;
  /** Frame counter since the stream's ffmpeg child started (resets on reconnect). */
  index: number;
  /** Wall-clock time the frame was read, Unix ms. */
  timestamp: number;
  /**
   * Hands the frame's buffer back to the reader for a later frame. Only for a frame no
   * analytic has seen (e.g. replaced while waiting); absent when the buffer is not pooled.
   */
  release?(): void;
}
