// `vigil doctor` on this machine (CPU, no GPU): the real CLI, real ffmpeg, real onnxruntime
// sessions per provider; what is missing is named with the hint to get it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { probeOrt } from '../daemon/doctor/ortProbe.js';
import { runCliAsync } from './helpers/daemon.js';

interface Report {
  verdict: string;
  platform: { node: string; abi: string; arch: string; glibc: string | null };
  native: { name: string; ok: boolean; detail?: string }[];
  ort: { version: string | null; providers: { provider: string; ok: boolean; error?: string; hint?: string }[] };
  ffmpeg: { found: boolean; version: string | null; hwaccels: string[]; presets: { preset: string; ok: boolean; missing: string[]; hint?: string }[] };
  dataDir: { path: string; writable: boolean; freeBytes: number | null };
  findings: { level: string; what: string; hint?: string }[];
}

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-doctor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('vigil doctor --json reports this machine: Node/glibc, native modules, CPU provider, ffmpeg, data dir', async (t) => {
  const dir = tmp(t);
  const r = await runCliAsync(['--data-dir', join(dir, 'data'), '--config', join(dir, 'none.yaml'), 'doctor', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout) as Report;
  assert.equal(d.platform.node, process.versions.node);
  assert.equal(d.platform.abi, process.versions.modules);
  const ldd = execFileSync('ldd', ['--version'], { encoding: 'utf8' });
  assert.ok(d.platform.glibc && ldd.includes(d.platform.glibc), `glibc ${String(d.platform.glibc)} as ldd says`);
  for (const name of ['better-sqlite3', 'sharp']) assert.equal(d.native.find((m) => m.name === name)?.ok, true, `${name} loads`);
  const uws = d.native.find((m) => m.name === 'uWebSockets.js')!;
  assert.match(uws.detail!, /^(native|JavaScript fallback)/);
  const cpu = d.ort.providers.find((p) => p.provider === 'cpu')!;
  assert.equal(cpu.ok, true, 'a CPU session starts and computes');
  assert.match(d.ort.version ?? '', /^\d+\.\d+/);
  assert.equal(d.ffmpeg.found, true);
  assert.match(d.ffmpeg.version ?? '', /^\d/);
  assert.equal(d.dataDir.writable, true);
  assert.ok((d.dataDir.freeBytes ?? 0) > 0);
  assert.notEqual(d.verdict, 'fail', JSON.stringify(d.findings.filter((f) => f.level === 'fail')));
});

test('without a GPU, CUDA/TensorRT and the Jetson decoder are named as missing with the way to get them', async (t) => {
  const dir = tmp(t);
  const r = await runCliAsync(['--data-dir', join(dir, 'data'), '--config', join(dir, 'none.yaml'), 'doctor', '--json']);
  const d = JSON.parse(r.stdout) as Report;
  const cuda = d.ort.providers.find((p) => p.provider === 'cuda')!;
  assert.equal(cuda.ok, false);
  assert.ok(cuda.error, 'the reason is given');
  assert.match(cuda.hint!, process.arch === 'x64' ? /install\.sh --gpu cuda/ : /ort_module/);
  const jetson = d.ffmpeg.presets.find((p) => p.preset === 'jetson')!;
  assert.equal(jetson.ok, false);
  assert.ok(jetson.missing.includes('ffmpeg decoder h264_nvmpi'));
  assert.match(jetson.hint!, /jetson-ffmpeg/);
});

test('a configured provider or decoder that is missing turns the verdict: warn for a provider, fail for a stream decoder', async (t) => {
  const dir = tmp(t);
  const cfg = join(dir, 'vigil.yaml');
  writeFileSync(cfg, 'models:\n  providers: [tensorrt, cuda, cpu]\nstreams:\n  - { id: gate, url: "rtsp://10.0.0.9/s", hwaccel: jetson }\n');
  const r = await runCliAsync(['--data-dir', join(dir, 'data'), '--config', cfg, 'doctor']);
  assert.equal(r.code, 1, 'a stream needs a decoder this machine lacks');
  assert.match(r.stdout, /WARN provider tensorrt not available \(configured/);
  assert.match(r.stdout, /FAIL decode preset jetson not usable here but a stream uses it: missing ffmpeg decoder h264_nvmpi/);
  assert.match(r.stdout, /verdict: FAIL/);
});

test('a data dir that cannot be created is a failure with the fix', async (t) => {
  const dir = tmp(t);
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const r = await runCliAsync(['--data-dir', join(file, 'data'), '--config', join(dir, 'none.yaml'), 'doctor', '--json']);
  const d = JSON.parse(r.stdout) as Report;
  assert.equal(d.dataDir.writable, false);
  const f = d.findings.find((x) => x.what.startsWith('data dir'))!;
  assert.equal(f.level, 'fail');
  assert.match(f.hint!, /chown|data_dir/);
  assert.equal(d.verdict, 'fail');
});

test('a custom onnxruntime module (models.ort_module: a package dir) is what the provider probe loads', async (t) => {
  const dir = tmp(t);
  // A local package that re-exports onnxruntime-node, as a custom Jetson build would be laid out.
  const pkg = join(dir, 'ort-custom');
  mkdirSync(pkg);
  const real = createRequire(import.meta.url).resolve('onnxruntime-node');
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'ort-custom', version: '0.0.0', main: 'index.js' }));
  writeFileSync(join(pkg, 'index.js'), `module.exports = require(${JSON.stringify(real)});\nmodule.exports.customBuild = true;\n`);
  const ok = await probeOrt({ providers: ['cpu'], ortModule: pkg });
  assert.equal(ok.module, join(pkg, 'index.js'));
  assert.equal(ok.providers.find((p) => p.provider === 'cpu')?.ok, true);
  const missing = await probeOrt({ providers: ['cpu'], ortModule: join(dir, 'nope') });
  assert.match(missing.error ?? '', /Cannot find module/);
  assert.deepEqual(missing.providers, []);
});
