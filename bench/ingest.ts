// `npm run bench -- ingest`: how close the daemon gets to this machine's own decode limit.
// Limit: ffmpeg decoding the clip with no output (-f null), 1 and 4 at once.
// Daemon: file streams read unpaced (realtime: false) at the clip's fps through people
// counting; frames/s = frames actually analysed (the pipeline drops what it cannot take).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig } from '../config/loader.js';
import { silentLogger } from '../daemon/log.js';
import { createDaemon } from '../daemon/main.js';
import { mediaPath, modelMirror } from '../test/helpers/paths.js';

const CLIP = 'video_street_pedestrians_640x360.mp4';
const SECONDS = 20;

function decodeOnce(file: string): Promise<{ frames: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const ff = spawn('ffmpeg', ['-hide_banner', '-nostats', '-threads', '1', '-i', file, '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    ff.stderr.on('data', (d: Buffer) => (err += d.toString()));
    ff.on('exit', (code) => {
      const m = /frame=\s*(\d+)/g;
      let frames = 0;
      for (let r = m.exec(err); r; r = m.exec(err)) frames = Number(r[1]);
      if (code !== 0) reject(new Error(`ffmpeg exited ${code}: ${err.slice(-500)}`));
      else resolve({ frames, ms: performance.now() - started });
    });
  });
}

async function decodeFps(file: string, parallel: number): Promise<number> {
  const started = performance.now();
  const runs = await Promise.all(Array.from({ length: parallel }, () => decodeOnce(file)));
  const frames = runs.reduce((a, r) => a + r.frames, 0);
  return frames / ((performance.now() - started) / 1000);
}

async function daemonFps(file: string, streams: number): Promise<{ analysed: number; decoded: number; dropped: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-ingest-'));
  try {
    const config = checkConfig({
      data_dir: dataDir,
      server: { host: '127.0.0.1', port: 0, admin_token: 'bench-token-123' },
      models: { mirror: modelMirror() },
      streams: Array.from({ length: streams }, (_, i) => ({ id: `s${i}`, url: file, fps: 30, realtime: false, loop: true, analytics: ['people-counting'] })),
    });
    const daemon = await createDaemon(config, silentLogger());
    await daemon.start();
    await new Promise((r) => setTimeout(r, 3000)); // warm-up: models loaded, ffmpeg running
    const before = daemon.parts.pipeline.stats();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const after = daemon.parts.pipeline.stats();
    const s = (performance.now() - t0) / 1000;
    await daemon.stop();
    const sum = (k: 'framesAnalysed' | 'framesIn' | 'framesDropped') =>
      after.reduce((a, x) => a + x[k], 0) - before.reduce((a, x) => a + x[k], 0);
    return { analysed: sum('framesAnalysed') / s, decoded: sum('framesIn') / s, dropped: sum('framesDropped') / s };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const file = mediaPath(CLIP);
  for (const n of [1, 4]) {
    const limit = await decodeFps(file, n);
    const d = await daemonFps(file, n);
    console.log(
      `${n} stream(s): ffmpeg decode-only ${limit.toFixed(0)} fps (machine limit) · daemon frames in ${d.decoded.toFixed(1)} fps, ` +
        `analysed through people counting ${d.analysed.toFixed(1)} fps, dropped ${d.dropped.toFixed(1)} fps · ratio analysed/limit ${(d.analysed / limit).toFixed(3)}`,
    );
  }
}
