import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startHarness } from '../../test/helpers/serverHarness.js';
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
  assert.deepEqual(r, { ok: true, reasons: [], streams: { a: 'running', b: 'backoff', c: 'starting', d: 'stalled' } });
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
  assert.equal(r.reasons.length, 6, r.reasons.join('\n'));
  assert.match(r.reasons[0]!, /^stream f: failed .*VIGIL_ERR_STREAM_AUTH/);
  assert.doesNotMatch(JSON.stringify(r), /hunter2/);
  assert.ok(r.reasons.some((x) => /stream st: starting for 120 s/.test(x)));
  assert.ok(r.reasons.some((x) => /stream sl: stalled for 60 s/.test(x)));
  assert.ok(r.reasons.some((x) => /stream bo: retry overdue by 90 s/.test(x)));
  assert.ok(r.reasons.some((x) => /^pipeline: /.test(x)));
  assert.ok(r.reasons.some((x) => /^store: unavailable \(SQLITE_IOERR\)/.test(x)));
});

test('GET /healthz answers 200 or 503 without a token', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  let streams = [s('a', 'running')];
  registerHealthRoutes(h.server.routes, { streams: () => streams, pipelineHealthy: () => true, checkStore: () => true });
  const ok = await fetch(`${h.url}/healthz`);
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { ok: boolean }).ok, true);
  streams = [s('a', 'failed')];
  const bad = await fetch(`${h.url}/healthz`);
  assert.equal(bad.status, 503);
  const body = (await bad.json()) as { ok: boolean; reasons: string[] };
  assert.equal(body.ok, false);
  assert.match(body.reasons[0]!, /stream a: failed/);
});
