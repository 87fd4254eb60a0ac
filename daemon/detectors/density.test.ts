import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ModelCatalog } from '../../models/catalog.js';
import { silentLogger } from '../log.js';
import { InferenceEngine } from '../inference/engine.js';
import { squareCounterModel } from './densityFixture.js';
import type { ModelSpec } from '../inference/types.js';
import type { Point, RgbImage } from '../vision/image.js';
import { createDensityEstimator, densityCount, densityCountInArea } from './density.js';
import { letterboxMeta } from '../vision/preprocess.js';


/** Black image with white 16x16 squares at the given top-left corners (aligned to 8 px). */
function squares(w: number, h: number, corners: Point[]): RgbImage {
  const data = Buffer.alloc(w * h * 3);
  for (const [x0, y0] of corners) for (let y = y0; y < y0 + 16; y++) data.fill(255, (y * w + x0) * 3, (y * w + x0 + 16) * 3);
  return { width: w, height: h, data };
}

let dir: string;
let engine: InferenceEngine;
let spec: ModelSpec;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-density-'));
  const bytes = squareCounterModel();
  writeFileSync(join(dir, 'squares.onnx'), bytes);
  spec = {
    name: 'square_counter', role: 'crowd-density', family: 'density', file: 'square_counter.onnx',
    source: { kind: 'file', path: join(dir, 'squares.onnx') }, sha256: createHash('sha256').update(bytes).digest('hex'),
    licence: 'test', permissive: true, outputs: ['density'],
    input: { name: 'image', width: 256, height: 256, layout: 'NCHW', color: 'RGB', dtype: 'float32', mean: [0, 0, 0], std: [255, 255, 255], resize: 'letterbox-center', pad: 0 },
  };
  const catalog = new ModelCatalog([spec]);
  engine = new InferenceEngine({ log: silentLogger(), dataDir: dir, providers: ['cpu'], threads: { intraOp: 1, interOp: 1 }, catalog, roles: { 'crowd-density': 'square_counter' } });
});
after(async () => {
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the density map sums to the number of squares in the frame', async () => {
  const est = createDensityEstimator(await engine.forRole('crowd-density'));
  const r = await est.estimate(squares(256, 256, [[16, 16], [128, 64], [200, 200]]));
  assert.ok(Math.abs(r.total - 3) < 1e-3, `total ${r.total}`);
});

test('a polygon area counts only the squares inside it, through a letterbox', async () => {
  // 512x256 source → 256x128 inside the 256x256 input, centred (padY 64): squares shrink to 8x8 px = 1 cell.
  const est = createDensityEstimator(await engine.forRole('crowd-density'));
  const img = squares(512, 256, [[32, 32], [96, 160], [400, 96]]);
  const left: Point[] = [[0, 0], [256, 0], [256, 256], [0, 256]];
  const r = await est.estimate(img, { left, right: [[256, 0], [512, 0], [512, 256], [256, 256]] });
  assert.ok(Math.abs(r.total - 0.75) < 1e-3, `each shrunken square is a quarter: total ${r.total}`);
  assert.ok(Math.abs(r.areas.left! - 0.5) < 1e-3, `left ${r.areas.left}`);
  assert.ok(Math.abs(r.areas.right! - 0.25) < 1e-3, `right ${r.areas.right}`);
});

test('density maths on a hand-made map, and a malformed map is refused', () => {
  const data = new Float32Array(16).fill(0.5);
  data[0] = -1; // noise below zero is not a negative person
  const map = { data, dims: [1, 1, 4, 4] };
  assert.equal(densityCount(map), 7.5);
  const meta = letterboxMeta(8, 8, { ...spec.input, width: 8, height: 8 });
  assert.equal(densityCountInArea(map, [[4, 4], [8, 4], [8, 8], [4, 8]], meta), 2);
  assert.throws(() => densityCount({ data, dims: [2, 1, 4, 2] }), { code: 'VIGIL_ERR_MODEL_SHAPE' });
});
