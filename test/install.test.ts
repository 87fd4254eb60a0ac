// scripts/install.sh into a temporary root (packaging mode) and the systemd unit it installs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { modelMirror, ROOT } from './helpers/paths.js';

test('the systemd unit verifies and carries the promised hardening', () => {
  const r = spawnSync('systemd-analyze', ['verify', join(ROOT, 'systemd/vigil.service')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', `systemd-analyze complained: ${r.stderr}`);
  const unit = readFileSync(join(ROOT, 'systemd/vigil.service'), 'utf8');
  for (const line of ['Type=notify', 'Restart=always', 'User=vigil', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/vigil', 'PrivateTmp=yes', 'SupplementaryGroups=video', 'WatchdogSec=', 'TimeoutStopSec=15']) {
    assert.ok(unit.includes(line), `unit has ${line}`);
  }
});

test('install.sh lays out the app, a config with a fresh admin token, models and the unit', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'vigil-install-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const r = spawnSync('bash', [join(ROOT, 'scripts/install.sh'), '--root', root], { encoding: 'utf8', env: { ...process.env, VIGIL_MODEL_MIRROR: modelMirror() }, timeout: 300_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const app = join(root, 'opt/vigil');
  for (const f of ['bin/vigil.js', 'dist/cli/main.js', 'dist/daemon/main.js', 'node_modules/better-sqlite3', 'config/vigil.example.yaml']) assert.ok(existsSync(join(app, f)), `${f} installed`);
  assert.ok(!existsSync(join(app, 'node_modules/typescript')), 'dev dependencies pruned');
  // Other platforms' binaries are pruned; this machine's stay.
  const ortBin = join(app, 'node_modules/onnxruntime-node/bin/napi-v6');
  assert.deepEqual(readdirSync(ortBin), [process.platform]);
  assert.deepEqual(readdirSync(join(ortBin, process.platform)), [process.arch]);
  const uwsFiles = readdirSync(join(app, 'node_modules/uWebSockets.js/binaries'));
  assert.ok(uwsFiles.every((f) => f === `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`), uwsFiles.join());
  assert.match(r.stdout, /app: \d+ MB before pruning other platforms, \d+ MB after/);
  assert.ok(!existsSync(join(root, 'opt/vigil.new')) && !existsSync(join(root, 'opt/vigil.previous')), 'no staging leftovers');
  const loads = spawnSync(process.execPath, ['-e', "require('better-sqlite3')(':memory:').close(); require('onnxruntime-node'); require('sharp')"], { cwd: app, encoding: 'utf8' });
  assert.equal(loads.status, 0, loads.stderr);
  const cfgFile = join(root, 'etc/vigil/vigil.yaml');
  const cfg = readFileSync(cfgFile, 'utf8');
  assert.ok(!cfg.includes('change-me-admin-token'), 'a random admin token replaced the placeholder');
  assert.match(cfg, /admin_token: [0-9a-f]{32} /);
  assert.equal(statSync(cfgFile).mode & 0o777, 0o640, 'the config holding the token is not world-readable');
  assert.ok(existsSync(join(root, 'var/lib/vigil/models/yolox_nano.onnx')), 'default models fetched');
  assert.ok(existsSync(join(root, 'etc/systemd/system/vigil.service')));
  const v = spawnSync(process.execPath, [join(app, 'bin/vigil.js'), 'config', 'validate', cfgFile], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  // Run again: an existing config is kept (upgrades never overwrite the operator's file).
  const again = spawnSync('bash', [join(ROOT, 'scripts/install.sh'), '--root', root], { encoding: 'utf8', env: { ...process.env, VIGIL_MODEL_MIRROR: modelMirror() }, timeout: 300_000 });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /kept .*vigil\.yaml/);
  assert.equal(readFileSync(cfgFile, 'utf8'), cfg);
});

test('install.sh without a reachable model source fails before it changes anything', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'vigil-install-nosource-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // No mirror, and the network made unreachable (a closed local port as proxy and registry).
  const offline = { ...process.env, VIGIL_MODEL_MIRROR: 'none', https_proxy: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', npm_config_registry: 'http://127.0.0.1:9/' };
  const r = spawnSync('bash', [join(ROOT, 'scripts/install.sh'), '--root', root], { encoding: 'utf8', env: offline, timeout: 120_000 });
  assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /No model source is reachable/);
  assert.match(r.stderr, /VIGIL_MODEL_MIRROR=DIR\. Nothing was changed\./);
  assert.doesNotMatch(r.stdout, /== building/, 'it stopped before building or staging');
  assert.deepEqual(readdirSync(root), [], 'nothing was written under the root');

  const bad = spawnSync('bash', [join(ROOT, 'scripts/install.sh'), '--root', root], { encoding: 'utf8', env: { ...process.env, VIGIL_MODEL_MIRROR: join(root, 'no-such-dir') }, timeout: 120_000 });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /is not a directory with model files\. Nothing was changed\./);
  assert.deepEqual(readdirSync(root), []);
});
