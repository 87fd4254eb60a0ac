import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelProvider, ModelRole, ModelRunner, ModelSpec } from '../daemon/inference/types.js';
import { BUILTIN_MODELS, DEFAULT_ROLES } from '../models/manifest.js';
import { modelMirror } from './helpers/paths.js';

/**
 * Model provider for face tests: the inference engine when it is there, else plain
 * ORT sessions on the mirror's files (1 intra-op thread: the test box is shared).
 */
export async function faceModels(): Promise<ModelProvider & { close(): Promise<void> }> {
  const enginePath = new URL('../daemon/inference/engine.ts', import.meta.url);
  if (existsSync(enginePath) && process.env.VIGIL_FACE_TEST_ORT !== '1') {
    try {
      const { InferenceEngine } = (await import('../daemon/inference/engine.js')) as unknown as { InferenceEngine: new (o: unknown) => ModelProvider & { start?(): Promise<void>; stop?(): Promise<void> } };
      const { silentLogger } = await import('../daemon/log.js');
      const { mkdtempSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const engine = new InferenceEngine({ log: silentLogger(), dataDir: mkdtempSync(join(tmpdir(), 'vigil-faces-')), mirrorDir: modelMirror(), providers: ['cpu'], threads: { intraOp: 1, interOp: 1 } });
      await engine.start?.();
      return Object.assign(engine, { close: async () => { await engine.stop?.(); } });
    } catch {
      // fall through to plain sessions
    }
  }
  const cache = new Map<string, Promise<ModelRunner>>();
  const load = (spec: ModelSpec): Promise<ModelRunner> => {
    let p = cache.get(spec.name);
    if (!p) {
      p = ort.InferenceSession.create(join(modelMirror(), spec.file), { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 })
        .then((s) => ({ spec, provider: 'cpu', run: (feeds) => s.run(feeds) as Promise<Record<string, ort.Tensor>> }));
      cache.set(spec.name, p);
    }
    return p;
  };
  const byName = (name: string): ModelSpec => {
    const s = BUILTIN_MODELS.find((m) => m.name === name);
    if (!s) throw new Error(`no model ${name}`);
    return s;
  };
  return {
    get: (name) => load(byName(name)),
    forRole: (role: ModelRole) => load(byName(DEFAULT_ROLES[role]!)),
    close: async () => {},
  };
}
