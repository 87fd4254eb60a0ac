// Sampling a camera at a few fps, ffmpeg skips the frames nothing refers to (most B-frames). The
// frames the daemon gets must still be exact pictures of the stream: every one bit-identical to a
// frame of a full decode, at the same rate as before. The street clip has a B-pyramid (some
// B-frames are references), where skipping every B-frame instead would corrupt later frames.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { inputArgs, outputArgs } from '../daemon/streams/ffmpegArgs.js';
import { withStreamDefaults } from '../daemon/streams/types.js';
import { mediaPath } from './helpers/paths.js';

const FRAME = 640 * 360 * 3;

/** MD5 of each rgb24 frame ffmpeg writes to stdout with these arguments. */
function frameHashes(args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ff = spawn('ffmpeg', ['-v', 'error', ...args, 'pipe:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const hashes: string[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let err = '';
    ff.stdout.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= FRAME) {
        hashes.push(createHash('md5').update(pending.subarray(0, FRAME)).digest('hex'));
        pending = pending.subarray(FRAME);
      }
    });
    ff.stderr.on('data', (d: Buffer) => (err += d.toString()));
    ff.on('error', reject);
    ff.on('close', (code) => (code === 0 ? resolve(hashes) : reject(new Error(`ffmpeg exited ${code}: ${err}`))));
  });
}

test('a 5 fps stream decodes reference frames only, and every frame it delivers is exact', async () => {
  const clip = mediaPath('video_street_pedestrians_640x360.mp4');
  const cfg = withStreamDefaults({ id: 'street', url: clip, fps: 5, loop: false, realtime: false });
  const args = inputArgs(cfg);
  assert.ok(args.includes('noref'), 'the daemon asks ffmpeg to skip non-reference frames');
  const sampled = await frameHashes([...args, '-i', clip, ...outputArgs(cfg)]);
  const everyFrame = await frameHashes(['-i', clip, '-an', '-pix_fmt', 'rgb24', '-f', 'rawvideo']);
  const allDecoded = await frameHashes([...args.filter((a) => a !== '-skip_frame' && a !== 'noref'), '-i', clip, ...outputArgs(cfg)]);
  const exact = new Set(everyFrame);
  assert.ok(everyFrame.length > 600, `the clip decodes to its ~690 frames: ${everyFrame.length}`);
  assert.equal(sampled.length, allDecoded.length, 'the same number of frames as decoding everything');
  const corrupt = sampled.filter((h) => !exact.has(h)).length;
  assert.equal(corrupt, 0, `${corrupt} of ${sampled.length} delivered frames are not a frame of the stream`);
});
