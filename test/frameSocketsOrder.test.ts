/**
 * One reply per frame, in order, on every frame socket protocol: N frames sent faster
 * than they are analysed get exactly N replies (results, then FRAME_SKIPPED for what did
 * not fit the connection's queue). The analyzer double holds its first frame until the
 * test has seen (by a pong or an echo) that the server received all N, so which frames
 * are skipped is exact, not timing. Frames are really decoded (real JPEGs).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
// The loader, not the package: on Node 22/24 without a native build the package's own fallback cannot serve sockets.
import { uws as uWS } from '../daemon/server/uws/loadUws.js';
import { analyzerRegistry, type FrameAnalyzer } from '../daemon/analytics/frameAnalyzers.js';
import { silentLogger } from '../daemon/log.js';
import { registerFrameSockets, type FrameSockets } from '../daemon/server/frameSockets/frameSockets.js';
import { listenApp, media, TestClient, type Msg } from './frameSockets.clients.js';

const log = silentLogger();
const N = 12;
const QUEUE = 3;

/** An analyzer that waits for `release()` before answering (per test). */
function gated(name: string, result: (w: number) => Record<string, unknown>): FrameAnalyzer & { release(): void; hold(): void; seen: number } {
  let open: Promise<void> = Promise.resolve();
  let release = (): void => {};
  const a = {
    name,
    seen: 0,
    hold() {
      open = new Promise<void>((r) => (release = r));
    },
    release: () => release(),
    async analyze(img: { width: number }) {
      a.seen++;
      await open;
      return result(img.width);
    },
  };
  return a;
}

const detect = gated('detect', (w) => ({ width: w, persons: 1 }));
const identify = gated('identify', () => ({ face_detected: true, match: null }));
const faces = gated('face-detect', (w) => ({ width: w, faces: [{ box: { x1: 1, y1: 2, x2: 30, y2: 40 }, confidence: 0.9, landmarks: [] }] }));
let sockets: FrameSockets;
let close: () => void;
let url: (path: string) => string;
const img = media('coco_bus_000000001584.jpg');

before(async () => {
  const app = uWS.App();
  sockets = registerFrameSockets(app, { analyzers: analyzerRegistry([detect, identify, faces]), tokens: ['t1'], log, limits: { queueFrames: QUEUE, maxFps: 0 } });
  const l = await listenApp(app);
  url = (p) => `ws://127.0.0.1:${l.port}${p}${p.includes('?') ? '&' : '?'}authorization=t1`;
  close = () => {
    sockets.close();
    l.close();
  };
});

after(() => close?.());

/** Collects `n` replies that match `isReply`. */
async function replies(c: TestClient, n: number, isReply: (m: Msg) => boolean): Promise<Msg[]> {
  const out: Msg[] = [];
  while (out.length < n) out.push(await c.next(isReply));
  return out;
}

/** Frame 0 analysed, the next QUEUE queued and analysed, the rest skipped: in frame order. */
function assertOrdered(indexes: number[], skipped: boolean[]): void {
  assert.deepEqual(indexes, [...Array(N).keys()], 'one reply per frame, in order');
  assert.deepEqual(skipped, [...Array(N).keys()].map((i) => i > QUEUE), 'the frames past the queue were skipped, the others analysed');
}

describe('default mode: N frames in, N replies out, in order', () => {
  it('/ws/<analytic> (start_frame + binary): results, then FRAME_SKIPPED error replies with frame_index and syncId', async () => {
    detect.hold();
    const c = await TestClient.open(url('/ws/detect'));
    await c.next((m) => m.type === 'status');
    for (let i = 0; i < N; i++) {
      c.json({ action: 'start_frame', fileSize: img.length, syncId: `s${i}` });
      c.binary(img);
    }
    c.json({ action: 'ping' });
    await c.next((m) => m.type === 'pong'); // every frame has arrived
    detect.release();
    const got = await replies(c, N, (m) => m.type === 'result' || m.type === 'error');
    assertOrdered(got.map((m) => m.frame_index), got.map((m) => m.type === 'error'));
    for (const m of got.filter((x) => x.type === 'error')) {
      assert.equal(m.code, 'FRAME_SKIPPED');
      assert.equal(m.skipped, true);
      assert.match(m.message, /already waiting/);
    }
    assert.deepEqual(got.map((m) => m.syncId), got.map((_, i) => `s${i}`));
    assert.equal(got[0].persons, 1);
    assert.equal(c.ws.readyState, c.ws.OPEN, 'skipping is not a failure: the connection stays');
    c.close();
  });

  it('/ws/identify: identifications, then FRAME_SKIPPED errors, in order', async () => {
    identify.hold();
    const c = await TestClient.open(url('/ws/identify'));
    const data = img.toString('base64');
    for (let i = 0; i < N; i++) c.json({ type: 'frame', data });
    c.json({ type: 'ping' });
    await c.next((m) => m.type === 'pong');
    identify.release();
    const got = await replies(c, N, (m) => m.type === 'identification' || m.type === 'error');
    assertOrdered(got.map((m) => m.frame_index), got.map((m) => m.type === 'error' && m.code === 'FRAME_SKIPPED'));
    c.close();
  });

  it('/ws/detector/detect/ (MobiledgeX): success replies, then success "false" with the skip, in order; text echoed in its turn', async () => {
    faces.hold();
    const c = await TestClient.open(url('/ws/detector/detect/'));
    const arrival: string[] = [];
    c.ws.on('message', (d) => arrival.push(d.toString()));
    for (let i = 0; i < N; i++) c.binary(img);
    c.ws.send('{"marker":1}');
    // A WebSocket ping is answered at once, after every message sent before it was read.
    await new Promise<void>((r) => {
      c.ws.once('pong', () => r());
      c.ws.ping();
    });
    faces.release();
    const got = await replies(c, N, (m) => 'success' in m);
    assert.deepEqual(await c.next((m) => m.marker === 1), { marker: 1 }, 'text is echoed back as sent');
    assert.equal(arrival.indexOf('{"marker":1}'), N, 'the echo comes in its turn, after the replies of the images sent before it');
    const done = got.filter((m) => m.success === 'true');
    assert.equal(done.length, QUEUE + 1);
    for (const m of done) {
      assert.deepEqual(Object.keys(m).sort(), ['rects', 'server_processing_time', 'success']);
      assert.match(m.server_processing_time, /^\d+\.\d{3}$/);
      assert.deepEqual(m.rects, [[1, 2, 30, 40]]);
    }
    const skipped = got.slice(QUEUE + 1);
    assert.deepEqual(skipped.map((m) => m.frame_index), [...Array(N - QUEUE - 1).keys()].map((i) => i + QUEUE + 1));
    for (const m of skipped) assert.deepEqual([m.success, m.code, m.server_processing_time], ['false', 'FRAME_SKIPPED', '0.000']);
    c.close();
  });
});

describe('newest-frame-wins (opt-in)', () => {
  it('/ws/<analytic> with set_mode latest: the first and the newest frame are analysed, the rest counted as dropped', async () => {
    detect.hold();
    const c = await TestClient.open(url('/ws/detect'));
    await c.next((m) => m.status === 'connected');
    c.json({ action: 'set_mode', mode: 'latest' });
    assert.equal((await c.next((m) => m.status === 'mode_updated')).mode, 'latest');
    for (let i = 0; i < N; i++) c.frame(img);
    c.json({ action: 'ping' });
    await c.next((m) => m.type === 'pong');
    detect.release();
    const [first, last] = await replies(c, 2, (m) => m.type === 'result');
    assert.deepEqual([first.frame_index, last.frame_index], [0, N - 1]);
    assert.equal(first.dropped + last.dropped, N - 2, 'every frame not analysed is counted once as dropped');
    c.close();
  });

  it('/ws/identify?mode=latest: the same, chosen in the URL', async () => {
    identify.hold();
    const c = await TestClient.open(url('/ws/identify?mode=latest'));
    for (let i = 0; i < N; i++) c.json({ type: 'frame', data: img.toString('base64') });
    c.json({ type: 'ping' });
    await c.next((m) => m.type === 'pong');
    identify.release();
    const got = await replies(c, 2, (m) => m.type === 'identification');
    assert.deepEqual(got.map((m) => m.frame_index), [0, N - 1]);
    assert.equal(got[0].dropped + got[1].dropped, N - 2);
    c.close();
  });

  it('refuses an unknown mode before the upgrade (400 INVALID_MODE)', async () => {
    await assert.rejects(TestClient.open(url('/ws/detect?mode=fastest')), (e: { status: number; body: { code: string } }) => e.status === 400 && e.body.code === 'INVALID_MODE');
  });
});

describe('refusals wait their turn', () => {
  it('/ws/identify: a too-large or broken frame is answered after the frames before it', async () => {
    identify.hold();
    const c = await TestClient.open(url('/ws/identify'));
    c.json({ type: 'frame', data: img.toString('base64') });
    c.json({ type: 'frame', data: Buffer.from('not an image').toString('base64') });
    c.json({ type: 'frame', data: '***' });
    c.json({ type: 'ping' });
    await c.next((m) => m.type === 'pong');
    identify.release();
    const got = await replies(c, 3, (m) => m.type === 'identification' || m.type === 'error');
    assert.deepEqual(got.map((m) => [m.frame_index, m.type, m.code]), [[0, 'identification', undefined], [1, 'error', 'INVALID_FRAME'], [2, 'error', 'INVALID_FRAME']]);
    c.close();
  });
});
