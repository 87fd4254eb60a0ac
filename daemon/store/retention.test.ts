import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from './database.js';
import { EventStore } from './eventStore.js';
import { Retention } from './retention.js';
import { silentLogger } from '../log.js';
import type { AnalyticId } from '../analytics/types.js';
import { fakeEvent, tempDir } from '../../test/helpers/eventFixtures.js';

const DAY = 86_400_000;

function open() {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'vigil.db');
  const db = openDatabase(file);
  return { db, file, store: new EventStore(db), cleanup };
}

const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);

test('by age: old events go, per-analytic ages override, protected events (face enrolments) stay, crops go with their events', async (t) => {
  const { db, store, cleanup } = open();
  t.after(() => {
    db.close();
    cleanup();
  });
  // A stand-in for the faces table: an enrolment made from an event's capture (its `variation`).
  db.exec('CREATE TABLE enrolled (capture_id TEXT PRIMARY KEY)');
  const now = Date.now();
  const add = (a: AnalyticId, ageDays: number, n: number) => {
    const { event, crop } = fakeEvent(a, 'cam1', { ts: now - ageDays * DAY, n });
    event.pipeline_data.variation = `cap-${n}`;
    return { seq: store.append(event, crop), a, ageDays, n };
  };
  const rows = [
    add('NFV4-PC', 10, 1), add('NFV4-PC', 8, 2), add('NFV4-PC', 2, 3),
    add('NFV4-FR', 40, 4), add('NFV4-FR', 10, 5), add('NFV4-FR', 35, 6), add('NFV4-FR', 1, 7),
    add('NFV4-LPR', 100, 8), add('NFV4-LPR', 6, 9),
  ];
  db.prepare('INSERT INTO enrolled VALUES (?)').run('cap-6');
  const r = new Retention(
    db,
    {
      maxAgeDays: 7,
      perAnalytic: { 'NFV4-FR': { maxAgeDays: 30 } },
      batch: 2,
      protectedSql: "e.analytic_id = 'NFV4-FR' AND EXISTS (SELECT 1 FROM enrolled x WHERE x.capture_id = json_extract(e.json, '$.pipeline_data.variation'))",
    },
    silentLogger(),
  );
  const res = await r.runOnce();
  const kept = (db.prepare('SELECT seq FROM events ORDER BY seq').all() as { seq: number }[]).map((x) => x.seq);
  const want = rows.filter((x) => (x.a === 'NFV4-FR' ? x.ageDays <= 30 || x.n === 6 : x.ageDays <= 7)).map((x) => x.seq);
  assert.deepEqual(kept, want);
  assert.equal(res.deleted, rows.length - want.length);
  assert.deepEqual((db.prepare('SELECT seq FROM crops ORDER BY seq').all() as { seq: number }[]).map((x) => x.seq), want, 'crops deleted with their events');
  assert.equal(store.lastSeq(), rows[rows.length - 1]!.seq, 'seqs are never reused after deletes');
});

test('by size: the oldest go first until the file is under its cap; the file shrinks on disk; the WAL is truncated', async (t) => {
  const { db, file, store, cleanup } = open();
  t.after(() => {
    db.close();
    cleanup();
  });
  const crop = Buffer.alloc(20 * 1024, 1);
  for (let i = 0; i < 20; i++) store.appendMany(Array.from({ length: 50 }, (_, k) => ({ ...fakeEvent('NFV4-PC', `cam${k % 3}`, { crop, n: i * 50 + k }) })));
  const last = store.lastSeq();
  const cap = 6 * 1024 * 1024;
  assert.ok(size(file) + size(`${file}-wal`) > 3 * cap, 'the store starts well over the cap');
  const r = new Retention(db, { maxBytes: cap, batch: 100 }, silentLogger());
  const res = await r.runOnce();
  assert.ok(res.bytesAfter <= cap, `logical size ${res.bytesAfter} under the cap ${cap}`);
  assert.ok(res.bytesAfter < res.bytesBefore);
  assert.ok(size(file) <= cap, `file on disk ${size(file)} under the cap after vacuum + checkpoint`);
  assert.equal(size(`${file}-wal`), 0, 'WAL truncated by the checkpoint');
  const seqs = (db.prepare('SELECT seq FROM events ORDER BY seq').all() as { seq: number }[]).map((x) => x.seq);
  assert.ok(seqs.length > 50 && seqs.length < 1000);
  assert.equal(seqs[seqs.length - 1], last, 'the newest event is kept');
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => last - seqs.length + 1 + i), 'exactly the oldest were deleted');
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');

  // The hard cap: SQLite refuses to grow the file past it (VIGIL_ERR_DISK_FULL), trimNow makes room again.
  let full = 0;
  for (let i = 0; i < 400 && full === 0; i++) {
    try {
      store.append(fakeEvent('NFV4-PC', 'cam1', { crop, n: 5000 + i }).event, crop);
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'VIGIL_ERR_DISK_FULL');
      full++;
    }
  }
  assert.equal(full, 1, 'the cap is enforced by SQLite');
  assert.ok((await r.trimNow()).deleted > 0);
  store.append(fakeEvent('NFV4-PC', 'cam1', { crop, n: 9999 }).event, crop);
});

test('per-analytic size: one analytic is trimmed to its own budget, the others are untouched', async (t) => {
  const { db, store, cleanup } = open();
  t.after(() => {
    db.close();
    cleanup();
  });
  const crop = Buffer.alloc(10 * 1024, 2);
  for (let n = 0; n < 300; n++) store.append(fakeEvent(n % 2 ? 'NFV4-FR' : 'NFV4-CE', 'cam1', { crop, n }).event, crop);
  const r = new Retention(db, { perAnalytic: { 'NFV4-FR': { maxBytes: 500 * 1024 } }, batch: 7 }, silentLogger());
  await r.runOnce();
  const count = (a: string) => (db.prepare('SELECT COUNT(*) AS n FROM events WHERE analytic_id = ?').get(a) as { n: number }).n;
  assert.equal(count('NFV4-CE'), 150);
  assert.ok(count('NFV4-FR') <= 500 / 10 && count('NFV4-FR') >= 40, `FR kept ${count('NFV4-FR')} of 150`);
  const frSeqs = (db.prepare("SELECT seq FROM events WHERE analytic_id = 'NFV4-FR' ORDER BY seq").all() as { seq: number }[]).map((x) => x.seq);
  assert.equal(frSeqs[frSeqs.length - 1], 300, 'the newest FR event is kept');
});
