import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatabase } from './database.js';
import { EventStore, normalisePlate, rowMessage } from './eventStore.js';
import { buildEvent } from '../events/eventBuilder.js';
import { validateEvent } from '../events/schema.js';
import { fakeEvent, observation, tempDir } from '../../test/helpers/eventFixtures.js';

function open() {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'vigil.db');
  const db = openDatabase(file);
  return { db, file, store: new EventStore(db), cleanup };
}

test('append assigns increasing seqs; crops live apart and come back under the analytic key', async (t) => {
  const { db, store, cleanup } = open();
  t.after(cleanup);
  const fr = await buildEvent(observation('NFV4-FR'), { nodeNum: 1, streamAddress: 'rtsp://u:p@cam/1' });
  const lpr = await buildEvent(observation('NFV4-LPR'), { nodeNum: 1, streamAddress: 'rtsp://cam/2' });
  const s1 = store.append(fr.event, fr.crop);
  const s2 = store.append(lpr.event, lpr.crop);
  assert.ok(s2 > s1 && s1 >= 1);
  assert.equal(store.lastSeq(), s2);

  // The event row holds no base64 crop; the blob is in crops.
  const raw = db.prepare('SELECT json FROM events WHERE seq = ?').get(s1) as { json: string };
  assert.ok(!raw.json.includes('image_jpeg') && !raw.json.includes(fr.crop!.toString('base64').slice(0, 40)));
  assert.deepEqual(store.crop(fr.event.pipeline_data.event_id), fr.crop);

  const back = store.get(lpr.event.pipeline_data.event_id)!;
  assert.equal(back.seq, s2);
  assert.equal(back.jpeg, lpr.crop!.toString('base64'));
  assert.equal(back.image_jpeg, undefined);
  assert.deepEqual(validateEvent(back, { requireSeq: true }), []);
  assert.deepEqual({ ...back, seq: undefined }, { ...lpr.event, seq: undefined });

  const bare = store.get(fr.event.pipeline_data.event_id, false)!;
  assert.equal(bare.image_jpeg, undefined);
  assert.equal(store.get('nope'), undefined);
  assert.equal(store.crop('nope'), undefined);
});

test('query filters by stream, analytic, since/before, and orders newest first unless since is given', (t) => {
  const { store, cleanup } = open();
  t.after(cleanup);
  const items = [];
  for (let n = 0; n < 30; n++) items.push(fakeEvent(n % 3 === 0 ? 'NFV4-PC' : 'NFV4-VC', `cam${n % 2}`, { n }));
  const seqs = store.appendMany(items);
  assert.equal(seqs.length, 30);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));

  const newest = store.query({ limit: 5 });
  assert.deepEqual(newest.map((e) => e.seq), seqs.slice(-5).reverse());
  const after = store.query({ sinceSeq: seqs[9], limit: 3 });
  assert.deepEqual(after.map((e) => e.seq), seqs.slice(10, 13));
  const before = store.query({ beforeSeq: seqs[5], limit: 100 });
  assert.deepEqual(before.map((e) => e.seq), seqs.slice(0, 5).reverse());

  const cam0pc = store.query({ streamIds: ['cam0'], analyticIds: ['NFV4-PC'], limit: 100, order: 'asc' });
  const expected = items.filter((i) => i.event.stream_id === 'cam0' && i.event.analytic_id === 'NFV4-PC');
  assert.deepEqual(cam0pc.map((e) => e.pipeline_data.event_id), expected.map((i) => i.event.pipeline_data.event_id));
  assert.ok(cam0pc.every((e) => e.image_jpeg === undefined), 'no crops unless asked');
  assert.ok(store.query({ limit: 3, withCrops: true }).every((e) => typeof e.image_jpeg === 'string'));
  assert.equal(store.query({ streamIds: ['cam9'] }).length, 0);
  assert.equal(store.count(), 30);
});

test('plate search: normalised exact match and * / ? wildcards', (t) => {
  const { store, cleanup } = open();
  t.after(cleanup);
  const plates = ['B 1234 XYZ', 'B1299AB', 'b-12-c', 'D 777 QQ', 'AB123'];
  for (const [n, plate] of plates.entries()) store.append(fakeEvent('NFV4-LPR', 'gate', { plate, n }).event);
  store.append(fakeEvent('NFV4-VC', 'gate').event); // not a plate event
  const find = (p: string) => store.query({ plate: p, order: 'asc' }).map((e) => e.pipeline_data.plate_number);
  assert.deepEqual(find('B12*'), ['B 1234 XYZ', 'B1299AB', 'b-12-c']);
  assert.deepEqual(find('b 1234 xyz'), ['B 1234 XYZ']);
  assert.deepEqual(find('B12'), []);
  assert.deepEqual(find('*12?'), ['b-12-c', 'AB123']);
  assert.deepEqual(find('*'), plates);
  assert.deepEqual(find("B1'; DROP TABLE events;--*"), []);
  assert.equal(store.count(), 6);
  assert.equal(normalisePlate('b 12-c'), 'B12C');
});

test('write() micro-batches, resolves after commit, in order; reopen keeps data and seqs never go back', async (t) => {
  const { db, file, store, cleanup } = open();
  t.after(cleanup);
  const writes = Array.from({ length: 600 }, (_, n) => store.write(...Object.values(fakeEvent('NFV4-CE', 'hall', { n })) as [never, never]));
  const seqs = await Promise.all(writes);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  assert.equal(new Set(seqs).size, 600);
  // Committed when resolved: another connection sees them.
  const other = openDatabase(file);
  assert.equal((other.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n, 600);
  other.close();

  const pending = store.write(fakeEvent('NFV4-CE', 'hall', { n: 999 }).event);
  store.close(); // flushes
  const last = await pending;
  db.prepare('DELETE FROM events WHERE seq = ?').run(last);
  db.close();

  const db2 = openDatabase(file);
  const store2 = new EventStore(db2);
  assert.equal(store2.count(), 600);
  assert.equal(store2.lastSeq(), last, 'lastSeq survives the delete of the newest row');
  const next = store2.append(fakeEvent('NFV4-CE', 'hall').event);
  assert.equal(next, last + 1, 'a seq is never reused');
  db2.close();
});

test('a duplicate event_id is a coded error and does not lose its batch-mates', async (t) => {
  const { store, cleanup } = open();
  t.after(cleanup);
  const a = fakeEvent('NFV4-PC', 'cam');
  store.append(a.event);
  assert.throws(() => store.append(a.event), { code: 'VIGIL_ERR_BAD_REQUEST' });
  const results = await Promise.allSettled([store.write(fakeEvent('NFV4-PC', 'cam').event), store.write(a.event), store.write(fakeEvent('NFV4-PC', 'cam').event)]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal(store.count(), 3);
});

test('rowMessage equals the parsed event with seq', async (t) => {
  const { store, cleanup } = open();
  t.after(cleanup);
  const fr = await buildEvent(observation('NFV4-FR'), { nodeNum: 1, streamAddress: 'rtsp://cam' });
  const seq = store.append(fr.event, fr.crop);
  const [row] = store.scan({ withCrops: true });
  assert.deepEqual(JSON.parse(rowMessage(row!, true)), { ...fr.event, seq });
  const { image_jpeg: _drop, ...bare } = fr.event;
  assert.deepEqual(JSON.parse(rowMessage(row!, false)), { ...bare, seq });
});

test('time ranges give exactly the events inside, in seq order both ways, also when event times arrive out of order', (t) => {
  const { store, cleanup } = open();
  t.after(cleanup);
  // Event times run with seq but jitter by up to 40 s (a face event is stored when its track ends).
  const base = 1_700_000_000_000;
  const items = Array.from({ length: 3000 }, (_, n) => fakeEvent('NFV4-PC', `cam${n % 3}`, { n, ts: base + n * 1000 + ((n * 7919) % 41) * 1000 - 20_000 }));
  // A camera that fell quiet, and whose 300 events were stored last with old times (a clock set back).
  items.push(...Array.from({ length: 300 }, (_, n) => fakeEvent('NFV4-PC', 'cam9', { n: 5000 + n, ts: base + n * 1000 })));
  const seqs = store.appendMany(items);
  const all = items.map((it, i) => ({ seq: seqs[i]!, ts: Number(it.event.timestamp), cam: it.event.stream_id }));
  const cases: { fromTs?: number; toTs?: number; order?: 'asc' | 'desc'; streamIds?: string[]; limit: number }[] = [
    { fromTs: base + 1_000_000, toTs: base + 1_200_000, limit: 50 },
    { fromTs: base + 1_000_000, toTs: base + 1_200_000, order: 'asc', limit: 50 },
    { fromTs: base + 1_000_000, toTs: base + 1_200_000, streamIds: ['cam1'], limit: 1000 },
    { toTs: base + 500_000, limit: 20 },
    { fromTs: base + 2_900_000, order: 'asc', limit: 20 },
    { fromTs: base + 2_990_000, limit: 100 },
    { fromTs: base + 9_000_000, limit: 10 },
    { fromTs: base - 100_000, toTs: base - 50_000, limit: 10 },
    // The walk's far end bounded by the few events beyond it (and around the bound's threshold).
    { toTs: base + 30_000, order: 'asc', limit: 50 },
    { toTs: base - 100_000, order: 'asc', limit: 5 },
    { fromTs: base + 2_995_000, streamIds: ['cam2'], limit: 100 },
    { fromTs: base + 1_001_000, streamIds: ['cam0'], limit: 5000 },
    { fromTs: base + 999_000, limit: 5000 },
    { toTs: base + 2_000_000, order: 'asc', streamIds: ['cam1'], limit: 5000 },
    // Named cameras: few of their events on the far side, however many of the others.
    { fromTs: base + 2_000_000, streamIds: ['cam9'], limit: 100 },
    { fromTs: base + 200_000, streamIds: ['cam9'], limit: 50 },
    { fromTs: base + 200_000, streamIds: ['cam9', 'cam2'], limit: 200 },
    { fromTs: base + 250_000, streamIds: ['cam9'], order: 'asc', limit: 20 },
    { toTs: base + 50_000, streamIds: ['cam9'], order: 'asc', limit: 20 },
    { toTs: base + 50_000, streamIds: ['cam9', 'cam0'], order: 'asc', limit: 100 },
    { fromTs: base + 2_999_000, streamIds: ['cam0', 'cam1'], limit: 10 },
  ];
  for (const q of cases) {
    const want = all
      .filter((e) => (q.fromTs === undefined || e.ts >= q.fromTs) && (q.toTs === undefined || e.ts < q.toTs) && (!q.streamIds || q.streamIds.includes(e.cam)))
      .sort((a, b) => (q.order === 'asc' ? a.seq - b.seq : b.seq - a.seq))
      .slice(0, q.limit)
      .map((e) => e.seq);
    assert.deepEqual(store.query(q).map((r) => r.seq), want, JSON.stringify(q));
  }
});
