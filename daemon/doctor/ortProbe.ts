// Which onnxruntime execution providers really start a session here: one tiny model (a Relu),
// one child process per provider, so a provider library that prints to stderr, hangs or crashes
// the process cannot take the doctor with it.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { buildOnnxModel } from '../inference/onnxBuilder.js';

export interface ProviderResult {
  provider: string;
  ok: boolean;
  ms: number;
  /** The first line of the error (not ok only). */
  error?: string;
  hint?: string;
}

export interface OrtReport {
  module: string;
  version: string | null;
  error?: string;
  providers: ProviderResult[];
}

// Runs in the child (ESM): imports onnxruntime, starts a session on one provider, runs it once.
const CHILD = `
const [mod, provider, modelB64] = process.argv.slice(1);
const { pathToFileURL } = await import('node:url');
const out = (o) => process.stdout.write('\\n@@' + JSON.stringify(o) + '\\n');
let ort;
try {
  const m = await import(mod.startsWith('/') ? pathToFileURL(mod).href : mod);
  ort = m.InferenceSession ? m : m.default;
} catch (e) { out({ load: String(e.message).split('\\n')[0] }); process.exit(0); }
const version = ort.env?.versions?.node ?? ort.env?.versions?.common ?? null;
try {
  const s = await ort.InferenceSession.create(Buffer.from(modelB64, 'base64'), { executionProviders: [provider], logSeverityLevel: 4 });
  const r = await s.run({ x: new ort.Tensor('float32', new Float32Array([1, -1, 2, -2]), [1, 4]) });
  const y = Array.from(r.y.data);
  out({ version, ok: y.join() === '1,0,2,0', error: y.join() === '1,0,2,0' ? undefined : 'wrong result ' + y.join() });
} catch (e) { out({ version, ok: false, error: String(e.message).split('\\n').find((l) => l.trim()) }); }
`;

const MODEL_B64 = Buffer.from(
  buildOnnxModel({ inputs: [{ name: 'x', dims: [1, 4] }], outputs: [{ name: 'y', dims: [1, 4] }], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] }),
).toString('base64');

/** The hint for a provider that did not start, for this platform. */
export function providerHint(provider: string, arch: string = process.arch): string | undefined {
  if (provider === 'cuda' || provider === 'tensorrt') {
    if (arch === 'arm64') {
      return 'the registry onnxruntime-node for arm64 is CPU-only: on Jetson build one with CUDA/TensorRT (scripts/jetson/build-onnxruntime-node.sh) and set models.ort_module';
    }
    return `needs onnxruntime-node's CUDA 12 providers (sudo scripts/install.sh --gpu cuda, network needed), an NVIDIA driver, CUDA 12 and cuDNN 9 libraries${provider === 'tensorrt' ? ', and TensorRT 10 libraries' : ''}`;
  }
  if (provider === 'webgpu') return 'needs a Vulkan driver for the GPU (NVIDIA driver, or mesa-vulkan-drivers for Intel/AMD); the x64 onnxruntime-node has WebGPU built in';
  return undefined;
}

/** onnxruntime's errors start with its source path and an assertion: keep the sentence that says why. */
export function shortError(e: string): string {
  const tail = e.replace(/^\/\S+:\d+\s+/, '');
  const i = tail.lastIndexOf(' was false. ');
  return i >= 0 ? tail.slice(i + ' was false. '.length) : tail;
}

function probeOne(modulePath: string, provider: string, timeoutMs: number): Promise<ProviderResult & { version?: string | null; load?: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', CHILD, modulePath, provider, MODEL_B64], { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => {
      const ms = Math.round(performance.now() - t0);
      const line = stdout.split('\n').reverse().find((l) => l.startsWith('@@'));
      if (!line) {
        const why = err ? (err.killed ? `no answer within ${timeoutMs} ms` : `the probe process died (${err.signal ?? err.code})`) : 'no answer';
        resolve({ provider, ok: false, ms, error: why });
        return;
      }
      const r = JSON.parse(line.slice(2)) as { version?: string | null; ok?: boolean; error?: string; load?: string };
      resolve({ provider, ok: r.ok === true, ms, error: r.error === undefined ? undefined : shortError(r.error), version: r.version, load: r.load });
    });
  });
}

/** Tries every provider in `providers` (cpu always) against onnxruntime-node or a custom build. */
export async function probeOrt(opts: { providers: string[]; ortModule?: string | null; timeoutMs?: number }): Promise<OrtReport> {
  const req = createRequire(import.meta.url);
  let modulePath: string;
  try {
    modulePath = req.resolve(opts.ortModule ?? 'onnxruntime-node');
  } catch (err) {
    return { module: opts.ortModule ?? 'onnxruntime-node', version: null, error: (err as Error).message.split('\n')[0], providers: [] };
  }
  const list = [...new Set(['cpu', ...opts.providers])];
  const results = await Promise.all(list.map((p) => probeOne(modulePath, p, opts.timeoutMs ?? 30_000)));
  const load = results.find((r) => r.load)?.load;
  const version = results.find((r) => r.version)?.version ?? null;
  return {
    module: modulePath,
    version,
    ...(load ? { error: load } : {}),
    providers: results.map(({ provider, ok, ms, error }) => ({ provider, ok, ms, ...(ok ? {} : { error, hint: providerHint(provider) }) })),
  };
}
