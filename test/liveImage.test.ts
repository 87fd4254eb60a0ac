/**
 * The live image socket on a bare uWS app with a real frame store (synthetic frames,
 * real JPEG encodes, real `ws` clients): one reply per request in order, the request
 * forms, the formats, pushes and stop, auth. The RTSP end to end is in frameSocketsClients.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
// The loader, not the package: on Node 22/24 without a native build the package's own fallback cannot serve sockets.
import { uws as uWS } from '../daemon/server/uws/loadUws.js';
import WebSocket from 'ws';
import { silentLogger } from '../daemon/log.js';
import { LiveFrameStore } from '../daemon/server/liveImage/liveFrameStore.js';
import { registerLiveImage, type LiveImage } from '../daemon/server/liveImage/liveSocket.js';
import { listenApp } from './frameSockets.clients.js';

const store = new LiveFrameStore();
let live: LiveImage;
let port: number;
let close: () => void;
const frame = (id: string, w: number, h: number) => ({ streamId: id, index: 0, timestamp: Date.now(), width: w, height: h, data: Buffer.alloc(w * h * 3, 80) });

before(async () => {
  store.putFrame(frame('front', 640, 360));
  store.putFrame(frame('back', 320, 240));
  const app = uWS.App();
  live = registerLiveImage(app, undefined, { source: store, tokens: ['t1'], log: silentLogger(), options: { maxFps: 20 } });
  const l = await listenApp(app);
  port = l.port;
  close = () => {
    live.close();
    l.close();
  };
});
after(() => close?.());

/** A viewer that keeps every message in arrival order. */
async function viewer(query = ''): Promise<{ ws: WebSocket; got: string[]; wait(n: number): Promise<string[]> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/live?authorization=t1${query}`);
  const got: string[] = [];
  ws.on('message', (d) => got.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    got,
    async wait(n) {
      for (let i = 0; i < 400 && got.length < n; i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(got.length >= n, `${got.length} of ${n} replies`);
      return got.slice(0, n);
    },
  };
}

const isJpeg = (m: string): boolean => m.startsWith('/9j/');
const json = (m: string) => JSON.parse(m) as Record<string, unknown>;

describe('/ws/live', () => {
  it('answers N requests sent at once with N replies, in the order asked', async () => {
    const v = await viewer();
    const asks = ['front', 'stream=nowhere', '{"stream":"back","format":"json"}', 'stream=front&width=160&format=data_url', '{bad', 'list', 'front'];
    for (const a of asks) v.ws.send(a);
    const r = await v.wait(asks.length);
    assert.ok(isJpeg(r[0]!));
    assert.equal(json(r[1]!).code, 'STREAM_UNKNOWN');
    const back = json(r[2]!);
    assert.deepEqual([back.type, back.stream, back.width, back.height, back.annotated], ['frame', 'back', 320, 240, false]);
    assert.ok(isJpeg(String(back.data)));
    assert.ok(r[3]!.startsWith('data:image/jpeg;base64,/9j/'));
    assert.equal(json(r[4]!).code, 'INVALID_MESSAGE');
    assert.deepEqual(json(r[5]!).streams, ['front', 'back']);
    assert.equal(r[6], r[0], 'the same frame, encoded once, is sent again');
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(v.got.length, asks.length, 'exactly one reply per request');
    v.ws.close();
  });

  it('with two streams, text that names none asks to name one; with fps it pushes until stop', async () => {
    const v = await viewer();
    v.ws.send('hello');
    assert.equal(json((await v.wait(1))[0]!).code, 'STREAM_REQUIRED');
    v.ws.send('stream=back&fps=20');
    await v.wait(6);
    v.ws.send('stop');
    v.ws.send('list'); // answered after the stop took effect
    for (let i = 0; i < 400 && !v.got.some((m) => m.startsWith('{"type":"streams"')); i++) await new Promise((res) => setTimeout(res, 25));
    const n = v.got.length;
    assert.ok(v.got[n - 1]!.startsWith('{"type":"streams"'), 'nothing pushed after the stop was answered');
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(v.got.length, n, 'no push after stop');
    v.ws.close();
  });

  it('the URL alone can ask for a push, and any text asks with its fields', async () => {
    const v = await viewer('&stream=front&fps=10&format=json');
    const [first] = await v.wait(2);
    assert.equal(json(first!).stream, 'front');
    v.ws.close();
    const w = await viewer('&stream=back');
    w.ws.send('anything at all');
    assert.ok(isJpeg((await w.wait(1))[0]!));
    w.ws.close();
  });

  it('refuses a wrong token (401) and a bad URL field (400) before the upgrade', async () => {
    const status = (url: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url);
        ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
    assert.equal(await status(`ws://127.0.0.1:${port}/ws/live?authorization=nope`), 401);
    assert.equal(await status(`ws://127.0.0.1:${port}/ws/live?authorization=t1&fps=-1`), 400);
  });
});
