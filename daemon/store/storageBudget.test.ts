import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from './database.js';
import { EventStore } from './eventStore.js';
import { resolveCap, StorageMeter } from './storageBudget.js';
import { fakeEvent, tempDatabase, tempDir } from '../../test/helpers/eventFixtures.js';

const GiB = 1024 ** 3;

test('max_bytes: a number is the cap, null is none, auto is a share of the data disk within its limits', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base = { disk_share: 0.2, auto_max_bytes: 20 * GiB };
  assert.deepEqual(resolveCap({ ...base, max_bytes: 5_000_000 }, dir, 0), { maxBytes: 5_000_000, source: 'config' });
  assert.deepEqual(resolveCap({ ...base, max_bytes: null }, dir, 0), { source: 'none' });
  const fs = statfsSync(dir);
  const disk = fs.blocks * fs.bsize, free = fs.bavail * fs.bsize;
  const auto = resolveCap({ ...base, max_bytes: 'auto' }, dir, 0);
  assert.equal(auto.source, 'auto');
  assert.equal(auto.diskBytes, disk);
  const expected = Math.floor(Math.max(64 * 1024 * 1024, Math.min(disk * 0.2, 20 * GiB, free / 2)));
  assert.equal(auto.maxBytes, expected);
  assert.ok(auto.maxBytes! <= 20 * GiB && auto.maxBytes! <= Math.max(64 * 1024 * 1024, free / 2), 'never more than half of what is free');
  const small = resolveCap({ ...base, max_bytes: 'auto', auto_max_bytes: 100 * 1024 * 1024 }, dir, 0);
  assert.ok(small.maxBytes! <= 100 * 1024 * 1024, 'auto_max_bytes caps it');
});

test('bytes per day: events of the last day times the bytes the store holds per event; days to the cap and days the cap holds', (t) => {
  const { dir, db } = tempDatabase(t);
  const store = new EventStore(db);
  const now = Date.now();
  // 60 events over the last 6 hours, and one from 3 days ago (outside the window).
  store.append(fakeEvent('NFV4-PC', 'cam', { ts: now - 3 * 86_400_000 }).event);
  for (let i = 0; i < 60; i++) store.append(fakeEvent('NFV4-PC', 'cam', { ts: now - 6 * 3_600_000 + i * 360_000, n: i }).event);
  const meter = new StorageMeter(db, 100_000_000);
  const used = 6_100_000; // 100 KB an event on disk, whatever it is made of
  const r = meter.rate(used, now);
  assert.equal(r.bytes_per_day, 60 * 4 * 100_000, '240 events a day x 100 KB');
  assert.equal(r.days_to_cap, Math.round(((100_000_000 - used) / 24_000_000) * 10) / 10);
  assert.equal(r.days_at_cap, Math.round((100_000_000 / 24_000_000) * 10) / 10);
  assert.equal(meter.rate(100_000_000, now + 1000).days_to_cap, 0, 'at the cap: 0 days left');
  const none = new StorageMeter(db, undefined).rate(used, now);
  assert.equal(none.days_to_cap, null, 'no cap: no days');
  assert.equal(none.bytes_per_day, 24_000_000);
  const empty = openDatabase(join(dir, 'empty.db'));
  new EventStore(empty);
  assert.equal(new StorageMeter(empty, 1e9).rate(4096, now).bytes_per_day, 0, 'no events: no rate');
  empty.close();
});
