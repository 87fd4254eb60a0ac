#!/usr/bin/env node
// Runs the test suites: type-check + build, unit tests (beside the code) in parallel,
// then integration tests (test/, real ffmpeg/RTSP/sockets/browser) one file at a time.
// Usage: node scripts/run-tests.mjs [unit|integration] [name-filter]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const [which = 'all', filter = ''] = process.argv.slice(2);

function find(dir, out = []) {
  let entries = [];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const pick = (dirs) => dirs.flatMap((d) => find(join(root, d))).filter((f) => f.includes(filter)).sort();
const unit = pick(['daemon', 'cli', 'config', 'models', 'bench']);
const integration = pick(['test']);

function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  return r.status ?? 1;
}

let failed = false;
console.log('== build (tsc: type-check and compile to dist/)');
if (run('npx', ['tsc', '-p', 'tsconfig.json']) !== 0) {
  console.error('Type-check failed.');
  process.exit(1);
}

// Every temporary file of the tests (data folders, model copies, sockets) goes under one folder
// removed at the end, so runs do not pile up in /tmp (a leaked face test folder holds 9 MB of
// models). The RTSP server's transcoded media stay cached across runs.
const testTmp = mkdtempSync(join(tmpdir(), 'vigil-tests-'));
const env = { VIGIL_TEST: '1', TMPDIR: testTmp, RTSP_TEST_CACHE: process.env.RTSP_TEST_CACHE ?? join(tmpdir(), 'vigil-rtsp-test') };
// TAP as the log, and every failure listed again at the end of each phase (stderr).
const reporters = ['--test-reporter=tap', '--test-reporter-destination=stdout',
  `--test-reporter=${join(root, 'scripts/failures-reporter.mjs')}`, '--test-reporter-destination=stderr'];
if (which !== 'integration' && unit.length) {
  console.log(`== unit tests (${unit.length} files)`);
  failed = run(process.execPath, ['--import', 'tsx', '--test', ...reporters, '--test-concurrency=2', '--test-timeout=300000', ...unit], env) !== 0 || failed;
}
if (which !== 'unit' && integration.length) {
  console.log(`== integration tests (${integration.length} files)`);
  failed = run(process.execPath, ['--import', 'tsx', '--test', ...reporters, '--test-concurrency=1', '--test-timeout=600000', ...integration], env) !== 0 || failed;
}
rmSync(testTmp, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
