import { doctorSummary, runDoctor, type DoctorOptions, type DoctorReport } from '../doctor/doctor.js';
import type { RouteRegistry } from './routes.js';

/** Probes spawn processes: one report serves every ask within this window. */
const CACHE_MS = 60_000;

/**
 * `GET /api/doctor` (admin): the platform check of `vigil doctor`, as the daemon sees it
 * (its config, its data dir, its user). `?full=1` for the whole report, else the summary.
 */
export function registerDoctorRoutes(routes: RouteRegistry, opts: () => DoctorOptions): void {
  let cached: { at: number; report: Promise<DoctorReport> } | null = null;
  routes.route('GET', '/api/doctor', async (req) => {
    if (!cached || Date.now() - cached.at > CACHE_MS || req.query.get('fresh') === '1') {
      const report = runDoctor(opts());
      cached = { at: Date.now(), report };
      report.catch(() => { cached = null; });
    }
    const report = await cached.report;
    return { json: req.query.get('full') === '1' ? report : doctorSummary(report) };
  });
}
