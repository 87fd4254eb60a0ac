// `npm run bench -- idle [--load]`: what a camera with nothing happening costs. One stream of a
// still scene (a photo made into a 30 fps 640x360 H.264 clip, read at its own pace like a camera),
// people counting at fps 5, with the motion gate off and on, interleaved (off, on, on, off):
// CPU of the daemon and its ffmpeg as a share of one core, beside ffmpeg alone (decode-only).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mediaPath } from '../test/helpers/paths.js';
import { startBenchDaemon, warm } from './lib/limits.js';
import { cpuNow, cpuSince, f1, loadLine, withOptionalLoad } from './lib/measure.js';

const SECONDS = 8;

async function share(clip: string, gate: boolean): Promise<{ total: number; ffmpeg: number; analysed: number }> {
  const b = await startBenchDaemon(
    [{ id: 'still', url: clip, fps: 5, realtime: true, loop: true, analytics: ['people-counting'] }],
    { inference: { motion_gate: { enabled: gate } } },
  );
  try {
    await warm(b.daemon);
    const a0 = b.daemon.parts.pipeline.stats()[0]!.framesAnalysed;
    const c0 = cpuNow();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const d = cpuSince(c0);
    const a1 = b.daemon.parts.pipeline.stats()[0]!.framesAnalysed;
    return { total: d.totalMs / d.wallMs, ffmpeg: d.childrenMs / d.wallMs, analysed: (a1 - a0) / (d.wallMs / 1000) };
  } finally {
    await b.close();
  }
}

export async function run(): Promise<void> {
  await withOptionalLoad(async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'vigil-bench-idle-'));
    const clip = join(tmp, 'still.mp4');
    spawnSync('ffmpeg', ['-v', 'error', '-loop', '1', '-i', mediaPath('coco_livingroom_person_000000000139.jpg'), '-t', '20', '-r', '30',
      '-vf', 'scale=640:360', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', clip]);
    try {
      const off: number[] = [], on: number[] = [], ff: number[] = [];
      let rate = { off: 0, on: 0 };
      for (const gate of [false, true, true, false]) {
        const r = await share(clip, gate);
        (gate ? on : off).push(r.total);
        ff.push(r.ffmpeg);
        rate = { ...rate, [gate ? 'on' : 'off']: r.analysed };
      }
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      console.log(`still camera at fps 5: gate off ${f1(100 * mean(off))} % of a core (${f1(rate.off)} frames analysed/s), gate on ${f1(100 * mean(on))} % (${f1(rate.on)}/s); ffmpeg alone ${f1(100 * mean(ff))} %; ${loadLine()}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}
