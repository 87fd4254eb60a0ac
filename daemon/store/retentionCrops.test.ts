import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStore } from './eventStore.js';
import { FaceGallery } from './faceGallery.js';
import { Retention } from './retention.js';
import { silentLogger } from '../log.js';
import { fakeEvent, tempDatabase } from '../../test/helpers/eventFixtures.js';

const DAY = 86_400_000;

test('crops_max_age_days: old crops go while their events stay; protected events keep theirs; rows that follow the events are pruned to the oldest kept', async (t) => {
  const { db } = tempDatabase(t);
  const store = new EventStore(db);
  db.exec('CREATE TABLE enrolled (capture_id TEXT PRIMARY KEY)');
  const now = Date.now();
  const add = (ageDays: number, n: number) => {
    const { event, crop } = fakeEvent('NFV4-FR', 'cam1', { ts: now - ageDays * DAY, n });
    event.pipeline_data.variation = `cap-${n}`;
    return { id: event.pipeline_data.event_id, seq: store.append(event, crop), ageDays };
  };
  const rows = [add(40, 1), add(10, 2), add(8, 3), add(3, 4), add(0, 5)];
  db.prepare('INSERT INTO enrolled VALUES (?)').run('cap-3');
  const pruned: number[] = [];
  const r = new Retention(db, {
    maxAgeDays: 30,
    cropsMaxAgeDays: 7,
    batch: 1,
    protectedSql: "EXISTS (SELECT 1 FROM enrolled x WHERE x.capture_id = json_extract(e.json, '$.pipeline_data.variation'))",
    pruneCompanions: (oldest) => {
      pruned.push(oldest);
      return 0;
    },
  }, silentLogger());
  const res = await r.runOnce();
  assert.equal(res.deleted, 1, 'the 40-day-old event went by age');
  assert.equal(res.cropsDeleted, 1, 'one crop older than 7 days went (the other is an enrolment)');
  const events = store.query({ limit: 10 }).map((e) => e.pipeline_data.event_id);
  assert.deepEqual(events.sort(), rows.slice(1).map((x) => x.id).sort(), 'every younger event is kept');
  assert.equal(store.crop(rows[1]!.id), undefined, '10 days: event kept, crop gone');
  assert.ok(store.crop(rows[2]!.id), '8 days but protected: crop kept');
  assert.ok(store.crop(rows[3]!.id) && store.crop(rows[4]!.id), 'young crops kept');
  assert.equal(store.get(rows[1]!.id)?.image_jpeg, undefined, 'the event reads back without a crop');
  assert.equal(pruned.length, 1);
  assert.ok(Math.abs(pruned[0]! - (now - 10 * DAY)) < 1000, 'companions pruned up to the oldest event kept');
});

test('an empty store prunes no companions: a capture may be waiting for its event', async (t) => {
  const { db } = tempDatabase(t);
  new EventStore(db);
  let calls = 0;
  const r = new Retention(db, { maxAgeDays: 30, pruneCompanions: () => ++calls }, silentLogger());
  await r.runOnce();
  assert.equal(calls, 0);
});

test('crops_max_age_days also drops face capture images, in batches, and counts them with the crops', async (t) => {
  const { db } = tempDatabase(t);
  const store = new EventStore(db);
  const gallery = new FaceGallery(db);
  const now = Date.now();
  const capture = (id: string, ageDays: number) => gallery.addCapture(
    { capture_id: id, stream_id: 'lobby', track_id: 1, timestamp: now - ageDays * DAY, decision: 'UNKNOWN', person_id: null, similarity: 0, unknown_id: null, quality: 0.5 },
    { crop: Buffer.alloc(4000, 1), landmarks: [], box: [0, 0, 1, 1] }, 'emb', new Float32Array(8));
  const { event, crop } = fakeEvent('NFV4-FR', 'lobby', { ts: now - 20 * DAY, n: 1 });
  store.append(event, crop);
  for (let i = 0; i < 5; i++) capture(`old${i}`, 10 + i);
  capture('new', 1);
  const r = new Retention(db, {
    cropsMaxAgeDays: 7,
    batch: 2,
    pruneCompanionCrops: (before, limit) => gallery.thinCapturesBefore(before, limit),
  }, silentLogger());
  const res = await r.runOnce();
  assert.equal(res.cropsDeleted, 1 + 5, 'the event crop and the five old face images, two at a time');
  for (let i = 0; i < 5; i++) assert.equal(gallery.getCapture(`old${i}`)!.face.crop.length, 0);
  assert.equal(gallery.getCapture('new')!.face.crop.length, 4000, 'a young capture keeps its image');
});
