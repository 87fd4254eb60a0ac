// grafana/vigil-dashboard.json: every query is valid PromQL (promtool) and names only series
// the daemon actually exposes, so an imported dashboard shows data rather than "No data".
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { createMetrics } from '../daemon/server/metrics.js';
import { parsePrometheus } from './helpers/promParser.js';
import { ROOT } from './helpers/paths.js';

interface Panel { title: string; targets?: { expr: string }[]; gridPos: { x: number; y: number; w: number; h: number } }

const dashboard = JSON.parse(readFileSync(join(ROOT, 'grafana/vigil-dashboard.json'), 'utf8')) as { panels: Panel[]; templating: { list: { query: unknown }[] } };
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

test('every dashboard query parses as PromQL (promtool check rules)', () => {
  assert.ok(exprs.length >= 10);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-grafana-'));
  const file = join(dir, 'rules.yaml');
  // Grafana variables become plain regexes, as Grafana interpolates them.
  const rules = exprs.map((e, i) => ({ record: `vigil:panel_${i}`, expr: e.expr.replace(/\$(job|instance)/g, '.*') }));
  writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
  const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  if (r.error) assert.fail(`promtool is needed (Debian/Ubuntu: apt install prometheus): ${r.error.message}`);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('every series the dashboard reads is exposed by /metrics', async () => {
  const metrics = createMetrics({
    streams: () => [], pipeline: () => [], models: () => [], subscribers: () => 0, storeSizeBytes: () => 0,
    lastSeq: () => 0, info: () => ({ version: '0', node_num: 1 }), eventSocket: () => [],
    mqtt: () => ({ connected: true, broker: 'mqtt://b', ackedSeq: 0, sentSeq: 0, inflight: 0, backlog: 0, published: 0, dropped: 0, unstoredSent: 0, unstoredDropped: 0, reconnects: 0 }),
  });
  const families = parsePrometheus(await metrics.render());
  metrics.stop();
  const known = (name: string) => families.has(name) || families.has(name.replace(/_(bucket|sum|count)$/, ''));
  const functions = new Set(['sum', 'rate', 'increase', 'histogram_quantile', 'max', 'by', 'le', 'label_values']);
  for (const { panel, expr } of exprs) {
    const names = [...expr.replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '').matchAll(/\b([a-z_][a-z0-9_]*)\b/g)].map((m) => m[1]!).filter((n) => !functions.has(n) && /_/.test(n));
    assert.ok(names.length > 0, `${panel}: names a series`);
    for (const n of names) assert.ok(known(n), `${panel}: ${n} is exposed by /metrics`);
  }
  // Panels do not overlap on the 24-column grid.
  const cells = new Set<string>();
  for (const p of dashboard.panels) {
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        assert.ok(x < 24 && !cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    }
  }
});
