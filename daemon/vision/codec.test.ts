import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { mediaPath } from '../../test/helpers/paths.js';
import { decodeImage, encodeJpeg } from './codec.js';

test('decodes JPEG, PNG and WebP into packed RGB', async () => {
  const jpg = await decodeImage(readFileSync(mediaPath('coco_cars_freeway_000000001532.jpg')));
  assert.deepEqual([jpg.width, jpg.height, jpg.data.length], [640, 480, 640 * 480 * 3]);
  const png = await decodeImage(readFileSync(mediaPath('plate_crop_latin_KRW301.png')));
  assert.equal(png.data.length, png.width * png.height * 3);
  const webp = await decodeImage(readFileSync(mediaPath('plate_scene_latin_dealer_plate_passat_cc.webp')));
  assert.equal(webp.data.length, webp.width * webp.height * 3);
});

test('garbage, empty and truncated bytes are VIGIL_ERR_INVALID_IMAGE', async () => {
  await assert.rejects(decodeImage(Buffer.from('this is not an image at all')), { code: 'VIGIL_ERR_INVALID_IMAGE' });
  await assert.rejects(decodeImage(Buffer.alloc(0)), { code: 'VIGIL_ERR_INVALID_IMAGE' });
  const full = readFileSync(mediaPath('coco_cars_freeway_000000001532.jpg'));
  await assert.rejects(decodeImage(full.subarray(0, Math.floor(full.length / 2))), { code: 'VIGIL_ERR_INVALID_IMAGE' });
});

test('encodeJpeg round-trips a frame with its size and colours', async () => {
  const img = await decodeImage(readFileSync(mediaPath('coco_cars_freeway_000000001532.jpg')));
  const jpeg = await encodeJpeg(img, 85);
  assert.equal(jpeg[0], 0xff);
  assert.equal(jpeg[1], 0xd8);
  const back = await decodeImage(jpeg);
  assert.deepEqual([back.width, back.height], [640, 480]);
  let diff = 0;
  for (let i = 0; i < img.data.length; i += 97) diff += Math.abs(img.data[i]! - back.data[i]!);
  assert.ok(diff / (img.data.length / 97) < 8);
});
