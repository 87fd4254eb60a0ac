import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePrometheus, valueOf } from '../../test/helpers/promParser.js';
import { startHarness, TOKEN } from '../../test/helpers/serverHarness.js';
import { silentLogger } from '../log.js';
import { AnalyticsPipeline } from '../pipeline.js';
import type { StreamEntry } from '../../config/types.js';
import { createMetrics } from './metrics.js';

test('a store that falls behind shows in /metrics as the stream\'s event backlog and its stalls', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const pipeline = new AnalyticsPipeline({
    log: silentLogger(),
    createAnalytics: async () => [{ name: 'people-counting', process: async (f) => [{ analyticId: 'NFV4-PC', streamId: f.streamId, timestamp: f.timestamp, crop: { image: f, box: [0, 0, 1, 1] }, primaryText: '', secondaryText: '', data: {} }] }],
    prepareEmit: async () => () => held, // the store does not answer
    eventBacklog: 2,
  });
  t.after(async () => { release(); await pipeline.stop(); });
  await pipeline.setStream({ id: 'cam-a', url: 'rtsp://cam/a', analytics: ['people-counting'] } as unknown as StreamEntry);
  for (let i = 0; i < 4; i++) {
    pipeline.onFrame({ streamId: 'cam-a', index: i, timestamp: i, width: 2, height: 2, data: Buffer.alloc(12) });
    for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r));
  }
  const metrics = createMetrics({
    streams: () => [], pipeline: () => pipeline.stats(), models: () => [], subscribers: () => 0, storeSizeBytes: () => 0, lastSeq: () => 0, info: () => ({ version: 't', node_num: 1 }),
  });
  t.after(() => metrics.stop());
  metrics.register(h.server.routes);
  const res = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const fams = parsePrometheus(await res.text());
  assert.equal(valueOf(fams, 'vigil_event_backlog', { stream: 'cam-a' }), 2, 'bounded at event_backlog');
  assert.ok(valueOf(fams, 'vigil_event_backlog_stalls_total', { stream: 'cam-a' }) >= 1);
});
