import { iou, nms } from '../detectors/nms.js';
import type { Detection } from '../detectors/types.js';
import type { RunOptions } from '../inference/types.js';
import type { Box, RgbImage } from '../vision/image.js';
import { cropImage } from '../vision/preprocess.js';

/** Anything that finds objects in an image (detectors/objectDetector.ts). */
export interface TileDetector {
  detect(img: RgbImage, run?: RunOptions): Promise<Detection[]>;
}

/** How a frame is split into tiles. */
export interface TilingOptions {
  /** Tile side in source pixels (square tiles, clipped at the frame edge). Default 320. */
  tileSize?: number;
  /** Overlap between neighbouring tiles, fraction of the tile side (0..0.9). Default 0.25. */
  overlap?: number;
  /** Also run one pass over the whole frame, for people too large for a tile (tile boxes cut by a tile edge are dropped). Default true. */
  fullFrame?: boolean;
  /** Boxes overlapping more than this (IoU) are one object. Default 0.5. */
  nmsIou?: number;
  /**
   * A box mostly inside a better one (intersection over the smaller box above this)
   * is the same object cut by a tile edge. Default 0.75.
   */
  containIou?: number;
}

/**
 * Tiles covering a width x height frame: `size`-px squares stepping by size x (1 - overlap),
 * the last row/column pushed back against the edge so that every tile is full size.
 */
export function tileGrid(width: number, height: number, size: number, overlap: number): Box[] {
  const starts = (len: number): number[] => {
    if (len <= size) return [0];
    const step = Math.max(1, Math.round(size * (1 - overlap)));
    const out: number[] = [];
    for (let s = 0; s + size < len; s += step) out.push(s);
    out.push(len - size);
    return out;
  };
  const tiles: Box[] = [];
  for (const y of starts(height)) for (const x of starts(width)) tiles.push([x, y, Math.min(width, x + size), Math.min(height, y + size)]);
  return tiles;
}

/** Intersection of two boxes over the area of the smaller one. */
export function intersectionOverSmaller(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const small = Math.min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]));
  return small > 0 ? (iw * ih) / small : 0;
}

/**
 * Merges detections gathered from overlapping tiles (already in frame pixels): class-wise
 * NMS, then drops a box mostly contained in a better-scored one of the same class (a person
 * cut in half by a tile edge shows as a partial box inside the full one from a neighbour tile).
 */
export function mergeTileDetections(dets: Detection[], nmsIou = 0.5, containIou = 0.75): Detection[] {
  const kept = nms(dets, nmsIou, { maxOut: 10_000 });
  const out: Detection[] = [];
  for (const d of kept) {
    // `kept` is sorted best first, so every earlier survivor outranks d.
    const dup = out.some((o) => o.classId === d.classId && (intersectionOverSmaller(o.box, d.box) > containIou || iou(o.box, d.box) > nmsIou));
    if (!dup) out.push(d);
  }
  return out;
}

/** Whether a box (tile pixels) touches an edge of tile `t` that lies inside the frame. */
function cutByTileEdge(b: Box, t: Box, width: number, height: number): boolean {
  // Box edges of a clipped person land a few pixels short of the tile edge.
  const margin = Math.max(3, Math.round((t[2] - t[0]) * 0.02));
  return (t[0] > 0 && b[0] <= margin) || (t[1] > 0 && b[1] <= margin)
    || (t[2] < width && b[2] >= t[2] - t[0] - margin) || (t[3] < height && b[3] >= t[3] - t[1] - margin);
}

/**
 * Tiled detection: the frame split into overlapping tiles, each run through the detector at
 * the model's input size (so small, far people get enough pixels), boxes mapped back to
 * frame pixels and merged across tiles. One pass when the frame fits in one tile.
 */
export async function detectTiled(detector: TileDetector, img: RgbImage, opts: TilingOptions = {}, run?: RunOptions): Promise<Detection[]> {
  const size = Math.max(32, Math.round(opts.tileSize ?? 320));
  const overlap = Math.min(0.9, Math.max(0, opts.overlap ?? 0.25));
  const tiles = tileGrid(img.width, img.height, size, overlap);
  const all: Detection[] = [];
  const fullFrame = (opts.fullFrame ?? true) || tiles.length === 1;
  if (fullFrame) all.push(...(await detector.detect(img, run)));
  if (tiles.length > 1) {
    for (const t of tiles) {
      const tile = cropImage(img, t);
      for (const d of await detector.detect(tile, run)) {
        const b = d.box;
        // A box touching an inner tile edge is a person cut in two: the neighbour tile (overlap)
        // or the full-frame pass sees them whole; keeping halves would count them twice.
        if (cutByTileEdge(b, t, img.width, img.height)) continue;
        all.push({ ...d, box: [b[0] + t[0], b[1] + t[1], b[2] + t[0], b[3] + t[1]] });
      }
    }
  }
  return mergeTileDetections(all, opts.nmsIou ?? 0.5, opts.containIou ?? 0.75);
}
