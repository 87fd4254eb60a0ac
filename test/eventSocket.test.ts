import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeEvent } from './helpers/eventFixtures.js';
import { ADMIN, Collector, TOKEN, refusedUpgrade, startHarness } from './helpers/serverHarness.js';
import { validateEvent, type VisionEvent } from '../daemon/events/schema.js';

test('a missing, wrong or malformed request is refused with HTTP 401/400 before the upgrade', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const none = await refusedUpgrade(`${h.wsUrl}/event_channel`);
  assert.equal(none.status, 401);
  assert.equal(none.body.error?.code, 'VIGIL_ERR_UNAUTHORIZED');
  const wrong = await refusedUpgrade(`${h.wsUrl}/ws/events?authorization=nope`);
  assert.equal(wrong.status, 401);
  const wrongHeader = await refusedUpgrade(`${h.wsUrl}/event_channel`, { authorization: 'Bearer nope' });
  assert.equal(wrongHeader.status, 401);
  const badSince = await refusedUpgrade(`${h.wsUrl}/event_channel?authorization=${TOKEN}&since=-4`);
  assert.equal(badSince.status, 400);
  assert.equal(badSince.body.error?.code, 'VIGIL_ERR_BAD_REQUEST');
  const badAnalytic = await refusedUpgrade(`${h.wsUrl}/event_channel?authorization=${TOKEN}&analytic_id=NFV4-XX`);
  assert.equal(badAnalytic.status, 400);
  assert.match(badAnalytic.body.error?.message ?? '', /NFV4-XX/);
  assert.equal(h.server.subscriberCount(), 0);

  // Header token, query token and the admin token are all accepted.
  const a = await Collector.connect(`${h.wsUrl}/event_channel`, { authorization: `Bearer ${TOKEN}` });
  const b = await Collector.connect(`${h.wsUrl}/ws/events?authorization=${ADMIN}`);
  await a.until(() => h.server.subscriberCount() === 2, 'two subscribers');
  a.close();
  b.close();
});

test('filters by stream_id and analytic_id lists; crops=0 drops the crop; events keep every schema key', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const base = `${h.wsUrl}/event_channel?authorization=${TOKEN}`;
  const byStream = await Collector.connect(`${base}&stream_id=cam1,cam3`);
  const byAnalytic = await Collector.connect(`${base}&analytic_id=NFV4-LPR`);
  const bare = await Collector.connect(`${base}&crops=0`);
  const kinds = ['NFV4-LPR', 'NFV4-FR', 'NFV4-CE'] as const;
  const sent: { seq: number; event: VisionEvent }[] = [];
  for (let n = 0; n < 30; n++) {
    const { event, crop } = fakeEvent(kinds[n % 3]!, `cam${n % 4}`, { n });
    sent.push({ seq: h.emit(event, crop), event });
  }
  const want = (f: (e: VisionEvent) => boolean) => sent.filter((s) => f(s.event)).map((s) => s.seq);
  await bare.until(() => bare.events().length === 30, 'all events on the unfiltered socket');
  await byStream.until(() => byStream.events().length === want((e) => ['cam1', 'cam3'].includes(e.stream_id)).length, 'stream-filtered events');
  await byAnalytic.until(() => byAnalytic.events().length === 10, 'LPR events');
  assert.deepEqual(byStream.seqs(), want((e) => ['cam1', 'cam3'].includes(e.stream_id)));
  assert.deepEqual(byAnalytic.seqs(), want((e) => e.analytic_id === 'NFV4-LPR'));
  for (const m of byAnalytic.events()) {
    assert.deepEqual(validateEvent(m, { requireSeq: true }), []);
    assert.equal(typeof m.jpeg, 'string');
  }
  // A live event is exactly what the store gives back for it.
  const first = byAnalytic.events()[0]!;
  assert.deepEqual(first, h.store.get((first.pipeline_data as { event_id: string }).event_id));
  assert.ok(bare.events().every((m) => m.image_jpeg === undefined && m.jpeg === undefined));
  assert.deepEqual(bare.seqs(), sent.map((s) => s.seq));

  // Status control messages reach everyone, narrowed by stream_id, with credentials masked.
  h.server.publishControl({ type: 'status', stream_id: 'cam1', state: 'stalled', url: 'rtsp://admin:pw@cam1/live' });
  h.server.publishControl({ type: 'status', stream_id: 'cam2', state: 'running' });
  await bare.until(() => bare.messages.filter((m) => m.type === 'status').length === 2, 'two status messages');
  await byStream.until(() => byStream.messages.some((m) => m.type === 'status'), 'status on cam1');
  assert.deepEqual(byStream.messages.filter((m) => m.type === 'status').map((m) => m.stream_id), ['cam1']);
  assert.equal(bare.messages.find((m) => m.type === 'status')!.url, 'rtsp://***:***@cam1/live');
  for (const c of [byStream, byAnalytic, bare]) c.close();
});

test('since replays stored events then goes live: no gap, no duplicate, while events keep flowing', async (t) => {
  const h = await startHarness({ replayChunk: 100 });
  t.after(() => h.close());
  const all: number[] = [];
  const items = Array.from({ length: 3000 }, (_, n) => fakeEvent(n % 2 ? 'NFV4-PC' : 'NFV4-VC', 'cam1', { n }));
  all.push(...h.store.appendMany(items));
  const since = all[999]!;

  // A producer keeps storing + publishing during the replay.
  let producing = true;
  let n = 0;
  const producer = (async () => {
    while (producing) {
      for (let i = 0; i < 5; i++) all.push(h.emit(...(Object.values(fakeEvent('NFV4-PC', 'cam1', { n: n++ })) as [never, never])));
      await new Promise((r) => setImmediate(r));
    }
  })();
  const t0 = Date.now();
  const c = await Collector.connect(`${h.wsUrl}/event_channel?authorization=${TOKEN}&since=${since}`);
  await c.until(() => c.events().length >= 2000 + 500, 'replay plus some live events', 30_000);
  const replayMs = Date.now() - t0;
  producing = false;
  await producer;
  const expected = all.filter((s) => s > since);
  await c.until(() => c.events().length >= expected.length, 'the tail of the live events');
  assert.deepEqual(c.seqs(), expected, 'exactly the stored events after since, in order');
  assert.ok(n > 100, `the producer ran during the replay (${n} live events)`);
  t.diagnostic(`replayed 2000 + ${n} live events in ${replayMs} ms`);
  c.close();
});

test('replay with filters skips over long runs of non-matching events', async (t) => {
  const h = await startHarness({ replayChunk: 10 }); // reads windows of 500 seqs
  t.after(() => h.close());
  const items = Array.from({ length: 3000 }, (_, n) => fakeEvent('NFV4-PC', n % 700 === 0 || n > 2990 ? 'rare' : `busy${n % 2}`, { n }));
  const seqs = h.store.appendMany(items);
  const want = seqs.filter((_, i) => items[i]!.event.stream_id === 'rare');
  const c = await Collector.connect(`${h.wsUrl}/event_channel?authorization=${TOKEN}&since=0&stream_id=rare,busy9`);
  await c.until(() => c.events().length === want.length, 'the rare events');
  assert.deepEqual(c.seqs(), want);
  const live = h.emit(fakeEvent('NFV4-PC', 'rare').event);
  await c.until(() => c.seqs().includes(live), 'live after replay');
  assert.deepEqual(c.seqs(), [...want, live]);
  c.close();
});

test('heartbeats carry the last seq', async (t) => {
  const h = await startHarness({ heartbeatS: 0.2 });
  t.after(() => h.close());
  const seq = h.store.append(fakeEvent('NFV4-CE', 'hall').event);
  const c = await Collector.connect(`${h.wsUrl}/event_channel?authorization=${TOKEN}`);
  await c.until(() => c.messages.some((m) => m.type === 'heartbeat'), 'a heartbeat', 5000);
  const hb = c.messages.find((m) => m.type === 'heartbeat')!;
  assert.equal(hb.seq, seq);
  assert.match(String(hb.timestamp), /^\d{13}$/);
  c.close();
});

test('a client that stops reading gets a gap then catches up from the store; others get everything; server buffer stays bounded', async (t) => {
  const maxBackpressure = 2 * 1024 * 1024;
  const h = await startHarness({ highWaterBytes: 256 * 1024, maxBackpressure, maxLagEvents: 1_000_000 });
  t.after(() => h.close());
  const url = `${h.wsUrl}/event_channel?authorization=${TOKEN}`;
  const fast = await Collector.connect(url);
  const slow = await Collector.connect(url);
  slow.ws.pause();
  const crop = Buffer.alloc(16 * 1024, 7); // ~22 KB base64 per event
  const seqs: number[] = [];
  let maxBuffered = 0;
  const stats = () => h.server.subscriberStats();
  // Publish until the paused client is marked behind (kernel buffers absorb the first MBs), then 300 more.
  let extra = -1;
  for (let n = 0; n < 20_000 && extra !== 0; n++) {
    seqs.push(h.emit(fakeEvent('NFV4-FR', 'cam1', { n, crop }).event, crop));
    for (const s of stats()) maxBuffered = Math.max(maxBuffered, s.bufferedAmount);
    if (extra > 0) extra--;
    else if (extra < 0 && stats().some((s) => s.mode === 'behind')) extra = 300;
    // The fast client keeps pace (≤ 8 events, ~180 KB, in flight): a reader that keeps up, however busy the box.
    if (n % 4 === 3) await fast.until(() => fast.events().length >= seqs.length - 4, 'the fast client keeping pace');
  }
  assert.equal(extra, 0, 'the paused subscriber was marked behind');
  assert.ok(maxBuffered <= maxBackpressure, `server-side buffer stayed bounded (${maxBuffered} bytes)`);
  await fast.until(() => fast.events().length === seqs.length, 'the fast client gets everything', 30_000);
  assert.deepEqual(fast.seqs(), seqs);
  assert.equal(fast.messages.filter((m) => m.type === 'gap').length, 0);

  slow.ws.resume();
  await slow.until(() => slow.events().length >= seqs.length, 'the slow client catches up', 30_000);
  const gap = slow.messages.find((m) => m.type === 'gap')!;
  assert.ok(gap, 'a gap message was sent');
  assert.ok((gap.from_seq as number) > seqs[0]! && (gap.to_seq as number) >= (gap.from_seq as number));
  assert.deepEqual(slow.seqs(), seqs, 'after the gap the store fills in every event, once, in order');
  const gapIndex = slow.messages.indexOf(gap);
  assert.equal((slow.messages[gapIndex + 1] as { seq: number }).seq, gap.from_seq, 'replay starts at from_seq');
  t.diagnostic(`slow client fell behind at seq ${String(gap.from_seq)} of ${seqs.length}; max server buffer ${maxBuffered} bytes`);
  // It is live again.
  const last = h.emit(fakeEvent('NFV4-FR', 'cam1').event);
  await slow.until(() => slow.seqs().includes(last), 'a live event after catching up');
  fast.close();
  slow.close();
});

test('a subscriber that falls too far behind is closed with 4008 and the seq to resume from', async (t) => {
  const h = await startHarness({ highWaterBytes: 64 * 1024, maxLagEvents: 200 });
  t.after(() => h.close());
  const url = `${h.wsUrl}/event_channel?authorization=${TOKEN}`;
  const fast = await Collector.connect(url);
  const slow = await Collector.connect(url);
  slow.ws.pause();
  const crop = Buffer.alloc(16 * 1024, 1);
  const seqs: number[] = [];
  for (let n = 0; n < 20_000 && h.server.subscriberCount() === 2; n++) {
    seqs.push(h.emit(fakeEvent('NFV4-VC', 'cam1', { n, crop }).event, crop));
    if (n % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  assert.equal(h.server.subscriberCount(), 1, 'the slow subscriber was dropped');
  seqs.push(h.emit(fakeEvent('NFV4-VC', 'cam1').event));
  await fast.until(() => fast.events().length === seqs.length, 'the fast client still gets everything', 30_000);
  assert.deepEqual(fast.seqs(), seqs);
  slow.ws.resume();
  await slow.until(() => slow.closed !== null, 'the close frame', 30_000);
  assert.equal(slow.closed!.code, 4008);
  const m = /since=(\d+)/.exec(slow.closed!.reason);
  assert.ok(m, slow.closed!.reason);
  assert.equal(Number(m[1]), slow.seqs().at(-1) ?? 0, 'resume seq is the last event it received');
  fast.close();
});
