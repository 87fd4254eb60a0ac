import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePrometheus, samplesOf, valueOf } from '../../test/helpers/promParser.js';
import { tempDir } from '../../test/helpers/eventFixtures.js';
import { assertPromtoolClean } from '../../test/helpers/promtool.js';
import { ADMIN, startHarness, TOKEN } from '../../test/helpers/serverHarness.js';
import type { MqttSinkStats } from '../sinks/mqttOutbox.js';
import type { ModelMetrics } from '../inference/metrics.js';
import type { PipelineStats } from '../pipeline.js';
import { openDatabase } from '../store/database.js';
import type { StreamHealth } from '../streams/types.js';
import { createMetrics, sqliteSizeBytes, type MetricsSource } from './metrics.js';

function health(id: string, over: Partial<StreamHealth> = {}): StreamHealth {
  return { id, url: 'rtsp://***:***@cam/x', state: 'running', since: Date.now(), fps: 5, frames: 100, reconnects: 2, stderr: [], ...over };
}
function stats(streamId: string, framesIn: number): PipelineStats {
  return { streamId, framesIn, framesAnalysed: framesIn - 3, framesDropped: 3, observations: 1, errors: 1, busySince: null, lastAnalysedAt: null, analysisMs: 20 };
}
const model: ModelMetrics = {
  model: 'yolox-nano', provider: 'cpu', inferencesPerSec: 4.5, p50Ms: 20, p99Ms: 80, p50TotalMs: 30, p99TotalMs: 120,
  queueDepth: 2, sessionBatches: [40], inferences: 50, batches: 40, meanBatch: 1.25, drops: 1, dropsByStream: {}, errors: 0,
};

const mqttStats: MqttSinkStats = {
  connected: true, broker: 'mqtt://***:***@broker:1883', ackedSeq: 40, sentSeq: 41, inflight: 1, backlog: 2,
  published: 39, dropped: 5, unstoredSent: 0, unstoredDropped: 1, reconnects: 3,
};

test('/metrics serves parseable series for streams, models, events, subscribers, store and the event loop', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  let framesIn = 10;
  const source: MetricsSource = {
    streams: () => [health('cam-a'), health('cam-b', { state: 'backoff', fps: 0, reconnects: 7 })],
    pipeline: () => [stats('cam-a', framesIn)],
    models: () => [model],
    subscribers: () => 3,
    storeSizeBytes: () => sqliteSizeBytes(h.db),
    lastSeq: () => 42,
    info: () => ({ version: '9.9.9', node_num: 4 }),
    eventSocket: () => [{ mode: 'live', bufferedAmount: 100, missed: 0 }, { mode: 'behind', bufferedAmount: 5000, missed: 12 }],
    mqtt: () => mqttStats,
  };
  const metrics = createMetrics(source);
  t.after(() => metrics.stop());
  metrics.register(h.server.routes);
  metrics.countEvent('NFV4-PC');
  metrics.countSubscriberClose('slow');
  metrics.countSubscriberClose('idle');
  metrics.countSubscriberGap();
  metrics.countEvent('NFV4-PC');
  metrics.countEvent('NFV4-FR');
  metrics.observeModelLatency('yolox-nano', 'run', 12);
  metrics.observeModelLatency('yolox-nano', 'run', 700);

  const denied = await fetch(`${h.url}/metrics`);
  assert.equal(denied.status, 401, 'metrics need a token by default');

  await new Promise((r) => setTimeout(r, 1100));
  framesIn = 30; // 20 frames more since the first sample: a positive input rate
  const res = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assertPromtoolClean(text);
  const fams = parsePrometheus(text);

  assert.equal(fams.get('vigil_stream_state')?.type, 'gauge');
  assert.equal(valueOf(fams, 'vigil_stream_state', { stream: 'cam-b', state: 'backoff' }), 1);
  assert.equal(valueOf(fams, 'vigil_stream_state', { stream: 'cam-b', state: 'running' }), 0);
  assert.equal(valueOf(fams, 'vigil_stream_reconnects_total', { stream: 'cam-b' }), 7);
  assert.equal(fams.get('vigil_stream_reconnects_total')?.type, 'counter');
  assert.equal(valueOf(fams, 'vigil_stream_fps', { stream: 'cam-a', stage: 'decoded' }), 5);
  assert.ok(valueOf(fams, 'vigil_stream_fps', { stream: 'cam-a', stage: 'in' }) > 0, 'input fps is a rate over the sampled window');
  assert.equal(valueOf(fams, 'vigil_stream_frames_total', { stream: 'cam-a', stage: 'analysed' }), 27);
  assert.equal(valueOf(fams, 'vigil_stream_frames_total', { stream: 'cam-a', stage: 'dropped' }), 3);

  assert.equal(valueOf(fams, 'vigil_model_queue_depth', { model: 'yolox-nano' }), 2);
  assert.equal(valueOf(fams, 'vigil_model_latency_p99_seconds', { model: 'yolox-nano', stage: 'run' }), 0.08);
  assert.equal(valueOf(fams, 'vigil_model_latency_p50_seconds', { model: 'yolox-nano', stage: 'total' }), 0.03);
  assert.equal(fams.get('vigil_model_latency_seconds')?.type, 'histogram');
  assert.equal(valueOf(fams, 'vigil_model_latency_seconds_count', { model: 'yolox-nano', stage: 'run' }), 2);
  assert.equal(valueOf(fams, 'vigil_model_latency_seconds_bucket', { model: 'yolox-nano', stage: 'run', le: '0.025' }), 1);

  assert.equal(valueOf(fams, 'vigil_events_total', { analytic: 'NFV4-PC' }), 2);
  assert.equal(valueOf(fams, 'vigil_events_total', { analytic: 'NFV4-FR' }), 1);
  assert.equal(valueOf(fams, 'vigil_subscriber_closes_total', { reason: 'slow' }), 1);
  assert.equal(valueOf(fams, 'vigil_subscriber_closes_total', { reason: 'idle' }), 1);
  assert.equal(valueOf(fams, 'vigil_subscriber_gaps_total', {}), 1);
  assert.equal(valueOf(fams, 'vigil_subscribers'), 3);
  assert.ok(valueOf(fams, 'vigil_store_size_bytes') >= 4096, 'a SQLite file has at least a page');
  assert.equal(valueOf(fams, 'vigil_store_last_seq'), 42);
  assert.equal(valueOf(fams, 'vigil_build_info', { version: '9.9.9', node_num: '4' }), 1);
  // Node's process metrics under their standard names, as stock Node.js dashboards expect them.
  assert.ok(samplesOf(fams, 'nodejs_eventloop_lag_seconds').length === 1, 'event-loop lag is exposed');
  assert.equal(fams.get('process_cpu_seconds_total')?.type, 'counter');
  assert.equal(fams.get('nodejs_active_handles')?.type, 'gauge');
  assert.ok(![...fams.keys()].some((k) => k.startsWith('vigil_nodejs') || k.startsWith('vigil_process')), 'no vigil_-prefixed process metrics');

  assert.equal(valueOf(fams, 'vigil_event_socket_subscribers', { mode: 'live' }), 1);
  assert.equal(valueOf(fams, 'vigil_event_socket_subscribers', { mode: 'behind' }), 1);
  assert.equal(valueOf(fams, 'vigil_event_socket_subscribers', { mode: 'replay' }), 0);
  assert.equal(valueOf(fams, 'vigil_event_socket_buffered_bytes'), 5100);
  assert.equal(valueOf(fams, 'vigil_event_socket_missed_events'), 12);
  assert.equal(valueOf(fams, 'vigil_mqtt_connected'), 1);
  assert.equal(valueOf(fams, 'vigil_mqtt_backlog_events'), 2);
  assert.equal(valueOf(fams, 'vigil_mqtt_events_published_total'), 39);
  assert.equal(fams.get('vigil_mqtt_events_published_total')?.type, 'counter');
  assert.equal(valueOf(fams, 'vigil_mqtt_events_dropped_total'), 5);
  assert.equal(valueOf(fams, 'vigil_mqtt_reconnects_total'), 3);

  // The admin token works too.
  assert.equal((await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 200);
});

test('a failing source does not fail the scrape', async () => {
  const boom = () => {
    throw new Error('stopping');
  };
  const metrics = createMetrics({ streams: boom, pipeline: boom, models: boom, subscribers: boom, storeSizeBytes: boom });
  try {
    const fams = parsePrometheus(await metrics.render());
    assert.equal(valueOf(fams, 'vigil_subscribers'), 0);
    assert.equal(samplesOf(fams, 'vigil_stream_state').length, 0);
  } finally {
    metrics.stop();
  }
});

test('sqliteSizeBytes counts pages and the WAL file', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'x.db');
    const db = openDatabase(file);
    db.exec('CREATE TABLE t (x BLOB)');
    const before = sqliteSizeBytes(db, file);
    db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(200_000));
    assert.ok(sqliteSizeBytes(db, file) >= before + 200_000, 'grows with the data written');
    db.close();
  } finally {
    cleanup();
  }
});

test('the Prometheus parser rejects what Prometheus would', () => {
  const ok = '# HELP a_total x\n# TYPE a_total counter\na_total{k="v\\"q"} 1\n';
  assert.equal(parsePrometheus(ok).get('a_total')?.samples[0]?.labels.k, 'v"q');
  assert.throws(() => parsePrometheus('a 1'), /newline/);
  assert.throws(() => parsePrometheus('# TYPE a gauge\na{k=v} 1\n'), /quoted/);
  assert.throws(() => parsePrometheus('# TYPE a gauge\na 1\na 2\n'), /duplicate/);
  assert.throws(() => parsePrometheus('b 1\n'), /without a family/);
  assert.throws(() => parsePrometheus('# TYPE a gauge\na one\n'), /bad value/);
  assert.throws(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n'), /cumulative/);
  assert.throws(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3\nh_sum 1\n'), /_count/);
});
