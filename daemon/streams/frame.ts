import type { RgbImage } from '../vision/image.js';

/** One decoded, sampled frame of a stream, as it leaves streams/. */
export interface Frame extends RgbImage {
  streamId: string;
  /** Frame counter since the stream's ffmpeg child started (resets on reconnect). */
  index: number;
  /** Wall-clock time the frame was read, Unix ms. */
  timestamp: number;
  /** One more holder of the frame's buffer (the live view while it is the newest frame). */
  retain?(): void;
  /**
   * A holder is done: after the last one the buffer carries a later frame. The pipeline releases
   * a frame no analytic saw, or one whose analytics all keep copies (`copiesFrames`); absent
   * when the buffer is not pooled.
   */
  release?(): void;
}
