import { maskDeep } from '../events/mask.js';
import type { StreamHealth } from '../streams/types.js';
import type { RouteRegistry } from './routes.js';

/** What `/healthz` looks at; main implements it over the stream registry, pipeline and store. */
export interface HealthSource {
  /** Health of every stream (disabled ones are ignored). */
  streams(): StreamHealth[];
  /** False when a stream's analysis has been busy far too long (AnalyticsPipeline.healthy()). */
  pipelineHealthy(): boolean;
  /** Throws (or returns a sentence) when the store cannot be read; true/undefined when it can. */
  checkStore(): true | void | string;
}

/** How long a transient state may last before it counts as unhealthy. */
export interface HealthTolerance {
  /** `starting` longer than this (ms): ffmpeg connected to nothing and was not timed out. Default 60 s. */
  startingMs?: number;
  /** `stalled` longer than this (ms): the watchdog's kill did not take. Default 30 s. */
  stalledMs?: number;
  /** `backoff` past its nextRetryAt by more than this (ms): the retry never came. Default 30 s. */
  overdueRetryMs?: number;
}

/** The body of `/healthz`. */
export interface HealthReport {
  /** The daemon works: it answers, its pipeline moves, its store reads. Streams do not decide this. */
  ok: boolean;
  /** `ok`, `degraded` (the daemon works, some streams or the store's writes do not), or `down`. */
  status: 'ok' | 'degraded' | 'down';
  /** One sentence per problem, each naming the stream or part. Empty when ok. */
  reasons: string[];
  /** State of each enabled stream. */
  streams: Record<string, string>;
}

/**
 * Judges the daemon: `down` when the pipeline is stuck or the store cannot be read; `degraded`
 * when a stream failed, is stuck starting or stalled, or missed its retry, or store writes fail.
 */
export function healthReport(source: HealthSource, tol: HealthTolerance = {}, now = Date.now()): HealthReport {
  const startingMs = tol.startingMs ?? 60_000;
  const stalledMs = tol.stalledMs ?? 30_000;
  const overdueMs = tol.overdueRetryMs ?? 30_000;
  const fatal: string[] = [];
  const degraded: string[] = [];
  const streams: Record<string, string> = {};
  let list: StreamHealth[] = [];
  try {
    list = source.streams();
  } catch (err) {
    degraded.push(`streams: the stream list cannot be read (${(err as Error).message})`);
  }
  for (const s of list) {
    if (s.state === 'disabled') continue;
    streams[s.id] = s.state;
    const age = now - s.since;
    const err = s.lastError ? ` (${s.lastError.code}: ${s.lastError.message})` : '';
    switch (s.state) {
      case 'running':
        break;
      case 'backoff':
        // Backing off is the configured answer to a camera outage: healthy unless the retry never happens.
        if (s.nextRetryAt !== undefined && now - s.nextRetryAt > overdueMs) {
          degraded.push(`stream ${s.id}: retry overdue by ${Math.round((now - s.nextRetryAt) / 1000)} s${err}`);
        }
        break;
      case 'starting':
        if (age > startingMs) degraded.push(`stream ${s.id}: starting for ${Math.round(age / 1000)} s without a frame${err}`);
        break;
      case 'stalled':
        if (age > stalledMs) degraded.push(`stream ${s.id}: stalled for ${Math.round(age / 1000)} s${err}`);
        break;
      case 'failed':
        degraded.push(`stream ${s.id}: failed and will not retry by itself${err}`);
        break;
    }
  }
  try {
    if (!source.pipelineHealthy()) fatal.push('pipeline: an analysis has been running far too long (stuck)');
  } catch (err) {
    fatal.push(`pipeline: health cannot be read (${(err as Error).message})`);
  }
  try {
    const store = source.checkStore();
    if (typeof store === 'string') degraded.push(`store: ${store}`);
  } catch (err) {
    fatal.push(`store: unavailable (${(err as Error).message})`);
  }
  const status = fatal.length ? 'down' : degraded.length ? 'degraded' : 'ok';
  return maskDeep({ ok: fatal.length === 0, status, reasons: [...fatal, ...degraded], streams });
}

/**
 * Registers `GET /healthz` (and HEAD) for load balancers and systemd probes: 200 while the daemon
 * works (a failed camera is `degraded`, still 200), 503 when it does not. Without a token the body
 * says only `ok` and `status`; stream ids and reasons go to callers with a valid token.
 */
export function registerHealthRoutes(routes: RouteRegistry, source: HealthSource, tol: HealthTolerance = {}): void {
  routes.route(
    'GET',
    '/healthz',
    (req) => {
      const report = healthReport(source, tol);
      const json = req.authenticated ? report : { ok: report.ok, status: report.status };
      return { status: report.ok ? 200 : 503, json };
    },
    { auth: 'none' },
  );
}
