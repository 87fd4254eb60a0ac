import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { modelMirror } from '../../test/helpers/paths.js';
import { freeInputSize } from './onnxShape.js';

const file = join(modelMirror(), 'yolox_nano.onnx');
const opts = { intraOpNumThreads: 1, executionProviders: ['cpu'] };
const input = (h: number, w: number): ort.Tensor => {
  const d = new Float32Array(3 * h * w);
  for (let i = 0; i < d.length; i++) d[i] = (i * 37) % 251; // a fixed, busy picture
  return new ort.Tensor('float32', d, [1, 3, h, w]);
};

test('yolox_nano with its input size freed: any multiple of 32 runs, and the exported size gives the same answer', async () => {
  const fixed = await ort.InferenceSession.create(file, opts);
  const freed = await ort.InferenceSession.create(freeInputSize(readFileSync(file), 'images', 'NCHW'), opts);
  const shape = (s: ort.InferenceSession, which: 'inputMetadata' | 'outputMetadata') => (s[which][0] as { shape: readonly (number | string)[] }).shape;
  assert.deepEqual(shape(fixed, 'inputMetadata'), [1, 3, 416, 416]);
  assert.deepEqual(shape(freed, 'inputMetadata').map((d) => typeof d), ['number', 'number', 'string', 'string'], 'batch and channels stay fixed');
  assert.deepEqual(shape(freed, 'outputMetadata').map((d) => typeof d), ['number', 'string', 'number']);
  await assert.rejects(fixed.run({ images: input(256, 416) }), /invalid dimensions/, 'the file as exported takes only 416x416');
  // 52x32 + 26x16 + 13x8 anchors for a 16:9 frame at 416 wide.
  assert.deepEqual((await freed.run({ images: input(256, 416) })).output!.dims, [1, 2184, 85]);
  assert.deepEqual((await freed.run({ images: input(320, 416) })).output!.dims, [1, 2730, 85]);
  const a = (await fixed.run({ images: input(416, 416) })).output!.data as Float32Array;
  const b = (await freed.run({ images: input(416, 416) })).output!.data as Float32Array;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  assert.ok(diff < 1e-3, `same graph, same answer at 416x416 (max difference ${diff})`);
});

test('a model without that input, or bytes that are not a model, are refused rather than half rewritten', () => {
  assert.throws(() => freeInputSize(readFileSync(file), 'input.1', 'NCHW'), /no input named input\.1/);
  assert.throws(() => freeInputSize(Buffer.from([0x3a, 0xff, 0xff, 0xff, 0x0f, 1, 2]), 'images', 'NCHW'), /truncated/);
});

test('a file fixed at another size than expected is refused, so the engine still names a wrong model', () => {
  assert.throws(() => freeInputSize(readFileSync(file), 'images', 'NCHW', { width: 640, height: 640 }), /fixed at 416 where 640 is expected/);
  assert.ok(freeInputSize(readFileSync(file), 'images', 'NCHW', { width: 416, height: 416 }).length > 0);
});
