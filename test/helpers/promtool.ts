import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** Runs Prometheus' own linter on an exposition text; fails with its complaints (Debian: apt install prometheus). */
export function assertPromtoolClean(text: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) assert.fail(`promtool is needed for this test (Debian/Ubuntu: apt install prometheus): ${r.error.message}`);
  assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
}
