import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaceGallery } from './faceGallery.js';
import { tempDatabase } from '../../test/helpers/eventFixtures.js';

const face = (n: number) => ({ crop: Buffer.alloc(5000, n), landmarks: [[1, 2]] as [number, number][], box: [0, 0, 10, 10] as [number, number, number, number] });
const vector = () => new Float32Array(128).fill(0.1);
const hasImage = (g: FaceGallery, id: string) => g.getCapture(id)!.face.crop.length > 0;

test('a stranger seen often keeps the image and embedding of its newest captures and the best older ones; its sightings and negatives stay', (t) => {
  const { db } = tempDatabase(t);
  const g = new FaceGallery(db);
  const person = g.createPerson({ name: 'Jane' });
  // Qualities in arrival order; the newest 2 and the best 3 older ones keep their image.
  const qualities = [0.5, 0.9, 0.2, 0.8, 0.3, 0.7, 0.1, 0.4];
  const add = (i: number, unknownId: string, quality: number) => {
    const capture_id = `cap-${unknownId}-${i}`;
    g.addCapture({ capture_id, stream_id: 'lobby', track_id: i, timestamp: 1000 + i, decision: 'UNKNOWN', person_id: null, similarity: 0.2, unknown_id: unknownId, quality },
      face(i), 'emb', vector(), { thin: { newest: 2, best: 3 } });
    return capture_id;
  };
  const ids = qualities.map((q, i) => {
    const id = add(i, 'u1', q);
    // The lowest-quality capture is kept all along because it became a negative.
    if (i === 2) g.addNegative(person.person_id, id);
    return id;
  });
  const other = add(0, 'u2', 0.05); // another stranger is not affected by u1's captures

  const kept = ids.filter((id) => hasImage(g, id));
  // The newest two (0.1, 0.4), the best 3 older ones (0.9, 0.8, 0.7) and the negative (0.2).
  assert.deepEqual(kept.sort(), [ids[1], ids[2], ids[3], ids[5], ids[6], ids[7]].sort());
  for (const id of ids) {
    assert.equal(g.getCaptureVector(id, 'emb') !== undefined, kept.includes(id), `embedding of ${id} follows its image`);
    assert.ok(g.getCapture(id), `${id} is still a sighting`);
  }
  assert.ok(hasImage(g, other));
  assert.equal(g.getCapture(ids[7]!)!.face.crop.length, 5000);
  assert.equal(g.getCapture(ids[0]!)!.face.crop.length, 0);

  const u1 = g.listUnknowns().find((u) => u.unknown_id === 'u1')!;
  assert.equal(u1.count, 8, 'the stranger was seen 8 times');
  assert.equal(u1.best_capture_id, ids[1]);
  assert.deepEqual(g.capturesOfUnknown('u1', 10, { withImage: true }).map((c) => c.capture_id), [ids[1], ids[3], ids[5], ids[7], ids[2], ids[6]]);
  assert.equal(g.capturesOfUnknown('u1', 10).length, 8);
  // Rebuilding the clusters at start reads only captures with an embedding.
  assert.equal(g.unknownCaptures('emb', 100).filter((c) => c.unknown_id === 'u1').length, 6);
});

test('without thinning every capture keeps its image', (t) => {
  const { db } = tempDatabase(t);
  const g = new FaceGallery(db);
  for (let i = 0; i < 6; i++) {
    g.addCapture({ capture_id: `c${i}`, stream_id: 's', track_id: i, timestamp: i, decision: 'UNKNOWN', person_id: null, similarity: 0, unknown_id: 'u', quality: i / 10 }, face(i), 'emb', vector());
  }
  assert.equal(g.capturesOfUnknown('u', 10, { withImage: true }).length, 6);
});

test('thinned captures give their pages back: a stranger seen 60 times takes little more room than its kept images', (t) => {
  const tableBytes = (thin?: { newest: number; best: number }) => {
    const { db } = tempDatabase(t);
    const g = new FaceGallery(db);
    for (let i = 0; i < 60; i++) {
      // ~7.8 KB, a stored face capture's usual size: more than a page, so it spills into an overflow page.
      const big = { ...face(i), crop: Buffer.alloc(7800, i) };
      g.addCapture({ capture_id: `c${i}`, stream_id: 's', track_id: i, timestamp: i, decision: 'UNKNOWN', person_id: null, similarity: 0, unknown_id: 'u', quality: (i * 7) % 10 }, big, 'emb', vector(), { thin });
    }
    return (db.prepare("SELECT sum(pgsize) FROM dbstat WHERE name IN ('face_captures', 'face_embeddings')").pluck().get() as number);
  };
  const all = tableBytes();
  const thinned = tableBytes({ newest: 4, best: 2 });
  // 6 of 60 keep their image: the rest is small rows packed together.
  assert.ok(thinned < all * 0.25, `thinned ${thinned} B vs all ${all} B`);
});

test('face images older than crops_max_age_days go, oldest first and a batch at a time, strangers\' too; photos and negatives stay', (t) => {
  const { db } = tempDatabase(t);
  const g = new FaceGallery(db);
  const person = g.createPerson({ name: 'Jane' });
  const add = (id: string, timestamp: number, unknownId: string | null, quality: number) => {
    g.addCapture({ capture_id: id, stream_id: 'lobby', track_id: 1, timestamp, decision: unknownId ? 'UNKNOWN' : 'KNOWN', person_id: unknownId ? null : person.person_id, similarity: 0.5, unknown_id: unknownId, quality },
      face(1), 'emb', vector());
  };
  // Known captures at t = 1..4, a negative and a photo among them; a stranger at t = 5..8 (quality rising); one young capture.
  for (let i = 1; i <= 4; i++) add(`k${i}`, i, null, 0.5);
  g.addNegative(person.person_id, 'k2');
  db.prepare("INSERT INTO face_photos VALUES ('p1', ?, 'capture', 'k3', x'01', '[]', '[]', '{}', 0)").run(person.person_id);
  for (let i = 5; i <= 8; i++) add(`u${i}`, i, 'u', i / 10);
  add('young', 100, null, 0.5);
  assert.equal(g.listUnknowns()[0]!.best_capture_id, 'u8');

  // Batches of 3: k1, k4, u5 (k2 and k3 are kept), then u6, u7, u8.
  assert.equal(g.thinCapturesBefore(50, 3), 3);
  assert.deepEqual(['k1', 'k4', 'u5', 'u6'].map((id) => hasImage(g, id)), [false, false, false, true], 'the oldest go first');
  assert.equal(g.thinCapturesBefore(50, 3), 3);
  assert.equal(g.thinCapturesBefore(50, 3), 0, 'nothing left to thin');

  const kept = ['k1', 'k2', 'k3', 'k4', 'u5', 'u6', 'u7', 'u8', 'young'].filter((id) => hasImage(g, id));
  assert.deepEqual(kept, ['k2', 'k3', 'young']);
  for (const id of ['k1', 'k4', 'u5', 'u8']) {
    assert.equal(g.getCaptureVector(id, 'emb'), undefined, `${id} lost its embedding with its image`);
    assert.equal(g.getCapture(id)!.timestamp, Number(id.slice(1)), `${id} stays as a sighting`);
  }
  assert.equal(g.listUnknowns()[0]!.count, 4, 'the stranger was still seen 4 times');
  assert.deepEqual(g.capturesOfUnknown('u', 5, { withImage: true }), [], 'no image left to enrol the stranger from');

  // A stranger's best capture that still has an image is named before a better one that lost it.
  add('u9', 200, 'u', 0.1);
  assert.equal(g.listUnknowns()[0]!.best_capture_id, 'u9');
});
