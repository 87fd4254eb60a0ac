// The systemd unit's sandbox: `systemd-analyze security` scores it "OK" (<= 3.0), while what
// the daemon needs stays open: the network for cameras, GPU and V4L2 devices, the data dir.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers/paths.js';

const UNIT = join(ROOT, 'systemd/vigil.service');

test('systemd-analyze security rates vigil.service 3.0 or better', () => {
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT], { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'systemd-analyze is installed (Debian: systemd)');
  const m = /Overall exposure level for vigil\.service: (\d+\.\d) (\w+)/.exec(r.stdout);
  assert.ok(m, `an overall score in:\n${r.stdout}${r.stderr}`);
  const score = Number(m[1]);
  assert.ok(score <= 3.0, `exposure ${score} ${m[2]} must be <= 3.0:\n${r.stdout.split('\n').filter((l) => l.startsWith('✗')).join('\n')}`);
  assert.equal(m[2], 'OK');
});

test('the sandbox leaves open what cameras, GPUs and the data dir need', () => {
  const unit = readFileSync(UNIT, 'utf8');
  const values = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((x) => x[1]!.trim());
  // RTSP cameras, clients and MQTT are on the network.
  assert.deepEqual(values('PrivateNetwork'), []);
  assert.ok(values('RestrictAddressFamilies').join(' ').includes('AF_INET AF_INET6'));
  // V8 needs writable+executable memory for its JIT.
  assert.deepEqual(values('MemoryDenyWriteExecute'), []);
  // GPUs (CUDA, TensorRT, VA-API via DRM) and USB cameras, and nothing else but the pseudo devices.
  assert.deepEqual(values('PrivateDevices'), []);
  assert.deepEqual(values('DevicePolicy'), ['closed']);
  const allowed = values('DeviceAllow');
  for (const group of ['nvidia-frontend', 'nvidia-uvm', 'drm', 'video4linux']) assert.ok(allowed.includes(`char-${group} rw`), `DeviceAllow=char-${group} rw`);
  // The data dir stays writable under ProtectSystem=strict; the video group reaches the devices.
  assert.deepEqual(values('ProtectSystem'), ['strict']);
  assert.ok(values('ReadWritePaths').includes('/var/lib/vigil'));
  assert.ok(values('SupplementaryGroups').join(' ').includes('video'));
  // Denied system calls fail with EPERM instead of killing the daemon.
  assert.deepEqual(values('SystemCallErrorNumber'), ['EPERM']);
  const verify = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr.trim(), '', verify.stderr);
});
