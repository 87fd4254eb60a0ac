import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Detection } from '../detectors/types.js';
import type { Box, RgbImage } from '../vision/image.js';
import { detectTiled, intersectionOverSmaller, mergeTileDetections, tileGrid } from './tiling.js';

const person = (box: Box, score: number): Detection => ({ box, score, classId: 0, label: 'person' });

test('tiles cover the frame with the asked overlap and stay full size at the edges', () => {
  const tiles = tileGrid(1024, 768, 320, 0.25);
  // x starts 0,240,480,704; y starts 0,240,448.
  assert.equal(tiles.length, 12);
  assert.deepEqual(tiles[0], [0, 0, 320, 320]);
  assert.deepEqual(tiles.at(-1), [704, 448, 1024, 768]);
  for (const t of tiles) assert.equal(t[2] - t[0], 320);
  // Every pixel is inside some tile.
  for (let y = 0; y < 768; y += 7) for (let x = 0; x < 1024; x += 7) assert.ok(tiles.some((t) => x >= t[0] && x < t[2] && y >= t[1] && y < t[3]), `${x},${y}`);
  assert.deepEqual(tileGrid(300, 200, 320, 0.25), [[0, 0, 300, 200]], 'a small frame is one tile');
});

test('merging keeps one box per object: overlapping and contained duplicates go, neighbours stay', () => {
  const merged = mergeTileDetections([
    person([100, 100, 140, 200], 0.9),
    person([102, 101, 141, 198], 0.7), // the same person seen by the next tile
    person([100, 100, 140, 160], 0.6), // its upper half, cut by a tile edge
    person([145, 100, 185, 200], 0.8), // a neighbour, touching but separate
    { box: [100, 100, 140, 200], score: 0.5, classId: 1, label: 'bicycle' }, // another class
  ]);
  assert.deepEqual(merged.map((d) => d.score), [0.9, 0.8, 0.5]);
  assert.equal(intersectionOverSmaller([0, 0, 10, 10], [2, 2, 4, 4]), 1);
});

test('detections are mapped back from tile to frame pixels, and tile-edge halves are dropped', async () => {
  const img: RgbImage = { width: 640, height: 320, data: Buffer.alloc(640 * 320 * 3) };
  const calls: number[] = [];
  // A fake detector that "sees" a 20x40 person at frame (400,100) in whatever image contains it.
  const detector = {
    async detect(tile: RgbImage): Promise<Detection[]> {
      calls.push(tile.width);
      if (tile.width === 640) return []; // the full-frame pass misses the small person
      // Tiles are [0..320], [240..560], [320..640]: the person is at tile x 160 and 80.
      const offset = calls.length === 3 ? 240 : calls.length === 4 ? 320 : 0;
      const x = 400 - offset;
      const seen = [person([0, 10, 30, 60], 0.9)];
      if (x >= 0 && x + 20 <= 320) seen.push(person([x, 100, x + 20, 140], 0.8));
      return seen;
    },
  };
  const dets = await detectTiled(detector, img, { tileSize: 320, overlap: 0.25 });
  assert.deepEqual(calls, [640, 320, 320, 320]);
  // The person is found once, at frame pixels; the [0,10,30,60] boxes touch the inner left edge
  // of tiles 2 and 3 (cut persons) and are dropped; in tile 1 that edge is the frame edge: kept.
  assert.deepEqual(dets.map((d) => d.box), [[0, 10, 30, 60], [400, 100, 420, 140]]);
});
