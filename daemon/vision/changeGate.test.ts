import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeGate } from './changeGate.js';
import type { RgbImage } from './image.js';

const W = 320, H = 180;
/** A grey frame with a bright square at x (a person walking by), or none. */
function frame(x: number | null, noise = 0): RgbImage {
  const data = Buffer.alloc(W * H * 3, 90);
  for (let i = 0; i < data.length; i++) data[i] = 90 + ((i * 7919) % (noise + 1));
  if (x !== null) for (let y = 40; y < 140; y++) for (let c = x; c < x + 60; c++) data.fill(230, (y * W + c) * 3, (y * W + c) * 3 + 3);
  return { width: W, height: H, data };
}

test('a still picture is analysed once, then only every maxSkip; movement passes at once', () => {
  const g = new ChangeGate({ threshold: 4, maxSkipMs: 2000 });
  assert.equal(g.pass(frame(null), 0), true, 'the first frame always passes');
  assert.equal(g.pass(frame(null, 3), 200), false, 'sensor noise is not change');
  assert.equal(g.pass(frame(null), 400), false);
  assert.equal(g.pass(frame(null), 2100), true, 'a refresh after maxSkipMs');
  assert.equal(g.pass(frame(20), 2300), true, 'someone walks in');
  assert.equal(g.pass(frame(20), 2400), false, 'and stands still');
  assert.equal(g.pass(frame(120), 2500), true, 'and moves on');
});

test('slow drift adds up against the last frame let through', () => {
  const g = new ChangeGate({ threshold: 4, maxSkipMs: 1e9 });
  assert.equal(g.pass(frame(null), 0), true);
  const dim = (v: number): RgbImage => ({ width: W, height: H, data: Buffer.alloc(W * H * 3, v) });
  assert.equal(g.pass(dim(92), 1), false);
  assert.equal(g.pass(dim(93), 2), false);
  assert.equal(g.pass(dim(95), 3), true, '5 levels from the reference in small steps');
});

test('someone small entering a quiet scene passes although the mean change is tiny', () => {
  // 640x360, a 12x30 px figure (a person far away): ~0.2 % of the picture.
  const w = 640, h = 360;
  const scene = (figureAt: number | null, noise = 0): RgbImage => {
    const data = Buffer.alloc(w * h * 3);
    for (let i = 0; i < data.length; i++) data[i] = 100 + ((i * 7919) % (noise + 1));
    if (figureAt !== null) for (let y = 200; y < 230; y++) data.fill(30, (y * w + figureAt) * 3, (y * w + figureAt + 12) * 3);
    return { width: w, height: h, data };
  };
  const g = new ChangeGate({ threshold: 4, maxSkipMs: 1e9 });
  assert.equal(g.pass(scene(null), 0), true);
  assert.equal(g.pass(scene(null, 4), 1), false, 'noise of a few levels everywhere is not change');
  assert.equal(g.pass(scene(300), 2), true, 'a small dark figure appears');
  assert.equal(g.pass(scene(300), 3), false, 'and stays');
  assert.equal(g.pass(scene(310), 4), true, 'and moves its own width');
});
