// `npm run bench -- capacity [--load] [--full]`: cameras per box. The most streams at fps 5 for
// which the daemon (people counting, the street clip read at its own pace like a camera)
// analyses >= 95 % of the frames offered, beside the count this machine's own limits allow:
// min(decode-only streams = decode fps / source fps, ORT-only streams = inferences/s / 5),
// both measured in the same run, the limits again after the product so drift shows. Also printed:
// the limit when decoding and inference take turns on the same cores (1 / (1/decode + 1/ORT)),
// which is what a CPU-only box can reach at best; the target is judged against the min().
import { mediaPath } from '../test/helpers/paths.js';
import { decodeOnlyFps, ortOnlyFps, pipelineTotals, startBenchDaemon, warm } from './lib/limits.js';
import { f1, f2, loadLine, wantsFull, withOptionalLoad } from './lib/measure.js';

const FPS = 5;
const CLIP = 'video_street_pedestrians_640x360.mp4';

async function limit(seconds: number): Promise<{ streams: number; decode: number; ort: number }> {
  const dec = await decodeOnlyFps(mediaPath(CLIP), 1, seconds, { fps: FPS, refsOnly: true });
  // The sessions the daemon runs for as many streams as the box takes.
  const ort = await ortOnlyFps(mediaPath(CLIP), seconds, { streams: Number.POSITIVE_INFINITY });
  // Unpaced decode sampled to fps 5 like the daemon (non-reference frames skipped): each output frame stands for one camera-fifth of a second.
  const decodeStreams = dec.fps / FPS;
  return { streams: Math.min(decodeStreams, ort.fps / FPS), decode: decodeStreams, ort: ort.fps / FPS };
}

/** Share of offered frames analysed with `n` streams at fps 5. */
async function analysedShare(n: number, seconds: number): Promise<number> {
  const b = await startBenchDaemon(Array.from({ length: n }, (_, i) => ({ id: `s${i}`, url: mediaPath(CLIP), fps: FPS, realtime: true, loop: true, analytics: ['people-counting'] })));
  try {
    await warm(b.daemon);
    const p0 = pipelineTotals(b.daemon);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const p1 = pipelineTotals(b.daemon);
    const s = (performance.now() - t0) / 1000;
    return (p1.analysed - p0.analysed) / (n * FPS * s);
  } finally {
    await b.close();
  }
}

export async function run(): Promise<void> {
  await withOptionalLoad(async () => {
    const seconds = wantsFull() ? 15 : 6;
    const before = await limit(seconds / 2);
    console.log(`limit before: ${f1(before.streams)} streams (decode ${f1(before.decode)}, ORT ${f1(before.ort)}); ${loadLine()}`);
    let best = 0;
    const cap = Math.max(2, Math.ceil(before.streams * 1.5));
    for (let n = 1; n <= cap; n++) {
      const share = await analysedShare(n, seconds);
      console.log(`  ${n} stream(s) at fps ${FPS}: ${f1(100 * share)} % of offered frames analysed; ${loadLine()}`);
      if (share < 0.95) break;
      best = n;
    }
    const after = await limit(seconds / 2);
    const lim = (before.streams + after.streams) / 2;
    const turns = (l: { decode: number; ort: number }): number => 1 / (1 / l.decode + 1 / l.ort);
    const shared = (turns(before) + turns(after)) / 2;
    console.log(`capacity ${best} streams at fps ${FPS} vs limit ${f1(lim)} (after: ${f1(after.streams)}) -> ${f2(best / lim)}` +
      ` | decode and ORT sharing the cores: ${f1(shared)} -> ${f2(best / shared)}; ${loadLine()}`);
  });
}
