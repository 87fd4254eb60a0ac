import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer } from 'node:net';
import sharp from 'sharp';
import { ApiClient } from '../cli/client.js';
import { VigilError } from '../daemon/errors.js';
import { buildEvent } from '../daemon/events/eventBuilder.js';
import { silentLogger } from '../daemon/log.js';
import { registerAdminRoutes, type StreamControl } from '../daemon/server/adminRoutes.js';
import { registerHealthRoutes } from '../daemon/server/healthRoutes.js';
import { createServer } from '../daemon/server/server.js';
import { StreamStore } from '../daemon/store/streamStore.js';
import { fakeEvent, observation } from './helpers/eventFixtures.js';
import { ADMIN, TOKEN, startHarness, type Harness } from './helpers/serverHarness.js';

/** A StreamControl over the real StreamStore, standing in for main's supervisor-backed one. */
function storeBackedStreams(store: StreamStore): StreamControl {
  return {
    list: () => store.list().map((s) => ({ id: s.id, url: s.config.url, state: s.enabled ? 'running' : 'disabled' })),
    add: (cfg) => {
      const c = cfg as { id?: unknown; url?: unknown };
      if (typeof c.id !== 'string' || typeof c.url !== 'string') throw new VigilError('VIGIL_ERR_CONFIG', 'A stream needs a string id and url');
      if (store.get(c.id)) throw new VigilError('VIGIL_ERR_STREAM_EXISTS', `A stream with id "${c.id}" already exists (its url is ${c.url})`);
      return store.upsert(cfg as { id: string }).config;
    },
    remove: (id) => {
      if (!store.remove(id)) throw new VigilError('VIGIL_ERR_STREAM_UNKNOWN', `No stream with id "${id}"`);
    },
    setEnabled: (id, on) => store.setEnabled(id, on).config,
  };
}

async function api(h: Harness, method: string, path: string, opts: { token?: string; body?: RequestInit['body']; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${h.url}${path}`, { method, headers, body: opts.body, duplex: 'half' } as RequestInit);
  const buf = Buffer.from(await res.arrayBuffer());
  const json = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(buf.toString()) : undefined;
  return { status: res.status, json, buf, type: res.headers.get('content-type') };
}

async function setup() {
  const h = await startHarness();
  const streams = new StreamStore(h.db);
  registerAdminRoutes(h.server.routes, {
    streams: storeBackedStreams(streams),
    status: { status: () => ({ version: '0.1.0', subscribers: h.server.subscriberCount(), last: 'rtsp://root:hunter2@cam/x' }) },
    events: h.store,
  });
  registerHealthRoutes(h.server.routes, { streams: () => [], pipelineHealthy: () => true, checkStore: () => true });
  return h;
}

test('auth: open /healthz, tokens by header or query, admin-only changes, 401 JSON with a code', async (t) => {
  const h = await setup();
  t.after(() => h.close());
  assert.deepEqual((await api(h, 'GET', '/healthz')).json, { ok: true, status: 'ok' });
  const none = await api(h, 'GET', '/api/status');
  assert.equal(none.status, 401);
  assert.equal(none.json.error.code, 'VIGIL_ERR_UNAUTHORIZED');
  assert.equal((await api(h, 'GET', '/api/status', { token: 'wrong' })).status, 401);
  const ok = await api(h, 'GET', '/api/status', { token: TOKEN });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.last, 'rtsp://***:***@cam/x', 'status is masked');
  assert.equal((await api(h, 'GET', `/api/status?authorization=${ADMIN}`)).status, 200);
  const denied = await api(h, 'POST', '/api/streams', { token: TOKEN, body: JSON.stringify({ id: 'a', url: 'rtsp://x' }) });
  assert.equal(denied.status, 401, 'a subscriber token cannot change streams');
  assert.match(denied.json.error.message, /admin token/);
});

test('streams: add, list, enable/disable, delete; credentials never in an answer or an error', async (t) => {
  const h = await setup();
  t.after(() => h.close());
  const cli = new ApiClient({ url: h.url, token: ADMIN });
  const added = await cli.post<{ stream: { url: string } }>('/api/streams', { id: 'gate', url: 'rtsp://admin:s3cret@10.0.0.5/live', fps: 5 });
  assert.equal(added.stream.url, 'rtsp://***:***@10.0.0.5/live');
  const dup = await api(h, 'POST', '/api/streams', { token: ADMIN, body: JSON.stringify({ id: 'gate', url: 'rtsp://admin:s3cret@10.0.0.5/live' }) });
  assert.equal(dup.status, 409);
  assert.equal(dup.json.error.code, 'VIGIL_ERR_STREAM_EXISTS');
  assert.ok(!dup.buf.toString().includes('s3cret'), 'error messages are masked');
  const list = await api(h, 'GET', '/api/streams', { token: ADMIN });
  assert.deepEqual(list.json.streams, [{ id: 'gate', url: 'rtsp://***:***@10.0.0.5/live', state: 'running' }]);
  assert.ok(!list.buf.toString().includes('s3cret'));
  assert.equal((await api(h, 'POST', '/api/streams/gate/disable', { token: ADMIN })).json.stream.enabled, false);
  assert.equal((await cli.get<{ streams: { state: string }[] }>('/api/streams')).streams[0]!.state, 'disabled');
  assert.equal((await api(h, 'POST', '/api/streams/gate/enable', { token: ADMIN })).json.stream.enabled, true);
  const bad = await api(h, 'POST', '/api/streams', { token: ADMIN, body: '{"id":' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, 'VIGIL_ERR_BAD_REQUEST');
  assert.equal((await api(h, 'POST', '/api/streams', { token: ADMIN, body: '[1]' })).status, 400);
  assert.deepEqual((await cli.delete('/api/streams/gate')) as unknown, { removed: 'gate' });
  await assert.rejects(cli.delete('/api/streams/gate'), (e: VigilError) => e.code === 'VIGIL_ERR_STREAM_UNKNOWN');
});

test('events API: newest first with a before cursor, since ascending, filters, plate search, single event and crop', async (t) => {
  const h = await setup();
  t.after(() => h.close());
  const seqs = [];
  for (let n = 0; n < 12; n++) seqs.push(h.emit(...(Object.values(fakeEvent(n % 2 ? 'NFV4-LPR' : 'NFV4-PC', `cam${n % 3}`, { n, plate: `B ${1000 + n} XY` })) as [never, never])));
  const real = await buildEvent(observation('NFV4-FR'), { nodeNum: 2, streamAddress: 'rtsp://cam' });
  const realSeq = h.emit(real.event, real.crop ?? undefined);

  const page1 = await api(h, 'GET', '/api/events?limit=5', { token: TOKEN });
  assert.deepEqual(page1.json.events.map((e: { seq: number }) => e.seq), [realSeq, ...seqs.slice(-4).reverse()]);
  assert.ok(page1.json.events.every((e: Record<string, unknown>) => e.image_jpeg === undefined && e.jpeg === undefined), 'no crops by default');
  const page2 = await api(h, 'GET', `/api/events?limit=5&before=${page1.json.next.before}`, { token: TOKEN });
  assert.deepEqual(page2.json.events.map((e: { seq: number }) => e.seq), seqs.slice(3, 8).reverse());
  const asc = await api(h, 'GET', `/api/events?since=${seqs[9]}&limit=10`, { token: TOKEN });
  assert.deepEqual(asc.json.events.map((e: { seq: number }) => e.seq), [seqs[10], seqs[11], realSeq]);
  assert.equal(asc.json.next, null);
  const lpr = await api(h, 'GET', '/api/events?analytic_id=NFV4-LPR&stream_id=cam1,cam2&limit=100', { token: TOKEN });
  assert.ok(lpr.json.events.length > 0 && lpr.json.events.every((e: { analytic_id: string; stream_id: string }) => e.analytic_id === 'NFV4-LPR' && e.stream_id !== 'cam0'));
  const plates = await api(h, 'GET', `/api/events?plate=${encodeURIComponent('b100*')}&limit=100`, { token: TOKEN });
  assert.deepEqual(plates.json.events.map((e: { pipeline_data: { plate_number: string } }) => e.pipeline_data.plate_number).sort(), ['B 1001 XY', 'B 1003 XY', 'B 1005 XY', 'B 1007 XY', 'B 1009 XY']);
  assert.equal((await api(h, 'GET', '/api/events?analytic_id=NFV4-XX', { token: TOKEN })).status, 400);
  assert.equal((await api(h, 'GET', '/api/events?limit=abc', { token: TOKEN })).json.error.code, 'VIGIL_ERR_BAD_REQUEST');
  assert.equal((await api(h, 'GET', '/api/events?limit=100000', { token: TOKEN })).status, 400);

  const id = real.event.pipeline_data.event_id;
  const one = await api(h, 'GET', `/api/events/${id}`, { token: TOKEN });
  assert.equal(one.json.image_jpeg, real.crop!.toString('base64'));
  assert.equal(one.json.seq, realSeq);
  const jpg = await api(h, 'GET', `/api/events/${id}/crop.jpg`, { token: TOKEN });
  assert.equal(jpg.type, 'image/jpeg');
  assert.deepEqual(jpg.buf, real.crop);
  assert.equal((await sharp(jpg.buf).metadata()).format, 'jpeg');
  const missing = await api(h, 'GET', '/api/events/123-deadbeef', { token: TOKEN });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.code, 'VIGIL_ERR_NOT_FOUND');
  assert.equal((await api(h, 'GET', '/api/events/123-deadbeef/crop.jpg', { token: TOKEN })).status, 404);
});

test('router: 404/405 JSON, body cap 413, large bodies, handler crash → 500 and the server keeps serving', async (t) => {
  const h = await setup();
  t.after(() => h.close());
  const r = h.server.routes;
  r.route('POST', '/api/test/echo/:name', (req) => ({ json: { name: req.params.name, bytes: req.body.length, q: req.query.get('q'), sum: req.body.reduce((a, b) => a + b, 0) } }), { auth: 'none', maxBody: 512 * 1024 });
  r.route('POST', '/api/test/small', () => ({ json: { ok: true } }), { auth: 'none', maxBody: 1024 });
  r.route('GET', '/api/test/throw', () => {
    throw new Error('boom at /secret/path rtsp://u:p@x');
  }, { auth: 'none' });
  r.route('GET', '/api/test/reject', async () => {
    await new Promise((res) => setTimeout(res, 5));
    throw new TypeError('async boom');
  }, { auth: 'none' });
  r.route('GET', '/api/test/coded', () => {
    throw new VigilError('VIGIL_ERR_FACE_COUNT', 'Two faces in the photo');
  }, { auth: 'none' });
  assert.throws(() => r.route('POST', '/api/test/small', () => ({})), /twice/);

  const nf = await api(h, 'GET', '/api/nothing/here');
  assert.equal(nf.status, 404);
  assert.equal(nf.json.error.code, 'VIGIL_ERR_NOT_FOUND');
  const na = await api(h, 'PUT', '/api/test/small', { body: 'x' });
  assert.equal(na.status, 405);
  assert.equal(na.json.error.code, 'VIGIL_ERR_METHOD_NOT_ALLOWED');

  const big = Buffer.alloc(300 * 1024, 3);
  const echo = await api(h, 'POST', '/api/test/echo/caf%C3%A9?q=1', { body: big });
  assert.deepEqual(echo.json, { name: 'café', bytes: big.length, q: '1', sum: big.length * 3 });
  const tooBig = await api(h, 'POST', '/api/test/small', { body: Buffer.alloc(5000) });
  assert.equal(tooBig.status, 413);
  assert.equal(tooBig.json.error.code, 'VIGIL_ERR_BODY_TOO_LARGE');
  // Without a content-length (chunked upload) the cap is enforced while reading.
  const chunks = new ReadableStream({
    start(c) {
      for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(1000));
      c.close();
    },
  });
  const streamed = await api(h, 'POST', '/api/test/small', { body: chunks });
  assert.equal(streamed.status, 413);

  for (const path of ['/api/test/throw', '/api/test/reject']) {
    const crash = await api(h, 'GET', path);
    assert.equal(crash.status, 500);
    assert.equal(crash.json.error.code, 'VIGIL_ERR_INTERNAL');
    assert.ok(!crash.buf.toString().includes('boom'), 'internals stay in the log');
  }
  const coded = await api(h, 'GET', '/api/test/coded');
  assert.equal(coded.status, 422);
  assert.deepEqual(coded.json, { error: { code: 'VIGIL_ERR_FACE_COUNT', message: 'Two faces in the photo' } });
  const after = await Promise.all(Array.from({ length: 20 }, () => api(h, 'GET', '/healthz')));
  assert.ok(after.every((a) => a.status === 200), 'still serving after crashes');
});

test('a taken port is VIGIL_ERR_PORT_IN_USE naming the port', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const port = h.server.port();
  const second = createServer({ host: '127.0.0.1', port, tokens: [], adminToken: 'x', log: silentLogger(), store: h.store });
  await assert.rejects(second.start(), (e: VigilError) => e.code === 'VIGIL_ERR_PORT_IN_USE' && e.message.includes(String(port)));
  await second.stop();

  const other = createNetServer();
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  t.after(() => other.close());
  const netPort = (other.address() as { port: number }).port;
  const third = createServer({ host: '127.0.0.1', port: netPort, tokens: [], adminToken: 'x', log: silentLogger(), store: h.store });
  await assert.rejects(third.start(), (e: VigilError) => e.code === 'VIGIL_ERR_PORT_IN_USE' && e.message.includes(String(netPort)));
  await third.stop();
});
