// Every command of the README's ```sh blocks either runs here, as written, against a real daemon,
// or is named below with the test that covers it, or with why the suite cannot run it.
// A new README command that is none of these fails the test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { startDaemon } from './helpers/daemon.js';
import { ROOT } from './helpers/paths.js';

/** Commands run elsewhere in the suite: prefix → [test file, test name]. */
const COVERED: [string, string, string][] = [
  ['vigil demo', 'test/demo.test.ts', 'vigil demo shows live people-counting events'],
  ['node bin/vigil.js demo', 'test/demo.test.ts', 'vigil demo shows live people-counting events'],
  ['node --import tsx --test test/streams.test.ts', 'test/streams.test.ts', ''],
];

/** Commands the suite cannot run (root, apt, systemd as PID 1, the suite itself): prefix → why. */
const NOT_RUN: [string, string][] = [
  ['scripts/setup.sh', 'needs root and apt; test/install.test.ts runs install.sh into a temporary root instead'],
  ['sudo ', 'needs root and a systemd host'],
  ['sudoedit ', 'edits the installed config as root'],
  ['journalctl ', 'needs journald'],
  ['npm test', 'is the test suite itself'],
  ['npm run test:unit', 'is part of the test suite itself'],
  ['npm run bench', 'benchmarks (placeholder NAME): too heavy for the suite'],
];

/** Runnable by this test against a daemon: the CLI, its completion, and curl to /metrics. */
const RUN = [/^vigil /, /^source <\(vigil /, /^curl /];

function shLines(): { line: string; at: number }[] {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const out: { line: string; at: number }[] = [];
  let inSh = false;
  text.forEach((raw, i) => {
    if (raw.startsWith('```')) {
      inSh = !inSh && raw.trim() === '```sh';
      return;
    }
    // A trailing comment is two or more spaces and `#`; a quoted # stays.
    const line = raw.replace(/\s{2,}#.*$/, '').trim();
    if (inSh && line) out.push({ line, at: i + 1 });
  });
  return out;
}

test('every README shell command runs as written, or is covered by a named test', async (t) => {
  const lines = shLines();
  assert.ok(lines.length >= 10, 'the README has shell examples');
  const unaccounted = lines.filter(({ line }) => !RUN.some((r) => r.test(line)) && !COVERED.some(([p]) => line.startsWith(p)) && !NOT_RUN.some(([p]) => line.startsWith(p)));
  assert.deepEqual(unaccounted, [], 'README commands that are neither run here, nor covered by a named test, nor explained');

  for (const [prefix, file, name] of COVERED) {
    if (!lines.some(({ line }) => line.startsWith(prefix))) continue;
    const src = readFileSync(join(ROOT, file), 'utf8');
    assert.ok(!name || src.includes(name), `${prefix}: ${file} has the test "${name}"`);
  }
  for (const { line, at } of lines) {
    const why = NOT_RUN.find(([p]) => line.startsWith(p));
    if (why) t.diagnostic(`README line ${at} not run: ${line} (${why[1]})`);
  }

  const daemon = await startDaemon({}, t);
  const cwd = mkdtempSync(join(tmpdir(), 'vigil-readme-'));
  const vigil = resolve(ROOT, 'bin/vigil.js');
  for (const { line, at } of lines.filter(({ line }) => RUN.some((r) => r.test(line)))) {
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', `vigil() { "${process.execPath}" "${vigil}" "$@"; }\n${line}`], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, VIGIL_URL: daemon.url, VIGIL_ADMIN_TOKEN: daemon.token, VIGIL_CONFIG: '/nonexistent.yaml' },
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `README line ${at}: ${line}\n${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /VIGIL_ERR_|Error|at .*\.js:\d+/, `README line ${at} printed an error: ${r.stderr}`);
  }
  // What the examples did is visible: the camera was added, the export written.
  const streams = await daemon.api<{ streams: { id: string }[] }>('GET', '/api/streams');
  assert.ok(streams.json.streams.some((s) => s.id === 'gate'));
  assert.match(readFileSync(join(cwd, 'events.csv'), 'utf8'), /^seq,event_id,timestamp/);
});
