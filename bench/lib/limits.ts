// The machine's own limits the product is compared with, and the daemon as it runs.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig } from '../../config/loader.js';
import { planThreads, sessionsFor } from '../../daemon/inference/threadBudget.js';
import { modelSource } from '../../daemon/inference/onnxShape.js';
import { silentLogger } from '../../daemon/log.js';
import { createDaemon, type Daemon } from '../../daemon/main.js';
import { BUILTIN_MODELS } from '../../models/manifest.js';
import { ensureModel } from '../../models/fetcher.js';
import { modelMirror } from '../../test/helpers/paths.js';
import { prepareInput, rectInput } from '../../daemon/vision/preprocess.js';
import { ortOptions, videoFrames } from '../inference.js';
import { benchProviders, cpuNow, cpuSince, procCpuMs } from './measure.js';

const require = createRequire(import.meta.url);

/**
 * Frames/s of `n` ffmpeg decoders at once for `seconds` of wall time, converting to rgb24 (no
 * output written). Each decoder's rate is counted from its first frame on: an RTSP source takes
 * a second or more to connect, which is not decoding. `refsOnly` skips the frames no other refers
 * to, as the daemon does at fps 6 or less.
 */
export async function decodeOnlyFps(input: string, n: number, seconds: number, opts: { fps?: number; rtsp?: boolean; refsOnly?: boolean } = {}): Promise<{ fps: number; cpuMsPerFrame: number }> {
  const runs = await Promise.all(Array.from({ length: n }, () => new Promise<{ frames: number; fps: number; cpuMs: number }>((resolve) => {
    const args = ['-hide_banner', '-stats_period', '0.25', ...(opts.rtsp ? ['-rtsp_transport', 'tcp'] : ['-stream_loop', '-1']),
      ...(opts.refsOnly ? ['-skip_frame', 'noref'] : []), '-i', input,
      '-an', '-vf', opts.fps ? `fps=${opts.fps}` : 'null', '-pix_fmt', 'rgb24', '-f', 'null', '-'];
    const ff = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    // Frames and ffmpeg's own CPU at its first and last progress lines: start-up (probing, an RTSP
    // handshake) stays out of both, as it does from the product's steady-state figures.
    let first: { t: number; frames: number; cpu: number } | null = null;
    let last = { t: 0, frames: 0, cpu: 0 };
    let tail = '';
    ff.stderr.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-400);
      const all = [...tail.matchAll(/frame=\s*(\d+)/g)];
      const frames = Number(all[all.length - 1]?.[1] ?? 0);
      if (frames <= 0 || frames === last.frames) return;
      last = { t: performance.now(), frames, cpu: procCpuMs(`/proc/${ff.pid}/stat`).own };
      first ??= last;
    });
    // Wall-clock bound: SIGINT makes ffmpeg print its final frame count and exit.
    const timer = setTimeout(() => ff.kill('SIGINT'), seconds * 1000);
    ff.on('exit', () => {
      clearTimeout(timer);
      const span = first ? (last.t - first.t) / 1000 : 0;
      const steady = first !== null && span > 0.5;
      resolve({ frames: steady ? last.frames - first!.frames : 0, fps: steady ? (last.frames - first!.frames) / span : last.frames / seconds, cpuMs: steady ? last.cpu - first!.cpu : 0 });
    });
  })));
  const frames = runs.reduce((a, r) => a + r.frames, 0);
  return { fps: runs.reduce((a, r) => a + r.fps, 0), cpuMsPerFrame: frames > 0 ? runs.reduce((a, r) => a + r.cpuMs, 0) / frames : NaN };
}

/**
 * Inferences/s and CPU-ms per inference of the person detector alone, at the daemon's thread plan
 * for `streams` streams sharing it: its sessions (sessionsFor), each looping session.run on ready
 * tensors in a thread of its own (a session's run blocks the thread that calls it), all at once.
 */
export async function ortOnlyFps(clip: string, seconds: number, opts: { models?: number; streams?: number } = {}): Promise<{ fps: number; cpuMsPerInference: number; runMs: number }> {
  const spec = BUILTIN_MODELS.find((m) => m.name === 'yolox_nano')!;
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-ort-'));
  try {
    const file = await ensureModel(spec, { dataDir, mirrorDir: modelMirror() });
    // The daemon adds sessions only on CPU; on a GPU provider it keeps one (so does this limit).
    const onCpu = benchProviders()[0] === 'cpu';
    const plan = sessionsFor(planThreads({ models: opts.models ?? 1 }), onCpu ? opts.streams ?? 1 : 1);
    // The input the daemon feeds this model (the frame's aspect where its size can be freed).
    const tensors = (await videoFrames(clip, 10)).map((f) => prepareInput(f, rectInput(f.width, f.height, spec.input)).tensor);
    const data = { ortPath: require.resolve('onnxruntime-node'), source: modelSource(file, spec), options: ortOptions(plan), input: spec.input.name, ms: seconds * 1000, tensors: tensors.map((t) => ({ data: t.data, dims: t.dims })) };
    const workers = Array.from({ length: plan.replicas }, () => new Worker(ORT_LOOP, { eval: true, workerData: data }));
    try {
      const next = (w: Worker): Promise<unknown> => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
      const ready = await Promise.all(workers.map(next));
      const failed = ready.find((r) => r !== 'ready');
      if (failed) throw new Error(`ORT-only session: ${String((failed as { error?: string }).error ?? failed)}`);
      const c0 = cpuNow();
      const counts = (await Promise.all(workers.map((w) => { const p = next(w); w.postMessage('go'); return p; }))) as number[];
      const d = cpuSince(c0);
      const n = counts.reduce((a, b) => a + b, 0);
      return { fps: n / (d.wallMs / 1000), cpuMsPerInference: d.processMs / n, runMs: (d.wallMs * plan.replicas) / n };
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One ORT-only session in a worker: loads, answers 'ready', loops runs for `ms` on 'go', answers the count. */
const ORT_LOOP = `
const { workerData: d, parentPort } = require('node:worker_threads');
const ort = require(d.ortPath);
(async () => {
  const s = await ort.InferenceSession.create(d.source, d.options);
  const feeds = d.tensors.map((t) => ({ [d.input]: new ort.Tensor('float32', t.data, t.dims) }));
  await s.run(feeds[0]);
  parentPort.postMessage('ready');
  await new Promise((r) => parentPort.once('message', r));
  const end = performance.now() + d.ms;
  let n = 0;
  while (performance.now() < end) await s.run(feeds[n++ % feeds.length]);
  await s.release();
  parentPort.postMessage(n);
})().catch((e) => parentPort.postMessage({ error: String(e && e.message || e) }));
`;

/** The daemon, in this process, as `vigil run` builds it from a config. */
export async function startBenchDaemon(streams: Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<{ daemon: Daemon; url: string; token: string; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-daemon-'));
  const token = 'bench-token-123';
  const config = checkConfig({
    data_dir: dataDir,
    log_level: 'silent',
    server: { host: '127.0.0.1', port: 0, admin_token: token },
    models: { mirror: modelMirror(), providers: benchProviders() },
    streams,
    ...extra,
  });
  const daemon = await createDaemon(config, silentLogger());
  await daemon.start();
  return {
    daemon,
    token,
    url: `http://127.0.0.1:${daemon.parts.server.port()}`,
    async close() {
      await daemon.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sums of the pipeline counters over all streams. */
export function pipelineTotals(d: Daemon): { analysed: number; in: number; dropped: number } {
  const s = d.parts.pipeline.stats();
  return { analysed: s.reduce((a, x) => a + x.framesAnalysed, 0), in: s.reduce((a, x) => a + x.framesIn, 0), dropped: s.reduce((a, x) => a + x.framesDropped, 0) };
}

/** Waits until every stream has analysed a frame (models loaded, ffmpeg running), at most `ms`. */
export async function warm(d: Daemon, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const s = d.parts.pipeline.stats();
    if (s.length > 0 && s.every((x) => x.framesAnalysed > 2)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the daemon analysed no frames within the warm-up');
}

/** Model run time (p50 ms, worker side) as the engine measured it. */
export function modelRunMs(d: Daemon, model = 'yolox_nano'): number {
  return d.parts.engine.metrics().find((m) => m.model === model)?.p50Ms ?? NaN;
}
