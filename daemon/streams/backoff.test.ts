import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from './backoff.js';
import { FpsMeter } from './fpsMeter.js';
import { Watchdog } from './watchdog.js';

test('backoff doubles from initial, caps at max, resets', () => {
  const b = new Backoff(1000, 8000, 0); // no jitter: exact values
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [1000, 2000, 4000, 8000, 8000, 8000]);
  b.reset();
  assert.equal(b.next(), 1000);
});

test('backoff jitter stays within ±20 % and never exceeds the cap', () => {
  const lo = new Backoff(1000, 60_000, 0.2, () => 0);
  const hi = new Backoff(1000, 60_000, 0.2, () => 0.999999);
  assert.equal(lo.next(), 800);
  assert.equal(hi.next(), 1200);
  const capped = new Backoff(1000, 5000, 0.2, () => 0.999999);
  for (let i = 0; i < 10; i++) assert.ok(capped.next() <= 5000);
  const spread = new Set(Array.from({ length: 20 }, () => new Backoff(1000, 60_000).next()));
  assert.ok(spread.size > 1, 'random jitter spreads the delays');
});

test('fps meter reports ticks per second over its window', () => {
  const m = new FpsMeter(5000);
  for (let t = 0; t <= 10_000; t += 200) m.tick(t); // 5 per second
  assert.equal(m.rate(10_000), 5);
  assert.equal(new FpsMeter().rate(), 0);
});

test('watchdog fires when not fed and not while fed', async () => {
  const w = new Watchdog();
  let fired = 0;
  w.arm(150, () => fired++);
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 60));
    w.feed();
  }
  assert.equal(fired, 0);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(fired, 1);
  w.arm(50, () => fired++);
  w.disarm();
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(fired, 1);
});

test('the default retry cap is 30 s, for failed starts and drops alike (config and stream defaults)', async () => {
  const { checkConfig } = await import('../../config/loader.js');
  const { toStreamConfig } = await import('../streamRegistry.js');
  const { STREAM_DEFAULTS } = await import('./types.js');
  const cfg = checkConfig({ streams: [{ id: 'a', url: 'rtsp://cam/x' }] });
  assert.equal(cfg.streams[0]!.backoff_max_ms, 30_000);
  assert.equal(toStreamConfig(cfg.streams[0]!).backoff.maxMs, 30_000);
  assert.equal(STREAM_DEFAULTS.backoff.maxMs, 30_000);
});
