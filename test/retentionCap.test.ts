// A small retention.max_bytes under a sustained flow of real events: once the store reaches the
// cap it stays there (±10 %) while events keep coming, the oldest go and the newest are kept.
// Presence mode with full-size, high-quality crops makes the heaviest events the daemon can
// send, so the cap is reached within a few dozen analysed frames even on a loaded machine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { startDaemon, waitFor } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';
import { subscribe } from './helpers/subscriber.js';
import { usedBytes } from './helpers/sqliteBytes.js';

const CAP = 2 * 1024 * 1024;

test('with a small max_bytes the store stays at the cap (±10 %) while events flow; the newest are kept', async (t) => {
  const d = await startDaemon({
    config: {
      streams: [{ id: 'street', url: mediaPath('video_street_pedestrians_640x360.mp4'), fps: 5, analytics: ['people-counting'] }],
      analytics: { 'people-counting': { presence: true, crop_max_side: 4096 } },
      crops: { max_side: 4096, jpeg_quality: 100 },
      retention: { max_bytes: CAP, interval_s: 5 },
    },
  }, t);
  const file = join(d.dataDir, 'vigil.db');
  const sub = await subscribe(d.url, { authorization: d.token, crops: '0' });
  t.after(() => sub.close());

  await waitFor('the store to reach its cap', () => usedBytes(file) >= CAP * 0.95, 300_000, 500);
  // Sustained: keep sampling while at least as much again flows in as the cap holds.
  const seqAtCap = Math.max(0, ...sub.events().map((e) => Number(e.seq)));
  const samples: number[] = [];
  const storedSince = () => sub.events().filter((e) => Number(e.seq) > seqAtCap).length;
  const perEvent = CAP / Math.max(1, seqAtCap);
  await waitFor('a cap\'s worth of further events', () => {
    samples.push(usedBytes(file));
    return storedSince() * perEvent >= CAP;
  }, 600_000, 250);
  const min = Math.min(...samples), max = Math.max(...samples);
  const figures = { cap: CAP, min, max, samples: samples.length, eventsAtCap: seqAtCap, eventsSince: storedSince() };
  t.diagnostic(JSON.stringify(figures));
  assert.ok(max <= CAP * 1.1, `never above the cap + 10 %: ${JSON.stringify(figures)}`);
  assert.ok(min >= CAP * 0.9, `never more than 10 % below it either (retention trims to 93 %, then refills): ${JSON.stringify(figures)}`);

  // Every event went out with a seq (stored): the full disk path never started.
  const unstored = sub.events().filter((e) => e.seq === null || e.seq === undefined);
  assert.equal(unstored.length, 0, 'every event was stored');
  // The newest are kept, the oldest went, and what is kept is one unbroken run of seqs.
  const lastSeen = Math.max(...sub.events().map((e) => Number(e.seq)));
  const page = await d.api<{ events: { seq: number }[] }>('GET', '/api/events?limit=1000');
  const kept = page.json.events.map((e) => e.seq).sort((a, b) => a - b);
  assert.ok(kept[kept.length - 1]! >= lastSeen, `the newest event (${lastSeen}) is stored`);
  assert.ok(kept[0]! > 1 && kept[0]! > seqAtCap / 2, `the oldest went first (oldest kept ${kept[0]})`);
  assert.deepEqual(kept, Array.from({ length: kept.length }, (_, i) => kept[0]! + i), 'no holes: deletion is oldest first');

  // What the user sees: the cap, the growth per day and no days left before the cap.
  const status = await d.cli(['status']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /Store: [\d.]+ [KM]B of 2\.1 MB, [\d.]+ [KMG]B\/day, at the cap: oldest events deleted \(the cap holds [\d.]+ days\)/);
  const metrics = await (await fetch(new URL('/metrics', d.url), { headers: { authorization: `Bearer ${d.token}` } })).text();
  assert.match(metrics, /^vigil_store_seconds_to_cap 0$/m);
  assert.match(metrics, new RegExp(`^vigil_store_max_bytes ${CAP}$`, 'm'));
  assert.match(metrics, /^vigil_store_bytes_per_day [1-9]\d*$/m);
});
