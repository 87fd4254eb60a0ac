import type { FaceAdmin } from '../analytics/faceRecognition/faceAdmin.js';
import type { FaceRecognizer } from '../analytics/faceRecognition/faceRecognizer.js';
import { VigilError } from '../errors.js';
import type { ApiRequest, RouteRegistry } from './routes.js';

/** The face services; models load on first use, so the routes ask for them per request. */
export interface FaceServices {
  admin: FaceAdmin;
  recognizer: FaceRecognizer;
}

/** What the face routes need: a way to get the (started) face services. */
export interface FaceRouteDeps {
  faces(): Promise<FaceServices>;
}

const MAX_BODY = 25 * 1024 * 1024;

/**
 * REST API of the face gallery (`/api/faces/...`). Photos come as JSON
 * (`{"name", "relationship", "notes", "photos": [base64...]}`), multipart/form-data
 * (fields + one or more file parts), or, for one photo, the raw image bytes.
 */
export function registerFaceRoutes(routes: RouteRegistry, deps: FaceRouteDeps): void {
  const big = { maxBody: MAX_BODY };
  const admin = async () => (await deps.faces()).admin;

  routes.route('GET', '/api/faces/persons', async () => ({ json: { persons: (await admin()).list() } }));
  routes.route('POST', '/api/faces/persons', async (req) => {
    const { fields, photos } = readUpload(req);
    const person = await (await admin()).enroll({ name: fields.name ?? '', relationship: fields.relationship, notes: fields.notes }, photos);
    return { status: 201, json: person };
  }, big);
  routes.route('GET', '/api/faces/persons/:id', async (req) => ({ json: (await admin()).show(req.params.id!) }));
  routes.route('PATCH', '/api/faces/persons/:id', async (req) => {
    const f = readUpload(req).fields;
    return { json: (await admin()).update(req.params.id!, { name: f.name, relationship: f.relationship, notes: f.notes }) };
  });
  routes.route('DELETE', '/api/faces/persons/:id', async (req) => {
    (await admin()).remove(req.params.id!);
    return { json: { removed: req.params.id } };
  });
  routes.route('POST', '/api/faces/persons/:id/photos', async (req) => {
    const { photos } = readUpload(req);
    if (photos.length !== 1) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `Send exactly one photo (got ${photos.length}).`);
    return { status: 201, json: await (await admin()).addPhoto(req.params.id!, photos[0]!) };
  }, big);
  routes.route('GET', '/api/faces/photos/:photoId/crop', async (req) => ({ body: (await admin()).photoCrop(req.params.photoId!), contentType: 'image/jpeg' }));
  routes.route('POST', '/api/faces/reject', async (req) => {
    const f = readUpload(req).fields;
    return { json: await (await admin()).reject(need(f.event_id ?? f.capture_id, 'event_id'), need(f.person_id, 'person_id')) };
  });
  routes.route('POST', '/api/faces/confirm', async (req) => {
    const f = readUpload(req).fields;
    return { json: await (await admin()).confirm(need(f.event_id ?? f.capture_id, 'event_id'), need(f.person_id, 'person_id')) };
  });
  routes.route('GET', '/api/faces/unknowns', async () => ({ json: { unknowns: (await admin()).unknowns() } }));
  routes.route('POST', '/api/faces/unknowns/:id/enroll', async (req) => {
    const f = readUpload(req).fields;
    return { status: 201, json: await (await admin()).enrollUnknown(req.params.id!, { name: f.name ?? '', relationship: f.relationship, notes: f.notes }) };
  });
  routes.route('GET', '/api/faces/status', async () => {
    const { recognizer } = await deps.faces();
    return { json: { model: recognizer.model, persons: recognizer.index.personCount, embeddings: recognizer.index.size, reembed: recognizer.reembedProgress, config: recognizer.config } };
  }, { auth: 'token' });
}

function need(v: string | undefined, name: string): string {
  if (!v) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `Missing ${name}.`);
  return v;
}

/** Reads fields and photos from a JSON, multipart or raw-image body. */
export function readUpload(req: ApiRequest): { fields: Record<string, string | undefined>; photos: Buffer[] } {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const fields: Record<string, string | undefined> = {};
  for (const [k, v] of req.query) fields[k] = v;
  if (type.startsWith('multipart/form-data')) {
    const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(req.headers['content-type']!);
    if (!m) throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'multipart body without a boundary.');
    const photos: Buffer[] = [];
    for (const part of parseMultipart(req.body, (m[1] ?? m[2])!.trim())) {
      if (part.filename !== undefined || /^image\//.test(part.type ?? '')) photos.push(part.data);
      else fields[part.name] = part.data.toString('utf8');
    }
    return { fields, photos };
  }
  if (type.startsWith('application/json') || (req.body.length > 0 && req.body[0] === 0x7b)) {
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'The body is not valid JSON.');
    }
    for (const [k, v] of Object.entries(j)) if (typeof v === 'string') fields[k] = v;
    const list = Array.isArray(j.photos) ? j.photos : typeof j.photo === 'string' ? [j.photo] : typeof j.image === 'string' ? [j.image] : [];
    const photos = list.map((p, i) => {
      if (typeof p !== 'string') throw new VigilError('VIGIL_ERR_BAD_REQUEST', `photos[${i}] must be a base64 string.`);
      return Buffer.from(p.replace(/^data:[^,]*,/, ''), 'base64');
    });
    return { fields, photos };
  }
  return { fields, photos: req.body.length > 0 ? [req.body] : [] };
}

interface Part { name: string; filename?: string; type?: string; data: Buffer }

function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delim = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    const chunk = body.subarray(start + 2, next - 2); // skip CRLF after the delimiter and before the next
    const sep = chunk.indexOf('\r\n\r\n');
    if (sep >= 0) {
      const head = chunk.subarray(0, sep).toString('utf8');
      const disp = /content-disposition:[^\r\n]*/i.exec(head)?.[0] ?? '';
      const name = /name="([^"]*)"/i.exec(disp)?.[1] ?? '';
      const filename = /filename="([^"]*)"/i.exec(disp)?.[1];
      const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim();
      parts.push({ name, filename, type, data: chunk.subarray(sep + 4) });
    }
    pos = next;
  }
  return parts;
}
