import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { buildEvent, clampBox, encodeCrop, newEventId } from './eventBuilder.js';
import { ANALYTIC_ID_LIST, isVisionEvent, validateEvent } from './schema.js';
import { gradientImage, observation } from '../../test/helpers/eventFixtures.js';
import type { Box } from '../vision/image.js';
import { mediaPath } from '../../test/helpers/paths.js';

test('event_id is <timestamp>-<8 hex> and unique', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newEventId(1700000000123)));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^1700000000123-[0-9a-f]{8}$/);
});

test('every analytic builds an event with all schema keys, masked address, crop under the right key', async () => {
  for (const analytic of ANALYTIC_ID_LIST) {
    const obs = observation(analytic, { timestamp: 1700000000123 });
    const { event, crop } = await buildEvent(obs, { nodeNum: 3, streamAddress: 'rtsp://admin:s3cret@10.0.0.5:554/live' });
    assert.deepEqual(validateEvent(event), [], `${analytic}: ${validateEvent(event).join('; ')}`);
    assert.ok(isVisionEvent(event));
    assert.equal(event.timestamp, '1700000000123');
    assert.equal(event.node_num, 3);
    assert.equal(event.stream_address, 'rtsp://***:***@10.0.0.5:554/live');
    assert.ok(!JSON.stringify(event).includes('s3cret'));
    assert.match(event.pipeline_data.event_id, /^1700000000123-[0-9a-f]{8}$/);
    const key = analytic === 'NFV4-LPR' ? 'jpeg' : 'image_jpeg';
    const other = analytic === 'NFV4-LPR' ? 'image_jpeg' : 'jpeg';
    assert.equal(event[key], crop!.toString('base64'));
    assert.equal(event[other], undefined);
    const meta = await sharp(crop!).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.deepEqual([meta.width, meta.height], [36, 26]);
  }
});

test('the validator names what is missing or wrong', async () => {
  const { event } = await buildEvent(observation('NFV4-LPR'), { nodeNum: 1, streamAddress: 'rtsp://cam' });
  const broken = structuredClone(event) as unknown as Record<string, unknown>;
  delete (broken.pipeline_data as Record<string, unknown>).plate_number;
  broken.node_num = 1.5;
  broken.image_jpeg = 'x';
  broken.stream_address = 'rtsp://user:pw@cam';
  const errors = validateEvent(broken);
  assert.ok(errors.includes('pipeline_data.plate_number is missing'), errors.join('; '));
  assert.ok(errors.includes('node_num must be an integer'));
  assert.ok(errors.some((e) => e.includes('not image_jpeg')));
  assert.ok(errors.some((e) => e.includes('unmasked credentials')));
  assert.deepEqual(validateEvent({ analytic_id: 'NOPE' }).length, 1);
  assert.deepEqual(validateEvent(null), ['event is not an object']);
});

test('odd boxes are clamped, never thrown on', async () => {
  const img = gradientImage(64, 48);
  const boxes: Box[] = [
    [-50, -50, 5000, 5000],
    [40, 30, 4, 4],
    [10, 10, 10, 10],
    [NaN, 3, Infinity, -Infinity],
    [70, 60, 90, 80],
    [-10, -10, -5, -5],
    [1.4, 2.6, 3.2, 9.9],
  ];
  for (const box of boxes) {
    const region = clampBox(box, 64, 48);
    assert.ok(region.left >= 0 && region.top >= 0 && region.width >= 1 && region.height >= 1, JSON.stringify(box));
    assert.ok(region.left + region.width <= 64 && region.top + region.height <= 48, JSON.stringify(box));
    const jpeg = await encodeCrop(img, box);
    assert.equal((await sharp(jpeg).metadata()).format, 'jpeg');
  }
  assert.deepEqual(clampBox([-50, -50, 5000, 5000], 64, 48), { left: 0, top: 0, width: 64, height: 48 });
  assert.deepEqual(clampBox([40, 30, 4, 4], 64, 48), { left: 4, top: 4, width: 36, height: 26 });
});

test('a malformed image is a coded error, not a crash', async () => {
  await assert.rejects(encodeCrop({ width: 10, height: 10, data: Buffer.alloc(5) }, [0, 0, 5, 5]), { code: 'VIGIL_ERR_INVALID_IMAGE' });
});

test('crop budget: a large region is scaled to the longest side and stays within tens of KB; small ones are kept as cut', async () => {
  const street = await sharp(mediaPath('coco_people_crowded_000000005001.jpg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const image = { width: street.info.width, height: street.info.height, data: street.data };
  const full = await encodeCrop(image, [0, 0, image.width, image.height], 75, 320);
  const meta = await sharp(full).metadata();
  assert.equal(Math.max(meta.width!, meta.height!), 320, `scaled from ${image.width}x${image.height}`);
  assert.ok(full.length < 40 * 1024, `a whole-scene crop at 320 px is ${full.length} bytes`);
  const raw = await encodeCrop(image, [0, 0, image.width, image.height], 75);
  assert.ok(raw.length > full.length * 2, `unbounded it would be ${raw.length} bytes`);
  const small = await encodeCrop(image, [10, 10, 70, 170], 75, 320);
  assert.deepEqual([(await sharp(small).metadata()).width, (await sharp(small).metadata()).height], [60, 160], 'never enlarged');
});

test("an observation's own crop bound (an object's thumbnail) tightens crops.max_side, never loosens it", async () => {
  const street = await sharp(mediaPath('coco_people_crowded_000000005001.jpg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const image = { width: street.info.width, height: street.info.height, data: street.data };
  const box: Box = [0, 0, 300, 400];
  const side = async (maxSide: number | undefined, ctxSide: number) => {
    const { crop } = await buildEvent(observation('NFV4-PC', { crop: { image, box, maxSide } }), { nodeNum: 1, streamAddress: 'cam', jpegQuality: 60, cropMaxSide: ctxSide });
    const m = await sharp(crop!).metadata();
    return [m.width, m.height];
  };
  assert.deepEqual(await side(128, 256), [96, 128], 'the object bound');
  assert.deepEqual(await side(1000, 256), [192, 256], 'crops.max_side still holds');
  assert.deepEqual(await side(undefined, 256), [192, 256], 'no object bound');
});

test('an observation without a crop builds an event without the crop key, valid when no crop is required', async () => {
  const { event, crop } = await buildEvent(observation('NFV4-PC', { crop: null }), { nodeNum: 1, streamAddress: 'rtsp://cam' });
  assert.equal(crop, null);
  assert.equal('image_jpeg' in event, false);
  assert.deepEqual(validateEvent(event, { requireCrop: false }), []);
});
