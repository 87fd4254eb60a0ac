// Subscribers that stop reading must cost the daemon a bounded amount of memory, never silently:
// each gets a `gap` or a 4008 close with a reason, and a log line; fast subscribers still get every
// event; an idle subscriber that answers pings is never cut. The daemon stand-in (producer.ts)
// runs in its own process so its RSS is measured alone.
// STUCK_SUBSCRIBERS_S sets how long the stuck clients stay stuck (default 45; the README figure is 300).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { Collector, refusedUpgrade, startHarness, TOKEN } from './helpers/serverHarness.js';
import { tempDir } from './helpers/eventFixtures.js';
import { PRODUCER_TOKEN, startProducer } from './helpers/producerProcess.js';

const STUCK = 100;
const STUCK_S = Number(process.env.STUCK_SUBSCRIBERS_S ?? 45);
// Short enough that the suite sees both a cut and a survivor; the ping interval is well under it.
const IDLE_S = Math.min(60, Math.max(8, Math.floor(STUCK_S / 2.2)));

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

test(`${STUCK} stuck subscribers: bounded RSS, each told (gap or 4008) and logged; fast ones get every event; a quiet one that answers pings stays`, { timeout: (STUCK_S + 180) * 1000 }, async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const server = { idleTimeoutS: IDLE_S, pingIntervalS: Math.max(1, Math.floor(IDLE_S / 4)), maxStallMs: IDLE_S * 1000, maxSubscribers: 500, maxSubscribersPerToken: 500 };
  // 8 KB crops at 100 events/s: a stuck client's share reaches its send budget within seconds.
  const producer = await startProducer(join(dir, 'vigil.db'), 100, t, { PRODUCER_LOG: '1', PRODUCER_SERVER: JSON.stringify(server), PRODUCER_CROP_BYTES: '8192' });
  const { child, port } = producer;
  const ws = (q = '') => `ws://127.0.0.1:${port}/event_channel?authorization=${PRODUCER_TOKEN}${q}`;

  const fast = await Collector.connect(ws('&crops=0'));
  const quiet = await Collector.connect(ws('&stream_id=nobody'));
  await sleep(2000);
  const baseline = rssMb(child.pid!);

  const stuck: Collector[] = [];
  for (let i = 0; i < STUCK; i++) {
    const c = await Collector.connect(ws());
    // Stop reading: the kernel buffers fill, then the daemon's send queue.
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    stuck.push(c);
  }
  let peak = baseline;
  const until = Date.now() + STUCK_S * 1000;
  while (Date.now() < until) {
    peak = Math.max(peak, rssMb(child.pid!));
    await sleep(500);
  }
  const growth = peak - baseline;
  t.diagnostic(`RSS baseline ${baseline.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, growth ${growth.toFixed(0)} MB with ${STUCK} stuck for ${STUCK_S} s`);
  assert.ok(growth <= 100, `RSS grew by ${growth.toFixed(0)} MB (at most 100)`);

  // The quiet subscriber answered pings through it all: still open, past several idle timeouts.
  assert.equal(quiet.closed, null, 'the quiet subscriber that answers pings stays connected');
  assert.ok(STUCK_S > IDLE_S * 2);

  // Each stuck client was told, and logged: a gap when it drained, else a 4008 close with a reason
  // (a client that never reads cannot see its close frame; uWS drops the socket after its close timeout).
  const lines = producer.log().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { sub?: number; msg: string; code?: number; reason?: string });
  const closedSubs = new Set(lines.filter((l) => l.msg.startsWith('event subscriber closed: ') && l.code === 4008).map((l) => l.sub));
  const gapSubs = new Set(lines.filter((l) => l.msg.startsWith('event subscriber sent a gap')).map((l) => l.sub));
  t.diagnostic(`log: ${closedSubs.size} subscribers closed with 4008, ${gapSubs.size} sent a gap`);
  assert.ok(new Set([...closedSubs, ...gapSubs]).size >= STUCK, 'a gap or a 4008, with a log line, for each stuck client');
  for (const l of lines.filter((x) => x.code === 4008)) assert.match(l.reason!, /^VIGIL_ERR_SLOW_CONSUMER: .*since=\d+/);
  for (const c of stuck) (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  for (const c of stuck) await c.until(() => c.closed !== null || c.messages.some((m) => m.type === 'gap'), 'a gap or a close', 60_000);

  // The fast subscriber saw every event, in order, without a hole.
  const seqs = fast.seqs();
  assert.ok(seqs.length > STUCK_S * 50, `the load was real: ${seqs.length} events`);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1, `no hole after seq ${seqs[i - 1]}`);
  for (const c of [fast, quiet, ...stuck]) c.close();
});

test('subscriber caps: per token and in total, refused with 429 and a code; pings do not count as traffic', async (t) => {
  const h = await startHarness({ maxSubscribers: 3, maxSubscribersPerToken: 2, tokens: [TOKEN, 'other-token-1'] });
  t.after(() => h.close());
  const a = await Collector.connect(`${h.wsUrl}/event_channel?authorization=${TOKEN}`);
  const b = await Collector.connect(`${h.wsUrl}/event_channel?authorization=${TOKEN}`);
  const perToken = await refusedUpgrade(`${h.wsUrl}/event_channel?authorization=${TOKEN}`);
  assert.equal(perToken.status, 429);
  assert.equal(perToken.body.error?.code, 'VIGIL_ERR_TOO_MANY_SUBSCRIBERS');
  assert.match(perToken.body.error!.message, /max_subscribers_per_token/);
  const c = await Collector.connect(`${h.wsUrl}/event_channel?authorization=other-token-1`);
  const total = await refusedUpgrade(`${h.wsUrl}/event_channel?authorization=other-token-1`);
  assert.equal(total.status, 429);
  assert.match(total.body.error!.message, /max_subscribers\)/);
  a.close();
  await new Promise<void>((r) => a.ws.once('close', () => r()));
  await sleep(100);
  const d = await Collector.connect(`${h.wsUrl}/event_channel?authorization=${TOKEN}`);
  for (const x of [b, c, d]) x.close();
});

test('an unanswered ping closes the subscriber with 4008 and a reason; a client that answers is kept', async (t) => {
  const h = await startHarness({ idleTimeoutS: 2, pingIntervalS: 0.5 });
  t.after(() => h.close());
  const alive = await Collector.connect(`${h.wsUrl}/event_channel?authorization=${TOKEN}`);
  // autoPong off: this client reads, but never answers pings (a broken or frozen peer).
  const deaf = new Collector(new WebSocket(`${h.wsUrl}/event_channel?authorization=${TOKEN}`, { autoPong: false } as WebSocket.ClientOptions));
  await new Promise<void>((r) => deaf.ws.once('open', () => r()));
  await deaf.until(() => deaf.closed !== null, 'the deaf client closed', 15_000);
  assert.equal(deaf.closed!.code, 4008);
  assert.match(deaf.closed!.reason, /^VIGIL_ERR_SLOW_CONSUMER: no answer to pings for \d+ s; reconnect with since=\d+/);
  await sleep(1000);
  assert.equal(alive.closed, null, 'the client that answers pings stays');
  alive.close();
});
