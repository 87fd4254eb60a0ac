// "Connected but no frames": the camera behind an RTSP server stops while the server keeps the
// session (RTCP still flows, so ffmpeg's socket timeout never fires and ffmpeg stays connected).
// The stream must not stay `running` at fps 0: it turns `stalled` within the stall timeout,
// reconnects, never shows `running` while no frame comes (a reconnect that gets no first frame
// ends at the start timeout), and runs again once frames return.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon, waitFor, type DaemonProcess } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';
import { startRtspServer } from './helpers/rtspServer.js';

const STALL_S = 4;
const START_S = 6;

interface Health {
  id: string;
  state: string;
  since: number;
  nextRetryAt?: number;
  fps: number;
  frames: number;
  reconnects: number;
  lastError?: { code: string; message: string };
}

async function health(d: DaemonProcess, id = 'lot'): Promise<Health> {
  const h = (await d.api<{ streams: Health[] }>('GET', '/api/status')).json.streams.find((s) => s.id === id);
  assert.ok(h, `stream ${id} in the status API`);
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

test('a camera that sends a burst of frames on each connection and then nothing: reconnects back off instead of retrying at once as if it were healthy', { timeout: 150_000 }, async (t) => {
  // Some cameras answer every new session with a keyframe or two and then freeze. Each run
  // has frames, so a supervisor that trusts the first frame resets its backoff every time and
  // the camera spends its life `running` at fps 0 between stalls. The backoff may only start
  // over once a run has delivered frames for a whole stall timeout.
  const dir = mkdtempSync(join(tmpdir(), 'vigil-burst-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const head = join(dir, 'head.ts');
  execFileSync('ffmpeg', ['-v', 'error', '-i', mediaPath('video_street_pedestrians_640x360.mp4'), '-t', '2', '-c', 'copy', '-f', 'mpegts', head]);
  const bytes = readFileSync(head);
  const held = new Set<ServerResponse>();
  const server = createServer((_req, res) => {
    // Two seconds of video at once, then the connection stays open with nothing more.
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    res.write(bytes);
    held.add(res);
    res.on('close', () => held.delete(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const res of held) res.destroy();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cam.ts`;
  const d = await startDaemon(
    { config: { streams: [{ id: 'burst', url, fps: 5, stall_timeout_s: 2, start_timeout_s: 8, backoff_initial_ms: 400, backoff_max_ms: 6000, analytics: [] }] } },
    t,
  );
  // The delay of each backoff and the frames so far, read from the status API (each backoff has its own `since`).
  const backoffs = new Map<number, { delay: number; frames: number }>();
  await waitFor('four backoffs', async () => {
    const h = await health(d, 'burst');
    if (h.state === 'backoff' && h.nextRetryAt !== undefined && !backoffs.has(h.since)) backoffs.set(h.since, { delay: h.nextRetryAt - h.since, frames: h.frames });
    return backoffs.size >= 4;
  }, 120_000, 100);
  const seen = [...backoffs.values()];
  const [first, , , fourth] = seen.map((b) => b.delay) as [number, number, number, number];
  t.diagnostic(`backoff delays ${seen.map((b) => b.delay).join(', ')} ms; frames at each ${seen.map((b) => b.frames).join(', ')}`);
  // The premise: the later connections delivered frames too (a burst each, not failed starts).
  assert.ok(seen[0]!.frames > 0 && seen[3]!.frames > seen[0]!.frames, `frames came on each connection: ${seen.map((b) => b.frames).join(', ')}`);
  // Doubling from 400 ms (±20 % jitter): the fourth is ~3.2 s. Reset on every first frame, all stay ~0.4 s.
  assert.ok(fourth >= 3 * first && fourth >= 2000, `the backoff grows while no run stays healthy: ${seen.map((b) => b.delay).join(', ')} ms`);
});
