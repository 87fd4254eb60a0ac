import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { modelMirror } from '../test/helpers/paths.js';
import { ModelCatalog } from './catalog.js';
import { BUILTIN_MODELS, DEFAULT_ROLES } from './manifest.js';

test('every model and asset in the mirror has a manifest entry with the same sha256', () => {
  const sums = new Map(readFileSync(join(modelMirror(), 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => { const [h, f] = l.split(/\s+/); return [f!, h!]; }));
  const files = readdirSync(modelMirror()).filter((f) => f.endsWith('.onnx') || f.endsWith('.txt'));
  const pinned = new Map<string, string>();
  for (const m of BUILTIN_MODELS) { pinned.set(m.file, m.sha256); for (const a of m.assets ?? []) pinned.set(a.file, a.sha256); }
  for (const f of files) {
    assert.ok(pinned.has(f), `${f} has no manifest entry`);
    assert.equal(pinned.get(f), sums.get(f), `${f} sha256`);
  }
  for (const m of BUILTIN_MODELS) {
    assert.equal(m.file, `${m.name}.onnx`, 'names are file stems');
    if (m.source.kind === 'url') assert.match(m.source.url, /^https:\/\/raw\.githubusercontent\.com\/[^/]+\/[^/]+\/[0-9a-f]{40}\//, `${m.name} URL is pinned to a commit`);
    else assert.equal(m.source.kind, 'npm');
    assert.ok(m.licence.length > 0);
  }
});

test('defaults are permissive, except the face-embedder which says why', () => {
  const cat = new ModelCatalog();
  for (const [role, name] of Object.entries(DEFAULT_ROLES)) {
    if (!name) continue;
    const m = cat.get(name);
    if (role === 'face-embedder') {
      assert.equal(m.permissive, false);
      assert.match(m.notes ?? '', /not known to be permissive/);
    } else {
      assert.equal(m.permissive, true, `${role} default ${name}`);
    }
  }
  assert.equal(DEFAULT_ROLES['plate-detector'], null, 'no permissive plate detector exists');
});

test('a user manifest in the data dir adds a model of a known family; bad entries are all reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-manifest-'));
  try {
    writeFileSync(join(dir, 'models.yaml'), `models:
  - name: my_yolox
    role: person-detector
    family: yolox
    sha256: ${'a'.repeat(64)}
    source: { kind: file, path: ./my_yolox.onnx }
    input: { name: images, width: 640, height: 640, color: BGR, resize: letterbox-topleft, pad: 114 }
    labels: [person]
`);
    const cat = ModelCatalog.load({ dataDir: dir });
    const m = cat.get('my_yolox');
    assert.equal(m.input.width, 640);
    assert.deepEqual(m.source, { kind: 'file', path: join(dir, 'my_yolox.onnx') });
    assert.equal(m.permissive, false);
    assert.equal(cat.nameForRole('person-detector', { 'person-detector': 'my_yolox' }), 'my_yolox');
    assert.throws(() => cat.nameForRole('face-detector', { 'face-detector': 'my_yolox' }), { code: 'VIGIL_ERR_CONFIG' });
    writeFileSync(join(dir, 'models.yaml'), 'models:\n  - name: x\n    family: nope\n    role: person-detector\n');
    assert.throws(() => ModelCatalog.load({ dataDir: dir }), (err: Error & { code?: string }) => err.code === 'VIGIL_ERR_CONFIG' && /family/.test(err.message) && /sha256/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
