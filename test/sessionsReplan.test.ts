// Cameras added, removed, disabled or enabled while the daemon runs (API, CLI) re-plan the sessions of the model they
// share: one camera keeps one session with both threads; a second one gets the model two
// single-thread sessions (on this budget), and disabling or removing it goes back. Frames keep being analysed.
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { startDaemon, waitFor } from './helpers/daemon.js';
import { mediaPath, modelMirror } from './helpers/paths.js';

const CLIP = mediaPath('video_street_pedestrians_640x360.mp4');

interface Status {
  pipeline: { streamId: string; framesAnalysed: number; errors: number }[];
  models: { model: string; sessionBatches: number[]; errors: number }[];
}

test('a camera added through the API gives the shared model a session of its own; removing it goes back, frames flowing throughout', async (t) => {
  const stream = (id: string) => ({ id, url: CLIP, fps: 5, loop: true, realtime: true, analytics: ['people-counting'] });
  const d = await startDaemon({
    config: {
      // A fixed budget of two threads, shared out by the daemon (no fixed per-session count).
      models: { mirror: modelMirror(), intra_op_threads: 0 },
      inference: { threads: 2 },
      sources: { file_dirs: [dirname(CLIP)] },
      streams: [stream('a')],
    },
  }, t);
  const status = async () => (await d.api<Status>('GET', '/api/status')).json;
  const yolox = async () => (await status()).models.find((m) => m.model === 'yolox_nano');
  const analysed = async (id: string) => (await status()).pipeline.find((p) => p.streamId === id)?.framesAnalysed ?? 0;
  // The re-plans so far, from the log.
  const toOne = /model yolox_nano now runs 1 session\(s\) of 2 thread\(s\) \(was 2 of 1\)/g;
  const toTwo = /model yolox_nano now runs 2 session\(s\) of 1 thread\(s\) \(was 1 of 2\)/g;
  const times = (re: RegExp) => d.logs().match(re)?.length ?? 0;
  await waitFor('the first camera analysed', async () => (await analysed('a')) > 0, 120_000);
  assert.match(d.logs(), /"sessions":1,[^\n]*"msg":"model yolox_nano loaded on cpu"/, 'one camera: one session');
  assert.equal((await yolox())!.sessionBatches.length, 1);

  const added = await d.api('POST', '/api/streams', stream('b'));
  assert.equal(added.status, 201, JSON.stringify(added.json));
  await waitFor('two sessions', () => times(toTwo) === 1, 30_000);
  const b0 = await analysed('b');
  // Which session runs a frame depends on overlap (an idle one takes it; two cameras at fps 5
  // rarely overlap): the engine's tests check that both share the work under load.
  await waitFor('the sessions take frames from both cameras', async () => {
    const m = await yolox();
    return m!.sessionBatches.length === 2 && m!.sessionBatches.reduce((a, n) => a + n, 0) > 6 && (await analysed('b')) > b0 + 3;
  }, 30_000);

  const shown = await d.cli(['status']);
  assert.match(shown.stdout, /yolox_nano\s+cpu\s+2\s/, `vigil status shows the sessions: ${shown.stdout}${shown.stderr}`);

  // A disabled camera no longer counts; enabling it counts again.
  assert.equal((await d.api('POST', '/api/streams/b/disable')).status, 200);
  await waitFor('one session while the second camera is disabled', () => times(toOne) === 1, 30_000);
  assert.equal((await d.api('POST', '/api/streams/b/enable')).status, 200);
  await waitFor('two sessions once it is enabled again', () => times(toTwo) === 2, 30_000);

  await d.api('DELETE', '/api/streams/b');
  await waitFor('back to one session', () => times(toOne) === 2, 30_000);
  const a0 = await analysed('a');
  await waitFor('the first camera still analysed', async () => (await analysed('a')) > a0 + 5, 30_000);
  const m = (await yolox())!;
  assert.equal(m.sessionBatches.length, 1);
  assert.equal(m.errors, 0, 'no run failed across the swaps');
  const a = (await status()).pipeline.find((p) => p.streamId === 'a')!;
  assert.equal(a.errors, 0, 'no frame of the first camera failed across the swaps');
  assert.doesNotMatch(d.logs(), /new thread plan not applied|analytic failed on a frame/, 'no frame was turned away by a swap');
});
