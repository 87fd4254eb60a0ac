import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import { BUILTIN_MODELS } from '../models/manifest.js';
import { modelMirror } from './helpers/paths.js';

const dataDir = mkdtempSync(join(tmpdir(), 'vigil-all-models-'));
const engine = new InferenceEngine({ log: silentLogger(), dataDir, mirrorDir: modelMirror(), providers: ['cpu'], threads: { intraOp: 1, interOp: 1 } });
after(async () => {
  await engine.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

// The manifest's input spec of every model matches the real file: load, shape check, warm-up run.
for (const spec of BUILTIN_MODELS) {
  test(`${spec.name} loads from the mirror and runs its warm-up`, async () => {
    const r = await engine.get(spec.name);
    assert.equal(r.provider, 'cpu');
    assert.equal(r.spec.name, spec.name);
  });
}
