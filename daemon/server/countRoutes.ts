import { parseGeometry, type CountingGeometry } from '../analytics/geometry/geometryConfig.js';
import { VigilError } from '../errors.js';
import type { CounterStore } from '../store/counterStore.js';
import type { ApiRequest, RouteRegistry } from './routes.js';

/** What the count routes need; main implements `geometry` over its stream store and live analytics. */
export interface CountRouteDeps {
  counters: CounterStore;
  /** Lines/zones per stream; absent: the geometry routes answer 404. */
  geometry?: {
    /** The stream's lines and zones; throws VIGIL_ERR_STREAM_UNKNOWN for an unknown stream. */
    get(streamId: string): CountingGeometry | Promise<CountingGeometry>;
    /** Persists new lines/zones and applies them live (counters of new names start at 0). */
    set(streamId: string, geometry: CountingGeometry): void | Promise<void>;
  };
}

function jsonBody(req: ApiRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  try {
    const v = JSON.parse(req.body.toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'The body must be a JSON object');
}

function optString(v: unknown, name: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new VigilError('VIGIL_ERR_BAD_REQUEST', `${name} must be a string`);
  return v;
}

/**
 * REST for line/zone counters: GET /api/counts[?stream=], POST /api/counts/reset
 * {stream?, name?, analytic?}, GET/PUT /api/geometry/:stream (lines and zones).
 */
export function registerCountRoutes(routes: RouteRegistry, deps: CountRouteDeps): void {
  routes.route('GET', '/api/counts', (req) => {
    const stream = req.query.get('stream') ?? undefined;
    return { json: { counters: deps.counters.list(stream || undefined) } };
  }, { auth: 'token' });

  routes.route('POST', '/api/counts/reset', (req) => {
    const b = jsonBody(req);
    const filter = { streamId: optString(b.stream, 'stream'), name: optString(b.name, 'name'), analytic: optString(b.analytic, 'analytic') };
    const reset = deps.counters.reset(filter);
    if (reset === 0 && (filter.streamId || filter.name)) {
      throw new VigilError('VIGIL_ERR_NOT_FOUND', `No counter matches ${JSON.stringify(b)}`);
    }
    return { json: { reset } };
  }, { auth: 'admin' });

  routes.route('GET', '/api/geometry/:stream', async (req) => {
    if (!deps.geometry) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'Geometry editing is not available');
    return { json: await deps.geometry.get(req.params.stream!) };
  }, { auth: 'token' });

  routes.route('PUT', '/api/geometry/:stream', async (req) => {
    if (!deps.geometry) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'Geometry editing is not available');
    const g = parseGeometry(jsonBody(req), 'VIGIL_ERR_BAD_REQUEST');
    await deps.geometry.set(req.params.stream!, g);
    return { json: g };
  }, { auth: 'admin' });
}
