// "Connected but no frames": the camera behind an RTSP server stops while the server keeps the
// session (RTCP still flows, so ffmpeg's socket timeout never fires and ffmpeg stays connected).
// The stream must not stay `running` at fps 0: it turns `stalled` within the stall timeout,
// reconnects, never shows `running` while no frame comes (a reconnect that gets no first frame
// ends at the start timeout), and runs again once frames return.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon, waitFor, type DaemonProcess } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';
import { startRtspServer } from './helpers/rtspServer.js';

const STALL_S = 4;
const START_S = 6;

interface Health {
  id: string;
  state: string;
  fps: number;
  frames: number;
  reconnects: number;
  lastError?: { code: string; message: string };
}

async function health(d: DaemonProcess): Promise<Health> {
  const h = (await d.api<{ streams: Health[] }>('GET', '/api/status')).json.streams.find((s) => s.id === 'lot');
  assert.ok(h, 'stream lot in the status API');
  return h;
}

test('frames stop while ffmpeg stays connected: stalled within the stall timeout, fps 0, never running until frames return', { timeout: 150_000 }, async (t) => {
  const cam = await startRtspServer({ source: { file: mediaPath('video_street_pedestrians_640x360.mp4') } }, t);
  const d = await startDaemon(
    {
      config: {
        streams: [{ id: 'lot', url: cam.url(), fps: 5, stall_timeout_s: STALL_S, start_timeout_s: START_S, backoff_initial_ms: 300, backoff_max_ms: 1000, analytics: [] }],
      },
    },
    t,
  );
  await waitFor('lot running with frames', async () => {
    const h = await health(d);
    return h.state === 'running' && h.fps > 0;
  }, 60_000);

  cam.pausePublishers();
  // Deadline: the stall timeout plus room for the last frames in flight and a busy box.
  const stalled = await waitFor('lot no longer running', async () => {
    const h = await health(d);
    return h.state !== 'running' ? { h } : undefined;
  }, STALL_S * 1000 + 15_000, 250);
  assert.equal(stalled.h.lastError?.code, 'VIGIL_ERR_STREAM_STALLED', `stalled, not some other failure: ${JSON.stringify(stalled.h)}`);
  assert.equal(stalled.h.fps, 0, 'no fps shown for a stream that is not running');

  // While no frame comes, every reconnect fails at its start timeout; the stream never looks alive.
  const seen = new Set<string>();
  const reconnectsAtStall = stalled.h.reconnects;
  const watchUntil = Date.now() + (START_S + 4) * 1000 + 3000;
  while (Date.now() < watchUntil) {
    const h = await health(d);
    seen.add(h.state);
    assert.notEqual(h.state, 'running', `running with no frame coming: ${JSON.stringify(h)}`);
    assert.equal(h.fps, 0, `fps while no frame comes: ${JSON.stringify(h)}`);
    await sleep(250);
  }
  const during = await health(d);
  assert.ok(during.reconnects > reconnectsAtStall, `reconnected while paused (states seen: ${[...seen].join(', ')})`);
  assert.ok(seen.has('starting') && seen.has('backoff'), `retried: states seen ${[...seen].join(', ')}`);

  cam.resumePublishers();
  await waitFor('lot running again', async () => {
    const h = await health(d);
    return h.state === 'running' && h.fps > 0;
  }, 60_000);
});
