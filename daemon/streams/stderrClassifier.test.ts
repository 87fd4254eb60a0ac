import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyOutcome, lastMeaningfulLine, OutputSizeParser, type RunOutcome } from './stderrClassifier.js';

const base: RunOutcome = { kind: 'rtsp', url: 'rtsp://admin:hunter2@10.0.0.5/live', exitCode: 1, signal: null, stderr: [], hadFrames: false, loop: true };

// Lines as ffmpeg 5.1 prints them (credentials included, as ffmpeg does).
const cases: Array<[string[], string]> = [
  [['[rtsp @ 0x55] method DESCRIBE failed: 401 Unauthorized', 'rtsp://admin:hunter2@10.0.0.5/live: Server returned 401 Unauthorized (authorization failed)'], 'VIGIL_ERR_STREAM_AUTH'],
  [['[rtsp @ 0x55] method DESCRIBE failed: 404 Not Found', 'rtsp://admin:hunter2@10.0.0.5/live: Server returned 404 Not Found'], 'VIGIL_ERR_STREAM_NOT_FOUND'],
  [['[tcp @ 0x56] Connection to tcp://10.0.0.5:554?timeout=0 failed: Connection refused', 'rtsp://admin:hunter2@10.0.0.5/live: Connection refused'], 'VIGIL_ERR_STREAM_UNREACHABLE'],
  [['rtsp://admin:hunter2@10.0.0.5/live: Connection timed out'], 'VIGIL_ERR_STREAM_UNREACHABLE'],
  [['rtsp://admin:hunter2@nohost.invalid/live: Failed to resolve hostname nohost.invalid: Name or service not known'], 'VIGIL_ERR_STREAM_UNREACHABLE'],
  [['rtsp://admin:hunter2@10.0.0.5/live: Invalid data found when processing input'], 'VIGIL_ERR_STREAM_DECODE'],
];

test('known stderr causes map to their codes, with no password in the message', () => {
  for (const [stderr, code] of cases) {
    const c = classifyOutcome({ ...base, stderr });
    assert.equal(c.code, code, stderr.join('\n'));
    assert.doesNotMatch(c.message, /hunter2/);
    assert.match(c.message, /\*\*\*:\*\*\*@10\.0\.0\.5|nohost/);
    assert.equal(c.permanent, false);
  }
});

test('missing file, missing ffmpeg, ended file, dropped live stream', () => {
  const file = classifyOutcome({ ...base, kind: 'file', url: '/x/clip.mp4', stderr: ['/x/clip.mp4: No such file or directory'] });
  assert.equal(file.code, 'VIGIL_ERR_STREAM_NOT_FOUND');
  assert.equal(file.message, 'File /x/clip.mp4: no such file.');
  const enoent = Object.assign(new Error('spawn /nope/ffmpeg ENOENT'), { code: 'ENOENT' });
  const missing = classifyOutcome({ ...base, spawnError: enoent, exitCode: null });
  assert.equal(missing.code, 'VIGIL_ERR_FFMPEG_MISSING');
  assert.equal(missing.permanent, true);
  const ended = classifyOutcome({ ...base, kind: 'file', url: '/x/clip.mp4', exitCode: 0, loop: false, hadFrames: true });
  assert.deepEqual([ended.code, ended.permanent], ['VIGIL_ERR_STREAM_ENDED', true]);
  // A killed RTSP server makes ffmpeg exit 0 silently: a drop, to retry.
  const drop = classifyOutcome({ ...base, exitCode: 0, hadFrames: true });
  assert.deepEqual([drop.code, drop.permanent], ['VIGIL_ERR_STREAM_ENDED', false]);
});

test('an unknown failure quotes the last meaningful stderr line, masked', () => {
  const c = classifyOutcome({ ...base, exitCode: 1, hadFrames: true, stderr: ['Output #0, rawvideo, to pipe:1:', 'weird thing at rtsp://admin:hunter2@10.0.0.5/live.', '  Metadata:'] });
  assert.equal(c.code, 'VIGIL_ERR_STREAM_DECODE');
  assert.match(c.message, /exited with code 1: weird thing at rtsp:\/\/\*\*\*:\*\*\*@10\.0\.0\.5\/live\.$/);
  assert.equal(lastMeaningfulLine(['frame=  10 fps=5', '  Stream #0:0']), undefined);
});

test('output size is read from the Output #0 rawvideo stream line only', () => {
  const p = new OutputSizeParser();
  assert.equal(p.feed('  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 1920x1080, 608 kb/s'), undefined);
  assert.equal(p.feed("Output #0, rawvideo, to 'pipe:1':"), undefined);
  const s = p.feed('  Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, gbr/unknown/unknown, progressive), 320x180, q=2-31, 41472 kb/s, 30 fps');
  assert.deepEqual(s, { width: 320, height: 180 });
});
