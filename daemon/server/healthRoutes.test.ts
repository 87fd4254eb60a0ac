import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startHarness, TOKEN } from '../../test/helpers/serverHarness.js';
import type { StreamHealth } from '../streams/types.js';
import { healthReport, registerHealthRoutes, type HealthSource } from './healthRoutes.js';

const NOW = 1_000_000_000;
function s(id: string, state: StreamHealth['state'], over: Partial<StreamHealth> = {}): StreamHealth {
  return { id, url: 'rtsp://***:***@h/x', state, since: NOW - 5000, fps: 5, frames: 1, reconnects: 0, stderr: [], ...over };
}
function source(streams: StreamHealth[], over: Partial<HealthSource> = {}): HealthSource {
  return { streams: () => streams, pipelineHealthy: () => true, checkStore: () => true, ...over };
}

test('healthy: running, backing off on schedule, starting or stalled briefly, disabled ignored', () => {
  const r = healthReport(
    source([s('a', 'running'), s('b', 'backoff', { nextRetryAt: NOW + 2000 }), s('c', 'starting'), s('d', 'stalled'), s('e', 'disabled'), s('f', 'failed', { state: 'disabled' })]),
    {},
    NOW,
  );
  assert.deepEqual(r, { ok: true, status: 'ok', reasons: [], streams: { a: 'running', b: 'backoff', c: 'starting', d: 'stalled' } });
});

test('unhealthy: failed, stuck starting or stalled, overdue retry, stuck pipeline, broken store; credentials masked', () => {
  const err = { code: 'VIGIL_ERR_STREAM_AUTH' as const, message: 'refused rtsp://admin:hunter2@10.0.0.5/live', at: NOW };
  const r = healthReport(
    source(
      [
        s('f', 'failed', { lastError: err }),
        s('st', 'starting', { since: NOW - 120_000 }),
        s('sl', 'stalled', { since: NOW - 60_000 }),
        s('bo', 'backoff', { nextRetryAt: NOW - 90_000 }),
      ],
      { pipelineHealthy: () => false, checkStore: () => { throw new Error('SQLITE_IOERR'); } },
    ),
    {},
    NOW,
  );
  assert.equal(r.ok, false);
  assert.equal(r.status, 'down');
  assert.equal(r.reasons.length, 6, r.reasons.join('\n'));
  assert.ok(r.reasons.some((x) => /^stream f: failed .*VIGIL_ERR_STREAM_AUTH/.test(x)));
  assert.doesNotMatch(JSON.stringify(r), /hunter2/);
  assert.ok(r.reasons.some((x) => /stream st: starting for 120 s/.test(x)));
  assert.ok(r.reasons.some((x) => /stream sl: stalled for 60 s/.test(x)));
  assert.ok(r.reasons.some((x) => /stream bo: retry overdue by 90 s/.test(x)));
  assert.ok(r.reasons.some((x) => /^pipeline: /.test(x)));
  assert.ok(r.reasons.some((x) => /^store: unavailable \(SQLITE_IOERR\)/.test(x)));
});

test('a failed camera leaves the daemon up (200, degraded); streams and reasons only with a token; HEAD like GET', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  let streams = [s('a', 'running')];
  let storeOk = true;
  registerHealthRoutes(h.server.routes, { streams: () => streams, pipelineHealthy: () => true, checkStore: () => { if (!storeOk) throw new Error('SQLITE_IOERR'); return true; } });
  const ok = await fetch(`${h.url}/healthz`);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { ok: true, status: 'ok' });
  streams = [s('a', 'failed'), s('b', 'running')];
  const anon = await fetch(`${h.url}/healthz`);
  assert.equal(anon.status, 200, 'one failed camera does not make the daemon unhealthy');
  const anonText = await anon.text();
  assert.deepEqual(JSON.parse(anonText), { ok: true, status: 'degraded' });
  assert.doesNotMatch(anonText, /"a"|stream a/, 'no stream ids to anonymous callers');
  const authed = await fetch(`${h.url}/healthz`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = (await authed.json()) as { ok: boolean; status: string; reasons: string[]; streams: Record<string, string> };
  assert.equal(authed.status, 200);
  assert.equal(body.status, 'degraded');
  assert.deepEqual(body.streams, { a: 'failed', b: 'running' });
  assert.match(body.reasons[0]!, /stream a: failed/);
  const head = await fetch(`${h.url}/healthz`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  assert.equal(head.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(anonText));
  storeOk = false;
  const down = await fetch(`${h.url}/healthz`);
  assert.equal(down.status, 503);
  assert.deepEqual(await down.json(), { ok: false, status: 'down' });
  const headDown = await fetch(`${h.url}/healthz`, { method: 'HEAD' });
  assert.equal(headDown.status, 503);
});
