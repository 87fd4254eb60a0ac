// A car photo panned across the frame (ffmpeg crop), served over RTSP, decoded by ffmpeg,
// driven through the NFV4-LPR stream analytic: one event per vehicle, right plate and direction, no duplicate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import type { Frame } from '../daemon/streams/frame.js';
import type { Observation } from '../daemon/analytics/types.js';
import { buildPlateReader, CN_PLATE_MODELS, createPlateRecognition, DEFAULT_PLATE_MODELS } from '../daemon/analytics/plateRecognition/index.js';
import { startRtspServer } from './helpers/rtspServer.js';
import { mediaPath, modelMirror } from './helpers/paths.js';

const W = 640, H = 360, FPS = 5;
const CLIP_S = 6;

let dir: string;
let engine: InferenceEngine;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-plates-stream-'));
  engine = new InferenceEngine({ log: silentLogger(), dataDir: dir, mirrorDir: modelMirror(), providers: ['cpu'], threads: { intraOp: 1, interOp: 1 } });
});
after(async () => {
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The yellow-plate car (scaled to 60 %) on a 1280-wide grey canvas; a 640x360 window pans
 * from the canvas' left edge to its right, so the car enters on the right and leaves on the left.
 * `latin`: the Latin plate crop AD799KB pasted over the car's own plate (its box, found by
 * the opt-in plate detector: 359,323 to 491,373 in the 640x474 photo).
 */
function buildPanClip(out: string, latin = false): void {
  const frames = CLIP_S * 10;
  const pan = [
    'scale=384:-2', 'pad=1280:360:448:(oh-ih)/2:gray',
    `crop=${W}:${H}:x='min(640,n*${(640 / (frames - 1)).toFixed(3)})':y=0`, 'format=yuv420p',
  ].join(',');
  const inputs = ['-loop', '1', '-framerate', '10', '-t', String(CLIP_S), '-i', mediaPath('plate_cn_yellow_single_yellow.jpg')];
  const filter = latin
    ? ['-i', mediaPath('plate_crop_latin_AD799KB.png'), '-filter_complex', `[1:v]scale=134:50[p];[0:v][p]overlay=358:323,${pan}`]
    : ['-vf', pan];
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...inputs, ...filter, '-c:v', 'libx264', '-g', '10', '-preset', 'veryfast', out]);
  assert.equal(r.status, 0, r.stderr?.toString());
}

/** Decodes `count` frames of an RTSP stream with ffmpeg (rgb24 at FPS) and hands each to `onFrame` in order. */
async function readFrames(url: string, count: number, onFrame: (f: Frame) => Promise<void>, first = 0): Promise<number> {
  const input = url.startsWith('rtsp:') ? ['-rtsp_transport', 'tcp', '-timeout', '10000000', '-i', url] : ['-i', url];
  const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...input,
    '-vf', `fps=${FPS},scale=${W}:${H}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const size = W * H * 3;
  let pending = Buffer.alloc(0);
  let index = 0;
  try {
    for await (const chunk of ff.stdout) {
      pending = Buffer.concat([pending, chunk as Buffer]);
      while (pending.length >= size && index < count) {
        const data = Buffer.from(pending.subarray(0, size));
        pending = pending.subarray(size);
        // Stream time, not wall time: the analysis may run slower than live.
        await onFrame({ streamId: 'gate', index: first + index, timestamp: 1_700_000_000_000 + ((first + index) * 1000) / FPS, width: W, height: H, data });
        index++;
      }
      if (index >= count) break;
    }
  } finally {
    ff.kill('SIGKILL');
  }
  return index;
}

/** The assertions both sources share: one event, right plate, direction, tags and crop. */
function checkEvents(events: Observation[]): void {
  assert.equal(events.length, 1, `events: ${events.map((e) => e.primaryText).join(', ')}`);
  const e = events[0]!;
  assert.equal(e.analyticId, 'NFV4-LPR');
  assert.equal(e.streamId, 'gate');
  assert.equal(e.data.plate_number, '皖K66666');
  assert.equal(e.data.direction, 'Left');
  assert.equal(e.data.label, 'car');
  assert.equal(e.data.area_name, 'gate');
  assert.equal(e.data.plate_type, 'yellow');
  assert.equal(e.data.status, 'watch');
  assert.deepEqual(e.data.tags, ['fleet']);
  assert.ok((e.data.confidence as number) > 0.3 && (e.data.plate_confidence as number) > 0.8);
  assert.ok(e.crop!.image.width > 100 && e.crop!.image.height > 60, 'the crop shows the vehicle');
}

async function analyticFor() {
  const reader = await buildPlateReader(engine, join(dir, 'models'), CN_PLATE_MODELS, { formats: ['cn'] });
  return createPlateRecognition(reader, {
    areaName: 'gate', minAgreeing: 3, dedupWindowMs: 60_000,
    knownPlates: [{ plate: '皖K666*', status: 'watch', tags: ['fleet'] }],
  });
}

test('the panned clip decoded from file twice in a row: one event, plate and direction Left, no repeat', async () => {
  const clip = join(dir, 'pan-file.mp4');
  buildPanClip(clip);
  const analytic = await analyticFor();
  const events: Observation[] = [];
  const onFrame = async (f: Frame): Promise<void> => { events.push(...(await analytic.process(f))); };
  const n1 = await readFrames(clip, CLIP_S * FPS, onFrame);
  // Second pass: the same car again within the dedup window.
  await readFrames(clip, CLIP_S * FPS, onFrame, n1 + 10);
  events.push(...analytic.flush());
  checkEvents(events);
});

// The test RTSP server once relayed every keyframe of this clip as two half pictures (smearing the
// whole GOP after it); streamsRtspServer.test.ts now checks the relay frame for frame.
test('a panned car over RTSP yields one event with its plate and direction Left, not repeated on the next loop', async (t) => {
  const clip = join(dir, 'pan.mp4');
  buildPanClip(clip);
  const server = await startRtspServer({ source: { file: clip } }, t);
  const analytic = await analyticFor();
  const events: Observation[] = [];
  // Two and a half loops of the clip: the car passes at least twice.
  const n = await readFrames(server.url(), Math.round(CLIP_S * FPS * 2.5), async (f) => { events.push(...(await analytic.process(f))); });
  events.push(...analytic.flush());
  assert.ok(n >= CLIP_S * FPS * 2, `decoded only ${n} frames`);
  checkEvents(events);
});

// The permissive default (text detector + CCT v2, every region's formats) on a Latin plate over RTSP.
test('a panned car with a Latin plate over RTSP, default models: one event, AD799KB, direction Left', async (t) => {
  const clip = join(dir, 'pan-latin.mp4');
  buildPanClip(clip, true);
  const server = await startRtspServer({ source: { file: clip } }, t);
  const reader = await buildPlateReader(engine, join(dir, 'models'), DEFAULT_PLATE_MODELS);
  const analytic = createPlateRecognition(reader, { areaName: 'gate', minAgreeing: 3, dedupWindowMs: 60_000 });
  const events: Observation[] = [];
  const n = await readFrames(server.url(), Math.round(CLIP_S * FPS * 1.5), async (f) => { events.push(...(await analytic.process(f))); });
  events.push(...analytic.flush());
  assert.ok(n >= CLIP_S * FPS, `decoded only ${n} frames`);
  assert.equal(events.length, 1, `events: ${events.map((e) => e.primaryText).join(', ')}`);
  const e = events[0]!;
  assert.equal(e.data.plate_number, 'AD799KB');
  assert.equal(e.data.direction, 'Left');
  assert.equal(e.data.label, 'car');
  assert.equal(e.data.plate_type, 'single');
  assert.ok((e.data.reads as number) >= 3, 'voted over several frames');
});
