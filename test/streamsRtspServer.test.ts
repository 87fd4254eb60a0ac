// The test RTSP server helper itself: serves the clip, loops it, enforces auth, survives kill/restart.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { mediaPath } from './helpers/paths.js';
import { startRtspServer } from './helpers/rtspServer.js';

/** Runs ffmpeg against a URL; resolves with its exit code, decoded frame count and stderr. */
function probe(url: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; frames: number; stderr: string }> {
  return new Promise((res) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-rtsp_transport', 'tcp', '-timeout', '5000000', '-i', url, ...args, '-f', 'null', '-'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const counts = [...stderr.matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1]));
      res({ code, frames: counts.at(-1) ?? 0, stderr });
    });
  });
}

test('serves the street clip on two mounts', async (t) => {
  const srv = await startRtspServer({ source: { file: mediaPath('video_street_pedestrians_640x360.mp4') }, mounts: ['/a', '/b'] }, t);
  const [a, b] = await Promise.all([probe(srv.url('/a'), ['-frames:v', '50']), probe(srv.url('/b'), ['-frames:v', '50'])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.frames, 50);
  assert.equal(b.frames, 50);
  assert.match(a.stderr, /640x360/);
});

test('wrong password is refused with 401, right one plays', async (t) => {
  const srv = await startRtspServer({ source: { pattern: 'ball' }, user: 'alice', password: 's3cret' }, t);
  const bad = await probe(srv.url(undefined, { user: 'alice', password: 'nope' }), ['-frames:v', '5']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /401/);
  const good = await probe(srv.url(), ['-frames:v', '5']);
  assert.equal(good.code, 0, good.stderr);
});

test('kill drops the player; restart serves again on the same port', async (t) => {
  const srv = await startRtspServer({ source: { pattern: 'smpte' } }, t);
  const port = srv.port;
  const playing = probe(srv.url(), ['-t', '60']);
  await new Promise((r) => setTimeout(r, 2000));
  await srv.kill();
  const ended = await playing;
  assert.ok(ended.frames > 0, 'frames before the kill');
  await srv.restart();
  assert.equal(srv.port, port);
  const again = await probe(srv.url(), ['-frames:v', '10']);
  assert.equal(again.code, 0, again.stderr);
});
