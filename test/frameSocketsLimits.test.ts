/**
 * Frame-socket limits on a bare uWS app: heartbeats and timeouts, connections per
 * token, frames per second, drops, and fairness between a flooding, a slow-sending
 * and a normal client. The normal client uses the real detector; the flooder uses a
 * slow analyzer double so drops happen on every machine.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type * as uWSTypes from 'uWebSockets.js';
import { uws as uWS } from '../daemon/server/uws/loadUws.js';
import { analyzerRegistry, createDetectAnalyzer, DETECT_CLASSES, type FrameAnalyzer } from '../daemon/analytics/frameAnalyzers.js';
import { createObjectDetector } from '../daemon/detectors/objectDetector.js';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import { registerFrameSockets, type FrameSockets } from '../daemon/server/frameSockets/frameSockets.js';
import type { FrameLimits } from '../daemon/server/frameSockets/limits.js';
import { modelMirror } from './helpers/paths.js';
import { listenApp, media, TestClient } from './frameSockets.clients.js';

const log = silentLogger();
let dir: string;
let engine: InferenceEngine;
let detect: FrameAnalyzer;
/** Test double, for drops only: answers after 80 ms whatever the frame shows (the frame is still really decoded). */
const slow: FrameAnalyzer = { name: 'slow', analyze: async (img) => { await sleep(80); return { width: img.width }; } };
/** The identify protocol's replies need no model for heartbeat tests. */
const noFace: FrameAnalyzer = { name: 'identify', analyze: async () => ({ face_detected: false, match: null }) };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-frame-limits-'));
  engine = new InferenceEngine({ log, dataDir: dir, mirrorDir: modelMirror(), providers: ['cpu'], threads: { intraOp: 1, interOp: 1 } });
  detect = createDetectAnalyzer(createObjectDetector(await engine.forRole('person-detector'), { classes: [...DETECT_CLASSES] }));
});

after(async () => {
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh app with the given limits; `url(path)` builds a client URL with the token. */
async function serve(limits: Partial<FrameLimits>): Promise<{ url(path: string): string; port: number; sockets: FrameSockets; close(): void }> {
  const app = uWS.App();
  const sockets = registerFrameSockets(app, { analyzers: analyzerRegistry([detect, slow, noFace]), tokens: ['t1', 't2'], log, limits });
  const l = await listenApp(app);
  return { port: l.port, sockets, url: (p) => `ws://127.0.0.1:${l.port}${p}?authorization=t1`, close: () => { sockets.close(); l.close(); } };
}

describe('liveness', () => {
  it('/ws/identify sends heartbeats, keeps a client that answers pong, closes a silent one', async () => {
    const s = await serve({ heartbeatS: 0.2, idleTimeoutS: 0.7 });
    try {
      const live = await TestClient.open(s.url('/ws/identify'));
      const silent = await TestClient.open(s.url('/ws/identify'));
      let beats = 0;
      const answer = async (): Promise<void> => {
        while (beats < 6) {
          const hb = await live.next((m) => m.type === 'heartbeat');
          assert.ok(!Number.isNaN(Date.parse(hb.timestamp)));
          beats++;
          live.json({ type: 'pong' });
        }
      };
      const [closed] = await Promise.all([silent.closed, answer()]);
      assert.equal(closed.code, 4000);
      assert.equal(closed.reason, 'heartbeat timeout');
      assert.equal(live.ws.readyState, live.ws.OPEN, 'the answering client is still connected after 6 heartbeats');
      live.close();
    } finally {
      s.close();
    }
  });

  it('/ws/identify closes a connection that keeps breaking the protocol (4002 with a reason)', async () => {
    const s = await serve({ maxProtocolErrors: 3 });
    try {
      const c = await TestClient.open(s.url('/ws/identify'));
      for (let i = 0; i < 3; i++) c.json('{bad');
      const closed = await c.closed;
      assert.equal(closed.code, 4002);
      assert.match(closed.reason, /protocol errors/);
    } finally {
      s.close();
    }
  });

  it('/ws/<analytic> closes at the first failure, as its protocol says (error reply, then 4002 CODE: message)', async () => {
    const s = await serve({});
    try {
      const c = await TestClient.open(s.url('/ws/detect'));
      c.json('{bad');
      assert.equal((await c.next((m) => m.type === 'error')).code, 'INVALID_MESSAGE');
      const closed = await c.closed;
      assert.equal(closed.code, 4002);
      assert.match(closed.reason, /^INVALID_MESSAGE: /);
    } finally {
      s.close();
    }
  });
});

describe('limits', () => {
  it('refuses connections over the per-token limit before the upgrade (429 RATE_LIMITED)', async () => {
    const s = await serve({ maxConnectionsPerToken: 2 });
    try {
      const a = await TestClient.open(s.url('/ws/detect'));
      const b = await TestClient.open(s.url('/ws/identify'));
      await assert.rejects(TestClient.open(s.url('/ws/detect')), (e: { status: number; body: { code: string } }) => e.status === 429 && e.body.code === 'RATE_LIMITED');
      // Another token has its own budget.
      const other = await TestClient.open(`ws://127.0.0.1:${s.port}/ws/detect?authorization=t2`);
      a.close();
      await a.closed;
      let c: TestClient | undefined;
      for (let i = 0; i < 50 && !c; i++) c = await TestClient.open(s.url('/ws/detect')).catch(() => sleep(20).then(() => undefined));
      assert.ok(c, 'a freed slot can be used again');
      for (const x of [b, c, other]) x.close();
    } finally {
      s.close();
    }
  });

  it('refuses frames over the per-connection fps with RATE_LIMITED', async () => {
    const s = await serve({ maxFps: 5 });
    try {
      const c = await TestClient.open(s.url('/ws/slow'));
      const img = media('coco_bus_000000001584.jpg');
      for (let i = 0; i < 20; i++) c.frame(img);
      // Every frame gets its one reply, in order: the refused ones are skipped, not failures.
      const got = [];
      while (got.length < 20) got.push(await c.next((m) => m.type === 'error' || m.type === 'result'));
      assert.deepEqual(got.map((m) => m.frame_index), [...Array(20).keys()]);
      const limited = got.filter((m) => m.type === 'error');
      assert.ok(limited.length >= 10, `${limited.length} refused`);
      for (const m of limited) {
        assert.equal(m.code, 'RATE_LIMITED');
        assert.equal(m.skipped, true);
        assert.match(m.message, /refused/);
      }
      assert.equal(c.ws.readyState, c.ws.OPEN);
      c.close();
    } finally {
      s.close();
    }
  });
});

/** A raw WebSocket client that sends one binary message a few KB at a time. */
async function slowSender(port: number, payload: Buffer, chunk: number, pauseMs: number): Promise<{ done: Promise<void>; replies: () => string; socket: Socket }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(`GET /ws/detect?authorization=t1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let received = '';
  socket.on('data', (d) => (received += d.toString('latin1')));
  while (!received.includes('\r\n\r\n')) await sleep(5);
  assert.match(received, /^HTTP\/1.1 101/);
  // The protocol's start_frame first (a masked text frame), then the binary frame a few KB at a time.
  const start = Buffer.from(JSON.stringify({ action: 'start_frame', fileSize: payload.length }));
  const tmask = randomBytes(4);
  const text = Buffer.from(start);
  for (let i = 0; i < text.length; i++) text[i]! ^= tmask[i & 3]!;
  socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | text.length]), tmask, text]));
  const mask = randomBytes(4);
  const head = Buffer.alloc(14);
  head[0] = 0x82; // FIN + binary
  head[1] = 0x80 | 127;
  head.writeBigUInt64BE(BigInt(payload.length), 2);
  mask.copy(head, 10);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i & 3]!;
  socket.write(head);
  const done = (async () => {
    for (let o = 0; o < masked.length; o += chunk) {
      socket.write(masked.subarray(o, o + chunk));
      await sleep(pauseMs);
    }
  })();
  return { done, replies: () => received, socket };
}

describe('fairness', () => {
  it('a flooding (newest-wins) and a slow-sending client do not hold up a third; the flooder gets its newest frame and a dropped count', async () => {
    const s = await serve({ maxFps: 0 });
    try {
      const img = media('coco_people_car_000000009891.jpg');
      const flooder = await TestClient.open(`${s.url('/ws/slow')}&mode=latest`);
      const normal = await TestClient.open(s.url('/ws/detect'));
      const trickle = await slowSender(s.port, img, 4096, 40); // ~33 chunks, over a second
      let trickleFinished = false;
      void trickle.done.then(() => (trickleFinished = true));

      const sent = 40;
      for (let i = 0; i < sent; i++) flooder.frame(img);
      for (let i = 0; i < 3; i++) {
        normal.frame(img);
        const r = await normal.reply();
        assert.equal(r.frame_index, i);
        assert.equal(r.dropped, 0, 'a client that waits for its replies loses nothing');
        assert.ok(r.persons >= 1);
      }
      assert.ok(!trickleFinished, 'the third client was served while the slow sender was still sending');

      // The flooder: its last frame is analysed, and replies + dropped account for every frame.
      const results = [];
      for (;;) {
        const r = await flooder.reply();
        results.push(r);
        if (r.frame_index === sent - 1) break;
      }
      const dropped = results.reduce((n, r) => n + r.dropped, 0);
      assert.ok(dropped > 0, 'frames were dropped');
      assert.equal(results.length + dropped, sent, `${results.length} results + ${dropped} dropped`);

      await trickle.done;
      for (let i = 0; i < 400 && !trickle.replies().includes('"type":"result"'); i++) await sleep(25);
      assert.match(trickle.replies(), /"persons":\d/, 'the slow sender gets its result in the end');
      trickle.socket.destroy();
      flooder.close();
      normal.close();
    } finally {
      s.close();
    }
  });
});
