import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { LiveEncoder } from './liveEncoder.js';
import { LiveFrameStore } from './liveFrameStore.js';

const W = 320;
const H = 240;
const frame = (ts: number) => ({ streamId: 'cam', index: ts, timestamp: ts, width: W, height: H, data: Buffer.alloc(W * H * 3, 100) });

async function pixel(b64: string, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(Buffer.from(b64, 'base64')).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

test('one encode per frame and interval, shared by concurrent viewers', async () => {
  const store = new LiveFrameStore();
  let encodes = 0;
  const enc = new LiveEncoder(store, { jpegQuality: 70, maxWidth: 1280, minIntervalMs: 60_000, onEncode: () => encodes++ });
  assert.equal(await enc.get('cam', false), undefined, 'no frame yet');
  store.putFrame(frame(1));
  const all = await Promise.all(Array.from({ length: 10 }, () => enc.get('cam', false)));
  assert.equal(encodes, 1);
  assert.ok(all.every((e) => e?.base64 === all[0]!.base64 && e?.encodeId === 1));
  store.putFrame(frame(2));
  await enc.get('cam', false);
  assert.equal(encodes, 1, 'a new frame within the interval reuses the last encode');
  await enc.get('cam', false, 160);
  assert.equal(encodes, 2, 'another width is another variant');

  const fast = new LiveEncoder(store, { jpegQuality: 70, maxWidth: 1280, minIntervalMs: 0, onEncode: () => encodes++ });
  const a = await fast.get('cam', false);
  const b = await fast.get('cam', false);
  assert.equal(a, b, 'the same frame is never encoded twice');
  store.putFrame(frame(3));
  assert.notEqual((await fast.get('cam', false))!.seq, a!.seq);
});

test('annotated: detections with track ids, lines and zones are drawn; stale detections are not', async () => {
  const store = new LiveFrameStore({ holdMs: 1000, geometry: () => ({ lines: [{ name: 'door', points: [[0, 0.9], [1, 0.9]] }], zones: [] }) });
  store.putFrame(frame(10_000));
  store.putDetections('cam', 10_000, [{ box: [100, 50, 200, 150], label: 'person', trackId: 7 }], 'people-counting');
  const enc = new LiveEncoder(store, { jpegQuality: 90, maxWidth: 1280, minIntervalMs: 0 });
  const drawn = (await enc.get('cam', true))!;
  const plain = (await enc.get('cam', false))!;
  const [r, g, b] = await pixel(drawn.base64, 150, 50);
  assert.ok(g > 200 && r < 120 && b < 120, `box edge is green: ${[r, g, b]}`);
  const [yr, yg, yb] = await pixel(drawn.base64, 160, Math.round(0.9 * H));
  assert.ok(yr > 200 && yg > 170 && yb < 90, `the line is yellow: ${[yr, yg, yb]}`);
  assert.ok(Math.abs((await pixel(plain.base64, 150, 50))[1]! - 100) < 12, 'the plain frame is untouched');

  store.putFrame(frame(12_000)); // two seconds later, no newer report
  const later = (await enc.get('cam', true))!;
  assert.ok(Math.abs((await pixel(later.base64, 150, 50))[1]! - 100) < 12, 'a stale box is no longer drawn');
});

test('the live view holds the newest frame of a stream until the next one replaces it (or the stream goes)', () => {
  const holders = new Map<number, number>();
  const leased = (ts: number) => ({ ...frame(ts), retain: () => holders.set(ts, (holders.get(ts) ?? 0) + 1), release: () => holders.set(ts, holders.get(ts)! - 1) });
  const store = new LiveFrameStore();
  store.putFrame(leased(1));
  assert.equal(holders.get(1), 1);
  store.putFrame(leased(2));
  assert.deepEqual([holders.get(1), holders.get(2)], [0, 1], 'the replaced frame is let go, the new one held');
  store.removeStream('cam');
  assert.equal(holders.get(2), 0);
});
