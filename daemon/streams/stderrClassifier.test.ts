import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyOutcome, classifyStartTimeout, lastMeaningfulLine, OutputSizeParser, type RunOutcome } from './stderrClassifier.js';

const base: RunOutcome = { kind: 'rtsp', url: 'rtsp://admin:hunter2@10.0.0.5/live', exitCode: 1, signal: null, stderr: [], hadFrames: false, loop: true };

// Lines as ffmpeg 5.1 prints them (credentials included, as ffmpeg does).
const cases: Array<[string[], string]> = [
  [['[rtsp @ 0x55] method DESCRIBE failed: 401 Unauthorized', 'rtsp://admin:hunter2@10.0.0.5/live: Server returned 401 Unauthorized (authorization failed)'], 'VIGIL_ERR_STREAM_AUTH'],
  [['[rtsp @ 0x55] method DESCRIBE failed: 404 Not Found', 'rtsp://admin:hunter2@10.0.0.5/live: Server returned 404 Not Found'], 'VIGIL_ERR_STREAM_NOT_FOUND'],
  [['[tcp @ 0x56] Connection to tcp://10.0.0.5:554?timeout=0 failed: Connection refused', 'rtsp://admin:hunter2@10.0.0.5/live: Connection refused'], 'VIGIL_ERR_STREAM_REFUSED'],
  // A read timeout after connecting: the camera went silent (frozen). A connect timeout: unreachable.
  [['rtsp://admin:hunter2@10.0.0.5/live: Connection timed out'], 'VIGIL_ERR_STREAM_SILENT'],
  [['[tcp @ 0x56] Connection to tcp://10.0.0.5:554?timeout=10000000 failed: Connection timed out', 'rtsp://admin:hunter2@10.0.0.5/live: Connection timed out'], 'VIGIL_ERR_STREAM_UNREACHABLE'],
  [['rtsp://admin:hunter2@nohost.invalid/live: Failed to resolve hostname nohost.invalid: Name or service not known'], 'VIGIL_ERR_STREAM_UNREACHABLE'],
  [['rtsp://admin:hunter2@10.0.0.5/live: Invalid data found when processing input'], 'VIGIL_ERR_STREAM_GARBAGE'],
  [['[h264 @ 0x55] Unknown decoder', 'rtsp://admin:hunter2@10.0.0.5/live: x'], 'VIGIL_ERR_STREAM_DECODE'],
];

test('the six stream faults each have their own code, and each sentence says what to check', () => {
  const codes = new Set<string>();
  const faults: Array<[Partial<RunOutcome>, string]> = [
    // frozen/silent: an RTSP server that accepted and never answered, for the whole socket timeout
    [{ stderr: ['rtsp://admin:hunter2@10.0.0.5/live: Invalid data found when processing input'], elapsedMs: 10_100, ioTimeoutMs: 10_000 }, 'VIGIL_ERR_STREAM_SILENT'],
    [{ stderr: ['[tcp @ 0x5] Connection to tcp://10.0.0.5:554?timeout=0 failed: Connection refused'] }, 'VIGIL_ERR_STREAM_REFUSED'],
    [{ stderr: ['[rtsp @ 0x5] method DESCRIBE failed: 401 Unauthorized'] }, 'VIGIL_ERR_STREAM_AUTH'],
    [{ stderr: ['[rtsp @ 0x5] method DESCRIBE failed: 404 Not Found'] }, 'VIGIL_ERR_STREAM_NOT_FOUND'],
    // garbage: the same words as silence, but at once
    [{ stderr: ['rtsp://admin:hunter2@10.0.0.5/live: Invalid data found when processing input'], elapsedMs: 150, ioTimeoutMs: 10_000 }, 'VIGIL_ERR_STREAM_GARBAGE'],
    // garbage whose random bytes happened to end a reply late, past most of the socket timeout
    [{ stderr: ['[rtsp @ 0x5] CSeq 1 expected, 0 received.', 'rtsp://10.0.0.5/live: Invalid data found when processing input'], elapsedMs: 9_000, ioTimeoutMs: 10_000 }, 'VIGIL_ERR_STREAM_GARBAGE'],
    [{ hadFrames: true, stderr: ['[h264 @ 0x5] error while decoding MB 3 4, bytestream -5', '[h264 @ 0x5] concealing 200 DC errors'] }, 'VIGIL_ERR_STREAM_DECODE'],
  ];
  for (const [o, code] of faults) {
    const c = classifyOutcome({ ...base, ...o });
    assert.equal(c.code, code, JSON.stringify(o));
    assert.match(c.message, /check|may be|set the camera/, `${code} says what to check: ${c.message}`);
    assert.doesNotMatch(c.message, /hunter2/);
    codes.add(c.code);
  }
  assert.equal(codes.size, 6, 'six distinct codes');
});

test('no first frame in time: garbage when the socket stays busy, silent when the stream was probed', () => {
  const o = { kind: 'rtsp' as const, url: base.url, hadFrames: false, loop: true, ioTimeoutMs: 10_000, startTimeoutS: 20 };
  assert.equal(classifyStartTimeout({ ...o, stderr: [] }).code, 'VIGIL_ERR_STREAM_GARBAGE');
  assert.equal(classifyStartTimeout({ ...o, stderr: ["Input #0, rtsp, from 'rtsp://x'"] }).code, 'VIGIL_ERR_STREAM_SILENT');
  assert.equal(classifyStartTimeout({ ...o, kind: 'file', stderr: [] }).code, 'VIGIL_ERR_STREAM_UNREACHABLE');
});

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
  assert.equal(file.message, 'File /x/clip.mp4: no such file; check the path.');
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
  // No decode error in stderr: a dropped connection, not "the data is not a video".
  assert.equal(c.code, 'VIGIL_ERR_STREAM_UNREACHABLE');
  assert.match(c.message, /exited with code 1: weird thing at rtsp:\/\/\*\*\*:\*\*\*@10\.0\.0\.5\/live; check/);
  assert.equal(lastMeaningfulLine(['frame=  10 fps=5', '  Stream #0:0']), undefined);
});

test('output size is read from the Output #0 rawvideo stream line only', () => {
  const p = new OutputSizeParser();
  assert.equal(p.feed('  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 1920x1080, 608 kb/s'), undefined);
  assert.equal(p.feed("Output #0, rawvideo, to 'pipe:1':"), undefined);
  const s = p.feed('  Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, gbr/unknown/unknown, progressive), 320x180, q=2-31, 41472 kb/s, 30 fps');
  assert.deepEqual(s, { width: 320, height: 180 });
});
