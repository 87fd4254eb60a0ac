// The spine end to end: real RTSP servers (GStreamer), the real daemon binary, real
// WebSocket subscribers. Faults are injected by killing and restarting a server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import sharp from 'sharp';
import { validateEvent } from '../daemon/events/schema.js';
import { startDaemon, waitFor, ffmpegPids } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';
import { startRtspServer } from './helpers/rtspServer.js';
import { subscribe } from './helpers/subscriber.js';

const CLIP = 'video_street_pedestrians_640x360.mp4';
const PASSWORD = 'S3cretCamPass';

interface Health { id: string; state: string; frames: number; lastError?: { code: string; message: string } }
interface Status { streams: Health[] }

test('events flow from RTSP to subscribers, survive a camera drop, and leak no credentials', async (t) => {
  const camA = await startRtspServer({ source: { file: mediaPath(CLIP) }, user: 'admin', password: PASSWORD }, t);
  const camB = await startRtspServer({ source: { file: mediaPath(CLIP) } }, t);
  const daemon = await startDaemon(
    {
      config: {
        streams: [
          { id: 'cam-a', url: camA.url(), fps: 3, stall_timeout_s: 5, backoff_initial_ms: 500, backoff_max_ms: 2000, analytics: ['people-counting'] },
          { id: 'cam-b', url: camB.url(), fps: 3, analytics: ['people-counting'] },
        ],
      },
    },
    t,
  );
  const status = async () => (await daemon.api<Status>('GET', '/api/status')).json;
  const health = async (id: string) => (await status()).streams.find((s) => s.id === id);

  await t.test('bad tokens are refused before the upgrade and on the API', async () => {
    await assert.rejects(subscribe(daemon.url, { authorization: 'wrong-token' }), (e: { status?: number }) => e.status === 401);
    await assert.rejects(subscribe(daemon.url, {}), (e: { status?: number }) => e.status === 401);
    const res = await fetch(new URL('/api/streams', daemon.url), { headers: { authorization: 'Bearer nope' } });
    assert.equal(res.status, 401);
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'VIGIL_ERR_UNAUTHORIZED');
  });

  const sub = await subscribe(daemon.url, { authorization: 'viewer-token-1234', stream_id: 'cam-a' });
  t.after(() => sub.close());

  await t.test('NFV4-PC events arrive with a valid JPEG crop, every schema key, increasing seq, stored', async () => {
    // Without lines or zones, people counting sends one event per person (appear) plus crop-less summaries.
    const appears = () => sub.events().filter((e) => (e.pipeline_data as Record<string, unknown>).event_type === 'appear');
    await waitFor('3 person events from cam-a', () => appears().length >= 3, 90_000);
    const evs = sub.events();
    const seqs = evs.map((e) => e.seq as number);
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq must increase: ${seqs.join(',')}`);
    for (const e of appears().slice(0, 3)) {
      assert.deepEqual(validateEvent(e, { requireSeq: true }), []);
      assert.equal(e.analytic_id, 'NFV4-PC');
      assert.equal(e.stream_id, 'cam-a');
      const meta = await sharp(Buffer.from(e.image_jpeg as string, 'base64')).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.ok((meta.width ?? 0) > 4 && (meta.height ?? 0) > 4, 'crop has a real size');
      assert.match(e.stream_address as string, /\*\*\*:\*\*\*@/);
      const pd = e.pipeline_data as Record<string, unknown>;
      assert.ok(typeof pd.track_id === 'number', 'the event names its track');
    }
    // Stored before published: the API returns the same seqs.
    const stored = (await daemon.api<{ events: { seq: number }[] }>('GET', '/api/events?stream_id=cam-a&limit=1000')).json.events.map((e) => e.seq);
    for (const s of seqs) assert.ok(stored.includes(s), `seq ${s} is in the store`);
  });

  await t.test('a killed camera goes to backoff, comes back running, and events resume; the other stream keeps its rate', async () => {
    const beforeB = (await health('cam-b'))!.frames;
    const killedAt = Date.now();
    await camA.kill();
    const backoff = await waitFor('cam-a in backoff', async () => {
      const h = await health('cam-a');
      return h?.state === 'backoff' ? h : undefined;
    }, 30_000);
    assert.ok(backoff.lastError, 'backoff carries the last error');
    assert.ok(sub.controls('status').some((m) => m.stream_id === 'cam-a' && m.state === 'backoff'), 'a status control message announced the backoff');
    await new Promise((r) => setTimeout(r, 4000));
    const elapsedS = (Date.now() - killedAt) / 1000;
    const rateB = ((await health('cam-b'))!.frames - beforeB) / elapsedS;
    assert.ok(rateB >= 3 * 0.6, `cam-b kept its frame rate during cam-a's fault: ${rateB.toFixed(2)} fps of 3`);

    const lastSeq = Math.max(...sub.events().map((e) => e.seq as number));
    await camA.restart();
    await waitFor('cam-a running again', async () => (await health('cam-a'))?.state === 'running', 60_000);
    await waitFor('new events from cam-a', () => sub.events().some((e) => (e.seq as number) > lastSeq), 60_000);
  });

  await t.test('credentials appear in no log line, event, or API answer', async () => {
    const streams = await daemon.api('GET', '/api/streams');
    const st = await daemon.api('GET', '/api/status');
    const events = await daemon.api('GET', '/api/events?limit=1000');
    for (const [what, text] of [
      ['logs', daemon.logs()],
      ['events', JSON.stringify(sub.messages)],
      ['GET /api/streams', JSON.stringify(streams.json)],
      ['GET /api/status', JSON.stringify(st.json)],
      ['GET /api/events', JSON.stringify(events.json)],
    ] as const) {
      assert.ok(!text.includes(PASSWORD), `${what} must not contain the camera password`);
    }
    assert.match(JSON.stringify(streams.json), /rtsp:\/\/\*\*\*:\*\*\*@127\.0\.0\.1/);
  });

  await t.test('SIGTERM stops within 10 s and leaves no ffmpeg behind', async () => {
    assert.ok(ffmpegPids(`127.0.0.1:${camB.port}`).length > 0, 'ffmpeg runs while the daemon runs');
    const { code, ms } = await daemon.stop('SIGTERM');
    assert.equal(code, 0);
    assert.ok(ms < 10_000, `stopped in ${ms} ms`);
    assert.deepEqual(ffmpegPids(`127.0.0.1:${camA.port}`), []);
    assert.deepEqual(ffmpegPids(`127.0.0.1:${camB.port}`), []);
    assert.match(daemon.logs(), /"msg":"stopped"/);
  });
});

test('wrong password, dead host and missing file each report a clear health error', async (t) => {
  const cam = await startRtspServer({ source: { file: mediaPath(CLIP) }, user: 'admin', password: PASSWORD }, t);
  const daemon = await startDaemon(
    {
      config: {
        streams: [
          { id: 'wrong-pass', url: cam.url(undefined, { user: 'admin', password: 'not-the-password' }), fps: 1, analytics: [] },
          { id: 'dead-host', url: 'rtsp://admin:hunter22@127.0.0.1:9/stream', fps: 1, analytics: [] },
          { id: 'no-file', url: '/nonexistent/clip.mp4', fps: 1, analytics: [] },
        ],
      },
    },
    t,
  );
  const expect = { 'wrong-pass': 'VIGIL_ERR_STREAM_AUTH', 'dead-host': 'VIGIL_ERR_STREAM_REFUSED', 'no-file': 'VIGIL_ERR_STREAM_NOT_FOUND' } as const;
  const streams = await waitFor('three health errors', async () => {
    const s = (await daemon.api<Status>('GET', '/api/status')).json.streams;
    return s.filter((h) => h.lastError).length === 3 ? s : undefined;
  }, 60_000);
  for (const h of streams) {
    assert.equal(h.lastError!.code, expect[h.id as keyof typeof expect], `${h.id}: ${h.lastError!.message}`);
    assert.ok(h.lastError!.message.length > 10, 'a sentence, not just a code');
    assert.ok(h.state === 'backoff' || h.state === 'failed' || h.state === 'starting', `${h.id} is ${h.state}`);
  }
  const out = await daemon.cli(['status']);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /VIGIL_ERR_STREAM_AUTH/);
  assert.ok(!out.stdout.includes('not-the-password') && !out.stdout.includes('hunter22'), 'status masks passwords');
  assert.ok(!daemon.logs().includes('not-the-password') && !daemon.logs().includes('hunter22'), 'logs mask passwords');

  // Health is kept in the store: after the daemon stops, the last error of each stream is there.
  await daemon.stop();
  const db = new Database(join(daemon.dataDir, 'vigil.db'), { readonly: true });
  const rows = db.prepare('SELECT id, health FROM stream_health').all() as { id: string; health: string }[];
  db.close();
  const stored = Object.fromEntries(rows.map((r) => [r.id, JSON.parse(r.health) as Health]));
  assert.equal(stored['wrong-pass']?.lastError?.code, 'VIGIL_ERR_STREAM_AUTH');
  assert.ok(!rows.some((r) => r.health.includes('not-the-password') || r.health.includes('hunter22')), 'stored health is masked');
});
