// Home Assistant MQTT discovery and per-camera retained state against a real Mosquitto, read by
// real subscribers the way Home Assistant reads them, and checked against the README's examples.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect, type MqttClient } from 'mqtt';
import { EventSink } from '../daemon/events/eventSink.js';
import { silentLogger } from '../daemon/log.js';
import { HomeAssistantBridge } from '../daemon/sinks/homeAssistant.js';
import { MqttOutbox } from '../daemon/sinks/mqttOutbox.js';
import { openDatabase } from '../daemon/store/database.js';
import { EventStore } from '../daemon/store/eventStore.js';
import { OutboxStore } from '../daemon/store/outboxStore.js';
import type { StreamHealth } from '../daemon/streams/types.js';
import { startDaemon, waitFor } from './helpers/daemon.js';
import { observation, tempDir } from './helpers/eventFixtures.js';
import { startMosquitto } from './helpers/mosquitto.js';
import { mediaPath, ROOT } from './helpers/paths.js';

/** The JSON examples the README documents, by their `<!-- mqtt-example: NAME -->` marker. */
function readmeExamples(): Map<string, Record<string, unknown>> {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const out = new Map<string, Record<string, unknown>>();
  for (const m of text.matchAll(/<!-- mqtt-example: (\w+) -->\n```json\n(.+)\n```/g)) out.set(m[1]!, JSON.parse(m[2]!) as Record<string, unknown>);
  return out;
}

/** Keys, recursively, as sorted paths: two payloads of the same shape have the same list. */
function shape(v: unknown, path = ''): string[] {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return [path];
  return Object.entries(v).flatMap(([k, x]) => shape(x, path ? `${path}.${k}` : k)).sort();
}

/** Renders the three template forms Vigil's discovery uses, as Home Assistant's Jinja would. */
function render(template: string, payload: string): string {
  const json = JSON.parse(payload) as Record<string, unknown>;
  let m = /^\{\{ value_json\.(\w+) \}\}$/.exec(template) ?? /^\{\{ value_json\['(\w+)'\] \}\}$/.exec(template);
  if (m) {
    assert.ok(m[1]! in json, `${template} names a key of ${payload}`);
    return String(json[m[1]!]);
  }
  m = /^\{\{ 'ON' if value_json\.state == 'running' else 'OFF' \}\}$/.exec(template);
  assert.ok(m, `unexpected template ${template}`);
  return json.state === 'running' ? 'ON' : 'OFF';
}

/** Subscribes like Home Assistant does and keeps the last payload of every topic. */
async function listen(url: string, topics: string[], t: { after(fn: () => unknown): void }): Promise<{ client: MqttClient; last: Map<string, Buffer>; retained: Set<string> }> {
  const client = connect(url, { clean: true, reconnectPeriod: 0 });
  const last = new Map<string, Buffer>();
  const retained = new Set<string>();
  client.on('message', (topic, payload, packet) => {
    last.set(topic, payload);
    if (packet.retain) retained.add(topic);
  });
  await new Promise<void>((res, rej) => client.once('connect', () => client.subscribe(topics, { qos: 1 }, (err) => (err ? rej(err) : res()))));
  t.after(() => client.end(true));
  return { client, last, retained };
}

function health(id: string, over: Partial<StreamHealth> = {}): StreamHealth {
  return { id, url: 'rtsp://***:***@cam/x', state: 'running', since: Date.now(), fps: 5, frames: 10, reconnects: 0, stderr: [], ...over };
}

test('Home Assistant discovery and retained per-camera state, as documented', async (t) => {
  const broker = await startMosquitto(t);
  const { dir, cleanup } = tempDir();
  const db = openDatabase(join(dir, 'vigil.db'));
  const store = new EventStore(db);
  const outbox = new MqttOutbox({ store, cursor: new OutboxStore(db), log: silentLogger() }, { url: broker.url, nodeNum: 1, reconnectMs: 100 });
  const described: Record<string, { name?: string; analytics?: string[] }> = {
    gate: { name: 'Front gate', analytics: ['plate-recognition'] },
    lobby: { analytics: ['people-counting', 'face-recognition'] },
  };
  const bridge = new HomeAssistantBridge(outbox, { nodeNum: 1, version: '0.1.0', snapshotIntervalMs: 300, describe: (id) => described[id] });
  const sink = new EventSink({ store, publish: (e, seq) => bridge.onEvent({ ...e, seq }), publishLive: (e) => bridge.onEvent(e), log: silentLogger(), nodeNum: 1, outbox });
  t.after(async () => {
    bridge.stop();
    await outbox.stop();
    db.close();
    cleanup();
  });

  const ha = await listen(broker.url, ['homeassistant/#', 'vigil/1/cameras/#', 'vigil/1/status'], t);
  outbox.start();
  await waitFor('online', () => ha.last.get('vigil/1/status')?.toString() === 'online', 10_000, 20);

  bridge.onHealth(health('gate'));
  bridge.onHealth(health('lobby', { state: 'backoff', fps: 0, reconnects: 2, lastError: { code: 'VIGIL_ERR_STREAM_UNREACHABLE', message: 'connection refused' } as StreamHealth['lastError'] }));
  const pc = (data: Record<string, unknown>) => observation('NFV4-PC', { streamId: 'lobby', data: { area_name: 'lobby', confidence: 0.8, label: 'person', direction: '', line: '', ...data } });
  await sink.handle(pc({ trigger: 'presence', count: 3 }), 'rtsp://***:***@cam/lobby');
  await sink.handle(pc({ trigger: 'line', line: 'entrance', in_out: 'in', direction: 'Right', count: 12 }), 'x');
  await sink.handle(pc({ trigger: 'line', line: 'entrance', in_out: 'out', direction: 'Left', count: 9 }), 'x');
  await sink.handle(pc({ trigger: 'occupancy', area_name: 'Lobby', count: 2 }), 'x');
  await sink.handle(observation('NFV4-LPR', { streamId: 'gate' }), 'x');
  await sink.handle(observation('NFV4-FR', { streamId: 'lobby' }), 'x');

  const cfgTopic = (component: string, object: string) => `homeassistant/${component}/vigil_1/${object}/config`;
  const wanted = [
    cfgTopic('binary_sensor', 'gate_stream'), cfgTopic('binary_sensor', 'lobby_stream'), cfgTopic('sensor', 'gate_stream_state'),
    cfgTopic('sensor', 'gate_stream_fps'), cfgTopic('image', 'gate_snapshot'), cfgTopic('sensor', 'gate_last_plate'),
    cfgTopic('sensor', 'lobby_last_person'), cfgTopic('sensor', 'lobby_people_in_view'), cfgTopic('sensor', 'lobby_people_entrance_in'),
    cfgTopic('sensor', 'lobby_people_entrance_out'), cfgTopic('sensor', 'lobby_people_lobby_occupancy'),
    'vigil/1/cameras/gate/health', 'vigil/1/cameras/lobby/health', 'vigil/1/cameras/lobby/counts', 'vigil/1/cameras/gate/last_plate',
    'vigil/1/cameras/lobby/last_person', 'vigil/1/cameras/lobby/snapshot', 'vigil/1/cameras/gate/snapshot',
  ];
  await waitFor('every config and state', () => wanted.every((w) => ha.last.has(w)), 15_000, 20);
  await waitFor('the final counts', () => JSON.parse(ha.last.get('vigil/1/cameras/lobby/counts')!.toString()).people_lobby_occupancy === 2, 5_000, 20);

  // State payloads: the documented shapes, and the values of the events.
  const docs = readmeExamples();
  const state = (stream: string, kind: string) => ha.last.get(`vigil/1/cameras/${stream}/${kind}`)!.toString();
  assert.deepEqual(shape(JSON.parse(state('gate', 'health'))), shape(docs.get('health')));
  assert.deepEqual(JSON.parse(state('lobby', 'health')), { state: 'backoff', online: false, fps: 0, reconnects: 2, since: JSON.parse(state('lobby', 'health')).since, error: { code: 'VIGIL_ERR_STREAM_UNREACHABLE', message: 'connection refused' } });
  assert.deepEqual(JSON.parse(state('lobby', 'counts')), docs.get('counts') && { people_in_view: 3, people_entrance_in: 12, people_entrance_out: 9, people_lobby_occupancy: 2 });
  assert.deepEqual(Object.keys(JSON.parse(state('lobby', 'counts'))).sort(), Object.keys(docs.get('counts')!).sort());
  const plate = JSON.parse(state('gate', 'last_plate')) as Record<string, unknown>;
  assert.deepEqual(shape(plate), shape(docs.get('last_plate')));
  assert.equal(plate.plate_number, 'B 1234 XYZ');
  assert.equal(typeof plate.seq, 'number', 'the stored seq, to look the event up');
  const person = JSON.parse(state('lobby', 'last_person')) as Record<string, unknown>;
  assert.deepEqual(shape(person), shape(docs.get('last_person')));
  assert.equal(person.name, 'Ada');
  assert.equal(person.known, true);
  const jpeg = ha.last.get('vigil/1/cameras/lobby/snapshot')!;
  assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'the snapshot is a JPEG');

  // Discovery configs: the documented shape, availability, one device per camera, and
  // templates that render against the state payloads they point at.
  const config = (component: string, object: string) => JSON.parse(ha.last.get(cfgTopic(component, object))!.toString()) as Record<string, unknown>;
  const bin = config('binary_sensor', 'gate_stream');
  assert.deepEqual(bin, docs.get('discovery_binary_sensor'), 'exactly the README example');
  assert.equal(render(bin.value_template as string, state('gate', 'health')), 'ON');
  assert.equal(render(config('binary_sensor', 'lobby_stream').value_template as string, state('lobby', 'health')), 'OFF');
  const entrance = config('sensor', 'lobby_people_entrance_in');
  assert.equal(entrance.state_class, 'total_increasing');
  assert.equal(entrance.state_topic, 'vigil/1/cameras/lobby/counts');
  assert.equal(render(entrance.value_template as string, state('lobby', 'counts')), '12');
  assert.equal(config('sensor', 'lobby_people_lobby_occupancy').state_class, 'measurement');
  assert.equal(render(config('sensor', 'gate_last_plate').value_template as string, state('gate', 'last_plate')), 'B 1234 XYZ');
  assert.equal(render(config('sensor', 'lobby_last_person').value_template as string, state('lobby', 'last_person')), 'Ada');
  assert.equal(config('image', 'gate_snapshot').image_topic, 'vigil/1/cameras/gate/snapshot');
  const all = [...ha.last.keys()].filter((k) => k.startsWith('homeassistant/')).map((k) => JSON.parse(ha.last.get(k)!.toString()) as Record<string, unknown>);
  assert.equal(new Set(all.map((c) => c.unique_id)).size, all.length, 'unique ids are unique');
  for (const c of all) assert.equal(c.availability_topic, 'vigil/1/status');
  assert.deepEqual(new Set(all.map((c) => (c.device as { name: string }).name)), new Set(['Vigil Front gate', 'Vigil lobby']));

  // Someone subscribing later (Home Assistant restarting) gets configs and states at once: they are retained.
  const late = await listen(broker.url, ['homeassistant/#', 'vigil/1/cameras/#'], t);
  await waitFor('retained copies', () => wanted.every((w) => late.retained.has(w)), 10_000, 20);
  assert.equal(late.last.get('vigil/1/cameras/lobby/counts')!.toString(), state('lobby', 'counts'));

  // A clean stop makes every entity unavailable.
  await outbox.stop();
  await waitFor('offline', () => ha.last.get('vigil/1/status')?.toString() === 'offline', 5_000, 20);
});

test('states are sent again after the broker lost them; discovery can be turned off', async (t) => {
  const broker = await startMosquitto(t);
  const { dir, cleanup } = tempDir();
  const db = openDatabase(join(dir, 'vigil.db'));
  const store = new EventStore(db);
  const outbox = new MqttOutbox({ store, cursor: new OutboxStore(db), log: silentLogger() }, { url: broker.url, nodeNum: 3, reconnectMs: 100, reconnectMaxMs: 200 });
  const bridge = new HomeAssistantBridge(outbox, { nodeNum: 3, version: '0.1.0', discovery: false });
  t.after(async () => {
    bridge.stop();
    await outbox.stop();
    db.close();
    cleanup();
  });
  outbox.start();
  bridge.onHealth(health('yard'));
  const first = await listen(broker.url, ['#'], t);
  await waitFor('health', () => first.last.has('vigil/3/cameras/yard/health'), 10_000, 20);
  assert.ok(![...first.last.keys()].some((k) => k.startsWith('homeassistant/')), 'no discovery when turned off');

  // The broker's retained copy is wiped (as by a broker restarted without persistence): a reconnect restores it.
  first.client.publish('vigil/3/cameras/yard/health', '', { retain: true, qos: 1 });
  await broker.stop('SIGKILL');
  await broker.start();
  const second = await listen(broker.url, ['vigil/3/cameras/#'], t);
  await waitFor('health restored after reconnect', () => second.last.get('vigil/3/cameras/yard/health')?.length, 15_000, 50);
  assert.equal(JSON.parse(second.last.get('vigil/3/cameras/yard/health')!.toString()).state, 'running');
});

test('the daemon publishes a camera to Home Assistant as soon as its stream runs', async (t) => {
  const broker = await startMosquitto(t);
  const ha = await listen(broker.url, ['homeassistant/#', 'vigil/+/cameras/#'], t);
  const clip = mediaPath('video_street_pedestrians_640x360.mp4');
  const daemon = await startDaemon({ config: { node_num: 5, mqtt: { url: broker.url }, streams: [{ id: 'street', name: 'Street', url: clip, fps: 2, analytics: [] }] } }, t);
  await waitFor('discovery and running health', () => {
    const h = ha.last.get('vigil/5/cameras/street/health');
    return ha.last.has('homeassistant/binary_sensor/vigil_5/street_stream/config') && h && JSON.parse(h.toString()).state === 'running';
  }, 60_000, 50);
  const cfg = JSON.parse(ha.last.get('homeassistant/binary_sensor/vigil_5/street_stream/config')!.toString()) as { device: { name: string }; availability_topic: string };
  assert.equal(cfg.device.name, 'Vigil Street', 'the stream name from the config names the device');
  assert.equal(cfg.availability_topic, 'vigil/5/status');
  await daemon.stop('SIGTERM');
});
