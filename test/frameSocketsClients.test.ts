/**
 * The four frame-socket protocols' example clients against the real daemon (real
 * models, real RTSP stream from the GStreamer test server), unmodified apart from the
 * URL and token: the Skylark-style and MobiledgeX-style plain WebSocket clients under
 * examples/, the identify kiosk page and the FastAPI-style live image page in Chromium.
 * The live image socket serves two viewers at 2 fps, each frame encoded once per
 * interval for both (read off /metrics).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import WebSocket from 'ws';
import { launchBrowser, openPage } from './helpers/browser.js';
import { startDaemon, waitFor } from './helpers/daemon.js';
import { mediaPath, ROOT } from './helpers/paths.js';
import { parsePrometheus, samplesOf } from './helpers/promParser.js';
import { startRtspServer } from './helpers/rtspServer.js';

const run = promisify(execFile);
const VIEWER = 'viewer-token-1234'; // from baseConfig in helpers/daemon.ts

/** Runs an example client; its stdout as JSON lines. */
async function example(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, unknown>[]> {
  const { stdout } = await run(process.execPath, [join(ROOT, 'examples', script), ...args], { env: { ...process.env, ...env }, timeout: 240_000 });
  return stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('frame-socket protocols: example clients against the daemon, and the live image socket', async (t) => {
  const cam = await startRtspServer({ source: { file: mediaPath('video_street_pedestrians_640x360.mp4') } }, t);
  const daemon = await startDaemon(
    {
      config: {
        streams: [{ id: 'street', url: cam.url(), fps: 5, analytics: ['people-counting'], lines: [{ name: 'door', points: [[0.1, 0.5], [0.9, 0.5]] }] }],
        server: { host: '127.0.0.1', port: 0, admin_token: 'test-admin-token-0123', tokens: [VIEWER], heartbeat_s: 1, frames: { live: { max_fps: 10 } } },
      },
    },
    t,
  );
  const ws = daemon.url.replace(/^http/, 'ws');

  await t.test('Skylark-style client: one result per frame in order, and a failure closes with a code and reason', async () => {
    const faces = ['faces_obama_biden_two_people.jpg', 'face_rose_leslie_2.jpg', 'faces_obama_biden_two_people.jpg', 'coco_bus_000000001584.jpg'].map(mediaPath);
    const out = await example('skylark-client.mjs', [`${ws}/ws/face-detect/?authorization=${VIEWER}`, ...faces]);
    const results = out.filter((m) => m.type === 'result');
    assert.deepEqual(results.map((m) => m.frame_index), [0, 1, 2, 3], JSON.stringify(out).slice(0, 600));
    assert.deepEqual(results.map((m) => m.syncId), [0, 1, 2, 3]);
    assert.equal((results[0]!.faces as unknown[]).length, 2);
    assert.equal((results[3]!.faces as unknown[]).length, 0);
    assert.deepEqual(out.at(-1), { closed: 1000, reason: 'done' });

    const broken = await example('skylark-client.mjs', [`${ws}/ws/face-detect?authorization=${VIEWER}`, join(ROOT, 'package.json')]);
    const err = broken.find((m) => m.type === 'error')!;
    assert.equal(err.code, 'INVALID_FRAME');
    assert.equal(err.frame_index, 0);
    const closed = broken.at(-1) as { closed: number; reason: string };
    assert.equal(closed.closed, 4003);
    assert.match(closed.reason, /^INVALID_FRAME: /);
  });

  await t.test('MobiledgeX-style client and REST twin: success/rects/server_processing_time as strings, text echoed', async () => {
    const lines = await example('mobiledgex-client.mjs', [`${ws}/ws/detector/detect/?authorization=${VIEWER}`, mediaPath('faces_obama_biden_two_people.jpg'), mediaPath('coco_bus_000000001584.jpg'), join(ROOT, 'package.json')]);
    const [two, none, bad, echo] = lines;
    assert.equal(two!.success, 'true');
    assert.match(String(two!.server_processing_time), /^\d+\.\d{3}$/);
    assert.equal((two!.rects as number[][]).length, 2);
    for (const r of two!.rects as number[][]) assert.ok(r.length === 4 && r.every(Number.isInteger) && r[2]! > r[0]! && r[3]! > r[1]!, JSON.stringify(r));
    assert.deepEqual(Object.keys(none!).sort(), ['server_processing_time', 'success']);
    assert.equal(none!.success, 'false');
    assert.deepEqual([bad!.success, bad!.code, bad!.frame_index], ['false', 'INVALID_FRAME', 2]);
    assert.deepEqual(echo, { type: 'qotd', qotd: 'echo me' });

    const form = new FormData();
    form.append('image', new Blob([await sharp(mediaPath('faces_obama_biden_two_people.jpg')).toBuffer()], { type: 'image/jpeg' }), 'faces.jpg');
    const res = await fetch(`${daemon.url}/detector/detect/`, { method: 'POST', body: form, headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(res.status, 200);
    const rest = (await res.json()) as { success: string; rects: number[][]; server_processing_time: string };
    assert.equal(rest.success, 'true');
    assert.equal(rest.rects.length, 2);
    const junk = await fetch(`${daemon.url}/detector/detect/`, { method: 'POST', body: 'junk', headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(junk.status, 400);
    assert.deepEqual(await junk.json().then((j) => [(j as { success: string }).success, (j as { code: string }).code]), ['false', 'VIGIL_ERR_INVALID_IMAGE']);

    const text = await (await fetch(`${daemon.url}/metrics`, { headers: { authorization: `Bearer ${VIEWER}` } })).text();
    const replies = (socket: string, kind: string): number => samplesOf(parsePrometheus(text), 'vigil_frame_replies_total', { socket, kind }).reduce((n, x) => n + x.value, 0);
    assert.equal(replies('detector', 'result'), 2, 'two images analysed on the MobiledgeX socket');
    assert.equal(replies('detector', 'failed'), 1);
    assert.equal(replies('face-detect', 'result'), 4, 'four frames on the Skylark-style socket');
  });

  const browser = await launchBrowser(t);

  await t.test('identify kiosk page in Chromium: a chosen photo gets its identification', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${pathToFileURL(join(ROOT, 'web/identify/index.html')).href}?token=${VIEWER}`);
    await page.fill('#url', `${ws}/ws/identify`);
    await page.click('#connect');
    await page.waitForFunction("document.getElementById('state').textContent === 'connected'");
    await page.setInputFiles('#file', mediaPath('face_rose_leslie_2.jpg'));
    await page.waitForFunction("document.getElementById('result').className === 'unknown'", undefined, { timeout: 180_000 });
    assert.deepEqual(errors, []);
  });

  await t.test('live image page in Chromium: a stream id in, the latest frame as a JPEG out', async () => {
    await waitFor('a first frame of the stream', async () => (await fetch(`${daemon.url}/api/live/street`, { headers: { authorization: `Bearer ${VIEWER}` } })).ok, 60_000);
    const { page } = await openPage(browser);
    const url = encodeURIComponent(`${ws}/ws/live`);
    await page.goto(`${pathToFileURL(join(ROOT, 'web/live/index.html')).href}?url=${url}&token=${VIEWER}&autoconnect=1`);
    await page.waitForFunction("document.getElementById('state').textContent === 'connected'");
    await page.fill('#messageText', 'street');
    await page.click('#send');
    await page.waitForFunction("document.getElementById('frame').naturalWidth > 0", undefined, { timeout: 20_000 });
    assert.equal(await page.evaluate("document.getElementById('frame').naturalWidth"), 640);
    await page.fill('#messageText', 'stream=nowhere');
    await page.click('#send');
    await page.waitForFunction("document.getElementById('messages').textContent.includes('STREAM_UNKNOWN')");
  });

  await t.test('two viewers at 2 fps: every push shared, one encode per interval (metrics), annotated frames drawn', async () => {
    const viewer = (): Promise<{ frames: string[]; ws: WebSocket }> =>
      new Promise((resolve, reject) => {
        const c = new WebSocket(`${ws}/ws/live?authorization=${VIEWER}`);
        const frames: string[] = [];
        c.on('message', (d) => frames.push(d.toString()));
        c.on('open', () => {
          c.send(JSON.stringify({ stream: 'street', fps: 2 }));
          resolve({ frames, ws: c });
        });
        c.on('error', reject);
      });
    const metrics = async (): Promise<{ encodes: number; sent: number }> => {
      const text = await (await fetch(`${daemon.url}/metrics`, { headers: { authorization: `Bearer ${VIEWER}` } })).text();
      const m = parsePrometheus(text);
      const get = (name: string): number => samplesOf(m, name, { stream: 'street' }).reduce((n, x) => n + x.value, 0);
      return { encodes: get('vigil_live_encodes_total'), sent: get('vigil_live_frames_sent_total') };
    };
    const before = await metrics();
    const [a, b] = await Promise.all([viewer(), viewer()]);
    await waitFor('6 frames for each viewer', () => a.frames.length >= 6 && b.frames.length >= 6, 60_000, 100);
    a.ws.close();
    b.ws.close();
    const after = await metrics();
    const sent = after.sent - before.sent;
    const encodes = after.encodes - before.encodes;
    assert.ok(sent >= 12, `sent ${sent}`);
    // Both viewers share one timer and one encode per tick: encodes are half the frames sent (plus one for a tick in flight).
    assert.ok(encodes <= Math.ceil(sent / 2) + 1, `${encodes} encodes for ${sent} frames sent`);
    for (const f of [...a.frames, ...b.frames]) assert.match(f.slice(0, 8), /^\/9j\//, 'bare base64 JPEG');
    const shared = a.frames.filter((f) => b.frames.includes(f)).length;
    assert.ok(shared >= 4, `${shared} identical frames seen by both viewers`);

    // Annotated: the counting line is drawn (yellow across the middle), the plain frame has none there.
    const one = async (annotated: boolean): Promise<Buffer> => {
      const res = await fetch(`${daemon.url}/api/live/street?annotated=${annotated ? 1 : 0}`, { headers: { authorization: `Bearer ${VIEWER}` } });
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      return Buffer.from(await res.arrayBuffer());
    };
    const yellowAt = async (jpeg: Buffer): Promise<number> => {
      const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
      // A column counts when any pixel of a thin band around the line is yellow (JPEG blurs colour
      // across a 3 px line); the line is drawn over the boxes, so a box edge along it cannot hide it.
      let n = 0;
      const mid = Math.round(info.height / 2);
      for (let x = Math.round(info.width * 0.2); x < info.width * 0.8; x++) {
        for (let y = mid - 3; y <= mid + 3; y++) {
          const i = (y * info.width + x) * info.channels;
          if (data[i]! > 200 && data[i + 1]! > 170 && data[i + 2]! < 90) { n++; break; }
        }
      }
      return n / (info.width * 0.6);
    };
    const drawn = await yellowAt(await one(true));
    assert.ok(drawn > 0.8, `the line is drawn on the annotated frame (${drawn.toFixed(2)} of its length seen)`);
    const plain = await yellowAt(await one(false));
    assert.ok(plain < 0.2, `and not on the plain one (${plain.toFixed(2)})`);

    // People counting reports its tracks: their boxes are drawn in the overlay's green.
    const green = async (jpeg: Buffer): Promise<number> => {
      const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
      let n = 0;
      for (let i = 0; i < data.length; i += info.channels) if (data[i + 1]! > 220 && data[i]! < 110 && data[i + 2]! < 110) n++;
      return n;
    };
    await waitFor('tracked pedestrians drawn on the live frame', async () => (await green(await one(true))) - (await green(await one(false))) > 150, 150_000, 500);
  });
});
