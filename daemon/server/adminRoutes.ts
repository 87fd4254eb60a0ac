import { VigilError } from '../errors.js';
import { maskDeep } from '../events/mask.js';
import { ANALYTIC_ID_LIST, isAnalyticId } from '../events/schema.js';
import type { EventStore } from '../store/eventStore.js';
import type { ApiRequest, RouteRegistry } from './routes.js';

/** What the admin API needs from the stream engine; main implements it (StreamSupervisor + StreamStore). */
export interface StreamControl {
  /** Health of every stream (`StreamHealth`-like: id, masked url, state, ...). */
  list(): unknown[] | Promise<unknown[]>;
  /** Adds and starts a stream from a config object (validated by the implementation); returns its health or config. */
  add(cfg: unknown): unknown | Promise<unknown>;
  /**
   * Changes an API stream's settings (the given keys replace the stored ones) and restarts it;
   * VIGIL_ERR_STREAM_UNKNOWN / _CONFIG_OWNED / _SOURCE_POLICY / VIGIL_ERR_BAD_REQUEST.
   */
  update?(id: string, patch: Record<string, unknown>): unknown | Promise<unknown>;
  /** Stops and forgets a stream; VIGIL_ERR_STREAM_UNKNOWN when there is none. */
  remove(id: string): void | Promise<void>;
  /** Turns a stream on or off; VIGIL_ERR_STREAM_UNKNOWN when there is none. */
  setEnabled(id: string, on: boolean): unknown | Promise<unknown>;
  /** Retries a stream at once, skipping its backoff wait; VIGIL_ERR_STREAM_UNKNOWN when there is none. */
  restart?(id: string): unknown | Promise<unknown>;
}

/** The daemon's overall status (version, uptime, streams, inference, subscribers ...). */
export interface StatusSource {
  status(): object | Promise<object>;
}

export interface AdminRouteDeps {
  streams: StreamControl;
  status: StatusSource;
  events: Pick<EventStore, 'query' | 'get' | 'crop'>;
}

/** Largest `limit` of GET /api/events. */
export const MAX_EVENT_PAGE = 1000;

/**
 * Registers the admin REST API. Reads (status, streams, events) take any token; changes take the admin token.
 * GET /api/events: newest first, paged with `before=<seq>`; with `since=<seq>` oldest first after it;
 * `from`/`to` (Unix ms) bound the time, `plate` and `person` search plates and faces.
 */
export function registerAdminRoutes(routes: RouteRegistry, deps: AdminRouteDeps): void {

  routes.route('GET', '/api/status', async () => ({ json: maskDeep(await deps.status.status()) }), { auth: 'token' });

  routes.route('GET', '/api/streams', async () => ({ json: { streams: maskDeep(await deps.streams.list()) } }), { auth: 'token' });
  routes.route(
    'POST',
    '/api/streams',
    async (req) => {
      const cfg = jsonBody(req);
      if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'The body must be a stream config object: {"id","url",...}');
      const added = await deps.streams.add(cfg);
      return { status: 201, json: { stream: maskDeep(added ?? null) } };
    },
    { maxBody: 64 * 1024 },
  );
  routes.route(
    'PUT',
    '/api/streams/:id',
    async (req) => {
      if (!deps.streams.update) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'Editing streams is not available here.');
      const patch = jsonBody(req);
      if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'The body must be an object of stream settings to change: {"fps":5,...}');
      const updated = await deps.streams.update(req.params.id!, patch as Record<string, unknown>);
      return { json: { stream: maskDeep(updated ?? null) } };
    },
    { maxBody: 64 * 1024 },
  );
  routes.route('DELETE', '/api/streams/:id', async (req) => {
    await deps.streams.remove(req.params.id!);
    return { json: { removed: req.params.id } };
  });
  for (const action of ['enable', 'disable'] as const) {
    routes.route('POST', `/api/streams/:id/${action}`, async (req) => {
      const out = await deps.streams.setEnabled(req.params.id!, action === 'enable');
      return { json: { stream: maskDeep(out ?? { id: req.params.id, enabled: action === 'enable' }) } };
    });
  }

  routes.route('POST', '/api/streams/:id/restart', async (req) => {
    if (!deps.streams.restart) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'Restarting streams is not available here.');
    const out = await deps.streams.restart(req.params.id!);
    return { json: { stream: maskDeep(out ?? { id: req.params.id }) } };
  });

  routes.route(
    'GET',
    '/api/events',
    (req) => {
      const q = req.query;
      const analyticIds = list(q, 'analytic_id');
      for (const a of analyticIds ?? []) {
        if (!isAnalyticId(a)) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `analytic_id "${a}" is not one of ${ANALYTIC_ID_LIST.join(', ')}`);
      }
      const since = seqParam(q, 'since');
      const limit = seqParam(q, 'limit') ?? 50;
      if (limit < 1 || limit > MAX_EVENT_PAGE) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `limit must be between 1 and ${MAX_EVENT_PAGE}`);
      const events = deps.events.query({
        streamIds: list(q, 'stream_id'),
        analyticIds,
        sinceSeq: since,
        beforeSeq: seqParam(q, 'before'),
        plate: q.get('plate') ?? undefined,
        fromTs: seqParam(q, 'from'),
        toTs: seqParam(q, 'to'),
        person: q.get('person') || undefined,
        limit,
        withCrops: flag(q, 'crops', false),
      });
      // The cursor for the next page in the same direction.
      const lastSeq = events.length ? events[events.length - 1]!.seq : undefined;
      const next = events.length < limit || lastSeq === undefined ? null : since !== undefined ? { since: lastSeq } : { before: lastSeq };
      return { json: { events, count: events.length, next } };
    },
    { auth: 'token' },
  );
  routes.route(
    'GET',
    '/api/events/:event_id',
    (req) => {
      const event = deps.events.get(req.params.event_id!, flag(req.query, 'crops', true));
      if (!event) throw new VigilError('VIGIL_ERR_NOT_FOUND', `No event with event_id "${req.params.event_id}"`);
      return { json: event };
    },
    { auth: 'token' },
  );
  routes.route(
    'GET',
    '/api/events/:event_id/crop.jpg',
    (req) => {
      const jpeg = deps.events.crop(req.params.event_id!);
      if (!jpeg) throw new VigilError('VIGIL_ERR_NOT_FOUND', `No crop stored for event_id "${req.params.event_id}"`);
      return { body: jpeg, contentType: 'image/jpeg' };
    },
    { auth: 'token' },
  );
}

function jsonBody(req: ApiRequest): unknown {
  if (req.body.length === 0) throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'The request needs a JSON body');
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    throw new VigilError('VIGIL_ERR_BAD_REQUEST', `The body is not valid JSON: ${(err as Error).message}`);
  }
}

function list(q: URLSearchParams, name: string): string[] | undefined {
  const values = q
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return values.length ? values : undefined;
}

function seqParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `${name} must be a non-negative integer, not "${v}"`);
  return Number(v);
}

function flag(q: URLSearchParams, name: string, fallback: boolean): boolean {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  if (['1', 'true', 'yes'].includes(v.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(v.toLowerCase())) return false;
  throw new VigilError('VIGIL_ERR_BAD_REQUEST', `${name} must be 0 or 1, not "${v}"`);
}
