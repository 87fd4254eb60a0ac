import { VigilError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { decodeImage } from '../../vision/codec.js';
import type { FaceRecognizer } from './faceRecognizer.js';
import type { PersonRecord, PhotoRecord } from './galleryPort.js';

/** A person with their photos, as `faces show` prints it. */
export interface PersonDetail extends PersonRecord {
  photos: PhotoRecord[];
}

/** Resolves an event id to the `variation` (capture id) of its NFV4-FR event; main wires it to the event store. */
export type EventVariationLookup = (eventId: string) => string | undefined | Promise<string | undefined>;

/** Gallery management behind the CLI and REST API: enrol, photos, reject/confirm, unknowns. */
export class FaceAdmin {
  private readonly log: Logger;

  constructor(private readonly rec: FaceRecognizer, log: Logger, private readonly lookupEvent?: EventVariationLookup) {
    this.log = log.child({ component: 'faces' });
  }

  /** Enrols a new person from one or more photos; refuses the whole request if any photo is unusable. */
  async enroll(p: { name: string; relationship?: string; notes?: string }, photos: Buffer[]): Promise<PersonDetail> {
    const name = p.name?.trim();
    if (!name) throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'A person needs a name (--name).');
    if (photos.length === 0) throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'Enrolment needs at least one photo.');
    // Check every photo before writing anything, so a refused photo leaves no half-enrolled person.
    const prepared = [];
    for (let i = 0; i < photos.length; i++) prepared.push(await this.prepare(photos[i]!, photos.length > 1 ? `photo ${i + 1}` : 'the photo'));
    const person = this.rec.gallery.createPerson({ name, relationship: p.relationship, notes: p.notes });
    for (const x of prepared) this.store(person.person_id, x, 'enroll');
    this.rec.refresh();
    this.log.info({ person_id: person.person_id, name, photos: prepared.length }, 'person enrolled');
    return this.show(person.person_id);
  }

  /** Adds one photo to an enrolled person. */
  async addPhoto(personId: string, photo: Buffer): Promise<PersonDetail> {
    this.person(personId);
    const x = await this.prepare(photo, 'the photo');
    this.store(personId, x, 'enroll');
    this.rec.refresh();
    return this.show(personId);
  }

  list(): PersonRecord[] {
    return this.rec.gallery.listPersons();
  }

  show(personId: string): PersonDetail {
    return { ...this.person(personId), photos: this.rec.gallery.listPhotos(personId) };
  }

  update(personId: string, p: { name?: string; relationship?: string; notes?: string }): PersonDetail {
    this.person(personId);
    this.rec.gallery.updatePerson(personId, p);
    return this.show(personId);
  }

  remove(personId: string): void {
    if (!this.rec.gallery.removePerson(personId)) throw new VigilError('VIGIL_ERR_NOT_FOUND', `No enrolled person with id ${personId}.`);
    this.rec.refresh();
  }

  photoCrop(photoId: string): Buffer {
    const b = this.rec.gallery.getPhotoCrop(photoId);
    if (!b) throw new VigilError('VIGIL_ERR_NOT_FOUND', `No face photo with id ${photoId}.`);
    return b;
  }

  /** "This capture is not PERSON": stored as a negative; later matches closer to it than to the person's photos are refused. */
  async reject(ref: string, personId: string): Promise<{ capture_id: string; person_id: string }> {
    this.person(personId);
    const { captureId } = await this.keptCapture(ref);
    this.ensureVector(captureId);
    this.rec.gallery.addNegative(personId, captureId);
    this.rec.refresh();
    this.log.info({ capture_id: captureId, person_id: personId }, 'capture rejected for person');
    return { capture_id: captureId, person_id: personId };
  }

  /** "This capture is PERSON": its crop and embedding become a photo of the person. */
  async confirm(ref: string, personId: string): Promise<PersonDetail> {
    this.person(personId);
    const { captureId, capture: c } = await this.keptCapture(ref);
    // The latest word wins: a confirmed capture stops being a negative of the same person.
    this.rec.gallery.removeNegative(personId, captureId);
    const photo = this.rec.gallery.addPhoto(personId, c.face, { source: 'confirm', capture_id: captureId, quality: { score: c.quality } });
    this.rec.gallery.putEmbedding(photo.photo_id, this.rec.model, this.ensureVector(captureId));
    if (c.unknown_id) this.rec.gallery.setCaptureUnknown(captureId, null);
    this.rec.refresh();
    return this.show(personId);
  }

  /** Clusters of recurring strangers, newest first. */
  unknowns(): ReturnType<FaceRecognizer['gallery']['listUnknowns']> {
    return this.rec.gallery.listUnknowns();
  }

  /** Enrols a stranger cluster as a person, from its best captures. */
  async enrollUnknown(unknownId: string, p: { name: string; relationship?: string; notes?: string }, maxPhotos = 5): Promise<PersonDetail> {
    const caps = this.rec.gallery.capturesOfUnknown(unknownId, maxPhotos, { withImage: true });
    if (caps.length === 0) {
      throw new VigilError('VIGIL_ERR_NOT_FOUND', this.rec.gallery.capturesOfUnknown(unknownId, 1).length > 0
        ? `Stranger ${unknownId} has no capture with an image left: face images are kept for retention.crops_max_age_days. Enrol from a newer sighting, or from photos.`
        : `No unknown face cluster with id ${unknownId}.`);
    }
    if (!p.name?.trim()) throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'A person needs a name (--name).');
    const person = this.rec.gallery.createPerson({ name: p.name.trim(), relationship: p.relationship, notes: p.notes });
    for (const c of caps) await this.confirm(c.capture_id, person.person_id);
    for (const c of this.rec.gallery.capturesOfUnknown(unknownId, 1_000_000)) this.rec.gallery.setCaptureUnknown(c.capture_id, null);
    this.rec.clusters.remove(unknownId);
    return this.show(person.person_id);
  }

  private person(id: string): PersonRecord {
    const p = this.rec.gallery.getPerson(id);
    if (!p) throw new VigilError('VIGIL_ERR_NOT_FOUND', `No enrolled person with id ${id}.`);
    return p;
  }

  /** Accepts a capture id (the event's `variation`) or an event id. */
  private async captureId(ref: string): Promise<string> {
    if (this.rec.gallery.getCapture(ref)) return ref;
    const v = this.lookupEvent ? await this.lookupEvent(ref) : undefined;
    if (v && this.rec.gallery.getCapture(v)) return v;
    throw new VigilError('VIGIL_ERR_NOT_FOUND', `No face capture for ${ref}: give an NFV4-FR event id or its pipeline_data.variation.`);
  }

  /** A capture whose image is still kept: a stranger seen many times keeps only its newest and best, and none outlives crops_max_age_days. */
  private async keptCapture(ref: string) {
    const id = await this.captureId(ref);
    const c = this.rec.gallery.getCapture(id)!;
    if (c.face.crop.length > 0) return { captureId: id, capture: c };
    throw new VigilError('VIGIL_ERR_NOT_FOUND', c.unknown_id
      ? `Capture ${id} no longer has its image: a stranger keeps images of its newest and best captures only, and none older than retention.crops_max_age_days. Enrol the stranger with \`vigil faces unknowns enroll ${c.unknown_id} --name NAME\`, or use a newer event.`
      : `Capture ${id} no longer has its image: face images are kept for retention.crops_max_age_days, like event crops.`);
  }

  private ensureVector(captureId: string): Float32Array {
    const v = this.rec.gallery.getCaptureVector(captureId, this.rec.model);
    if (!v) throw new VigilError('VIGIL_ERR_NOT_FOUND', `Capture ${captureId} has no embedding for model ${this.rec.model} yet; retry after re-embedding.`);
    return v;
  }

  private async prepare(bytes: Buffer, what: string) {
    const img = await decodeImage(bytes);
    const faces = await this.rec.analyze(img, undefined, this.rec.config.enrollGates);
    if (faces.length !== 1) {
      throw new VigilError('VIGIL_ERR_FACE_COUNT', `${cap(what)} shows ${faces.length === 0 ? 'no face' : `${faces.length} faces`}; an enrolment photo must show exactly one face.`, { faces: faces.length });
    }
    const f = faces[0]!;
    if (!f.quality.ok || !f.embedding) {
      throw new VigilError('VIGIL_ERR_FACE_QUALITY', `${cap(what)} cannot be enrolled: ${f.quality.reasons.join('; ')}.`, { quality: f.quality });
    }
    const stored = await this.rec.storedFace(img, f.box, f.landmarks);
    return { stored, embedding: f.embedding, quality: { size: f.quality.size, blur: f.quality.blur, yaw: f.quality.yaw, roll: f.quality.roll, score: f.quality.score, detection: f.score } };
  }

  private store(personId: string, x: Awaited<ReturnType<FaceAdmin['prepare']>>, source: string): PhotoRecord {
    const photo = this.rec.gallery.addPhoto(personId, x.stored, { source, quality: x.quality });
    this.rec.gallery.putEmbedding(photo.photo_id, this.rec.model, x.embedding);
    return photo;
  }
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
