// `npm run bench -- threads [--load]`: where a saturated stream's CPU goes. One stream of the
// street clip offered 60 fps (people counting), CPU-ms per analysed frame of each thread of the
// daemon's process (from /proc: the main thread, the inference threads and the rest) and of its
// ffmpeg, with the letterbox in WebAssembly and in the JavaScript loop, in turns (wasm, loop,
// wasm, loop) so that load on a shared machine falls on both. Linux only.
import { readdirSync, readFileSync } from 'node:fs';
import { useWasmLetterbox } from '../daemon/vision/preprocess.js';
import { mediaPath } from '../test/helpers/paths.js';
import { pipelineTotals, startBenchDaemon, warm } from './lib/limits.js';
import { f1, loadLine, withOptionalLoad } from './lib/measure.js';

const SECONDS = 10;
const TICK_MS = 10; // /proc times are in clock ticks (USER_HZ, 100 on Linux)

/** utime + stime of a /proc stat line, ms. */
function statMs(line: string): number {
  const f = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

/** CPU ms so far: the process's main thread, its other threads, and its ffmpeg children. */
function sample(): { main: number; others: number; ffmpeg: number } {
  let main = 0, others = 0, ffmpeg = 0;
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    try {
      const ms = statMs(readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8'));
      if (tid === String(process.pid)) main += ms;
      else others += ms;
    } catch { /* a thread that ended */ }
  }
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && stat.includes('(ffmpeg)')) ffmpeg += statMs(stat);
    } catch { /* gone */ }
  }
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
