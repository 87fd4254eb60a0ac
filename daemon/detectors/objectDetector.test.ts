import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { silentLogger } from '../log.js';
import { InferenceEngine } from '../inference/engine.js';
import { mediaPath, modelMirror } from '../../test/helpers/paths.js';
import { readImageFile } from '../vision/codec.js';
import { decodeFrames } from '../../test/countingFixtures.js';
import { createObjectDetector } from './objectDetector.js';
import type { Detection } from './types.js';

let engine: InferenceEngine;
let dataDir: string;
const VEHICLES = ['car', 'truck', 'bus', 'motorcycle'];

before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-det-'));
  engine = new InferenceEngine({ log: silentLogger(), dataDir, mirrorDir: modelMirror(), providers: ['cpu'], threads: { intraOp: 1, interOp: 1 } });
});
after(async () => {
  await engine.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const strong = (d: Detection[], label: string, min = 0.5): Detection[] => d.filter((x) => x.label === label && x.score >= min);

test('yolox_nano finds the 2 persons in faces_obama_biden_two_people.jpg, one on each side', async () => {
  const det = createObjectDetector(await engine.get('yolox_nano'));
  const img = await readImageFile(mediaPath('faces_obama_biden_two_people.jpg'));
  const persons = strong(await det.detect(img), 'person').sort((a, b) => a.box[0] - b.box[0]);
  assert.equal(persons.length, 2);
  const [left, right] = persons as [Detection, Detection];
  assert.ok(left.box[2] < img.width * 0.6 && right.box[0] > img.width * 0.4, 'one person per half');
  for (const p of persons) assert.ok(p.box[3] - p.box[1] > img.height * 0.8, 'each person is nearly full height');
});

test('yolox_nano finds at least 4 vehicles on the freeway, in the lower part of the image', async () => {
  const det = createObjectDetector(await engine.get('yolox_nano'), { classes: VEHICLES });
  const img = await readImageFile(mediaPath('coco_cars_freeway_000000001532.jpg'));
  const found = (await det.detect(img)).filter((d) => d.score >= 0.45);
  assert.ok(found.length >= 4, `found ${found.length}`);
  assert.ok(found.every((d) => VEHICLES.includes(d.label)), 'class filter keeps only vehicles');
  assert.ok(found.every((d) => d.box[1] > img.height * 0.5), 'vehicles are on the road, below the horizon');
});

test('nanodet_m_416 finds the freeway cars and both persons', async () => {
  const det = createObjectDetector(await engine.get('nanodet_m_416'));
  const cars = (await det.detect(await readImageFile(mediaPath('coco_cars_freeway_000000001532.jpg')))).filter((d) => VEHICLES.includes(d.label) && d.score >= 0.45);
  assert.ok(cars.length >= 4, `found ${cars.length}`);
  const persons = strong(await det.detect(await readImageFile(mediaPath('faces_obama_biden_two_people.jpg'))), 'person');
  assert.equal(persons.length, 2);
});

test('light_person_detector (yolox-style, person only) finds the 2 persons', async () => {
  const det = createObjectDetector(await engine.get('light_person_detector'));
  const persons = strong(await det.detect(await readImageFile(mediaPath('faces_obama_biden_two_people.jpg'))), 'person');
  assert.equal(persons.length, 2);
});

test('yolox_nano finds most of the children in the group photo', async () => {
  const det = createObjectDetector(await engine.forRole('person-detector'), { classes: ['person'] });
  const persons = (await det.detect(await readImageFile(mediaPath('coco_people_group_000000001000.jpg')))).filter((d) => d.score >= 0.4);
  assert.ok(persons.length >= 8 && persons.length <= 14, `found ${persons.length}`);
});

test('an unknown class name or a non-detector model is refused', async () => {
  await assert.rejects(async () => createObjectDetector(await engine.get('yolox_nano'), { classes: ['unicorn'] }), { code: 'VIGIL_ERR_CONFIG' });
  await assert.rejects(async () => createObjectDetector(await engine.get('plate_ocr_cct_xs_v1_global')), { code: 'VIGIL_ERR_MODEL_SHAPE' });
});

test('yolox_nano sees a 16:9 street frame as 416x288, not a padded square, and finds the same people', async () => {
  const square = new InferenceEngine({ log: silentLogger(), dataDir, mirrorDir: modelMirror(), providers: ['cpu'], threads: { intraOp: 1, interOp: 1 }, rectInputs: false });
  const rect = await engine.get('yolox_nano');
  try {
    const fixed = await square.get('yolox_nano');
    assert.equal(rect.freeSize, true, 'loaded with its input size freed');
    assert.equal(fixed.freeSize, false, 'inference.rect_inputs: false keeps the square');
    const fed: number[][] = [];
    const run = rect.run.bind(rect);
    rect.run = (feeds, o) => { fed.push([...Object.values(feeds)[0]!.dims]); return run(feeds, o); };
    const a = createObjectDetector(rect, { classes: ['person'] });
    const b = createObjectDetector(fixed, { classes: ['person'] });
    const iou = (p: number[], q: number[]) => {
      const w = Math.max(0, Math.min(p[2]!, q[2]!) - Math.max(p[0]!, q[0]!)), h = Math.max(0, Math.min(p[3]!, q[3]!) - Math.max(p[1]!, q[1]!));
      return (w * h) / ((p[2]! - p[0]!) * (p[3]! - p[1]!) + (q[2]! - q[0]!) * (q[3]! - q[1]!) - w * h);
    };
    let people = 0;
    // One frame every 2 s of the street clip: three scenes of a dense crowd.
    for await (const f of decodeFrames(mediaPath('video_street_pedestrians_640x360.mp4'), 0.5, 640, 360)) {
      const [ra, rb] = [await a.detect(f), await b.detect(f)];
      // A confident person in either is found by the other at the same place (thresholds apart by a margin).
      for (const [x, y] of [[ra, rb], [rb, ra]] as const) {
        for (const d of x.filter((d) => d.score >= 0.6)) {
          people++;
          assert.ok(y.some((e) => e.score >= 0.4 && iou(d.box, e.box) >= 0.8), `person at ${d.box.map(Math.round).join(',')} (${d.score.toFixed(2)}) found by both inputs`);
        }
      }
    }
    assert.ok(people >= 40, `the frames hold people: ${people}`);
    assert.ok(fed.length > 0 && fed.every((d) => d.join('x') === '1x3x288x416'), `fed ${fed[0]?.join('x')}`);
    // A caller may keep the square on the same freed model (plate reading does).
    const frame = await readImageFile(mediaPath('faces_obama_biden_two_people.jpg'));
    fed.length = 0;
    await createObjectDetector(rect, { frameAspect: false }).detect(frame);
    assert.deepEqual(fed, [[1, 3, 416, 416]]);
  } finally {
    delete (rect as { run?: unknown }).run; // the class's own run again
    await square.stop();
  }
});
