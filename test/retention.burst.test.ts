// Retention by size across a burst: the file stays under its cap while ~60 MB of events pour in,
// every event is still stored (the oldest make room), and the file is sound afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../daemon/store/database.js';
import { EventStore } from '../daemon/store/eventStore.js';
import { Retention } from '../daemon/store/retention.js';
import { EventSink } from '../daemon/events/eventSink.js';
import { silentLogger } from '../daemon/log.js';
import { fakeEvent, tempDir } from './helpers/eventFixtures.js';

const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);

test('retention by size holds the database file under its cap across a burst, without losing storage', async (t) => {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'vigil.db');
  const db = openDatabase(file);
  t.after(() => {
    db.close();
    cleanup();
  });
  const store = new EventStore(db);
  const cap = 8 * 1024 * 1024;
  const retention = new Retention(db, { maxBytes: cap, batch: 200, checkIntervalS: 0.1, intervalS: 1, walLimitBytes: 4 * 1024 * 1024 }, silentLogger());
  retention.start();
  t.after(() => retention.stop());
  const sink = new EventSink({ store, publish: () => undefined, log: silentLogger(), nodeNum: 1, onStorageFull: () => retention.trimNow() });

  let maxFile = 0;
  let maxWal = 0;
  const sample = setInterval(() => {
    maxFile = Math.max(maxFile, size(file));
    maxWal = Math.max(maxWal, size(`${file}-wal`));
  }, 5);
  const crop = Buffer.alloc(20 * 1024, 9);
  const total = 3000; // ~60 MB of crops: 7x the cap
  for (let i = 0; i < total; i += 50) {
    // 50 at a time, like several cameras; the loop yields to timers between groups.
    await Promise.all(Array.from({ length: 50 }, (_, k) => sink.deliver(fakeEvent('NFV4-FR', `cam${k % 5}`, { n: i + k, crop }).event, crop)));
    await new Promise((r) => setImmediate(r));
  }
  await retention.runOnce();
  clearInterval(sample);
  maxFile = Math.max(maxFile, size(file));

  assert.ok(maxFile <= cap, `largest database file seen ${maxFile} ≤ cap ${cap}`);
  assert.ok(maxWal <= 16 * 1024 * 1024, `WAL stayed bounded: ${maxWal}`);
  assert.deepEqual(sink.stats().unstored, 0, 'every event was stored: retention made room');
  assert.equal(store.lastSeq(), total);
  const kept = (db.prepare('SELECT seq FROM events ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq);
  assert.equal(kept[kept.length - 1], total, 'the newest are kept');
  assert.deepEqual(kept, Array.from({ length: kept.length }, (_, i) => total - kept.length + 1 + i), 'the oldest went first');
  assert.ok(kept.length > 100, `a useful amount is kept: ${kept.length}`);
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  t.diagnostic(`max file ${(maxFile / 1048576).toFixed(2)} MiB, max WAL ${(maxWal / 1048576).toFixed(2)} MiB, kept ${kept.length} of ${total}`);
});
