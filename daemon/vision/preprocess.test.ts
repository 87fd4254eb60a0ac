import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import type { InputSpec } from '../inference/types.js';
import { mediaPath } from '../../test/helpers/paths.js';
import { readImageFile } from './codec.js';
import type { RgbImage } from './image.js';
import { cropImage, dynamicInputSize, letterboxMeta, prepareInput, rectInput, resizeImage, undoLetterbox, undoPoint } from './preprocess.js';

const spec = (rest: Partial<InputSpec> = {}): InputSpec => ({
  name: 'x', width: 8, height: 8, layout: 'NCHW', color: 'RGB', dtype: 'float32', mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch', pad: 0, ...rest,
});

/** A w x h image of one colour. */
function solid(w: number, h: number, rgb: [number, number, number]): RgbImage {
  const data = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set(rgb, i * 3);
  return { width: w, height: h, data };
}

test('letterbox top-left: a 16x8 red image fills the top half of an 8x8 input, pad below', () => {
  const { tensor, meta } = prepareInput(solid(16, 8, [200, 10, 20]), spec({ resize: 'letterbox-topleft', pad: 114 }));
  assert.deepEqual(tensor.dims, [1, 3, 8, 8]);
  const d = tensor.data as Float32Array;
  assert.equal(d[0], 200); // R plane, row 0
  assert.equal(d[64], 10); // G plane
  assert.equal(d[128 + 3 * 8], 20); // B plane, row 3
  assert.equal(d[4 * 8], 114); // row 4 is padding
  assert.equal(meta.padX, 0);
  assert.equal(meta.padY, 0);
  assert.deepEqual(undoLetterbox([0, 0, 8, 4], meta), [0, 0, 16, 8]);
});

test('letterbox centre pads both sides equally and undo maps back; BGR swaps planes; mean/std apply', () => {
  const input = spec({ resize: 'letterbox-center', pad: 0, color: 'BGR', mean: [10, 20, 30], std: [2, 2, 2] });
  const { tensor, meta } = prepareInput(solid(8, 16, [200, 100, 50]), input);
  assert.equal(meta.padX, 2);
  const d = tensor.data as Float32Array;
  assert.equal(d[0], (0 - 10) / 2); // left padding, plane 0
  assert.equal(d[3], (50 - 10) / 2); // plane 0 is blue in BGR
  assert.equal(d[64 + 3], (100 - 20) / 2);
  assert.equal(d[128 + 3], (200 - 30) / 2);
  const back = undoLetterbox([2, 0, 6, 8], meta);
  assert.deepEqual(back.map((v) => Math.round(v)), [0, 0, 8, 16]);
  assert.deepEqual(undoPoint([4, 4], meta), [4, 8]);
});

test('NHWC uint8 keeps interleaved bytes (plate OCR input)', () => {
  const { tensor } = prepareInput(solid(4, 2, [1, 2, 3]), spec({ layout: 'NHWC', dtype: 'uint8', width: 4, height: 2 }));
  assert.equal(tensor.type, 'uint8');
  assert.deepEqual(tensor.dims, [1, 2, 4, 3]);
  assert.deepEqual([...(tensor.data as Uint8Array).slice(0, 6)], [1, 2, 3, 1, 2, 3]);
});

test('bilinear resize of a real photo matches sharp to within a few grey levels', async () => {
  const img = await readImageFile(mediaPath('coco_cars_freeway_000000001532.jpg'));
  const ours = resizeImage(img, 416, 312);
  const ref = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).resize(416, 312, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  let diff = 0;
  for (let i = 0; i < ref.length; i++) diff += Math.abs(ref[i]! - ours.data[i]!);
  assert.ok(diff / ref.length < 4, `mean abs difference ${diff / ref.length}`);
});

test('crop copies the right pixels and refuses an empty box', () => {
  const img = solid(10, 10, [0, 0, 0]);
  img.data.set([9, 8, 7], (5 * 10 + 6) * 3);
  const c = cropImage(img, [6, 5, 8.2, 7]);
  assert.equal(c.width, 3);
  assert.equal(c.height, 2);
  assert.deepEqual([...c.data.subarray(0, 3)], [9, 8, 7]);
  assert.throws(() => cropImage(img, [20, 20, 30, 30]), { code: 'VIGIL_ERR_INVALID_IMAGE' });
});

test('bad images are refused with a code', () => {
  assert.throws(() => prepareInput({ width: 10, height: 10, data: Buffer.alloc(5) }, spec()), { code: 'VIGIL_ERR_INVALID_IMAGE' });
});

test('stretch meta and dynamic input sizes', () => {
  const m = letterboxMeta(640, 360, spec({ width: 320, height: 240 }));
  assert.equal(m.scaleX, 0.5);
  assert.equal(m.scaleY, 240 / 360);
  assert.deepEqual(dynamicInputSize(1126, 661, 32, 640), { width: 640, height: 384 });
});

test('rect inputs: the letterbox cut to the frame aspect at the same scale, the same pixels, less padding', () => {
  const sq = spec({ width: 416, height: 416, color: 'BGR', resize: 'letterbox-topleft', pad: 114, rectMultiple: 32 });
  const size = (w: number, h: number) => { const s = rectInput(w, h, sq); return [s.width, s.height]; };
  assert.deepEqual(size(640, 360), [416, 288]); // 16:9: 416x234 of picture, 54 rows of padding
  assert.deepEqual(size(1920, 1080), [416, 288]);
  assert.deepEqual(size(640, 480), [416, 352]); // 4:3: 416x312
  assert.deepEqual(size(360, 640), [288, 416]); // portrait
  assert.equal(rectInput(500, 500, sq), sq, 'a square frame keeps the square');
  const plain = { ...sq, rectMultiple: undefined };
  assert.equal(rectInput(640, 360, plain), plain, 'a model without rectMultiple keeps its square');
  assert.equal(rectInput(640, 360, { ...sq, resize: 'stretch' }).height, 416, 'a stretched input has no padding to cut');
  // Every picture value of the rect tensor is the square tensor's value at the same place.
  const img: RgbImage = { width: 64, height: 36, data: Buffer.from(Array.from({ length: 64 * 36 * 3 }, (_, i) => (i * 7) % 256)) };
  const small = { ...sq, width: 64, height: 64, rectMultiple: 8 };
  const r = prepareInput(img, rectInput(64, 36, small));
  const s = prepareInput(img, small);
  assert.deepEqual(r.tensor.dims, [1, 3, 48, 64]); // 36 rows of picture, at least 8 of padding
  assert.deepEqual([r.meta.scaleX, r.meta.scaleY, r.meta.padX, r.meta.padY], [s.meta.scaleX, s.meta.scaleY, s.meta.padX, s.meta.padY]);
  const rd = r.tensor.data as Float32Array, sd = s.tensor.data as Float32Array;
  for (let c = 0; c < 3; c++) for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) {
    assert.equal(rd[c * 48 * 64 + y * 64 + x], sd[c * 64 * 64 + y * 64 + x]);
  }
});
