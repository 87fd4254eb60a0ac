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
  ok: boolean;
  /** One sentence per problem, each naming the stream or part. Empty when ok. */
  reasons: string[];
  /** State of each enabled stream. */
  streams: Record<string, string>;
}

/** Judges the daemon's health: every enabled stream running, or starting/backing off within tolerance; pipeline and store alive. */
export function healthReport(source: HealthSource, tol: HealthTolerance = {}, now = Date.now()): HealthReport {
  const startingMs = tol.startingMs ?? 60_000;
  const stalledMs = tol.stalledMs ?? 30_000;
  const overdueMs = tol.overdueRetryMs ?? 30_000;
  const reasons: string[] = [];
  const streams: Record<string, string> = {};
  let list: StreamHealth[] = [];
  try {
    list = source.streams();
  } catch (err) {
    reasons.push(`streams: the stream list cannot be read (${(err as Error).message})`);
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
          reasons.push(`stream ${s.id}: retry overdue by ${Math.round((now - s.nextRetryAt) / 1000)} s${err}`);
        }
        break;
      case 'starting':
        if (age > startingMs) reasons.push(`stream ${s.id}: starting for ${Math.round(age / 1000)} s without a frame${err}`);
        break;
      case 'stalled':
        if (age > stalledMs) reasons.push(`stream ${s.id}: stalled for ${Math.round(age / 1000)} s${err}`);
        break;
      case 'failed':
        reasons.push(`stream ${s.id}: failed and will not retry by itself${err}`);
        break;
    }
  }
  try {
    if (!source.pipelineHealthy()) reasons.push('pipeline: an analysis has been running far too long (stuck)');
  } catch (err) {
    reasons.push(`pipeline: health cannot be read (${(err as Error).message})`);
  }
  try {
    const store = source.checkStore();
    if (typeof store === 'string') reasons.push(`store: ${store}`);
  } catch (err) {
    reasons.push(`store: unavailable (${(err as Error).message})`);
  }
  return maskDeep({ ok: reasons.length === 0, reasons, streams });
}

/** Registers `GET /healthz` (no token: load balancers and systemd probes call it): 200 when healthy, 503 with reasons. */
export function registerHealthRoutes(routes: RouteRegistry, source: HealthSource, tol: HealthTolerance = {}): void {
  routes.route(
    'GET',
    '/healthz',
    () => {
      const report = healthReport(source, tol);
      return { status: report.ok ? 200 : 503, json: report };
    },
    { auth: 'none' },
  );
}
