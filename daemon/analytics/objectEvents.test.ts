import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Box, RgbImage } from '../vision/image.js';
import { ObjectEvents, type ObjectEventOptions } from './objectEvents.js';
import { Track } from './tracker/track.js';
import type { Observation } from './types.js';

const ctx = { analyticId: 'NFV4-PC' as const, streamId: 'cam', areaName: 'Cam', summaryLabel: 'person', cropMaxSide: 128 };
const cropOf = (b: Box): RgbImage => ({ width: Math.round(b[2] - b[0]), height: Math.round(b[3] - b[1]), data: Buffer.alloc(3 * Math.round(b[2] - b[0]) * Math.round(b[3] - b[1])) });

function track(id: number, firstMs: number): Track {
  const t = new Track(id, firstMs, 4);
  t.confirmed = true;
  return t;
}

/** Feeds frames at 5 fps: `seen(i)` lists, per frame, the tracks matched and their scores. */
function run(opts: ObjectEventOptions, frames: number, seen: (i: number) => [Track, number][], removedAt: Record<number, number[]> = {}): Observation[][] {
  const oe = new ObjectEvents(ctx, opts);
  const out: Observation[][] = [];
  for (let i = 0; i < frames; i++) {
    const ts = 1_000_000 + i * 200;
    const tracks = seen(i).map(([t, score]) => {
      t.matched = true;
      t.score = score;
      t.detBox[0] = 10; t.detBox[1] = 10; t.detBox[2] = 10 + 20 + score * 40; t.detBox[3] = 100;
      t.vote('person', score);
      return t;
    });
    const o: Observation[] = [];
    oe.update(ts, tracks, removedAt[i] ?? [], cropOf, o);
    out.push(o);
  }
  return out;
}

test('one appear event per object after confirmation, with the best crop so far; no event for a flicker', () => {
  const a = track(1, 1_000_000), flicker = track(2, 1_000_000);
  const frames = run({ intervalS: 0 }, 20, (i) => [...(i < 15 ? [[a, i < 2 ? 0.55 : 0.8] as [Track, number]] : []), ...(i < 2 ? [[flicker, 0.9] as [Track, number]] : [])], { 2: [2], 18: [1] });
  const all = frames.flat();
  assert.equal(all.length, 1, 'one event in 20 frames');
  const [e] = all;
  assert.equal(frames[2]!.length, 1, 'announced on the third matched frame');
  assert.equal(e!.data.event_type, 'appear');
  assert.equal(e!.data.track_id, 1);
  assert.equal(e!.data.trigger, 'track');
  assert.ok(e!.crop, 'the appear event carries the crop');
  assert.equal(e!.crop.image.width, Math.round(20 + 0.8 * 40), 'the best crop so far (score 0.8), not the first (0.55)');
  assert.equal(e!.crop.maxSide, 128, "sent as a thumbnail of the analytic's crop_max_side");
  for (const k of ['area_name', 'confidence', 'label', 'direction', 'line']) assert.ok(k in e!.data, `VisionAIre key ${k}`);
});

test('update when the crop gets much better (opt-in, once) and leave with the dwell time (opt-in, no crop)', () => {
  const a = track(7, 1_000_000);
  const frames = run({ events: ['appear', 'update', 'leave'], intervalS: 0 }, 30, (i) => (i < 20 ? [[a, i < 8 ? 0.55 : i < 12 ? 0.75 : 0.95]] : []), { 25: [7] });
  const all = frames.flat();
  assert.deepEqual(all.map((e) => e.data.event_type), ['appear', 'update', 'leave']);
  assert.ok(all[1]!.crop, 'the update carries its better crop');
  const leave = all[2]!;
  assert.equal(leave.crop, null, 'the leave refers to the crop already sent');
  assert.equal(leave.data.dwell_s, 3.8, 'first seen at frame 0, last at frame 19 (5 fps)');
});

test('a summary every interval without a crop: objects in view, peak, appeared, left with dwell', () => {
  const a = track(1, 1_000_000), b = track(2, 1_000_000 + 10 * 200);
  // 5 fps for 25 s: a stays 0-20 s, b 2-6 s.
  const frames = run({ intervalS: 10 }, 125, (i) => [...(i <= 100 ? [[a, 0.8] as [Track, number]] : []), ...(i >= 10 && i <= 30 ? [[b, 0.9] as [Track, number]] : [])], { 40: [2], 110: [1] });
  const summaries = frames.flat().filter((e) => e.data.event_type === 'summary');
  assert.equal(summaries.length, 2, 'at 10 s and 20 s');
  const [s1, s2] = summaries;
  assert.equal(s1!.crop, null);
  assert.deepEqual([s1!.data.count, s1!.data.max_count, s1!.data.appeared, s1!.data.left], [1, 2, 2, 1]);
  assert.deepEqual(s1!.data.left_tracks, [{ track_id: 2, dwell_s: 4 }]);
  assert.deepEqual([s2!.data.count, s2!.data.appeared, s2!.data.left], [1, 0, 0]);
  assert.equal(s2!.data.interval, 10);
  const appear = frames.flat().filter((e) => e.data.event_type === 'appear');
  assert.equal(appear.length, 2);
});

test('summaries keep their interval when frames come late (a loaded box analyses fewer frames)', () => {
  const oe = new ObjectEvents(ctx, { intervalS: 10 });
  let summaries = 0;
  // 1.7 s between analysed frames for 10 minutes: without a fixed grid every interval would stretch to 10.2 s.
  for (let ts = 0; ts <= 600_000; ts += 1700) {
    const out: Observation[] = [];
    oe.update(1_000_000 + ts, [], [], cropOf, out);
    summaries += out.length;
  }
  assert.equal(summaries, 59, 'one per 10 s (the first interval starts with the first frame)');
});

test('no crop is cut once the only event that could carry it has been sent; a leave-only setup keeps the best crop of the whole track', () => {
  const feed = (opts: ObjectEventOptions): { cuts: number; events: Observation[] } => {
    const oe = new ObjectEvents(ctx, opts);
    const a = track(3, 1_000_000);
    let cuts = 0;
    const events: Observation[] = [];
    for (let i = 0; i < 12; i++) {
      const score = 0.5 + i * 0.04; // a clear improvement every frame
      a.matched = true;
      a.score = score;
      a.detBox[0] = 10; a.detBox[1] = 10; a.detBox[2] = 30 + i; a.detBox[3] = 100;
      a.vote('person', score);
      oe.update(1_000_000 + i * 200, [a], [], (b) => (cuts++, cropOf(b)), events);
    }
    oe.update(1_000_000 + 12 * 200, [], [3], (b) => (cuts++, cropOf(b)), events);
    return { cuts, events };
  };
  const appearOnly = feed({ intervalS: 0 });
  assert.equal(appearOnly.events.length, 1);
  assert.equal(appearOnly.cuts, 3, 'crops cut on the three frames up to the announcement, none after');
  const leaveOnly = feed({ events: ['leave'], intervalS: 0 });
  assert.deepEqual(leaveOnly.events.map((e) => e.data.event_type), ['leave']);
  assert.equal(leaveOnly.events[0]!.crop?.image.width, 30 + 11 - 10, 'the leave carries the crop of the last, best frame');
});
