// `npm run bench -- fanout`: event fan-out to 200 subscribers with 20 KB events (Vigil's uWS event
// socket vs a baseline `ws` server doing the same store + broadcast, same run), store insert rate,
// and plate and time-range queries at 1M rows (BENCH_ROWS to change). Subscribers run in two child processes.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { openDatabase } from '../daemon/store/database.js';
import { EventStore } from '../daemon/store/eventStore.js';
import { createServer } from '../daemon/server/server.js';
import { EventSink } from '../daemon/events/eventSink.js';
import { newEventId } from '../daemon/events/eventBuilder.js';
import type { VisionEvent } from '../daemon/events/schema.js';
import { silentLogger } from '../daemon/log.js';
import { loadLine } from './lib/measure.js';

const SUBSCRIBERS = 200;
const CHILDREN = 2;
const STEP_S = 3;
const RATES = [25, 50, 75, 100, 150, 200, 300, 400];
const TOKEN = 'bench-token-1234';
const now = () => performance.timeOrigin + performance.now();

/** Child mode: N subscribers; latency from the send time the producer puts at the start of each message. */
async function clientMain(url: string, n: number): Promise<void> {
  let lat: number[] = [];
  let count = 0;
  const sockets = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.on('message', (data: Buffer) => {
          // Only the head is read (no JSON.parse of 20 KB): the client side must not be the bottleneck.
          const m = /"sent":([\d.]+)/.exec(data.toString('latin1', 0, 160));
          if (!m) return;
          count++;
          if (count % 4 === 0) lat.push(now() - Number(m[1]));
        });
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      }),
    ),
  );
  process.send!({ ready: true });
  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd === 'report') {
      lat.sort((a, b) => a - b);
      const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]! : NaN);
      process.send!({ count, p50: q(0.5), p99: q(0.99) });
      lat = [];
      count = 0;
    } else if (msg.cmd === 'exit') {
      for (const s of sockets) s.terminate();
      process.exit(0);
    }
  });
}

function event(seqHint: number, crop: string): VisionEvent {
  const ts = Date.now();
  // Key order matters: `sent` sits in the first bytes of the message the clients read.
  return {
    timestamp: String(ts),
    pipeline_data: { sent: now(), event_id: newEventId(ts), primary_text: 'person', secondary_text: '', area_name: 'a', confidence: 0.9, label: 'person', direction: '', line: '', n: seqHint },
    analytic_id: 'NFV4-PC',
    node_num: 1,
    stream_id: `cam${seqHint % 8}`,
    stream_address: 'rtsp://cam/1',
    image_jpeg: crop,
  } as unknown as VisionEvent;
}

interface Step {
  rate: number;
  delivered: number;
  p50: number;
  p99: number;
}

async function startClients(url: string, subscribers = SUBSCRIBERS): Promise<{ report(): Promise<{ count: number; p50: number; p99: number }>; stop(): void }> {
  const self = fileURLToPath(import.meta.url);
  const kids: ChildProcess[] = [];
  const children = Math.min(CHILDREN, subscribers);
  for (let i = 0; i < children; i++) {
    const k = fork(self, ['--fanout-clients', url, String(Math.ceil(subscribers / children))], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    kids.push(k);
    // A child that cannot connect its subscribers exits: fail the bench rather than wait forever.
    await new Promise<void>((res, rej) => {
      k.once('message', () => res());
      k.once('exit', (code) => rej(new Error(`subscriber process exited (${code}) before its ${subscribers} subscribers connected`)));
    });
  }
  return {
    async report() {
      const rs = await Promise.all(kids.map((k) => new Promise<{ count: number; p50: number; p99: number }>((res) => {
        k.once('message', (m) => res(m as { count: number; p50: number; p99: number }));
        k.send({ cmd: 'report' });
      })));
      return { count: rs.reduce((n, r) => n + r.count, 0), p50: Math.max(...rs.map((r) => r.p50)), p99: Math.max(...rs.map((r) => r.p99)) };
    },
    stop() {
      for (const k of kids) k.send({ cmd: 'exit' });
    },
  };
}

/** One server under test: how to store + publish one event, and where its subscribers connect. */
interface Side {
  name: string;
  url: string;
  emit: (e: VisionEvent, crop: Buffer) => Promise<unknown>;
}

const cropBytes = Buffer.alloc(15 * 1024, 0x41); // 15 KB → 20 KB base64: the event is ~20 KB
const crop = cropBytes.toString('base64');
let eventNo = 0;

/** Offers `rate` events/s for STEP_S to one side; deliveries, latency and this process's CPU (store + send) per 1,000 deliveries. */
async function step(side: Side, clients: Awaited<ReturnType<typeof startClients>>, rate: number, subscribers: number): Promise<Step & { ok: boolean; cpuPer1000: number }> {
  await clients.report(); // reset counters
  const c0 = process.cpuUsage();
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < STEP_S * 1000) {
    const due = Math.floor(((Date.now() - started) / 1000) * rate) - sent;
    for (let i = 0; i < due; i++, sent++) void side.emit(event(eventNo++, crop), cropBytes);
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 500)); // let the tail arrive
  const c = process.cpuUsage(c0);
  const r = await clients.report();
  const cpuMs = (c.user + c.system) / 1000;
  return { rate, delivered: r.count / STEP_S, p50: r.p50, p99: r.p99, ok: r.count >= sent * subscribers * 0.97 && r.p99 < 500, cpuPer1000: (cpuMs / Math.max(1, r.count)) * 1000 };
}

/** Server CPU per 1,000 deliveries at 1, 10 and 100 subscribers, both sides interleaved (A, B, B, A) at one rate. */
async function cpuPerDelivery(sides: Side[]): Promise<void> {
  const rate = 50;
  for (const n of [1, 10, 100]) {
    const clients = await Promise.all(sides.map((s) => startClients(s.url, n)));
    try {
      const cpu = sides.map(() => 0);
      for (const i of [0, 1, 1, 0]) cpu[i]! += (await step(sides[i]!, clients[i]!, rate, n)).cpuPer1000 / 2;
      console.log(`  ${n} subscriber(s), ${rate} ev/s: CPU per 1,000 deliveries ${sides.map((s, i) => `${s.name} ${cpu[i]!.toFixed(1)} ms`).join(', ')} -> ratio ${(cpu[1]! / cpu[0]!).toFixed(2)} (ws / vigil); ${loadLine()}`);
    } finally {
      for (const c of clients) c.stop();
    }
  }
}

/** Rate steps at 200 subscribers, the two sides taking turns at each rate; each side stops at its first step not sustained. */
async function rateSteps(sides: Side[]): Promise<(Step | null)[]> {
  const clients = await Promise.all(sides.map((s) => startClients(s.url)));
  const best: (Step | null)[] = sides.map(() => null);
  const done = sides.map(() => false);
  try {
    for (const rate of RATES) {
      for (let i = 0; i < sides.length; i++) {
        if (done[i]) continue;
        const st = await step(sides[i]!, clients[i]!, rate, SUBSCRIBERS);
        console.log(`  ${sides[i]!.name}: ${rate} ev/s offered → ${Math.round(st.delivered)} deliveries/s (${(st.delivered / SUBSCRIBERS).toFixed(0)} ev/s per subscriber), p50 ${st.p50.toFixed(1)} ms, p99 ${st.p99.toFixed(1)} ms, CPU ${st.cpuPer1000.toFixed(1)} ms per 1,000 deliveries${st.ok ? '' : '  (not sustained)'}`);
        if (st.ok) best[i] = st;
        else done[i] = true;
      }
      if (done.every(Boolean)) break;
    }
  } finally {
    for (const c of clients) c.stop();
  }
  return best;
}

async function fanout(dir: string): Promise<void> {
  console.log(`fan-out: ~20 KB events, ${STEP_S} s per step, both servers up at once and measured in turns; ${loadLine()}`);
  const log = silentLogger();
  // Vigil: EventSink → EventStore.write → uWS event socket.
  const db = openDatabase(join(dir, 'fanout-vigil.db'));
  const store = new EventStore(db);
  // BENCH_HIGH_WATER: the per-subscriber bound (bytes) above which a subscriber falls back to the store.
  const highWaterBytes = process.env.BENCH_HIGH_WATER ? Number(process.env.BENCH_HIGH_WATER) : undefined;
  const server = createServer({ host: '127.0.0.1', port: 0, tokens: [TOKEN], adminToken: 'bench-admin-1234', heartbeatS: 0, log, store, highWaterBytes, maxSubscribers: 1000, maxSubscribersPerToken: 1000 });
  await server.start();
  const sink = new EventSink({ store, publish: (e, s) => server.publish(e, s), log, nodeNum: 1 });

  // Baseline: the same store write, then a `ws` broadcast with a per-client buffer bound.
  const db2 = openDatabase(join(dir, 'fanout-ws.db'));
  const store2 = new EventStore(db2);
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  const sides: Side[] = [
    { name: 'vigil (uWS)', url: `ws://127.0.0.1:${server.port()}/event_channel?authorization=${TOKEN}`, emit: (e, c) => sink.deliver(e, c) },
    {
      name: 'baseline (ws)',
      url: `ws://127.0.0.1:${port}/`,
      emit: async (e, c) => {
        const seq = await store2.write(e, c);
        const msg = JSON.stringify({ seq, ...e });
        for (const client of wss.clients) if (client.readyState === WebSocket.OPEN && client.bufferedAmount < 1024 * 1024) client.send(msg);
      },
    },
  ];
  try {
    await cpuPerDelivery(sides);
    console.log(`${SUBSCRIBERS} subscribers in ${CHILDREN} processes per server:`);
    const [vigil, baseline] = await rateSteps(sides);
    if (vigil && baseline) {
      console.log(`fan-out best sustained: vigil ${Math.round(vigil.delivered)} deliveries/s (p99 ${vigil.p99.toFixed(1)} ms) vs ws ${Math.round(baseline.delivered)} deliveries/s (p99 ${baseline.p99.toFixed(1)} ms): ratio ${(vigil.delivered / baseline.delivered).toFixed(2)}x`);
    } else console.log(`fan-out: vigil ${vigil ? Math.round(vigil.delivered) : 'none'} / ws ${baseline ? Math.round(baseline.delivered) : 'none'} deliveries/s sustained`);
  } finally {
    await server.stop();
    wss.close();
    db.close();
    db2.close();
  }
}

async function inserts(dir: string): Promise<void> {
  for (const cropKb of [1, 20]) {
    const db = openDatabase(join(dir, `insert-${cropKb}.db`));
    const store = new EventStore(db);
    const crop = Buffer.alloc(cropKb * 1024, 7);
    const N = cropKb === 1 ? 50_000 : 10_000;
    const t0 = performance.now();
    const pending: Promise<number>[] = [];
    for (let i = 0; i < N; i++) {
      pending.push(store.write(event(i, ''), crop));
      if (pending.length >= 1000) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const s = (performance.now() - t0) / 1000;
    console.log(`store insert (write, micro-batched), ${cropKb} KB crop: ${Math.round(N / s)} events/s`);
    db.close();
  }
}

async function plateQuery(dir: string): Promise<void> {
  const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
  const db = openDatabase(join(dir, 'plates.db'));
  const store = new EventStore(db);
  const t0 = performance.now();
  const letters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
  const plate = (i: number) => `${letters[i % 23]}${(i * 7919) % 10000} ${letters[(i >> 3) % 23]}${letters[(i >> 7) % 23]}`;
  for (let i = 0; i < rows; i += 10_000) {
    store.appendMany(Array.from({ length: Math.min(10_000, rows - i) }, (_, k) => {
      const n = i + k;
      const ts = 1_700_000_000_000 + n * 100;
      return {
        event: {
          // cam15 falls quiet half way through (its share goes to cam0).
          analytic_id: 'NFV4-LPR', node_num: 1, stream_id: n % 16 === 15 && n > rows / 2 ? 'cam0' : `cam${n % 16}`, stream_address: 'rtsp://cam', timestamp: String(ts),
          pipeline_data: { event_id: newEventId(ts), primary_text: plate(n), secondary_text: '', plate_number: plate(n), label: 'car', area_name: '', direction: 'Up', confidence: 0.9, plate_type: '', plate_confidence: 0.9 },
        } as VisionEvent,
      };
    }));
  }
  console.log(`plate table: ${rows} LPR events inserted in ${((performance.now() - t0) / 1000).toFixed(1)} s (${Math.round(rows / ((performance.now() - t0) / 1000))} events/s in batches of 10 000)`);
  const time = (label: string, f: () => number, what = 'plate'): void => {
    const ts: number[] = [];
    let hits = 0;
    for (let i = 0; i < 50; i++) {
      const a = performance.now();
      hits = f();
      ts.push(performance.now() - a);
    }
    ts.sort((x, y) => x - y);
    console.log(`query by ${what} at ${rows} rows, ${label}: median ${ts[25]!.toFixed(3)} ms, p99 ${ts[49]!.toFixed(3)} ms (${hits} hits)`);
  };
  const target = plate(123_457 % rows);
  time(`exact "${target}"`, () => store.query({ plate: target, limit: 100 }).length);
  time(`prefix "${target.slice(0, 3)}*"`, () => store.query({ plate: `${target.slice(0, 3)}*`, limit: 100 }).length);
  time(`infix "*${target.slice(2, 5)}*"`, () => store.query({ plate: `*${target.slice(2, 5)}*`, limit: 100 }).length);
  // Scoped to its camera and a time range: the plate index must still lead.
  time(`exact "${target}" on its camera since the first event`, () => store.query({ plate: target, streamIds: [`cam${123_457 % 16}`], fromTs: 1_700_000_000_000, limit: 100 }).length);
  // Time ranges, as the dashboard's history and `vigil events --from/--to` ask: one hour in the middle
  // of the table (36 000 events at 10 a second), newest 100 first, then one camera in that hour.
  const mid = 1_700_000_000_000 + Math.floor(rows / 2) * 100;
  time('1 h range, newest 100', () => store.query({ fromTs: mid, toTs: mid + 3_600_000, limit: 100 }).length, 'time');
  time('1 h range of one camera, newest 100', () => store.query({ fromTs: mid, toTs: mid + 3_600_000, streamIds: ['cam3'], limit: 100 }).length, 'time');
  time('1 h range, oldest 100 first', () => store.query({ fromTs: mid, toTs: mid + 3_600_000, order: 'asc', limit: 100 }).length, 'time');
  // A quiet last hour: `from` after all but the newest 10 s of events, then after every event.
  const newest = 1_700_000_000_000 + (rows - 1) * 100;
  time('from 10 s before the newest event, newest 100', () => store.query({ fromTs: newest - 10_000, limit: 100 }).length, 'time');
  time('from after every event, newest 100', () => store.query({ fromTs: newest + 60_000, limit: 100 }).length, 'time');
  // The last hour of a camera that fell quiet long ago, alone and with a busy one (a dashboard's camera filter).
  time('last hour of a quiet camera, newest 100', () => store.query({ fromTs: newest - 3_600_000, streamIds: ['cam15'], limit: 100 }).length, 'time');
  time('last hour of a quiet and a busy camera, newest 100', () => store.query({ fromTs: newest - 3_600_000, streamIds: ['cam15', 'cam3'], limit: 100 }).length, 'time');
  db.close();
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  try {
    // BENCH_PARTS=fanout,inserts,plates (default all).
    const parts = (process.env.BENCH_PARTS ?? 'fanout,inserts,plates').split(',');
    if (parts.includes('fanout')) await fanout(dir);
    if (parts.includes('inserts')) await inserts(dir);
    if (parts.includes('plates')) await plateQuery(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--fanout-clients') void clientMain(process.argv[3]!, Number(process.argv[4]));
