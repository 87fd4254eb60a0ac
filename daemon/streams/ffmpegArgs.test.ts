import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVigilError } from '../errors.js';
import { hwaccelArgs, inputArgs, outputArgs, parseSource, validateStreamConfig } from './ffmpegArgs.js';
import { withStreamDefaults } from './types.js';

test('RTSP: tcp by default, udp on request, a socket timeout always', () => {
  const tcp = inputArgs(withStreamDefaults({ id: 'a', url: 'rtsp://cam/x', stallTimeoutS: 7 }));
  assert.deepEqual(tcp.slice(0, 4), ['-rtsp_transport', 'tcp', '-timeout', '7000000']);
  const udp = inputArgs(withStreamDefaults({ id: 'a', url: 'rtsp://cam/x', transport: 'udp' }));
  assert.equal(udp[udp.indexOf('-rtsp_transport') + 1], 'udp');
});

test('files: -re and -stream_loop -1 when looped; once without the loop', () => {
  const looped = inputArgs(withStreamDefaults({ id: 'f', url: '/media/clip.mp4' }));
  assert.ok(looped.includes('-re'));
  assert.deepEqual(looped.slice(looped.indexOf('-stream_loop'), looped.indexOf('-stream_loop') + 2), ['-stream_loop', '-1']);
  const once = inputArgs(withStreamDefaults({ id: 'f', url: 'file:///media/clip.mp4', loop: false }));
  assert.ok(!once.includes('-stream_loop'));
  assert.ok(!once.includes('-rtsp_transport'));
});

test('HTTP/MJPEG gets an I/O timeout, not RTSP options', () => {
  const a = inputArgs(withStreamDefaults({ id: 'h', url: 'http://cam/video.mjpg' }));
  assert.ok(a.includes('-rw_timeout'));
  assert.ok(!a.includes('-rtsp_transport'));
});

test('decoding without frame threads (each holds back a frame); input_args come later and can turn them back on', () => {
  const a = inputArgs(withStreamDefaults({ id: 'a', url: 'rtsp://cam/x', inputArgs: ['-thread_type', 'frame'] }));
  const i = a.indexOf('-thread_type');
  assert.equal(a[i + 1], 'slice');
  assert.ok(a.lastIndexOf('-thread_type') > i, 'the user value is last, and ffmpeg takes the last');
});

test('sampling at most 6 fps skips non-reference frames; faster sampling and keyframe-only do not', () => {
  const at = (fps: number, keyframesOnly = false) => inputArgs(withStreamDefaults({ id: 'a', url: 'rtsp://cam/x', fps, keyframesOnly }));
  for (const fps of [1, 5, 6]) assert.deepEqual(at(fps).slice(-2), ['-skip_frame', 'noref'], `fps ${fps}`);
  for (const fps of [8, 10, 25]) assert.ok(!at(fps).includes('-skip_frame'), `fps ${fps}`);
  assert.deepEqual(at(5, true).filter((a) => a === '-skip_frame').length, 1);
  assert.deepEqual(at(5, true).slice(-2), ['-skip_frame', 'nokey']);
  const user = inputArgs(withStreamDefaults({ id: 'a', url: 'rtsp://cam/x', fps: 5, inputArgs: ['-skip_frame', 'default'] }));
  assert.ok(user.lastIndexOf('-skip_frame') > user.indexOf('-skip_frame'), 'input_args can decode every frame again');
});

test('fps, keyframe-only, downscale and rgb24 rawvideo output', () => {
  const out = outputArgs(withStreamDefaults({ id: 'a', url: 'rtsp://cam/x', fps: 2, maxWidth: 640 }));
  const vf = out[out.indexOf('-vf') + 1]!;
  assert.match(vf, /^fps=2,scale=w='min\(iw,640\)':h=-2$/);
  assert.deepEqual(out.slice(-4), ['-pix_fmt', 'rgb24', '-f', 'rawvideo']);
  const key = withStreamDefaults({ id: 'a', url: 'rtsp://cam/x', fps: 1, keyframesOnly: true });
  assert.deepEqual(inputArgs(key).slice(-2), ['-skip_frame', 'nokey']);
  assert.match(outputArgs(key).join(' '), /select=.*-vsync vfr/);
});

test('hardware-decode presets pass through to ffmpeg', () => {
  assert.deepEqual(hwaccelArgs('cuda'), ['-hwaccel', 'cuda']);
  assert.deepEqual(hwaccelArgs('vaapi'), ['-hwaccel', 'vaapi', '-hwaccel_device', '/dev/dri/renderD128']);
  assert.deepEqual(hwaccelArgs('jetson'), ['-c:v', 'h264_nvmpi']);
  assert.deepEqual(hwaccelArgs('none'), []);
  const a = inputArgs(withStreamDefaults({ id: 'a', url: 'rtsp://cam/x', hwaccel: 'cuda', inputArgs: ['-probesize', '32'] }));
  assert.deepEqual(a.slice(-4), ['-hwaccel', 'cuda', '-probesize', '32']);
});

test('bad URLs give VIGIL_ERR_STREAM_URL with the password masked', () => {
  for (const url of ['', 'gopher://u:hunter2@cam/x', 'rtsp://u:hunter2@/x']) {
    assert.throws(() => parseSource(url), (e: unknown) => {
      assert.ok(isVigilError(e));
      assert.equal(e.code, 'VIGIL_ERR_STREAM_URL');
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
  }
  assert.equal(parseSource('rtsps://cam:322/x').kind, 'rtsp');
  assert.equal(parseSource('clip.mp4').kind, 'file');
});

test('config validation names the field', () => {
  assert.throws(() => validateStreamConfig(withStreamDefaults({ id: 'a', url: 'rtsp://cam/x', fps: 0 })), /fps/);
  assert.throws(() => validateStreamConfig(withStreamDefaults({ id: 'bad id!', url: 'rtsp://cam/x' })), /id/);
  assert.throws(() => validateStreamConfig(withStreamDefaults({ id: 'a', url: 'rtsp://cam/x', backoff: { initialMs: 5000, maxMs: 1000 } })), /backoff/);
  validateStreamConfig(withStreamDefaults({ id: 'cam-1', url: 'rtsp://cam/x' }));
});
