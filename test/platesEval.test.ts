// `vigil plates eval DIR`: the real binary and models over a folder of photos with ground truth.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCliAsync } from './helpers/daemon.js';
import { mediaPath, modelMirror } from './helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-plates-eval-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('plates eval prints per-region found, exact and CER; a wrong truth shows as a miss; bad folders are clear errors', async () => {
  const eu = join(dir, 'bench', 'eu');
  mkdirSync(eu, { recursive: true });
  copyFileSync(mediaPath('plate_crop_latin_AD799KB.png'), join(eu, 'a.png'));
  copyFileSync(mediaPath('plate_crop_latin_KRW301.png'), join(eu, 'b.png'));
  writeFileSync(join(eu, 'a.txt'), 'a.png\t0\t0\t151\t54\tAD-799-KB\n');
  // Deliberately wrong ground truth: the command must report it as a misread, not hide it.
  writeFileSync(join(eu, 'b.txt'), 'b.png\t0\t0\t157\t81\tKRW302\n');
  const env = { VIGIL_MODEL_MIRROR: modelMirror() };
  const r = await runCliAsync(['--data-dir', join(dir, 'data'), 'plates', 'eval', join(dir, 'bench'), '--formats', 'eu-generic'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /MISS eu\/b\.png: truth KRW302 read KRW301/);
  assert.match(r.stdout, /\| eu \| 2 \| 100\.0 % \(2\/2\) \| 50\.0 % \(1\/2\) \| 7\.7 % \|/);

  const json = await runCliAsync(['--data-dir', join(dir, 'data'), 'plates', 'eval', eu, '--json', '--formats', 'eu-generic'], env);
  assert.equal(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout) as { summary: { region: string; exact: number }[]; photos: { read: string }[] };
  assert.deepEqual(out.summary.map((s) => [s.region, s.exact]), [['eu', 1]]);
  assert.deepEqual(out.photos.map((p) => p.read), ['AD799KB', 'KRW301']);

  const missing = await runCliAsync(['--data-dir', join(dir, 'data'), 'plates', 'eval', join(dir, 'nope')], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /VIGIL_ERR_NOT_FOUND/);
});
