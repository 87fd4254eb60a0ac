import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatabase } from '../store/database.js';
import { EventStore } from '../store/eventStore.js';
import { createServer } from '../server/server.js';
import { silentLogger } from '../log.js';
import { isVigilError } from '../errors.js';
import { EventSink } from './eventSink.js';
import type { VisionEvent } from './schema.js';
import { fakeEvent, observation, tempDir } from '../../test/helpers/eventFixtures.js';
import { Collector } from '../../test/helpers/serverHarness.js';

async function setup(t: { after(fn: () => unknown): void }) {
  const { dir, cleanup } = tempDir();
  const db = openDatabase(join(dir, 'vigil.db'));
  const store = new EventStore(db);
  const server = createServer({ host: '127.0.0.1', port: 0, tokens: ['tok-12345678'], adminToken: 'adm-12345678', heartbeatS: 0, log: silentLogger(), store });
  await server.start();
  const live: VisionEvent[] = [];
  const sink = new EventSink({
    store,
    publish: (e, s) => server.publish(e, s),
    publishLive: (e) => live.push(e),
    publishControl: (m) => server.publishControl(m),
    log: silentLogger(),
    nodeNum: 3,
    retryMs: 100,
  });
  t.after(async () => {
    await server.stop();
    db.close();
    cleanup();
  });
  const wsUrl = (q = '') => `ws://127.0.0.1:${server.port()}/event_channel?authorization=tok-12345678${q}`;
  return { db, store, server, sink, live, wsUrl };
}

test('handle builds the event, stores it, then publishes it with its seq; the store has what subscribers saw', async (t) => {
  const { store, sink, wsUrl } = await setup(t);
  const sub = await Collector.connect(wsUrl());
  for (const a of ['NFV4-FR', 'NFV4-LPR', 'NFV4-CE'] as const) await sink.handle(observation(a), 'rtsp://admin:secret@10.1.1.1/live');
  await sub.until(() => sub.events().length === 3, '3 events');
  assert.deepEqual(sub.seqs(), [1, 2, 3]);
  for (const e of sub.events()) {
    assert.equal(e.node_num, 3);
    assert.equal(e.stream_address, 'rtsp://***:***@10.1.1.1/live');
    assert.deepEqual(e, store.get((e.pipeline_data as { event_id: string }).event_id));
  }
  assert.deepEqual(sink.stats(), { storage: 'ok', stored: 3, unstored: 0, rejected: 0, outages: 0 });
  sub.close();
});

test('a duplicate event is refused by the store and not published; storage stays ok', async (t) => {
  const { sink } = await setup(t);
  const { event, crop } = fakeEvent('NFV4-PC', 'cam1');
  assert.equal(await sink.deliver(event, crop), 1);
  assert.equal(await sink.deliver(event, crop), null);
  assert.equal(sink.stats().rejected, 1);
  assert.equal(sink.stats().storage, 'ok');
});

test('disk full: events go out live with seq null after one error message; storing resumes when space is back; since-replay returns exactly the stored ones', async (t) => {
  const { db, store, sink, live, wsUrl } = await setup(t);
  const sub = await Collector.connect(wsUrl('&crops=0'));
  const big = () => Buffer.alloc(16 * 1024, 7);
  const storedIds: string[] = [];
  for (let n = 0; n < 10; n++) {
    const { event } = fakeEvent('NFV4-FR', 'cam1', { n });
    assert.ok((await sink.deliver(event, big())) !== null);
    storedIds.push(event.pipeline_data.event_id);
  }

  // What a full disk does to SQLite: SQLITE_FULL. The file may not grow by one page more.
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  const probe = fakeEvent('NFV4-FR', 'cam1', { n: 99 });
  assert.throws(() => store.append(probe.event, big()), (e: unknown) => isVigilError(e) && e.code === 'VIGIL_ERR_DISK_FULL');

  const unstoredIds: string[] = [];
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, n) => {
      const { event } = fakeEvent('NFV4-FR', 'cam1', { n: 100 + n });
      unstoredIds.push(event.pipeline_data.event_id);
      return sink.deliver(event, big());
    }),
  );
  assert.deepEqual(results, Array(10).fill(null));
  assert.deepEqual(live.map((e) => e.pipeline_data.event_id), unstoredIds, 'every unstored event still went out live');
  assert.equal(sink.stats().storage, 'unavailable');
  assert.equal(sink.stats().error, 'VIGIL_ERR_DISK_FULL');
  await sub.until(() => sub.messages.some((m) => m.type === 'error'), 'the disk-full error message');
  const errors = sub.messages.filter((m) => m.type === 'error');
  assert.equal(errors.length, 1, 'one error message per outage, not one per event');
  assert.equal(errors[0]!.code, 'VIGIL_ERR_DISK_FULL');

  // Space is back; after retryMs the next event probes the store and storing resumes.
  db.pragma('max_page_count = 1073741823');
  await new Promise((r) => setTimeout(r, 150));
  for (let n = 0; n < 10; n++) {
    const { event } = fakeEvent('NFV4-FR', 'cam1', { n: 200 + n });
    assert.ok((await sink.deliver(event, big())) !== null, `event ${n} after recovery is stored`);
    storedIds.push(event.pipeline_data.event_id);
  }
  assert.equal(sink.stats().storage, 'ok');
  assert.equal(sink.stats().outages, 1);
  await sub.until(() => sub.events().length === 20, '20 stored events live');
  assert.ok(sub.messages.some((m) => m.type === 'status' && m.storage === 'ok'), 'storage-resumed status message');
  const seqs = sub.seqs();
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, 'seqs increase across the outage');

  // A resume from 0 returns the stored events and nothing else: no invented seq, no hole among stored ones.
  const replay = await Collector.connect(wsUrl('&crops=0&since=0'));
  await replay.until(() => replay.events().length === 20, 'replay of 20');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(replay.events().map((e) => (e.pipeline_data as { event_id: string }).event_id), storedIds);
  assert.deepEqual(replay.seqs(), seqs);
  assert.equal(store.count(), 20);
  sub.close();
  replay.close();
});
