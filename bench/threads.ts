// `npm run bench -- threads [--load]`: where a saturated stream's CPU goes. One stream of the
// street clip offered 60 fps (people counting), CPU-ms per analysed frame of each thread of the
// daemon's process (from /proc: the main thread, the inference threads and the rest) and of its
// ffmpeg, with the letterbox in WebAssembly and in the JavaScript loop, in turns (wasm, loop,
// wasm, loop) so that load on a shared machine falls on both. Linux only.
import { readdirSync } from 'node:fs';
import { useWasmLetterbox } from '../daemon/vision/preprocess.js';
import { mediaPath } from '../test/helpers/paths.js';
import { pipelineTotals, startBenchDaemon, warm } from './lib/limits.js';
import { descendants, f1, loadLine, procCpuMs, withOptionalLoad } from './lib/measure.js';

const SECONDS = 10;

/** CPU ms so far: the process's main thread, its other threads, and its children (the daemon's ffmpegs). */
function sample(): { main: number; others: number; ffmpeg: number } {
  let main = 0, others = 0;
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    const ms = procCpuMs(`/proc/${process.pid}/task/${tid}/stat`).own;
    if (tid === String(process.pid)) main += ms;
    else others += ms;
  }
  const ffmpeg = descendants(process.pid).reduce((a, pid) => a + procCpuMs(`/proc/${pid}/stat`).own, 0);
  return { main, others, ffmpeg };
}

async function once(wasm: boolean): Promise<{ fps: number; main: number; others: number; ffmpeg: number }> {
  useWasmLetterbox(wasm);
  const b = await startBenchDaemon([{ id: 's0', url: mediaPath('video_street_pedestrians_640x360.mp4'), fps: 60, realtime: true, loop: true, analytics: ['people-counting'] }]);
  try {
    await warm(b.daemon);
    await new Promise((r) => setTimeout(r, 2000));
    const s0 = sample(), p0 = pipelineTotals(b.daemon), t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const s1 = sample(), p1 = pipelineTotals(b.daemon);
    const n = Math.max(1, p1.analysed - p0.analysed);
    return { fps: n / ((performance.now() - t0) / 1000), main: (s1.main - s0.main) / n, others: (s1.others - s0.others) / n, ffmpeg: (s1.ffmpeg - s0.ffmpeg) / n };
  } finally {
    await b.close();
    useWasmLetterbox(true);
  }
}

export async function run(): Promise<void> {
  await withOptionalLoad(async () => {
    console.log(`1 stream offered 60 fps, ${SECONDS} s per side, letterbox in WebAssembly and in JavaScript in turns; ${loadLine()}`);
    for (const wasm of [true, false, true, false]) {
      const r = await once(wasm);
      console.log(`${wasm ? 'wasm' : 'loop'}: ${f1(r.fps)} fps analysed | CPU-ms a frame: main thread ${f1(r.main)}, other threads (inference, thread pool, GC) ${f1(r.others)}, ffmpeg ${f1(r.ffmpeg)}, all ${f1(r.main + r.others + r.ffmpeg)} | ${loadLine()}`);
    }
  });
}
