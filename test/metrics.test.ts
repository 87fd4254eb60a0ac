// /metrics and /healthz of the real daemon, fed by the test RTSP server, read the way
// Prometheus and a load balancer read them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDaemon, waitFor } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';
import { parsePrometheus, samplesOf, valueOf } from './helpers/promParser.js';
import { assertPromtoolClean } from './helpers/promtool.js';
import { startRtspServer } from './helpers/rtspServer.js';
import { subscribe } from './helpers/subscriber.js';

const CLIP = 'video_street_pedestrians_640x360.mp4';
const VIEWER = 'viewer-token-1234';

async function scrape(url: string, token = VIEWER) {
  const res = await fetch(new URL('/metrics', url), { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

async function healthz(url: string, token = 'test-admin-token-0123'): Promise<{ status: number; body: { ok: boolean; status: string; reasons: string[]; streams: Record<string, string> } }> {
  const res = await fetch(new URL('/healthz', url), { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as { ok: boolean; status: string; reasons: string[]; streams: Record<string, string> } };
}

test('/metrics exposes the expected vigil_* series of a running daemon, and /healthz follows the streams', async (t) => {
  const cam = await startRtspServer({ source: { file: mediaPath(CLIP) } }, t);
  const daemon = await startDaemon(
    {
      config: {
        streams: [{ id: 'street', url: cam.url(), fps: 3, stall_timeout_s: 5, backoff_initial_ms: 2000, backoff_max_ms: 5000, analytics: ['people-counting'] }],
      },
    },
    t,
  );
  const sub = await subscribe(daemon.url, { authorization: VIEWER, crops: '0' });
  t.after(() => sub.close());
  await waitFor('3 events', () => sub.events().length >= 3, 120_000);

  await t.test('without a token /metrics is refused', async () => {
    assert.equal((await fetch(new URL('/metrics', daemon.url))).status, 401);
  });

  await t.test('stream, model, event, subscriber, store and event-loop series', async () => {
    const stored = async () => (await daemon.api<{ count: number }>('GET', '/api/events?limit=1000')).json.count;
    const before = await stored();
    const m = await scrape(daemon.url);
    const after = await stored();

    assert.equal(valueOf(m, 'vigil_stream_state', { stream: 'street', state: 'running' }), 1);
    assert.equal(valueOf(m, 'vigil_stream_state', { stream: 'street', state: 'backoff' }), 0);
    assert.ok(valueOf(m, 'vigil_stream_fps', { stream: 'street', stage: 'decoded' }) > 0, 'decoded fps');
    for (const stage of ['in', 'analysed', 'dropped']) assert.equal(samplesOf(m, 'vigil_stream_fps', { stream: 'street', stage }).length, 1, `fps ${stage}`);
    assert.ok(valueOf(m, 'vigil_stream_frames_total', { stream: 'street', stage: 'analysed' }) > 0, 'frames analysed');
    assert.equal(m.get('vigil_stream_reconnects_total')?.type, 'counter');
    assert.equal(valueOf(m, 'vigil_stream_reconnects_total', { stream: 'street' }), 0);

    const models = samplesOf(m, 'vigil_model_queue_depth');
    assert.ok(models.length >= 1, 'the person detector reports its queue');
    const model = models[0]!.labels.model!;
    assert.ok(valueOf(m, 'vigil_model_latency_p50_seconds', { model, stage: 'run' }) > 0, 'model p50 latency');
    assert.ok(valueOf(m, 'vigil_model_inferences_total', { model }) > 0);
    assert.equal(m.get('vigil_model_latency_seconds')?.type, 'histogram');
    assert.ok(valueOf(m, 'vigil_model_latency_seconds_count', { model, stage: 'run' }) > 0, 'the histogram holds real inference samples');
    assert.ok(valueOf(m, 'vigil_model_latency_seconds_count', { model, stage: 'total' }) > 0);

    const events = valueOf(m, 'vigil_events_total', { analytic: 'NFV4-PC' });
    assert.ok(events >= before && events <= after, `events_total ${events} counts the published events (${before}..${after})`);
    assert.equal(valueOf(m, 'vigil_subscribers'), 1);
    assert.ok(valueOf(m, 'vigil_store_size_bytes') >= 4096);
    assert.ok(valueOf(m, 'vigil_store_last_seq') >= before);
    assert.equal(samplesOf(m, 'vigil_build_info').length, 1);
    assert.equal(samplesOf(m, 'nodejs_eventloop_lag_seconds').length, 1, 'event-loop lag');
    assert.equal(m.get('nodejs_eventloop_lag_p99_seconds')?.type, 'gauge');
    assert.equal(valueOf(m, 'vigil_event_socket_subscribers', { mode: 'live' }), 1);
    assert.equal(samplesOf(m, 'vigil_mqtt_connected').length, 0, 'no MQTT series without an mqtt section');
  });

  await t.test('promtool check metrics passes on the live scrape', async () => {
    const res = await fetch(new URL('/metrics', daemon.url), { headers: { authorization: `Bearer ${VIEWER}` } });
    assertPromtoolClean(await res.text());
  });

  await t.test('/healthz: 200 running, 200 in backoff, state and reconnects in /metrics', async () => {
    const ok = await healthz(daemon.url);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { ok: true, status: 'ok', reasons: [], streams: { street: 'running' } });
    await cam.kill();
    await waitFor('backoff in /metrics', async () => valueOf(await scrape(daemon.url), 'vigil_stream_state', { stream: 'street', state: 'backoff' }) === 1, 30_000);
    const backoff = await healthz(daemon.url);
    assert.equal(backoff.status, 200, JSON.stringify(backoff.body));
    await cam.restart();
    await waitFor('running again', async () => valueOf(await scrape(daemon.url), 'vigil_stream_state', { stream: 'street', state: 'running' }) === 1, 60_000);
    assert.ok(valueOf(await scrape(daemon.url), 'vigil_stream_reconnects_total', { stream: 'street' }) >= 1);
  });
});

test('/healthz stays 200 (degraded) with the reason when a stream has failed', async (t) => {
  // A file that plays once and ends is `failed`: it will not come back by itself.
  const short = join(process.env.TMPDIR ?? '/tmp', `vigil-short-${process.pid}.mp4`);
  const r = spawnSync('ffmpeg', ['-y', '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=5:duration=1', '-pix_fmt', 'yuv420p', short]);
  assert.equal(r.status, 0, String(r.stderr));
  const daemon = await startDaemon({ config: { streams: [{ id: 'once', url: short, fps: 5, loop: false, realtime: false, analytics: [] }] } }, t);
  // One failed camera degrades the daemon; it does not make it unhealthy (a balancer must not drop it).
  const bad = await waitFor('degraded', async () => {
    const h = await healthz(daemon.url);
    return h.body.status === 'degraded' ? h : undefined;
  }, 30_000);
  assert.equal(bad.status, 200);
  assert.equal(bad.body.ok, true);
  assert.equal(bad.body.streams.once, 'failed');
  assert.match(bad.body.reasons.join('\n'), /stream once: failed/);
  const m = await scrape(daemon.url);
  assert.equal(valueOf(m, 'vigil_stream_state', { stream: 'once', state: 'failed' }), 1);
});
