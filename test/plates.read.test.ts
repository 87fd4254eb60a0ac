// Plate reading on real images with real models (mirror): opt-in Chinese pipeline, permissive default, Latin crops.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import { readImageFile } from '../daemon/vision/codec.js';
import { buildPlateReader, CN_PLATE_MODELS, DEFAULT_PLATE_MODELS, type PlateReader } from '../daemon/analytics/plateRecognition/index.js';
import { isVigilError } from '../daemon/errors.js';
import { mediaPath, modelMirror } from './helpers/paths.js';

/** Ground truth from the media README. */
const CN_IMAGES: Record<string, string[]> = {
  'plate_cn_green_single_green.jpg': ['沪AF71017'],
  'plate_cn_yellow_single_yellow.jpg': ['皖K66666'],
  'plate_cn_double_yellow.jpg': ['京EA5331'],
  'plate_cn_police.jpg': ['鄂F8888警'],
  'plate_cn_two_plates_Quicker_20220930_181044.png': ['粤B6R678', '闽DG065G'],
  'plate_cn_blue_two_cars_single_blue.jpg': ['浙B2V9L7', '辽DU4356'],
  'traffic_cam_cn_plates_street_00001.jpg': ['鲁Q1V825', '鲁QVW812', '鲁D6CM86'],
};
const SINGLE_PLATE = ['plate_cn_green_single_green.jpg', 'plate_cn_yellow_single_yellow.jpg', 'plate_cn_double_yellow.jpg', 'plate_cn_police.jpg'];

let dataDir: string;
let engine: InferenceEngine;
let optIn: PlateReader;
let permissiveCn: PlateReader;
let permissiveLatin: PlateReader;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-plates-'));
  engine = new InferenceEngine({ log: silentLogger(), dataDir, mirrorDir: modelMirror(), providers: ['cpu'], threads: { intraOp: 1, interOp: 1 } });
  const assets = join(dataDir, 'models');
  optIn = await buildPlateReader(engine, assets, CN_PLATE_MODELS, { formats: ['cn'] });
  permissiveCn = await buildPlateReader(engine, assets, DEFAULT_PLATE_MODELS, { formats: ['cn'] });
  permissiveLatin = await buildPlateReader(engine, assets, DEFAULT_PLATE_MODELS, { formats: ['eu-generic'] });
});
after(async () => {
  await engine?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('opt-in Chinese pipeline (plate_detect_yolov5_cn + plate_rec_color_cn)', () => {
  for (const [file, plates] of Object.entries(CN_IMAGES)) {
    test(`${file} reads ${plates.join(', ')}`, async () => {
      const got = await optIn.read(await readImageFile(mediaPath(file)));
      assert.deepEqual(got.map((p) => p.text).sort(), [...plates].sort());
      for (const p of got) assert.ok(p.vehicle, `${p.text} should come with its vehicle`);
    });
  }

  test('colour and rows become plate_type', async () => {
    const [green] = await optIn.read(await readImageFile(mediaPath('plate_cn_green_single_green.jpg')));
    assert.equal(green?.plate_type, 'green');
    const [dbl] = await optIn.read(await readImageFile(mediaPath('plate_cn_double_yellow.jpg')));
    assert.equal(dbl?.plate_type, 'yellow-double');
    const [police] = await optIn.read(await readImageFile(mediaPath('plate_cn_police.jpg')));
    assert.equal(police?.plate_type, 'white');
  });

  test('the plate box lies inside its vehicle box, with four corners', async () => {
    const [p] = await optIn.read(await readImageFile(mediaPath('plate_cn_yellow_single_yellow.jpg')));
    assert.ok(p?.vehicle && p.corners);
    const [x1, y1, x2, y2] = p.vehicle.box;
    assert.ok(p.box[0] >= x1 - 30 && p.box[1] >= y1 - 30 && p.box[2] <= x2 + 30 && p.box[3] <= y2 + 30);
    assert.equal(p.corners.length, 4);
  });
});

describe('permissive default (PP-OCR det text localiser + CCT, PP-OCR rec)', () => {
  for (const file of SINGLE_PLATE) {
    test(`${file} reads ${CN_IMAGES[file]![0]} with formats [cn]`, async () => {
      const got = await permissiveCn.read(await readImageFile(mediaPath(file)));
      assert.deepEqual(got.map((p) => p.text), CN_IMAGES[file]);
    });
  }
});

describe('Latin crops with CCT', () => {
  for (const [file, text] of [['plate_crop_latin_AD799KB.png', 'AD799KB'], ['plate_crop_latin_KRW301.png', 'KRW301']] as const) {
    test(`${file} reads ${text} (close-up: whole-frame localisation, no vehicle)`, async () => {
      const got = await permissiveLatin.read(await readImageFile(mediaPath(file)));
      assert.equal(got.length, 1);
      assert.equal(got[0]!.text, text);
      assert.equal(got[0]!.ocr, 'plate_ocr_cct_xs_v2_global');
      assert.equal(got[0]!.vehicle, undefined);
    });
  }

  test('a dealer plate ("Passat CC") is not taken for a registration', async () => {
    const got = await permissiveLatin.read(await readImageFile(mediaPath('plate_scene_latin_dealer_plate_passat_cc.webp')));
    assert.deepEqual(got.map((p) => p.text).filter((t) => t.includes('PASSAT')), []);
  });
});

test('a plate split at a dash whose second half the text detector misses is read whole (627·WWI, default formats)', async () => {
  // The text detector boxes only "627"; the widened re-read of that short line finds "WWI" beside it.
  const reader = await buildPlateReader(engine, join(dataDir, 'models'), DEFAULT_PLATE_MODELS);
  const got = await reader.read(await readImageFile(mediaPath('plates_bench/us/car1.jpg')));
  assert.equal(got[0]?.text, '627WWI', JSON.stringify(got.map((p) => p.text)));
  assert.ok(!got.some((p) => p.text === '627W' || p.text === '627'), 'the half is not reported as a plate of its own');
});

test('a garbage image is VIGIL_ERR_INVALID_IMAGE', async () => {
  await assert.rejects(optIn.read({ width: 10, height: 10, data: Buffer.alloc(5) }), (e) => isVigilError(e) && e.code === 'VIGIL_ERR_INVALID_IMAGE');
});
