/**
 * Frame sockets end to end: the real server (createServer exposes its uWS app),
 * real models from the mirror, real images, real `ws` clients.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { createDetectAnalyzer, createFaceDetectAnalyzer, createFaceRecognizeAnalyzer, createIdentifyAnalyzer, createPlateAnalyzer, DETECT_CLASSES, analyzerRegistry } from '../daemon/analytics/frameAnalyzers.js';
import { FaceAdmin } from '../daemon/analytics/faceRecognition/faceAdmin.js';
import { createFaceDetector } from '../daemon/analytics/faceRecognition/faceDetector.js';
import { FaceRecognizer } from '../daemon/analytics/faceRecognition/faceRecognizer.js';
import { createObjectDetector } from '../daemon/detectors/objectDetector.js';
import { createYolov5PlateDetector } from '../daemon/detectors/yolov5Plate.js';
import { createDetectorLocalizer } from '../daemon/analytics/plateRecognition/localize.js';
import { createPlateRecCnOcr } from '../daemon/analytics/plateRecognition/ocr.js';
import { PlateReader, PLATE_VEHICLE_CLASSES } from '../daemon/analytics/plateRecognition/reader.js';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import { registerAnalyzeRoutes } from '../daemon/server/frameSockets/analyzeRoutes.js';
import { registerFrameSockets, type FrameSockets } from '../daemon/server/frameSockets/frameSockets.js';
import { createServer, type VigilServer } from '../daemon/server/server.js';
import { openDatabase } from '../daemon/store/database.js';
import { FaceGallery } from '../daemon/store/faceGallery.js';
import { modelMirror, mediaPath, ROOT } from './helpers/paths.js';
import { media, TestClient } from './frameSockets.clients.js';

const TOKEN = 'frame-token';
const log = silentLogger();
let dir: string;
let engine: InferenceEngine;
let server: VigilServer;
let sockets: FrameSockets;
let base: string;
let http: string;

/** Downscaled JPEG (clients send camera-sized frames, and face_obama_3.jpg is over 500 KB). */
async function jpeg(name: string, width = 800): Promise<Buffer> {
  return sharp(media(name)).resize({ width, withoutEnlargement: true }).jpeg({ quality: 85 }).toBuffer();
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-frames-'));
  engine = new InferenceEngine({ log, dataDir: dir, mirrorDir: modelMirror(), providers: ['cpu'], threads: { intraOp: 1, interOp: 1 } });
  const detector = createObjectDetector(await engine.forRole('person-detector'), { classes: [...DETECT_CLASSES] });
  const faceDetector = createFaceDetector(await engine.forRole('face-detector'));
  const gallery = new FaceGallery(openDatabase(join(dir, 'vigil.db')));
  const recognizer = new FaceRecognizer({ models: engine, gallery, log });
  await recognizer.start();
  await new FaceAdmin(recognizer, log).enroll({ name: 'Barack Obama', relationship: 'neighbour' }, [media('face_obama_1.jpg'), media('face_obama_2.jpg')]);
  // The CN plate models are opt-in (no licence): tests name them, as a user's config would.
  const plates = new PlateReader({
    vehicles: createObjectDetector(await engine.forRole('vehicle-detector'), { classes: [...PLATE_VEHICLE_CLASSES] }),
    localizer: createDetectorLocalizer(createYolov5PlateDetector(await engine.get('plate_detect_yolov5_cn'))),
    ocr: [createPlateRecCnOcr(await engine.get('plate_rec_color_cn'))],
  });
  const analyzers = analyzerRegistry([
    createPlateAnalyzer(plates),
    createDetectAnalyzer(detector),
    createFaceDetectAnalyzer(faceDetector),
    createFaceRecognizeAnalyzer(recognizer),
    createIdentifyAnalyzer(recognizer),
  ]);
  server = createServer({ host: '127.0.0.1', port: 0, tokens: [TOKEN], adminToken: 'admin-token', log, store: { scan: () => [], lastSeq: () => 0 } });
  sockets = registerFrameSockets(server.app, { analyzers, tokens: [TOKEN, 'admin-token'], log, limits: { maxBatchSize: 8, maxProtocolErrors: 30 } });
  registerAnalyzeRoutes(server.routes, analyzers, {}, { gate: sockets.gate, log });
  await server.start();
  base = `ws://127.0.0.1:${server.port()}`;
  http = `http://127.0.0.1:${server.port()}`;
});

after(async () => {
  sockets?.close();
  await server?.stop();
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const open = (path: string, token = TOKEN): Promise<TestClient> => TestClient.open(`${base}${path}?authorization=${token}`);

describe('/ws/detect', () => {
  it('greets with a status, then finds persons and a car in real photos', async () => {
    const c = await open('/ws/detect');
    const hello = await c.next();
    assert.equal(hello.type, 'status');
    assert.equal(hello.analytic, 'detect');
    assert.equal(hello.batch_size, 1);
    assert.equal(hello.max_frame_bytes, 500 * 1024);

    c.frame(media('coco_people_car_000000009891.jpg'));
    const r = await c.reply();
    assert.equal(r.type, 'result');
    assert.equal(r.frame_index, 0);
    assert.ok(r.server_processing_time > 0);
    assert.equal(r.dropped, 0);
    assert.ok(r.persons >= 1, JSON.stringify(r));
    assert.ok(r.detections.some((d: { label: string }) => d.label === 'car'), JSON.stringify(r.detections));

    c.frame(media('coco_people_group_000000001000.jpg'));
    const g = await c.reply();
    assert.equal(g.frame_index, 1);
    assert.ok(g.persons >= 8, `children found: ${g.persons}`);
    assert.equal(g.vehicles, 0);
    c.close();
  });

  it('a binary frame without start_frame is an error that breaks the connection (4002 EXPECTED_START_FRAME)', async () => {
    const c = await open('/ws/detect');
    c.binary(media('coco_people_car_000000009891.jpg'));
    const err = await c.next((m) => m.type === 'error');
    assert.equal(err.code, 'EXPECTED_START_FRAME');
    const closed = await c.closed;
    assert.equal(closed.code, 4002);
    assert.match(closed.reason, /^EXPECTED_START_FRAME: /);
  });

  it('with set_batch_size 3 answers once per 3 frames, as a list', async () => {
    const c = await open('/ws/detect');
    await c.next((m) => m.status === 'connected');
    c.json({ action: 'set_batch_size', batch_size: 3 });
    const st = await c.next((m) => m.type === 'status');
    assert.equal(st.status, 'batch_size_updated');
    assert.equal(st.batch_size, 3);
    const imgs = ['coco_people_car_000000009891.jpg', 'coco_bus_000000001584.jpg', 'coco_cars_freeway_000000001532.jpg'].map(media);
    for (let round = 0; round < 2; round++) {
      for (const img of imgs) c.frame(img);
      const list = await c.reply();
      assert.ok(Array.isArray(list), 'a batch reply is a list');
      assert.equal(list.length, 3);
      assert.deepEqual(list.map((r: { frame_index: number }) => r.frame_index), [0, 1, 2].map((i) => i + 3 * round));
      assert.ok(list[2].vehicles >= 3, 'the freeway has cars');
    }
    assert.equal(c.received.filter((m) => m.type !== 'heartbeat').length, 0, 'nothing but the two lists');
    c.close();
  });
});

describe('/ws/face-detect and /ws/face-recognize', () => {
  it('finds the faces of a group photo with 5 landmarks each', async () => {
    const c = await open('/ws/face-detect');
    c.frame(await jpeg('faces_obama_biden_two_people.jpg'));
    const r = await c.reply();
    assert.equal(r.faces.length, 2, JSON.stringify(r.faces));
    for (const f of r.faces) assert.equal(f.landmarks.length, 5);
    c.close();
  });

  it('names the enrolled face', async () => {
    const c = await open('/ws/face-recognize');
    c.frame(await jpeg('face_obama_3.jpg'));
    const r = await c.reply();
    assert.equal(r.faces.length, 1);
    assert.equal(r.faces[0].match?.name, 'Barack Obama');
    c.close();
  });
});

describe('/ws/plate', () => {
  it('reads the plate of a real car photo', async () => {
    const c = await open('/ws/plate');
    c.frame(media('plate_cn_yellow_single_yellow.jpg'));
    const r = await c.reply();
    assert.equal(r.type, 'result');
    assert.ok(r.plates.some((p: { plate_number: string }) => p.plate_number === '皖K66666'), JSON.stringify(r.plates));
    c.close();
  });
});

describe('/ws/identify', () => {
  it('identifies an enrolled face and not a stranger; data: URLs are tolerated', async () => {
    const c = await open('/ws/identify');
    const obama = (await jpeg('face_obama_3.jpg')).toString('base64');
    c.json({ type: 'frame', data: obama });
    const r = await c.reply();
    assert.equal(r.type, 'identification');
    assert.ok(!Number.isNaN(Date.parse(r.timestamp)) && r.timestamp.endsWith('Z'), r.timestamp);
    assert.equal(r.face_detected, true);
    assert.equal(r.match.name, 'Barack Obama');
    assert.equal(r.match.relationship, 'neighbour');
    assert.ok(typeof r.match.person_id === 'string' && r.match.person_id.length > 0);
    assert.ok(r.match.confidence > 0.4 && r.match.confidence <= 1);
    assert.ok(r.server_processing_time > 0);

    c.json({ type: 'frame', data: `data:image/jpeg;base64,${(await jpeg('face_rose_leslie_2.jpg')).toString('base64')}` });
    const s = await c.reply();
    assert.equal(s.face_detected, true);
    assert.equal(s.match, null);

    c.json({ type: 'frame', data: (await jpeg('coco_cars_freeway_000000001532.jpg')).toString('base64') });
    const none = await c.reply();
    assert.equal(none.face_detected, false);
    assert.equal(none.match, null);
    c.close();
  });
});

describe('/ws/identify frame limit', () => {
  it('takes a portrait over 500 KB (its protocol names no limit; 4 MiB by default)', async () => {
    const portrait = media('face_obama_3.jpg');
    assert.ok(portrait.length > 500 * 1024, `the portrait is ${portrait.length} bytes`);
    const c = await open('/ws/identify');
    c.json({ type: 'frame', data: portrait.toString('base64') });
    const r = await c.reply();
    assert.equal(r.type, 'identification');
    assert.equal(r.match?.name, 'Barack Obama');
    c.close();
  });
});

describe('auth and routing', () => {
  it('refuses a wrong or missing token before the upgrade, and an unknown analytic', async () => {
    for (const path of ['/ws/detect', '/ws/identify']) {
      await assert.rejects(open(path, 'wrong'), (e: { status: number; body: { code: string } }) => e.status === 401 && e.body.code === 'UNAUTHORIZED');
      await assert.rejects(TestClient.open(`${base}${path}`), (e: { status: number }) => e.status === 401);
    }
    await assert.rejects(open('/ws/no-such-analytic'), (e: { status: number }) => e.status === 404);
  });

  it('leaves the event socket route alone', async () => {
    const ev = await TestClient.open(`${base}/ws/events?authorization=${TOKEN}`);
    ev.close();
  });
});

describe('malformed input', () => {
  it('answers each failure with its code, then closes with a close code and reason; the other clients stay served', async () => {
    const other = await open('/ws/detect');
    await other.next((m) => m.status === 'connected');
    const car = media('coco_people_car_000000009891.jpg');
    const big = Buffer.alloc(600 * 1024, 7);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(2000, 1)]);
    const cases: [string, (c: TestClient) => void, string, number][] = [
      ['not JSON', (c) => c.json('{not json'), 'INVALID_MESSAGE', 4002],
      ['not an object', (c) => c.json('[1,2]'), 'INVALID_MESSAGE', 4002],
      ['unknown action', (c) => c.json({ action: 'fly' }), 'UNKNOWN_ACTION', 4002],
      ['bad fileSize', (c) => c.json({ action: 'start_frame', fileSize: 'big' }), 'INVALID_MESSAGE', 4002],
      ['batch size 0', (c) => c.json({ action: 'set_batch_size', batch_size: 0 }), 'INVALID_BATCH_SIZE', 4002],
      ['batch size 1000', (c) => c.json({ action: 'set_batch_size', batch_size: 1000 }), 'INVALID_BATCH_SIZE', 4002],
      ['size mismatch', (c) => { c.json({ action: 'start_frame', fileSize: car.length + 10 }); c.binary(car); }, 'FILE_SIZE_MISMATCH', 4002],
      ['text where the frame was due', (c) => { c.json({ action: 'start_frame', fileSize: car.length }); c.json({ action: 'start_frame', fileSize: car.length }); }, 'EXPECTED_BINARY', 4002],
      ['announced over the limit', (c) => c.json({ action: 'start_frame', fileSize: big.length }), 'FRAME_TOO_LARGE', 1009],
      ['not an image', (c) => c.frame(Buffer.from('definitely not an image')), 'INVALID_FRAME', 4003],
      ['truncated JPEG', (c) => c.frame(car.subarray(0, Math.floor(car.length / 2))), 'INVALID_FRAME', 4003],
      ['PNG header + garbage', (c) => c.frame(png), 'INVALID_FRAME', 4003],
    ];
    for (const [what, send, code, closeCode] of cases) {
      const c = await open('/ws/detect');
      await c.next((m) => m.status === 'connected');
      send(c);
      const err = await c.next((m) => m.type === 'error');
      assert.equal(err.code, code, what);
      const closed = await c.closed;
      assert.equal(closed.code, closeCode, what);
      assert.ok(closed.reason.startsWith(`${code}: `), `${what}: ${closed.reason}`);
      if (code === 'FRAME_TOO_LARGE') assert.match(err.message, /512000 bytes/, 'the error states the limit');
    }
    // A frame that was fine before the failure still got its result first.
    const c = await open('/ws/detect');
    c.frame(car);
    c.frame(png);
    assert.equal((await c.reply()).type, 'result');
    assert.equal((await c.reply()).code, 'INVALID_FRAME');
    assert.equal((await c.closed).code, 4003);

    other.frame(car);
    assert.ok((await other.reply()).persons >= 1, 'another client is served meanwhile');
    other.close();
  });

  it('identify: bad JSON, unknown type, bad or huge base64, non-image bytes', async () => {
    const c = await open('/ws/identify');
    const code = async (): Promise<string> => (await c.next((m) => m.type === 'error')).code;
    c.json('nope');
    assert.equal(await code(), 'INVALID_MESSAGE');
    c.json({ type: 'dance' });
    assert.equal(await code(), 'UNKNOWN_ACTION');
    c.json({ type: 'frame' });
    assert.equal(await code(), 'INVALID_FRAME');
    c.json({ type: 'frame', data: '***not base64***' });
    assert.equal(await code(), 'INVALID_FRAME');
    c.json({ type: 'frame', data: Buffer.from('hello, not a jpeg').toString('base64') });
    assert.equal(await code(), 'INVALID_FRAME');
    c.json({ type: 'frame', data: Buffer.alloc(4200 * 1024, 3).toString('base64') });
    const tooLarge = await c.next((m) => m.type === 'error');
    assert.equal(tooLarge.code, 'FRAME_TOO_LARGE');
    assert.match(tooLarge.message, /4194304/, 'the error states the limit of this socket');
    const face = await jpeg('face_obama_3.jpg');
    c.json({ type: 'frame', data: face.subarray(0, face.length >> 1).toString('base64') });
    assert.equal(await code(), 'INVALID_FRAME');
    c.json({ type: 'frame', data: face.toString('base64') });
    assert.equal((await c.reply()).match?.name, 'Barack Obama');
    c.close();
  });

  it('refuses an announced 3x the limit with FRAME_TOO_LARGE + 1009, drops a socket at 5x (uWS hard cap); others go on', async () => {
    const c = await open('/ws/detect');
    const other = await open('/ws/detect');
    c.json({ action: 'start_frame', fileSize: 1500 * 1024 });
    assert.equal((await c.next((m) => m.type === 'error')).code, 'FRAME_TOO_LARGE');
    assert.equal((await c.closed).code, 1009);
    const d = await open('/ws/detect');
    d.binary(Buffer.alloc(2500 * 1024, 1));
    const closed = await d.closed;
    assert.equal(closed.code, 1006);
    other.frame(media('coco_bus_000000001584.jpg'));
    assert.equal((await other.reply()).type, 'result');
    other.close();
  });
});

describe('REST twin', () => {
  const post = (path: string, body: Buffer | FormData, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${http}${path}`, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });

  it('gives the socket result for a raw body and for multipart', async () => {
    const car = media('coco_people_car_000000009891.jpg');
    const raw = await post('/api/analyze/detect', car, { 'content-type': 'image/jpeg' });
    assert.equal(raw.status, 200);
    const r = (await raw.json()) as { type: string; persons: number; server_processing_time: number; detections: unknown[] };
    assert.equal(r.type, 'result');
    assert.ok(r.persons >= 1 && r.server_processing_time > 0);

    const form = new FormData();
    form.append('note', 'kiosk 3');
    form.append('image', new Blob([car], { type: 'image/jpeg' }), 'frame.jpg');
    const mp = (await (await post('/api/analyze/detect', form)).json()) as typeof r;
    assert.deepEqual(mp.detections, r.detections);

    const id = (await (await post('/api/analyze/identify', await jpeg('face_obama_3.jpg'))).json()) as { type: string; match: { name: string } };
    assert.equal(id.type, 'identification');
    assert.equal(id.match.name, 'Barack Obama');
  });

  it('each twin has its socket\'s frame limit: identify takes a 596 KB portrait, detect refuses it stating 500 KB', async () => {
    const portrait = media('face_obama_3.jpg');
    const id = await post('/api/analyze/identify', portrait, { 'content-type': 'image/jpeg' });
    assert.equal(id.status, 200);
    assert.equal(((await id.json()) as { match: { name: string } }).match.name, 'Barack Obama');
    const big = await post('/api/analyze/detect', portrait, { 'content-type': 'image/jpeg' });
    assert.equal(big.status, 413);
    const e = ((await big.json()) as { error: { code: string; message: string } }).error;
    assert.equal(e.code, 'VIGIL_ERR_BODY_TOO_LARGE');
    assert.match(e.message, /limit is 512000/);
  });

  it('refuses bad bytes, unknown analytics and missing tokens with codes', async () => {
    const bad = await post('/api/analyze/detect', Buffer.from('not an image'));
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'VIGIL_ERR_INVALID_IMAGE');
    const unknown = await post('/api/analyze/teleport', media('coco_bus_000000001584.jpg'));
    assert.equal(unknown.status, 404);
    const anon = await fetch(`${http}/api/analyze/detect`, { method: 'POST', body: media('coco_bus_000000001584.jpg') });
    assert.equal(anon.status, 401);
  });
});

describe('web/identify example page', () => {
  const browserPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  it('identifies a photo chosen in the page', { skip: browserPath ? false : 'no chromium on this machine' }, async () => {
    const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${pathToFileURL(join(ROOT, 'web/identify/index.html')).href}?token=${TOKEN}`);
      await page.fill('#url', `${base}/ws/identify`);
      await page.click('#connect');
      await page.waitForFunction("document.getElementById('state').textContent === 'connected'");
      await page.setInputFiles('#file', mediaPath('face_obama_3.jpg'));
      await page.waitForFunction("document.getElementById('result').className === 'known'", undefined, { timeout: 20000 });
      assert.match((await page.textContent('#result')) ?? '', /Barack Obama \(neighbour\)/);
    } finally {
      await browser.close();
    }
  });
});
