// Frames reach the daemon over a private unix socket, read straight into the frame buffers
// (no per-chunk allocation); stdout stays the fallback. Real ffmpeg on the street clip.
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../daemon/log.js';
import { FRAME_SOCKET_ACCEPT_MS, FfmpegRun, frameSocketArgs, resolveExecutable } from '../daemon/streams/ffmpegProcess.js';
import { StreamManager } from '../daemon/streams/streamManager.js';
import { mediaPath } from './helpers/paths.js';

const CLIP = mediaPath('video_street_pedestrians_640x360.mp4');
const FRAMES = 12;

/** Every frame of one run of the first FRAMES frames of the clip at 320 px, as copies, and how it ended. */
async function grab(frameSocket: boolean, ffmpegPath?: string): Promise<{ frames: Buffer[]; exitCode: number | null; args: string; dirAtFirstFrame?: boolean }> {
  const frames: Buffer[] = [];
  let args = '';
  let dirAtFirstFrame: boolean | undefined;
  const run = new FfmpegRun({
    ffmpegPath,
    frameSocket,
    input: CLIP,
    inputArgs: ['-hide_banner', '-nostats', '-loglevel', 'info'],
    outputArgs: ['-an', '-vf', 'scale=320:-2', '-frames:v', String(FRAMES), '-pix_fmt', 'rgb24', '-f', 'rawvideo'],
    onFrame: (data, w, h, lease) => {
      assert.equal(data.length, w * h * 3);
      const sock = /'unix:(.+)'/.exec(args)?.[1];
      if (frames.length === 0 && sock) dirAtFirstFrame = existsSync(dirname(sock));
      frames.push(Buffer.from(data));
      lease?.release();
    },
    onStderr: (line) => { if (line.startsWith('Output #0')) args = line; },
  });
  const exit = await run.done;
  return { frames, exitCode: exit.exitCode, args, dirAtFirstFrame };
}

const socketDirs = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('vigil-frames-'));

test('frames over the socket are byte for byte the frames of stdout, all of them, and the socket folder is removed once connected', async () => {
  const before = new Set(socketDirs());
  const viaSocket = await grab(true);
  const viaStdout = await grab(false);
  assert.match(viaSocket.args, /to 'unix:/, 'the socket run wrote to a unix socket');
  assert.match(viaStdout.args, /to 'pipe:/, 'the other run wrote to stdout');
  assert.equal(viaSocket.exitCode, 0);
  // The last frames are read even though ffmpeg has exited by the time they are.
  assert.equal(viaSocket.frames.length, FRAMES);
  assert.equal(viaStdout.frames.length, FRAMES);
  viaSocket.frames.forEach((f, i) => assert.ok(f.equals(viaStdout.frames[i]!), `frame ${i} differs`));
  assert.equal(viaSocket.dirAtFirstFrame, false, 'the socket folder is gone once connected: a kill -9 later leaves nothing');
  assert.deepEqual(socketDirs().filter((n) => !before.has(n)), [], 'no socket folder left behind');
});

test('an ffmpeg that cannot serve the socket (built without network protocols): the stream still runs, over stdout', async (t) => {
  const real = resolveExecutable('ffmpeg');
  assert.ok(real, 'ffmpeg on PATH');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-nounix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Turns the unix: output into a protocol this ffmpeg does not know, as such a build would.
  const wrapper = join(dir, 'ffmpeg');
  writeFileSync(wrapper, `#!/bin/bash\nargs=(); for a in "$@"; do args+=("\${a/#unix:/nounix:}"); done\nexec ${real} "\${args[@]}"\n`);
  chmodSync(wrapper, 0o755);
  let frames = 0;
  const m = new StreamManager({ log: silentLogger(), ffmpegPath: wrapper, onFrame: () => frames++, onHealth: () => {} });
  t.after(() => m.stop());
  m.add({ id: 'cam', url: CLIP, fps: 5, stallTimeoutS: 3, startTimeoutS: 10, backoff: { initialMs: 200, maxMs: 1000 } });
  m.start();
  const deadline = Date.now() + 20_000;
  while (frames < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(frames >= 10, `frames arrived over stdout after the refused socket: ${frames}; ${JSON.stringify(m.get('cam'))}`);
  const h = m.get('cam')!;
  assert.equal(h.state, 'running');
  assert.ok(h.reconnects <= 1, `one failed run at most: ${h.reconnects}`);
});

test('an ffmpeg whose daemon died before connecting gives up by itself instead of holding the camera for ever', async (t) => {
  // The daemon's own frame socket options; nobody connects, as after a kill -9 during start-up.
  const dir = mkdtempSync(join(tmpdir(), 'vigil-orphan-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ff = spawn('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=5', '-pix_fmt', 'rgb24', '-f', 'rawvideo', ...frameSocketArgs(), `unix:${join(dir, 'f.sock')}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => ff.kill('SIGKILL'));
  let err = '';
  ff.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const giveUp = setTimeout(() => resolve(null), FRAME_SOCKET_ACCEPT_MS + 20_000);
    ff.once('exit', (c) => {
      clearTimeout(giveUp);
      resolve(c);
    });
  });
  assert.notEqual(code, null, 'ffmpeg still waits for a reader');
  assert.notEqual(code, 0);
  assert.match(err, /timed out/i);
});
