import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VigilError } from '../../errors.js';
import { silentLogger } from '../../log.js';
import { createFaceRecognitionAnalytic } from './faceRecognitionAnalytic.js';
import { DEFAULT_FACE_CONFIG, type FaceRecognizer } from './faceRecognizer.js';

const frame = (index: number) => ({ streamId: 'lobby', index, timestamp: 1_000 + index * 200, width: 64, height: 64, data: Buffer.alloc(64 * 64 * 3) });

test('a frame the model queue drops reaches the pipeline as a drop; any other failure skips the frame', async () => {
  const failures = [new VigilError('VIGIL_ERR_INFERENCE_DROPPED', 'the model queue is full'), new Error('a broken frame')];
  const rec = {
    config: DEFAULT_FACE_CONFIG,
    async analyze() {
      throw failures.shift();
    },
  } as unknown as FaceRecognizer;
  const fr = createFaceRecognitionAnalytic(rec, { streamId: 'lobby', log: silentLogger() });
  // The pipeline counts it as dropped, not as analysed with no face in it.
  await assert.rejects(fr.process(frame(0) as never), { code: 'VIGIL_ERR_INFERENCE_DROPPED' });
  assert.deepEqual(await fr.process(frame(1) as never), []);
});
