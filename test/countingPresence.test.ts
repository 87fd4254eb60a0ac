import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { createPeopleCounting } from '../daemon/analytics/peopleCounting.js';
import type { Observation } from '../daemon/analytics/types.js';
import type { ObjectDetector } from '../daemon/detectors/objectDetector.js';
import { buildEvent } from '../daemon/events/eventBuilder.js';
import type { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import { cocoDetector, decodeFrames, testEngine } from './countingFixtures.js';
import { mediaPath } from './helpers/paths.js';

let engine: InferenceEngine;
let detector: ObjectDetector;
before(async () => {
  engine = testEngine();
  detector = await cocoDetector(engine, ['person']);
});
after(async () => engine.stop());

test('people counting in presence mode: one NFV4-PC presence event per sampled frame with persons, with count and a person crop', async () => {
  // Presence is an explicit option since per-object events became the default without lines (objectEvents.test.ts).
  const pc = createPeopleCounting({ detector, log: silentLogger() }, 'street', { presence: true });
  const perFrame: Observation[][] = [];
  for await (const frame of decodeFrames(mediaPath('video_street_pedestrians_640x360.mp4'), 1, 640, 360)) {
    perFrame.push(await pc.process(frame));
    if (perFrame.length === 6) break;
  }
  assert.equal(perFrame.length, 6);
  // The model README: 2-9 persons a frame on this clip; every sampled frame has people.
  for (const obs of perFrame) {
    assert.equal(obs.length, 1, 'exactly one presence event per frame with persons');
    const o = obs[0]!;
    assert.equal(o.analyticId, 'NFV4-PC');
    const count = o.data.count as number;
    assert.ok(count >= 2 && count <= 12, `count ${count} is a plausible number of pedestrians`);
  }
  const { event, crop } = await buildEvent(perFrame[0]![0]!, { nodeNum: 1, streamAddress: 'rtsp://u:p@cam/1' });
  assert.deepEqual(Object.keys(event.pipeline_data).sort(), [
    'area_name', 'confidence', 'count', 'direction', 'event_id', 'label', 'line', 'primary_text', 'secondary_text', 'trigger',
  ]);
  const pd = event.pipeline_data as Record<string, unknown>;
  assert.equal(pd.label, 'person');
  assert.equal(pd.primary_text, 'person');
  assert.equal(pd.secondary_text, '');
  assert.equal(pd.area_name, 'street');
  assert.ok((pd.confidence as number) >= 0.5 && (pd.confidence as number) <= 1);
  // The crop is a JPEG of one person (people walk towards the camera, cut by the frame
  // bottom): much smaller than the 640x360 frame, yet a recognisable size.
  const meta = await sharp(crop!).metadata();
  assert.equal(meta.format, 'jpeg');
  assert.ok(meta.width! >= 40 && meta.height! >= 60, `crop ${meta.width}x${meta.height} is big enough to show a person`);
  assert.ok(meta.width! * meta.height! < 0.25 * 640 * 360, `crop ${meta.width}x${meta.height} shows one person, not the scene`);
  assert.ok(Math.max(meta.width!, meta.height!) <= 112, `crop ${meta.width}x${meta.height}: a thumbnail (crop_max_side 112)`);
});

test('a frame without persons gives no event', async () => {
  const pc = createPeopleCounting({ detector, log: silentLogger() }, 'blank', { presence: true });
  const data = Buffer.alloc(320 * 240 * 3, 90);
  const obs = await pc.process({ streamId: 'blank', index: 0, timestamp: Date.now(), width: 320, height: 240, data });
  assert.deepEqual(obs, []);
});
