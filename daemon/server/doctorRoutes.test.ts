import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { registerDoctorRoutes } from './doctorRoutes.js';
import type { ApiHandler, ApiRequest, RouteOptions, RouteRegistry } from './routes.js';

function registry(): { routes: RouteRegistry; found: Map<string, { handler: ApiHandler; options?: RouteOptions }> } {
  const found = new Map<string, { handler: ApiHandler; options?: RouteOptions }>();
  return { routes: { route: (method, pattern, handler, options) => void found.set(`${method} ${pattern}`, { handler, options }) }, found };
}

function get(query = ''): ApiRequest {
  return { method: 'GET', path: '/api/doctor', params: {}, query: new URLSearchParams(query), headers: {}, body: Buffer.alloc(0) };
}

test('GET /api/doctor is admin-only, summarises by default, gives the whole report with full=1, and reuses one run', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-doctor-route-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const { routes, found } = registry();
  let asked = 0;
  registerDoctorRoutes(routes, () => {
    asked++;
    return { dataDir, providers: ['cuda', 'cpu'] };
  });
  const route = found.get('GET /api/doctor');
  assert.ok(route);
  assert.equal(route.options?.auth ?? 'admin', 'admin', 'the report names paths and devices: admin only');
  const summary = (await route.handler(get())).json as { verdict: string; sockets: string; providers: string[]; problems: { what: string; hint?: string }[] };
  assert.match(summary.verdict, /^(ok|warn|fail)$/);
  assert.ok(summary.providers.includes('cpu'));
  const cuda = summary.problems.find((p) => p.what.startsWith('provider cuda not available (configured'));
  assert.ok(cuda?.hint, 'the configured but missing provider is a problem with a hint');
  const full = (await route.handler(get('full=1'))).json as { ort: { providers: unknown[] }; dataDir: { path: string } };
  assert.equal(full.dataDir.path, dataDir);
  assert.ok(full.ort.providers.length >= 2);
  assert.equal(asked, 1, 'one probe run served both asks');
});
