// The streams layer against real ffmpeg and a real GStreamer RTSP server fed by the street clip.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { silentLogger } from '../daemon/log.js';
import type { Frame } from '../daemon/streams/frame.js';
import { StreamManager } from '../daemon/streams/streamManager.js';
import type { StreamConfigInput, StreamHealth, StreamState } from '../daemon/streams/types.js';
import { mediaPath, ROOT } from './helpers/paths.js';
import { findProcesses, killProcesses } from './helpers/processes.js';
import { startRtspServer } from './helpers/rtspServer.js';

const CLIP = mediaPath('video_street_pedestrians_640x360.mp4');

/** A manager that records every frame and health change; stopped (and checked clean) after the test. */
function harness(t: { after(fn: () => unknown): void }, opts: { ffmpegPath?: string } = {}) {
  const frames = new Map<string, Frame[]>();
  const history: StreamHealth[] = [];
  const m = new StreamManager({
    log: silentLogger(),
    ffmpegPath: opts.ffmpegPath,
    onFrame: (f) => {
      const list = frames.get(f.streamId) ?? [];
      list.push({ ...f, data: f.data.subarray(0, 0) }); // keep the metadata, not megabytes of pixels
      if (list.length === 1) list[0] = f; // but the first frame whole, to check its bytes
      frames.set(f.streamId, list);
    },
    onHealth: (h) => history.push(h),
  });
  t.after(() => m.stop());
  const count = (id: string): number => frames.get(id)?.length ?? 0;
  /** Resolves with the health once `pred` holds, polling; fails with the last health after the deadline. */
  const waitFor = async (id: string, pred: (h: StreamHealth) => boolean, what: string, ms = 20_000): Promise<StreamHealth> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const h = m.get(id);
      if (h && pred(h)) return h;
      if (Date.now() > deadline) assert.fail(`${id}: ${what} not reached in ${ms} ms; health: ${JSON.stringify(h)}`);
      await sleep(50);
    }
  };
  const waitState = (id: string, state: StreamState, ms?: number) => waitFor(id, (h) => h.state === state, `state ${state}`, ms);
  return { m, frames, history, count, waitFor, waitState };
}

/** The clip under a path of this test alone, so process checks never see other tests' ffmpeg. */
function uniqueClip(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-streams-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = join(dir, 'clip.mp4');
  symlinkSync(CLIP, p);
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const fast: Partial<StreamConfigInput> = { stallTimeoutS: 3, startTimeoutS: 10, backoff: { initialMs: 300, maxMs: 2000 } };

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

test('RTSP: frames at the configured fps and size; kill, restart, freeze and thaw are survived; the other stream keeps its rate', async (t) => {
  const faulty = await startRtspServer({ source: { file: CLIP }, mounts: ['/faulty'] }, t);
  const steady = await startRtspServer({ source: { file: CLIP }, mounts: ['/steady'] }, t);
  t.after(() => killProcesses('ffmpeg', `127.0.0.1:${faulty.port}/`));
  const { m, frames, count, history, waitFor, waitState } = harness(t);
  m.add({ id: 'faulty', url: faulty.url('/faulty'), fps: 5, maxWidth: 320, ...fast });
  m.add({ id: 'steady', url: steady.url('/steady'), fps: 5, ...fast });
  m.start();
  await Promise.all([waitState('faulty', 'running'), waitState('steady', 'running')]);

  // Rate and size: 4 s at fps 5 is about 20 frames (generous bounds; the box is shared).
  let a0 = count('faulty');
  await sleep(4000);
  const delivered = count('faulty') - a0;
  assert.ok(delivered >= 12 && delivered <= 28, `faulty delivered ${delivered} frames in 4 s at fps 5`);
  const first = frames.get('faulty')![0]!;
  assert.deepEqual([first.width, first.height, first.data.length], [320, 180, 320 * 180 * 3]);
  assert.ok(first.data.some((b) => b !== first.data[0]), 'a real picture, not a flat buffer');
  const s = m.get('steady')!;
  assert.deepEqual([s.width, s.height], [640, 360]);
  assert.ok(s.fps > 3 && s.fps < 7, `steady measured fps ${s.fps}`);

  // The ffmpeg of this stream exists while it runs (so the check after stop() can fail).
  assert.equal(findProcesses('ffmpeg', `127.0.0.1:${faulty.port}/faulty`).length, 1);

  const steadyBefore = count('steady');
  const faultStart = Date.now();

  // Kill the server: ffmpeg exits 0 (a drop) → backoff with an error; reconnects fail while it is down.
  await faulty.kill();
  const dropped = await waitFor('faulty', (h) => h.state === 'backoff' && h.lastError !== undefined, 'backoff after kill', 10_000);
  assert.match(dropped.lastError!.code, /^VIGIL_ERR_STREAM_(ENDED|UNREACHABLE|REFUSED)$/);
  await waitFor('faulty', (h) => h.lastError?.code === 'VIGIL_ERR_STREAM_REFUSED', 'a refused reconnect', 10_000);
  await faulty.restart();
  const restartedAt = Date.now();
  const back = await waitFor('faulty', (h) => h.state === 'running' && h.since >= restartedAt, 'running after restart', 25_000);
  t.diagnostic(`reconnect after restart: ${back.since - restartedAt} ms`);
  a0 = count('faulty');
  await waitFor('faulty', () => count('faulty') >= a0 + 5, 'frames resume', 10_000);
  assert.ok(back.reconnects >= 1);

  // Freeze: the connection stays open but nothing moves → stalled; thaw → running again.
  faulty.freeze();
  const frozenAt = Date.now();
  const stalled = await waitState('faulty', 'stalled', 15_000);
  assert.equal(stalled.lastError?.code, 'VIGIL_ERR_STREAM_STALLED');
  t.diagnostic(`stall detected after ${stalled.since - frozenAt} ms (stallTimeoutS 3)`);
  faulty.thaw();
  const thawedAt = Date.now();
  const recovered = await waitFor('faulty', (h) => h.state === 'running' && h.since >= thawedAt, 'running after thaw', 40_000);
  t.diagnostic(`recovery after thaw: ${recovered.since - thawedAt} ms`);

  // Meanwhile the healthy stream kept its rate.
  const faultSecs = (Date.now() - faultStart) / 1000;
  const steadyRate = (count('steady') - steadyBefore) / faultSecs;
  t.diagnostic(`steady stream: ${steadyRate.toFixed(2)} fps over the ${faultSecs.toFixed(1)} s fault window`);
  assert.ok(steadyRate > 3.5 && steadyRate < 6.5, `steady stream rate ${steadyRate} during faults`);
  assert.equal(m.get('steady')!.reconnects, 0);

  // Health went through the states a user should see, and status events were published for them.
  const states = history.filter((h) => h.id === 'faulty').map((h) => h.state);
  for (const st of ['starting', 'running', 'backoff', 'stalled'] as const) assert.ok(states.includes(st), `published ${st}: ${states.join(',')}`);

  // stop() leaves no ffmpeg behind.
  await m.stop();
  assert.deepEqual(findProcesses('ffmpeg', `127.0.0.1:${faulty.port}/`), []);
  assert.deepEqual(findProcesses('ffmpeg', `127.0.0.1:${steady.port}/`), []);
});

test('wrong RTSP password: VIGIL_ERR_STREAM_AUTH, a clear message, no password anywhere in health', async (t) => {
  const srv = await startRtspServer({ source: { pattern: 'ball' }, mounts: ['/cam', '/udp'], user: 'viewer', password: 'right-pass' }, t);
  const { m, waitFor } = harness(t);
  m.add({ id: 'auth', url: srv.url('/cam', { user: 'viewer', password: 'Wr0ngPa55' }), ...fast });
  m.add({ id: 'ok', url: srv.url('/cam'), ...fast });
  m.start();
  const h = await waitFor('auth', (x) => x.lastError !== undefined, 'an error');
  assert.equal(h.lastError!.code, 'VIGIL_ERR_STREAM_AUTH');
  assert.match(h.lastError!.message, /refused the credentials/);
  const json = JSON.stringify(m.list());
  assert.doesNotMatch(json, /Wr0ngPa55|right-pass/);
  assert.match(h.url, /^rtsp:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/cam$/);
  await waitFor('ok', (x) => x.state === 'running', 'the right password plays');
  // The same camera over RTP/UDP, on a mount of its own: the wrong-password retries, stopped first,
  // must not race the test server's shared media while it sets up the UDP session.
  await m.remove('auth');
  m.add({ id: 'udp', url: srv.url('/udp'), transport: 'udp', ...fast });
  const udp = await waitFor('udp', (x) => x.state === 'running', 'running over UDP');
  assert.deepEqual([udp.width, udp.height], [640, 360]);
});

test('HTTP MJPEG camera: frames arrive; the server going away is a drop, retried', async (t) => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/cam.mjpg`;
  // ffmpeg itself as a one-client MJPEG-over-HTTP camera for 6 s.
  const cam = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-i', CLIP, '-t', '6', '-q:v', '8', '-s', '320x180', '-f', 'mpjpeg', '-listen', '1', url], { stdio: 'ignore' });
  t.after(() => cam.kill('SIGKILL'));
  await sleep(500);
  const { m, count, waitFor } = harness(t);
  m.add({ id: 'mjpeg', url, fps: 5, ...fast });
  m.start();
  const h = await waitFor('mjpeg', (x) => x.state === 'running', 'running');
  assert.deepEqual([h.width, h.height], [320, 180]);
  await waitFor('mjpeg', () => count('mjpeg') >= 5, '5 frames');
  const dropped = await waitFor('mjpeg', (x) => x.state === 'backoff', 'backoff after the camera left', 15_000);
  assert.ok(dropped.lastError, 'a drop carries an error');
});

test('dead port, nonexistent file, missing ffmpeg: one clear coded error each, and nothing crashes', async (t) => {
  const port = await freePort();
  const { m, waitFor } = harness(t);
  m.add({ id: 'dead', url: `rtsp://127.0.0.1:${port}/nothing`, ...fast });
  m.add({ id: 'nofile', url: '/nonexistent/dir/clip.mp4', ...fast });
  m.start();
  const dead = await waitFor('dead', (h) => h.lastError !== undefined, 'an error');
  assert.equal(dead.lastError!.code, 'VIGIL_ERR_STREAM_REFUSED');
  assert.match(dead.lastError!.message, /connection refused/);
  assert.equal(dead.state === 'backoff' || dead.state === 'starting', true, 'keeps retrying');
  const nofile = await waitFor('nofile', (h) => h.lastError !== undefined, 'an error');
  assert.equal(nofile.lastError!.code, 'VIGIL_ERR_STREAM_NOT_FOUND');
  assert.equal(nofile.lastError!.message, 'File /nonexistent/dir/clip.mp4: no such file; check the path.');

  const noff = harness(t, { ffmpegPath: '/nonexistent/bin/ffmpeg' });
  noff.m.add({ id: 'noff', url: CLIP, ...fast });
  noff.m.start();
  const h = await noff.waitFor('noff', (x) => x.state === 'failed', 'failed');
  assert.equal(h.lastError!.code, 'VIGIL_ERR_FFMPEG_MISSING');
  assert.match(h.lastError!.message, /ffmpeg was not found at \/nonexistent\/bin\/ffmpeg/);
  // Retries back off: after a few seconds the dead port has been tried a handful of times, not hundreds.
  await sleep(3000);
  const r = m.get('dead')!.reconnects;
  assert.ok(r >= 2 && r <= 8, `dead port reconnects in ~3.5 s with 300 ms → 2 s backoff: ${r}`);
});

test('file once, fast: every sampled frame of the clip, then failed with VIGIL_ERR_STREAM_ENDED', async (t) => {
  const { m, count, waitState } = harness(t);
  m.add({ id: 'once', url: CLIP, fps: 2, loop: false, realtime: false });
  m.start();
  const h = await waitState('once', 'failed', 60_000);
  assert.equal(h.lastError!.code, 'VIGIL_ERR_STREAM_ENDED');
  // 23.09 s at 2 fps.
  assert.ok(count('once') >= 45 && count('once') <= 48, `frames ${count('once')}`);
  assert.equal(h.reconnects, 0);
});

test('keyframe-only decoding delivers sparse keyframes, never duplicates', async (t) => {
  const { m, frames, waitState } = harness(t);
  // The clip has a keyframe every ~8.3 s: 3 in 23 s whatever the fps.
  m.add({ id: 'key', url: CLIP, fps: 5, loop: false, realtime: false, keyframesOnly: true });
  m.start();
  await waitState('key', 'failed', 60_000);
  assert.equal(frames.get('key')?.length, 3);
});

test('add/update/remove/setEnabled at run time; bad config is refused with a code', async (t) => {
  const { m, count, waitState, waitFor } = harness(t);
  const clip = uniqueClip(t);
  m.start();
  m.add({ id: 'live', url: clip, fps: 5, ...fast });
  await waitState('live', 'running');
  assert.throws(() => m.add({ id: 'live', url: CLIP }), { code: 'VIGIL_ERR_STREAM_EXISTS' });
  assert.throws(() => m.add({ id: 'x', url: 'ftp://u:pw@h/x' }), (e: Error & { code?: string }) => e.code === 'VIGIL_ERR_STREAM_URL' && !/pw@/.test(e.message));
  await assert.rejects(m.remove('nope'), { code: 'VIGIL_ERR_STREAM_UNKNOWN' });
  await m.setEnabled('live', false);
  assert.equal(m.get('live')!.state, 'disabled');
  const n = count('live');
  await sleep(1000);
  assert.equal(count('live'), n, 'a disabled stream delivers nothing');
  assert.deepEqual(findProcesses('ffmpeg', clip), []);
  await m.setEnabled('live', true);
  await waitState('live', 'running');
  assert.equal(findProcesses('ffmpeg', clip).length, 1);
  await m.update({ id: 'live', url: clip, fps: 5, maxWidth: 160, ...fast });
  const small = await waitFor('live', (h) => h.state === 'running' && h.width === 160, 'running at 160 px wide');
  assert.equal(small.height, 90);
  await m.remove('live');
  assert.equal(m.get('live'), undefined);
  assert.deepEqual(findProcesses('ffmpeg', clip), []);
});

// A daemon-like child process: SIGTERM with stop(), and SIGTERM that exits without stop() (safety net).
for (const mode of ['stop', 'exit-without-stop'] as const) {
  test(`daemon SIGTERM (${mode}) leaves no ffmpeg behind`, async (t) => {
    const clip = uniqueClip(t);
    t.after(() => killProcesses('ffmpeg', clip));
    const script = join(mkdtempSync(join(tmpdir(), 'vigil-streams-child-')), 'child.mts');
    t.after(() => rmSync(resolve(script, '..'), { recursive: true, force: true }));
    const manager = pathToFileURL(join(ROOT, 'daemon/streams/streamManager.ts')).href;
    const logger = pathToFileURL(join(ROOT, 'daemon/log.ts')).href;
    writeFileSync(script, `
      import { StreamManager } from ${JSON.stringify(manager)};
      import { silentLogger } from ${JSON.stringify(logger)};
      let said = false;
      const m = new StreamManager({ log: silentLogger(), onFrame: () => { if (!said) { said = true; console.log('RUNNING'); } }, onHealth: () => {} });
      m.add({ id: 'a', url: process.argv[2], fps: 1 });
      m.start();
      process.on('SIGTERM', async () => { if (process.argv[3] === 'stop') await m.stop(); process.exit(0); });
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', script, clip, mode], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error('child never delivered a frame')), 30_000);
      child.stdout.on('data', (d: Buffer) => d.toString().includes('RUNNING') && (clearTimeout(timer), res()));
    });
    assert.equal(findProcesses('ffmpeg', clip).length, 1);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    // Checked at once: at fps 1 an orphaned ffmpeg would only die of EPIPE up to a second later.
    await sleep(100);
    assert.deepEqual(findProcesses('ffmpeg', clip), []);
  });
}
