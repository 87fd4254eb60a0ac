/** A packed 8-bit RGB image (rgb24, row-major, no padding): what ffmpeg hands us and what analytics read. */
export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, R,G,B per pixel. */
  data: Buffer;
}

/** An axis-aligned box in pixels of the image it was found in: x1, y1 (top-left), x2, y2 (bottom-right). */
export type Box = [number, number, number, number];

/** A point in pixels. */
export type Point = [number, number];
