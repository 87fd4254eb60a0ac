import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkSourcePolicy, DEFAULT_API_SCHEMES } from './sourcePolicy.js';

const policy = { schemes: DEFAULT_API_SCHEMES, fileDirs: [] as string[] };
const refused = (url: string, p = policy) =>
  assert.throws(() => checkSourcePolicy(url, p), (e: { code: string; message: string }) => {
    assert.equal(e.code, 'VIGIL_ERR_STREAM_SOURCE_POLICY', url);
    assert.doesNotMatch(e.message, /hunter2/);
    return true;
  });

test('API streams: camera schemes pass; files, ffmpeg protocols and options are refused', () => {
  for (const ok of ['rtsp://cam/live', 'rtsps://u:p@cam:322/x', 'http://cam/mjpeg', 'https://cam/hls.m3u8', 'rtmp://cam/app', 'srt://cam:9000', 'udp://239.0.0.1:5000']) {
    checkSourcePolicy(ok, policy);
  }
  for (const bad of ['file:///etc/passwd', '/etc/passwd', 'clip.mp4', 'concat:/etc/passwd|/etc/hosts', 'subfile:,start,0,end,100,:/etc/passwd', '-f lavfi -i testsrc', 'lavfi:testsrc', 'pipe:0', 'ftp://u:hunter2@h/x', 'gopher://x/y', 'data:,abc']) {
    refused(bad);
  }
});

test('files only inside the configured directories (symlinks resolved)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-policy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'clip.mp4'), 'x');
  symlinkSync('/etc/passwd', join(dir, 'escape.mp4'));
  const p = { schemes: ['rtsp'], fileDirs: [dir] };
  checkSourcePolicy(join(dir, 'clip.mp4'), p);
  checkSourcePolicy(`file://${join(dir, 'clip.mp4')}`, p);
  refused(join(dir, 'escape.mp4'), p);
  refused(join(dir, '..', 'x.mp4'), p);
  refused('/etc/passwd', p);
  refused('http://cam/x', p); // not in this policy's schemes
});
