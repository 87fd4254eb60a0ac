import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { fakeEvent } from '../../test/helpers/eventFixtures.js';
import { createRootLogger } from '../log.js';
import { HomeAssistantBridge, slug } from './homeAssistant.js';

test('slug keeps ids safe for topics, discovery ids and templates', () => {
  assert.equal(slug('Front Gate #2'), 'front_gate_2');
  assert.equal(slug('--'), 'x');
});

test('a failing broker link never throws into the event path; it is logged', () => {
  let logged = '';
  const log = createRootLogger('warn', new Writable({ write: (c, _e, cb) => ((logged += String(c)), cb()) }));
  const bridge = new HomeAssistantBridge({ base: 'vigil/1', availabilityTopic: 'vigil/1/status', publishRetained: () => { throw new Error('socket gone'); } }, { nodeNum: 1, version: '0', log });
  const { event } = fakeEvent('NFV4-PC', 'cam', {});
  assert.doesNotThrow(() => bridge.onEvent(event));
  assert.match(logged, /Home Assistant state not updated/);
  assert.match(logged, /socket gone/);
  bridge.stop();
});

test('snapshots are rate-limited per camera and the newest one is sent when the interval ends', async () => {
  const sent: { topic: string; n: number }[] = [];
  const bridge = new HomeAssistantBridge({ base: 'vigil/1', availabilityTopic: 's', publishRetained: (topic, p) => { if (topic.endsWith('/snapshot')) sent.push({ topic, n: Number(Buffer.from(p).toString().split('-').pop()) }); } }, { nodeNum: 1, version: '0', discovery: false, snapshotIntervalMs: 150 });
  for (let n = 0; n < 5; n++) bridge.onEvent(fakeEvent('NFV4-PC', 'cam', { n, crop: Buffer.from(`jpeg-${n}`) }).event);
  assert.deepEqual(sent.map((s) => s.n), [0], 'one at once');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(sent.map((s) => s.n), [0, 4], 'then only the newest of the burst');
  bridge.stop();
});
