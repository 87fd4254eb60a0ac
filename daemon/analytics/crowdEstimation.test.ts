import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ModelCatalog } from '../../models/catalog.js';
import { InferenceEngine } from '../inference/engine.js';
import { squareCounterModel } from '../detectors/densityFixture.js';
import type { ModelRunner, ModelSpec } from '../inference/types.js';
import { VigilError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Frame } from '../streams/frame.js';
import type { Point } from '../vision/image.js';
import { createCrowdEstimation } from './crowdEstimation.js';


/** A 256x256 black frame with white 16x16 squares at the given top-left corners. */
function frame(corners: Point[], timestamp: number): Frame {
  const w = 256, h = 256;
  const data = Buffer.alloc(w * h * 3);
  for (const [x0, y0] of corners) for (let y = y0; y < y0 + 16; y++) data.fill(255, (y * w + x0) * 3, (y * w + x0 + 16) * 3);
  return { streamId: 'plaza', index: 0, timestamp, width: w, height: h, data };
}

let dir: string;
let engine: InferenceEngine;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-crowd-'));
  const bytes = squareCounterModel();
  writeFileSync(join(dir, 'squares.onnx'), bytes);
  const spec: ModelSpec = {
    name: 'square_counter', role: 'crowd-density', family: 'density', file: 'square_counter.onnx',
    source: { kind: 'file', path: join(dir, 'squares.onnx') }, sha256: createHash('sha256').update(bytes).digest('hex'),
    licence: 'test', permissive: true, outputs: ['density'],
    input: { name: 'image', width: 256, height: 256, layout: 'NCHW', color: 'RGB', dtype: 'float32', mean: [0, 0, 0], std: [255, 255, 255], resize: 'letterbox-center', pad: 0 },
  };
  engine = new InferenceEngine({
    log: silentLogger(), dataDir: dir, providers: ['cpu'], threads: { intraOp: 1, interOp: 1 },
    catalog: new ModelCatalog([spec]), roles: { 'crowd-density': 'square_counter' },
  });
});
after(async () => {
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
});

// Three squares on the left half, two on the right.
const SCENE: Point[] = [[16, 16], [64, 128], [96, 200], [160, 40], [208, 176]];

test('with a density model, each area gets the density sum inside it as an NFV4-CE observation', async () => {
  const ce = createCrowdEstimation({ density: await engine.forRole('crowd-density'), log: silentLogger() }, 'plaza', {
    areas: [
      { name: 'left', polygon: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]] },
      { name: 'right', polygon: [[0.5, 0], [1, 0], [1, 1], [0.5, 1]] },
    ],
    intervalS: 10,
  });
  const obs = await ce.process(frame(SCENE, 1_000));
  assert.equal(obs.length, 2);
  const [left, right] = obs;
  assert.equal(left!.analyticId, 'NFV4-CE');
  assert.deepEqual(left!.data, { area: 'left', estimation: 3, interval: 10 });
  assert.equal(left!.primaryText, '3');
  assert.equal(left!.secondaryText, 'left');
  assert.deepEqual(right!.data, { area: 'right', estimation: 2, interval: 10 });
  // The crop is the area: the left half of the frame.
  assert.deepEqual([left!.crop!.image.width, left!.crop!.image.height], [128, 256]);
});

test('each area reports every interval seconds (its own interval_s first), not every frame', async () => {
  const ce = createCrowdEstimation({ density: await engine.forRole('crowd-density'), log: silentLogger() }, 'plaza', {
    areas: [
      { name: 'slow', polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] },
      { name: 'fast', polygon: [[0, 0], [1, 0], [1, 1], [0, 1]], interval_s: 2 },
    ],
    intervalS: 5,
  });
  const seen: string[] = [];
  for (let t = 0; t <= 6_000; t += 1_000) for (const o of await ce.process(frame(SCENE, t))) seen.push(`${t}:${o.data.area as string}:${o.data.estimation as number}`);
  assert.deepEqual(seen, ['0:slow:5', '0:fast:5', '2000:fast:5', '4000:fast:5', '5000:slow:5', '6000:fast:5']);
});

test('without areas the whole frame is one area named after the stream; without any model it refuses', async () => {
  const ce = createCrowdEstimation({ density: await engine.forRole('crowd-density'), log: silentLogger() }, 'plaza', { defaultAreaName: 'Plaza cam' });
  const [o] = await ce.process(frame(SCENE.slice(0, 4), 0));
  assert.deepEqual(o!.data, { area: 'Plaza cam', estimation: 4, interval: 10 });
  assert.deepEqual([o!.crop!.image.width, o!.crop!.image.height], [256, 256]);
  assert.throws(() => createCrowdEstimation({ log: silentLogger() }, 'x'), { code: 'VIGIL_ERR_CONFIG' });
});

test('a frame the model queue drops reaches the pipeline as a drop, and the next frame estimates instead', async () => {
  const real = await engine.forRole('crowd-density');
  let drops = 1;
  const loaded: ModelRunner = {
    spec: real.spec,
    provider: real.provider,
    run: (feeds, opts) => (drops-- > 0 ? Promise.reject(new VigilError('VIGIL_ERR_INFERENCE_DROPPED', 'the model queue is full')) : real.run(feeds, opts)),
  };
  const ce = createCrowdEstimation({ density: loaded, log: silentLogger() }, 'plaza', { intervalS: 10 });
  // Counted as a dropped frame by the pipeline, not as an analysed one with nothing in it.
  await assert.rejects(ce.process(frame(SCENE, 0)), { code: 'VIGIL_ERR_INFERENCE_DROPPED' });
  const [o] = await ce.process(frame(SCENE, 200));
  assert.equal(o?.data.estimation, 5, 'the interval was not used up by the dropped frame');
});
