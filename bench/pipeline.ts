// `npm run bench -- pipeline [--load] [--full]`: frames analysed by the daemon (people counting,
// the clip read at its own pace like a camera; one stream is offered 60 fps, a copy of the clip
// retimed, and more streams 30 fps each, so the model is always the bottleneck; an unpaced file
// would offer whatever ffmpeg decodes and measure only drops) beside this machine's limit
// min(decode-only to rgb24 at the same size, ORT-only, offered), all measured in the same run, interleaved
// (limit, product, product, limit). Also: CPU-ms per analysed frame (node + ffmpeg) beside the
// ORT-only CPU-ms per inference (the CPU ratio), ffmpeg's share of it, event-loop lag p99 and the main thread's GC share,
// and the ratio's ceiling on a CPU-only box: ORT's CPU beside the decode-only limit's CPU per frame, nothing else counted.
// Default: 640x360 file, 1 and 4 streams. --full adds 8 streams, 1280x720 and RTSP.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mediaPath } from '../test/helpers/paths.js';
import { startRtspServer, type RtspServer } from '../test/helpers/rtspServer.js';
import { decodeOnlyFps, ortOnlyFps, pipelineTotals, startBenchDaemon, warm } from './lib/limits.js';
import { cpuNow, cpuSince, f1, f2, loadLine, mainThreadWatch, notProduct, wantsFull, withOptionalLoad } from './lib/measure.js';

const SECONDS = 5;
const CLIP = 'video_street_pedestrians_640x360.mp4';

interface Case { size: string; streams: number; source: 'file' | 'rtsp'; fps: number }

/** One measurement of the daemon: analysed fps and what it cost. */
async function product(urls: string[], fps: number): Promise<{ fps: number; cpuPerFrame: number; ffmpegPerFrame: number; lagP99: number; gcShare: number; dropped: number }> {
  const b = await startBenchDaemon(urls.map((url, i) => ({ id: `s${i}`, url, fps, realtime: true, loop: true, analytics: ['people-counting'] })));
  try {
    await warm(b.daemon);
    const p0 = pipelineTotals(b.daemon);
    const c0 = cpuNow();
    const watch = mainThreadWatch();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const m = watch.stop();
    const d = cpuSince(c0);
    const p1 = pipelineTotals(b.daemon);
    const analysed = p1.analysed - p0.analysed;
    return { fps: analysed / (d.wallMs / 1000), cpuPerFrame: d.totalMs / Math.max(1, analysed), ffmpegPerFrame: d.childrenMs / Math.max(1, analysed), lagP99: m.lagP99Ms, gcShare: m.gcShare, dropped: p1.dropped - p0.dropped };
  } finally {
    await b.close();
  }
}

async function measure(c: Case, file: string, rtsp: RtspServer | null): Promise<void> {
  const urls = Array.from({ length: c.streams }, (_, i) => (rtsp ? rtsp.url(`/s${i}`) : file));
  const limit = async (): Promise<{ decode: number; decodeCpu: number; ort: number; ortCpu: number }> => {
    const dec = await decodeOnlyFps(rtsp ? urls[0]! : file, c.streams, SECONDS, { fps: c.fps, rtsp: !!rtsp });
    const o = await ortOnlyFps(mediaPath(CLIP), SECONDS, { streams: c.streams });
    return { decode: dec.fps, decodeCpu: dec.cpuMsPerFrame, ort: o.fps, ortCpu: o.cpuMsPerInference };
  };
  const l1 = await limit();
  const p1 = await product(urls, c.fps);
  const p2 = await product(urls, c.fps);
  const l2 = await limit();
  const decode = (l1.decode + l2.decode) / 2;
  const ort = (l1.ort + l2.ort) / 2;
  const ortCpu = (l1.ortCpu + l2.ortCpu) / 2;
  const decodeCpu = (l1.decodeCpu + l2.decodeCpu) / 2;
  const fps = (p1.fps + p2.fps) / 2;
  const cpu = (p1.cpuPerFrame + p2.cpuPerFrame) / 2;
  const ffmpegCpu = (p1.ffmpegPerFrame + p2.ffmpegPerFrame) / 2;
  const offered = c.streams * c.fps;
  const lim = Math.min(decode, ort, offered);
  console.log(
    `${c.source} ${c.size} x${c.streams} at ${c.fps} fps: analysed ${f1(fps)} fps vs limit ${f1(lim)} (decode-only ${f1(decode)}, ORT-only ${f1(ort)}, offered ${offered}) -> ${f2(fps / lim)}` +
      ` | CPU ${f1(cpu)} ms/frame (ffmpeg ${f1(ffmpegCpu)}) vs ORT ${f1(ortCpu)} -> CPU ratio ${f2(ortCpu / cpu)}` +
      // What a CPU-only box could reach if nothing but decoding (to rgb24, no pipe) shared ORT's cores and
      // every decoded frame were analysed: the ceiling of the CPU ratio and, when CPU-bound, of analysed/ORT-only.
      ` (ceiling with decoding on these cores: decode ${f1(decodeCpu)} ms/frame -> ${f2(ortCpu / (ortCpu + decodeCpu))})` +
      ` | loop lag p99 ${f1(Math.max(p1.lagP99, p2.lagP99))} ms, GC ${f1(100 * Math.max(p1.gcShare, p2.gcShare))} % of main thread | dropped ${f1((p1.dropped + p2.dropped) / 2 / SECONDS)} fps | ${loadLine()}`,
  );
}

export async function run(): Promise<void> {
  await withOptionalLoad(async () => {
    const full = wantsFull();
    const tmp = mkdtempSync(join(tmpdir(), 'vigil-bench-pipeline-'));
    const clips: Record<string, string> = { '640x360': mediaPath(CLIP) };
    if (full) {
      clips['1280x720'] = join(tmp, 'street_1280x720.mp4');
      spawnSync('ffmpeg', ['-v', 'error', '-i', mediaPath(CLIP), '-vf', 'scale=1280:720', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '30', clips['1280x720']]);
    }
    // The same clips at 60 fps (twice as fast): one stream offered more than the model can take.
    const fast: Record<string, string> = {};
    for (const [size, file] of Object.entries(clips)) {
      fast[size] = join(tmp, `street_${size}_60fps.mp4`);
      spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', 'setpts=0.5*PTS', '-r', '60', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', fast[size]!]);
    }
    const counts = full ? [1, 4, 8] : [1, 4];
    const sources: ('file' | 'rtsp')[] = full ? ['file', 'rtsp'] : ['file'];
    console.log(`${SECONDS} s per side, 2 rounds interleaved; ${loadLine()}`);
    try {
      for (const source of sources) {
        for (const [size, file] of Object.entries(clips)) {
          const mounts = Array.from({ length: Math.max(...counts) }, (_, i) => `/s${i}`);
          const rtsp = source === 'rtsp' ? await startRtspServer({ source: { file }, mounts }) : null;
          notProduct(rtsp?.pid);
          try {
            for (const streams of counts) {
              if (streams === 1) {
                const rtsp60 = source === 'rtsp' ? await startRtspServer({ source: { file: fast[size]! }, mounts: ['/s0'] }) : null;
                notProduct(rtsp60?.pid);
                try {
                  await measure({ size, streams, source, fps: 60 }, fast[size]!, rtsp60);
                } finally {
                  await rtsp60?.stop();
                }
              } else {
                await measure({ size, streams, source, fps: 30 }, file, rtsp);
              }
            }
          } finally {
            await rtsp?.stop();
          }
        }
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}
