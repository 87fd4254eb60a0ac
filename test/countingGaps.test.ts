// With the motion gate on, a still scene is analysed only every `max_skip_s` (default 5 s). A
// person who stays put must keep their track across those gaps: announced once, not once per gap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPeopleCounting } from '../daemon/analytics/peopleCounting.js';
import { silentLogger } from '../daemon/log.js';
import type { Frame } from '../daemon/streams/frame.js';
import { readImageFile } from '../daemon/vision/codec.js';
import { cocoDetector, testEngine } from './countingFixtures.js';
import { mediaPath } from './helpers/paths.js';

test('a person sitting still, analysed every 5 s for a minute, is one appear event', async (t) => {
  const engine = testEngine();
  t.after(() => engine.stop());
  const detector = await cocoDetector(engine, ['person']);
  const img = await readImageFile(mediaPath('coco_livingroom_person_000000000139.jpg'));
  const pc = createPeopleCounting({ detector, log: silentLogger() }, 'lobby', {});
  const types: string[] = [];
  for (let i = 0; i <= 12; i++) {
    const frame: Frame = { streamId: 'lobby', index: i, timestamp: 1_700_000_000_000 + i * 5000, width: img.width, height: img.height, data: img.data };
    for (const o of await pc.process(frame)) types.push(String(o.data?.event_type));
  }
  assert.equal(types.filter((x) => x === 'appear').length, 1, `events: ${types.join(',')}`);
  assert.ok(types.filter((x) => x === 'summary').length >= 5, `count summaries go on: ${types.join(',')}`);
});
