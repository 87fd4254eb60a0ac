import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createObjectDetector, type ObjectDetector } from '../daemon/detectors/objectDetector.js';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import type { Frame } from '../daemon/streams/frame.js';
import { modelMirror } from './helpers/paths.js';

/** The street clip's nominal frame interval at the sampling rate, so timestamps follow the video, not the wall clock. */
export const CLIP_START_MS = 1_700_000_000_000;

/** Decodes a video with ffmpeg into rgb24 frames at `fps`, stamped with video time (ms) from CLIP_START_MS. */
export async function* decodeFrames(path: string, fps: number, width: number, height: number, streamId = 'street'): AsyncGenerator<Frame> {
  const child = spawn('ffmpeg', ['-v', 'error', '-i', path, '-vf', `fps=${fps}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const size = width * height * 3;
  let buf: Buffer = Buffer.alloc(0);
  let index = 0;
  try {
    for await (const chunk of child.stdout) {
      buf = buf.length ? Buffer.concat([buf, chunk as Buffer]) : (chunk as Buffer);
      while (buf.length >= size) {
        const data = Buffer.from(buf.subarray(0, size));
        buf = buf.subarray(size);
        yield { streamId, index, timestamp: CLIP_START_MS + Math.round((index * 1000) / fps), width, height, data };
        index++;
      }
    }
  } finally {
    child.kill();
  }
}

/** A real inference engine over the model mirror, one intra-op thread (the box is shared). */
export function testEngine(): InferenceEngine {
  return new InferenceEngine({
    log: silentLogger(), dataDir: mkdtempSync(join(tmpdir(), 'vigil-count-')), mirrorDir: modelMirror(),
    providers: ['cpu'], threads: { intraOp: 1, interOp: 1 },
  });
}

/** yolox_nano for the given classes, low threshold so ByteTrack's second pass has weak boxes. */
export async function cocoDetector(engine: InferenceEngine, classes: string[], scoreThreshold = 0.1): Promise<ObjectDetector> {
  return createObjectDetector(await engine.forRole('person-detector'), { scoreThreshold, classes });
}
