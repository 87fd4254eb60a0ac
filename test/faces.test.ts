import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FaceAdmin } from '../daemon/analytics/faceRecognition/faceAdmin.js';
import { createFaceRecognitionAnalytic } from '../daemon/analytics/faceRecognition/faceRecognitionAnalytic.js';
import { FaceRecognizer } from '../daemon/analytics/faceRecognition/faceRecognizer.js';
import type { Observation } from '../daemon/analytics/types.js';
import { isVigilError } from '../daemon/errors.js';
import { silentLogger } from '../daemon/log.js';
import { openDatabase, type Db } from '../daemon/store/database.js';
import { EventStore } from '../daemon/store/eventStore.js';
import { FaceGallery } from '../daemon/store/faceGallery.js';
import { Retention } from '../daemon/store/retention.js';
import type { Frame } from '../daemon/streams/frame.js';
import { decodeImage, encodeJpeg, readImageFile } from '../daemon/vision/codec.js';
import type { RgbImage } from '../daemon/vision/image.js';
import { resizeImage } from '../daemon/vision/preprocess.js';
import { faceModels } from './facesHelpers.js';
import { mediaPath } from './helpers/paths.js';

const photo = (name: string): Buffer => readFileSync(mediaPath(name));

describe('face recognition with an enrolled gallery (YuNet + fr_feature)', () => {
  let dir: string;
  let db: Db;
  let models: Awaited<ReturnType<typeof faceModels>>;
  let rec: FaceRecognizer;
  let admin: FaceAdmin;
  const ids: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-faces-'));
    db = openDatabase(join(dir, 'vigil.db'));
    models = await faceModels();
    rec = new FaceRecognizer({ models, gallery: new FaceGallery(db), log: silentLogger() });
    await rec.start();
    admin = new FaceAdmin(rec, silentLogger());
    ids.obama = (await admin.enroll({ name: 'Barack Obama', relationship: 'neighbour' }, [photo('face_obama_1.jpg')])).person_id;
    ids.biden = (await admin.enroll({ name: 'Joe Biden' }, [photo('face_biden_2.jpg')])).person_id;
    ids.kit = (await admin.enroll({ name: 'Kit Harington', relationship: 'friend' }, [photo('face_kit_harington_1.jpg')])).person_id;
  });
  after(async () => {
    db.close();
    await models.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function names(file: string): Promise<(string | null)[]> {
    const r = await rec.identify(await readImageFile(mediaPath(file)));
    return r.faces.sort((a, b) => a.box[0] - b.box[0]).map((f) => f.match?.name ?? null);
  }

  it('lists the three enrolled persons, each with one photo and a stored crop', () => {
    const ls = admin.list();
    assert.deepEqual(ls.map((p) => p.name).sort(), ['Barack Obama', 'Joe Biden', 'Kit Harington']);
    const obama = admin.show(ids.obama!);
    assert.equal(obama.relationship, 'neighbour');
    assert.equal(obama.photos.length, 1);
    const crop = admin.photoCrop(obama.photos[0]!.photo_id);
    assert.equal(crop[0], 0xff); // a JPEG
    assert.equal(crop[1], 0xd8);
  });

  it('recognises Obama in two other photos of him', async () => {
    assert.deepEqual(await names('face_obama_2.jpg'), ['Barack Obama']);
    assert.deepEqual(await names('face_obama_3.jpg'), ['Barack Obama']);
    const r = await rec.identify(await readImageFile(mediaPath('face_obama_2.jpg')));
    assert.equal(r.faces[0]!.match!.person_id, ids.obama);
    assert.equal(r.faces[0]!.match!.relationship, 'neighbour');
    assert.ok(r.faces[0]!.match!.confidence > 0.5);
  });

  it('calls Rose Leslie, who is not enrolled, UNKNOWN', async () => {
    const r = await rec.identify(await readImageFile(mediaPath('face_rose_leslie_1.jpg')));
    assert.equal(r.faces.length, 1);
    assert.equal(r.faces[0]!.match, null);
    assert.ok(r.faces[0]!.similarity < 0.3, `similarity to the closest person ${r.faces[0]!.similarity}`);
  });

  it('finds Obama and Biden in the three-people photo and leaves the child UNKNOWN', async () => {
    const r = await rec.identify(await readImageFile(mediaPath('faces_obama_biden_3people.jpg')));
    assert.equal(r.faces.length, 3);
    const known = r.faces.filter((f) => f.match).map((f) => f.match!.name).sort();
    assert.deepEqual(known, ['Barack Obama', 'Joe Biden']);
    const child = r.faces.find((f) => !f.match)!;
    // The child is the smallest face, low in the picture.
    assert.ok(child.box[1] > Math.max(...r.faces.filter((f) => f.match).map((f) => f.box[1])));
    assert.ok(Array.isArray(child.quality.reasons) && child.landmarks.length === 5);
  });

  it('refuses to enrol a photo with two faces, an unreadable file and a too-small face, with reasons', async () => {
    await assert.rejects(admin.enroll({ name: 'Two' }, [photo('faces_obama_biden_two_people.jpg')]), (e: unknown) => {
      assert.ok(isVigilError(e));
      assert.equal(e.code, 'VIGIL_ERR_FACE_COUNT');
      assert.match(e.message, /2 faces/);
      return true;
    });
    await assert.rejects(admin.enroll({ name: 'Junk' }, [Buffer.from('not an image')]), (e: unknown) => isVigilError(e) && e.code === 'VIGIL_ERR_INVALID_IMAGE');
    const big = await decodeImage(photo('face_obama_1.jpg'));
    // The face shrinks from ~240 px to ~48 px: still found, too small to enrol.
    const small = resizeImage(big, Math.round(big.width / 5), Math.round(big.height / 5));
    await assert.rejects(admin.enroll({ name: 'Tiny' }, [await encodeJpeg(small, 95)]), (e: unknown) => {
      assert.ok(isVigilError(e));
      assert.equal(e.code, 'VIGIL_ERR_FACE_QUALITY');
      assert.match(e.message, /smaller than 60 px/);
      return true;
    });
    // Nothing half-enrolled.
    assert.equal(admin.list().length, 3);
  });

  describe('on a stream: track vote, reject and confirm', () => {
    let index = 0;
    let ts = 1_700_000_000_000;
    const frame = (img: RgbImage): Frame => ({ ...img, streamId: 'cam1', index: index++, timestamp: (ts += 500) });
    const blank: RgbImage = { width: 320, height: 240, data: Buffer.alloc(320 * 240 * 3, 40) };

    /** Shows a photo for `n` frames, then an empty scene until the track ends; returns the events. */
    async function appearance(analytic: ReturnType<typeof createFaceRecognitionAnalytic>, file: string, n = 4): Promise<Observation[]> {
      const img = await readImageFile(mediaPath(file));
      const events: Observation[] = [];
      for (let i = 0; i < n; i++) events.push(...(await analytic.process(frame(img))));
      for (let i = 0; i <= rec.config.maxMissed; i++) events.push(...(await analytic.process(frame(blank))));
      return events;
    }

    it('gives one KNOWN event per appearance, then obeys "not Obama" and "is Obama"', async () => {
      const analytic = createFaceRecognitionAnalytic(rec, { streamId: 'cam1', log: silentLogger() });
      const first = await appearance(analytic, 'face_obama_2.jpg');
      assert.equal(first.length, 1);
      const e = first[0]!;
      assert.equal(e.analyticId, 'NFV4-FR');
      assert.equal(e.primaryText, 'KNOWN');
      assert.equal(e.data.name, 'Barack Obama');
      assert.equal(e.data.person_id, ids.obama);
      assert.equal(typeof e.data['face-id'], 'number');
      assert.ok((e.data.similarity as number) > 0.5);
      const variation = e.data.variation as string;

      await admin.reject(variation, ids.obama!);
      const second = await appearance(analytic, 'face_obama_2.jpg');
      assert.equal(second.length, 1);
      assert.equal(second[0]!.primaryText, 'UNKNOWN');
      assert.equal(second[0]!.data.name, undefined);
      // The negative only vetoes faces closer to it than to Obama's photos: another photo still passes.
      assert.deepEqual(await names('face_obama_3.jpg'), ['Barack Obama']);

      await admin.confirm(variation, ids.obama!);
      assert.equal(admin.show(ids.obama!).photos.length, 2);
      const third = await appearance(analytic, 'face_obama_2.jpg');
      assert.equal(third.length, 1);
      assert.equal(third[0]!.primaryText, 'KNOWN');
      assert.equal(third[0]!.data.name, 'Barack Obama');
      assert.ok((third[0]!.data.similarity as number) > 0.95, 'the confirmed capture is now a photo of Obama');
    });

    it('groups a recurring stranger under one unknown_id, which can be enrolled', async () => {
      const analytic = createFaceRecognitionAnalytic(rec, { streamId: 'cam2', log: silentLogger() });
      const a = await appearance(analytic, 'face_rose_leslie_1.jpg');
      const b = await appearance(analytic, 'face_rose_leslie_2.jpg');
      const k = await appearance(analytic, 'face_kit_harington_2.jpg');
      assert.deepEqual([a.length, b.length, k.length], [1, 1, 1]);
      assert.equal(a[0]!.primaryText, 'UNKNOWN');
      assert.equal(b[0]!.primaryText, 'UNKNOWN');
      assert.equal(k[0]!.data.name, 'Kit Harington');
      const u = a[0]!.data.unknown_id as string;
      assert.ok(u);
      assert.equal(b[0]!.data.unknown_id, u);
      const cluster = admin.unknowns().find((x) => x.unknown_id === u)!;
      assert.equal(cluster.count, 2);
      const rose = await admin.enrollUnknown(u, { name: 'Rose Leslie' });
      assert.equal(rose.photos.length, 2);
      assert.deepEqual(await names('face_rose_leslie_2.jpg'), ['Rose Leslie']);
      admin.remove(rose.person_id);
      assert.deepEqual(await names('face_rose_leslie_2.jpg'), [null]);
    });

    it('a stranger seen again and again keeps the images of its newest and best captures only; a thinned one is refused with the way to enrol', async () => {
      const thin = new FaceRecognizer({ models, gallery: new FaceGallery(db), log: silentLogger(), config: { unknownRecentImages: 1, unknownImages: 1 } });
      await thin.start();
      const thinAdmin = new FaceAdmin(thin, silentLogger());
      const analytic = createFaceRecognitionAnalytic(thin, { streamId: 'cam3', log: silentLogger() });
      const seen = [];
      for (const file of ['face_rose_leslie_1.jpg', 'face_rose_leslie_2.jpg', 'face_rose_leslie_1.jpg']) seen.push(...(await appearance(analytic, file)));
      assert.equal(seen.length, 3);
      const u = seen[0]!.data.unknown_id as string;
      assert.ok(seen.every((e) => e.data.unknown_id === u), 'one stranger');
      assert.equal(thinAdmin.unknowns().find((x) => x.unknown_id === u)!.count, 3, 'every sighting counts');
      const variations = seen.map((e) => e.data.variation as string);
      const withImage = variations.filter((v) => thin.gallery.getCapture(v)!.face.crop.length > 0);
      // The newest and the best of the two older ones.
      assert.equal(withImage.length, 2);
      assert.ok(withImage.includes(variations[2]!), 'the newest keeps its image');
      const thinned = variations.find((v) => !withImage.includes(v))!;
      const person = thinAdmin.list().find((p) => p.name === 'Joe Biden')!;
      await assert.rejects(thinAdmin.confirm(thinned, person.person_id), (e: unknown) => {
        assert.ok(isVigilError(e));
        assert.equal(e.code, 'VIGIL_ERR_NOT_FOUND');
        assert.match(e.message, new RegExp(`vigil faces unknowns enroll ${u}`));
        return true;
      });
      await assert.rejects(thinAdmin.reject(thinned, person.person_id), (e: unknown) => isVigilError(e) && e.code === 'VIGIL_ERR_NOT_FOUND');
      assert.equal(thinAdmin.show(person.person_id).photos.length, 1, 'nothing was added to Biden');
      const rose = await thinAdmin.enrollUnknown(u, { name: 'Rose Leslie' });
      assert.equal(rose.photos.length, 2, 'enrolled from the two captures that kept their image');
      thinAdmin.remove(rose.person_id);
    });

    it('past retention.crops_max_age_days a capture keeps neither image nor embedding; reject and enrol say why', async () => {
      const analytic = createFaceRecognitionAnalytic(rec, { streamId: 'cam4', log: silentLogger() });
      const [known] = await appearance(analytic, 'face_biden_1.jpg');
      const [stranger] = await appearance(analytic, 'face_rose_leslie_1.jpg');
      assert.equal(known!.data.name, 'Joe Biden');
      const capture = known!.data.variation as string;
      const u = stranger!.data.unknown_id as string;
      const gallery = new FaceGallery(db);
      assert.ok(gallery.getCapture(capture)!.face.crop.length > 0);
      new EventStore(db); // the event tables Retention reads
      await new Promise((r) => setTimeout(r, 20));
      // Crops live 5 ms here: both captures above are older by now.
      const retention = new Retention(db, { cropsMaxAgeDays: 5 / 86_400_000, pruneCompanionCrops: (before, limit) => gallery.thinCapturesBefore(before, limit) }, silentLogger());
      assert.ok(((await retention.runOnce()).cropsDeleted ?? 0) >= 2);
      assert.equal(gallery.getCapture(capture)!.face.crop.length, 0);
      assert.equal(gallery.getCaptureVector(capture, rec.model), undefined);
      const expired = (e: unknown) => {
        assert.ok(isVigilError(e));
        assert.equal(e.code, 'VIGIL_ERR_NOT_FOUND');
        assert.match(e.message, /retention\.crops_max_age_days/);
        return true;
      };
      await assert.rejects(admin.reject(capture, ids.biden!), expired);
      await assert.rejects(admin.enrollUnknown(u, { name: 'Rose Leslie' }), expired);
      assert.equal(admin.show(ids.biden!).photos.length, 1, 'the enrolment photo stays');
      assert.ok(!admin.list().some((p) => p.name === 'Rose Leslie'), 'nobody half-enrolled');
    });
  });

  it('re-embeds the gallery from stored crops when the embedder changes', async () => {
    const other = new FaceRecognizer({ models, gallery: new FaceGallery(db), log: silentLogger(), config: { embedderModel: 'face_embed_mobilefacenet_unknown' } });
    await other.start();
    assert.equal(other.model, 'face_embed_mobilefacenet_unknown');
    assert.equal(other.index.size, 4, 'three enrolment photos and one confirmed capture');
    assert.equal(other.reembedProgress.total, 4);
    assert.equal(other.reembedProgress.done, 4);
    const r = await other.identify(await readImageFile(mediaPath('face_obama_3.jpg')));
    assert.equal(r.faces[0]!.match?.name, 'Barack Obama');
    const s = await other.identify(await readImageFile(mediaPath('face_rose_leslie_1.jpg')));
    assert.equal(s.faces[0]!.match, null);
  });
});
