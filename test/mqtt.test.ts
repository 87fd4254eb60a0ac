// The fleet sink against a real Mosquitto: ordered QoS 1 delivery, a store-backed outbox that
// survives a broker outage, the status topic with its last will, and no credentials in logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect, type MqttClient } from 'mqtt';
import { openDatabase } from '../daemon/store/database.js';
import { EventStore } from '../daemon/store/eventStore.js';
import { OutboxStore } from '../daemon/store/outboxStore.js';
import { MqttOutbox } from '../daemon/sinks/mqttOutbox.js';
import { EventSink } from '../daemon/events/eventSink.js';
import { createRootLogger, silentLogger } from '../daemon/log.js';
import { fakeEvent, tempDatabase, tempDir } from './helpers/eventFixtures.js';
import { startMosquitto } from './helpers/mosquitto.js';
import { waitFor } from './helpers/daemon.js';

interface Received {
  topic: string;
  body: Record<string, unknown>;
}

/** A persistent-session QoS 1 subscriber: the broker keeps its messages while it is away. */
async function subscriber(url: string, topic: string, clientId: string, t: { after(fn: () => unknown): void }): Promise<{ client: MqttClient; got: Received[]; raw: { topic: string; text: string }[] }> {
  const client = connect(url, { clientId, clean: false, reconnectPeriod: 100 });
  const got: Received[] = [];
  const raw: { topic: string; text: string }[] = [];
  client.on('message', (tp, payload) => {
    const text = payload.toString();
    raw.push({ topic: tp, text });
    if (text.startsWith('{')) got.push({ topic: tp, body: JSON.parse(text) as Record<string, unknown> });
  });
  client.on('error', () => undefined); // reconnects on its own while the broker is down
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe(topic, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  });
  t.after(() => client.end(true));
  return { client, got, raw };
}

test('MQTT sink: ordered QoS 1 delivery, queued in SQLite while the broker is down, resent in order when it is back', async (t) => {
  const broker = await startMosquitto(t);
  const { dir, cleanup } = tempDir();
  const db = openDatabase(join(dir, 'vigil.db'));
  const store = new EventStore(db);
  const cursor = new OutboxStore(db);
  let logText = '';
  const log = createRootLogger('debug', new Writable({ write: (c, _e, cb) => ((logText += String(c)), cb()) }));
  const brokerUrl = `mqtt://fleet:hunter22@127.0.0.1:${broker.port}`;
  const outbox = new MqttOutbox({ store, cursor, log }, { url: brokerUrl, nodeNum: 7, reconnectMs: 100, reconnectMaxMs: 500, inflight: 20 });
  const sink = new EventSink({ store, publish: () => undefined, log: silentLogger(), nodeNum: 7, outbox });
  t.after(async () => {
    await outbox.stop();
    db.close();
    cleanup();
  });

  const events = await subscriber(broker.url, 'vigil/7/+/+', 'test-events', t);
  const status = await subscriber(broker.url, 'vigil/7/status', 'test-status', t);
  outbox.start();
  await waitFor('online status', () => status.raw.some((m) => m.text === 'online'), 10_000, 20);

  const produce = async (n: number, from: number) => {
    for (let i = 0; i < n; i++) {
      const { event, crop } = fakeEvent(i % 2 ? 'NFV4-LPR' : 'NFV4-PC', `cam${i % 3}`, { n: from + i });
      assert.ok((await sink.deliver(event, crop)) !== null);
    }
  };
  await produce(20, 0);
  await waitFor('20 events over MQTT', () => events.got.length >= 20, 10_000, 20);
  const first = events.got[0]!;
  assert.equal(first.topic, `vigil/7/${first.body.analytic_id as string}/${first.body.stream_id as string}`);
  assert.equal(first.body.image_jpeg, undefined, 'crops are off by default');
  assert.equal(first.body.node_num, 1);

  // The broker goes away (stopped like systemd does); events keep being stored and queue.
  await broker.stop('SIGTERM');
  await waitFor('the sink notices', () => !outbox.stats().connected, 10_000, 20);
  await produce(300, 20);
  assert.equal(outbox.stats().backlog, 300, 'the 300 events wait in the store');
  await broker.start();
  await waitFor('all 320 events delivered', () => new Set(events.got.map((m) => m.body.seq)).size >= 320, 90_000, 50);

  const storeSeqs = store.query({ sinceSeq: 0, limit: 10_000 }).map((e) => e.seq);
  const firstSeen: number[] = [];
  const seen = new Set<number>();
  for (const m of events.got) {
    const s = m.body.seq as number;
    if (!seen.has(s)) firstSeen.push(s);
    seen.add(s);
  }
  assert.deepEqual(firstSeen, storeSeqs, 'every stored event arrived, in seq order');
  const dups = events.got.length - firstSeen.length;
  assert.ok(dups <= 20, `duplicates only within the in-flight window (QoS 1 at-least-once): ${dups}`);
  await waitFor('cursor saved', () => cursor.get('mqtt', 0).ackedSeq === storeSeqs[storeSeqs.length - 1], 5_000, 50);
  assert.equal(outbox.stats().backlog, 0);

  // Last will: a connection that dies without DISCONNECT makes the broker publish `offline`.
  const statusBefore = status.raw.length;
  (outbox as unknown as { client: MqttClient }).client.stream.destroy();
  await waitFor('last will offline, then online again', () => {
    const after = status.raw.slice(statusBefore).map((m) => m.text);
    return after.includes('offline') && after.lastIndexOf('online') > after.indexOf('offline');
  }, 10_000, 20);

  // A clean stop leaves `offline` retained for whoever looks later.
  await outbox.stop();
  const late = await subscriber(broker.url, 'vigil/7/status', 'test-late', t);
  await waitFor('retained status', () => late.raw.length > 0, 5_000, 20);
  assert.equal(late.raw[late.raw.length - 1]!.text, 'offline');

  assert.ok(!logText.includes('hunter22'), 'the broker password never reaches the log');
  assert.match(logText, /mqtt:\/\/\*\*\*:\*\*\*@127\.0\.0\.1/);
});

test('MQTT sink: a backlog over outbox_max drops the oldest with a count; a bad URL is a config error', async (t) => {
  const { db } = tempDatabase(t);
  const store = new EventStore(db);
  const cursor = new OutboxStore(db);
  assert.throws(() => new MqttOutbox({ store, cursor, log: silentLogger() }, { url: 'http://x', nodeNum: 1 }), /VIGIL_ERR_CONFIG|mqtt\.url/);
  const broker = await startMosquitto(t);
  const events = await subscriber(broker.url, 'vigil/#', 'test-bound', t);
  await broker.stop('SIGTERM');
  const outbox = new MqttOutbox({ store, cursor, log: silentLogger() }, { url: broker.url, nodeNum: 2, outboxMax: 50, reconnectMs: 100, reconnectMaxMs: 300 });
  outbox.start();
  t.after(() => outbox.stop());
  for (let n = 0; n < 120; n++) {
    const { event, crop } = fakeEvent('NFV4-CE', 'hall', { n });
    outbox.notify(store.append(event, crop));
  }
  await broker.start();
  await waitFor('the newest 50 delivered', () => events.got.filter((m) => m.topic.startsWith('vigil/2/')).length >= 50, 20_000, 50);
  await new Promise((r) => setTimeout(r, 300));
  const seqs = [...new Set(events.got.filter((m) => m.topic.startsWith('vigil/2/')).map((m) => m.body.seq as number))];
  assert.deepEqual(seqs, Array.from({ length: 50 }, (_, i) => 71 + i), 'the newest 50, in order');
  assert.equal(outbox.stats().dropped, 70);
});
