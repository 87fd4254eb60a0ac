import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameReader, type FrameLease } from './frameReader.js';

/** Bytes 0..n-1 mod 251, so any misplaced byte shows. */
const pattern = (n: number, start = 0): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (start + i) % 251));

test('cuts a stream into exact frames whatever the chunking', () => {
  const frameBytes = 2 * 3 * 3; // 2x3 rgb24
  const all = pattern(frameBytes * 5 + 7); // 5 whole frames and a partial one
  for (const chunk of [1, 5, 18, 19, 40, all.length]) {
    const frames: Buffer[] = [];
    const r = new FrameReader((f) => frames.push(Buffer.from(f)));
    r.setFrameBytes(frameBytes);
    for (let off = 0; off < all.length; off += chunk) r.push(all.subarray(off, off + chunk));
    assert.equal(frames.length, 5, `chunk ${chunk}`);
    frames.forEach((f, i) => assert.deepEqual(f, all.subarray(i * frameBytes, (i + 1) * frameBytes)));
    assert.equal(r.partialBytes, 7);
  }
});

test('holds bytes that arrive before the frame size is known', () => {
  const frames: Buffer[] = [];
  const r = new FrameReader((f) => frames.push(f));
  assert.equal(r.push(pattern(25)), true);
  assert.equal(frames.length, 0);
  r.setFrameBytes(10);
  assert.equal(frames.length, 2);
  assert.deepEqual(frames[1], pattern(10, 10));
});

test('frames handed out stay intact after later chunks (each owns its bytes)', () => {
  const frames: Buffer[] = [];
  const r = new FrameReader((f) => frames.push(f));
  r.setFrameBytes(4);
  r.push(Buffer.from([1, 2, 3]));
  r.push(Buffer.from([4, 5, 6, 7, 8, 9]));
  r.push(Buffer.from([10, 11, 12]));
  assert.deepEqual(frames.map((f) => [...f]), [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]);
});

test('refuses to hold unbounded bytes without a size', () => {
  const r = new FrameReader(() => {}, 100);
  assert.equal(r.push(Buffer.alloc(60)), true);
  assert.equal(r.push(Buffer.alloc(60)), false);
});

test('a released frame\'s buffer carries a later frame; an unreleased one is never overwritten', () => {
  const frames: { data: Buffer; release?: () => void }[] = [];
  const r = new FrameReader((data, lease) => frames.push({ data, release: lease?.release }));
  r.setFrameBytes(4);
  const feed = (bytes: number[]): void => {
    r.push(Buffer.from(bytes.slice(0, 2)));
    r.push(Buffer.from(bytes.slice(2)));
  };
  feed([1, 2, 3, 4]);
  feed([5, 6, 7, 8]);
  frames[0]!.release!();
  frames[0]!.release!(); // twice is harmless: the buffer is pooled once
  feed([9, 10, 11, 12]);
  feed([13, 14, 15, 16]);
  assert.equal(r.reused, 1);
  const same = (a: Buffer, b: Buffer): boolean => a.buffer === b.buffer && a.byteOffset === b.byteOffset;
  assert.ok(same(frames[2]!.data, frames[0]!.data), 'the released buffer was reused');
  assert.deepEqual([...frames[1]!.data], [5, 6, 7, 8], 'the kept frame is intact');
  assert.deepEqual([...frames[2]!.data], [9, 10, 11, 12]);
  assert.deepEqual([...frames[3]!.data], [13, 14, 15, 16]);
  assert.ok(!same(frames[3]!.data, frames[0]!.data) && !same(frames[3]!.data, frames[1]!.data));
});

/** Simulates a socket's onread: each read fills at most `chunk` bytes of readTarget(), then commit(n). */
function directFeed(r: FrameReader, bytes: Buffer, chunk: number): void {
  for (let off = 0; off < bytes.length;) {
    const target = r.readTarget();
    const n = Math.min(chunk, target.length, bytes.length - off);
    bytes.copy(target, 0, off, off + n);
    assert.equal(r.commit(n), true);
    off += n;
  }
}

test('direct reads land in the frame buffers: same frames as pushed chunks, before and after the size is known', () => {
  const frameBytes = 2 * 3 * 3;
  const all = pattern(frameBytes * 6 + 5);
  for (const chunk of [1, 7, 18, 100]) {
    const frames: Buffer[] = [];
    const r = new FrameReader((f) => frames.push(Buffer.from(f)));
    directFeed(r, all.subarray(0, 25), chunk); // ffmpeg's header not parsed yet: held
    r.setFrameBytes(frameBytes);
    directFeed(r, all.subarray(25), chunk);
    assert.equal(frames.length, 6, `chunk ${chunk}`);
    frames.forEach((f, i) => assert.deepEqual(f, all.subarray(i * frameBytes, (i + 1) * frameBytes)));
    assert.equal(r.partialBytes, 5);
  }
});

test('direct reads write into released buffers only: a kept frame is never overwritten', () => {
  const frames: { data: Buffer; release?: () => void }[] = [];
  const r = new FrameReader((data, lease) => frames.push({ data, release: lease?.release }));
  r.setFrameBytes(4);
  directFeed(r, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), 3);
  frames[0]!.release!();
  directFeed(r, Buffer.from([9, 10, 11, 12, 13, 14, 15, 16]), 4);
  assert.equal(r.reused, 1);
  const same = (a: Buffer, b: Buffer): boolean => a.buffer === b.buffer && a.byteOffset === b.byteOffset;
  assert.ok(same(frames[2]!.data, frames[0]!.data), 'the released buffer carried the third frame');
  assert.ok(!same(frames[3]!.data, frames[1]!.data), 'the kept one did not');
  assert.deepEqual(frames.map((f) => [...f.data]).slice(1), [[5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]);
});

test('a frame held twice (analysed, and shown live) is reused only after both let go', () => {
  const frames: { data: Buffer; lease?: FrameLease }[] = [];
  const r = new FrameReader((data, lease) => frames.push({ data, lease }));
  r.setFrameBytes(4);
  r.push(Buffer.from([1, 2]));
  r.push(Buffer.from([3, 4]));
  frames[0]!.lease!.retain(); // the live view takes it too
  frames[0]!.lease!.release(); // analysed
  r.push(Buffer.from([5, 6]));
  r.push(Buffer.from([7, 8]));
  assert.equal(r.reused, 0, 'still shown live: not reused');
  assert.deepEqual([...frames[0]!.data], [1, 2, 3, 4]);
  frames[0]!.lease!.release(); // replaced in the live view
  frames[0]!.lease!.retain(); // a late retain after the last release changes nothing
  r.push(Buffer.from([9, 10]));
  r.push(Buffer.from([11, 12]));
  assert.equal(r.reused, 1);
  assert.equal(frames[2]!.data.buffer, frames[0]!.data.buffer);
  assert.deepEqual([...frames[1]!.data], [5, 6, 7, 8]);
});
