import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StreamEntry } from '../config/types.js';
import type { Observation, StreamAnalytic } from './analytics/types.js';
import { VigilError } from './errors.js';
import { silentLogger } from './log.js';
import { AnalyticsPipeline } from './pipeline.js';
import type { Frame } from './streams/frame.js';

const entry = (id: string): StreamEntry => ({ id, url: `rtsp://cam/${id}`, analytics: ['people-counting'] }) as unknown as StreamEntry;
const frame = (streamId: string, index: number): Frame => ({ streamId, index, timestamp: index, width: 2, height: 2, data: Buffer.alloc(12) });
const obs = (f: Frame): Observation => ({
  analyticId: 'NFV4-PC', streamId: f.streamId, timestamp: f.index, crop: { image: f, box: [0, 0, 1, 1] }, primaryText: String(f.index), secondaryText: '', data: {},
});
/** An analytic that finds one observation per frame and records which frames it saw. */
function analytic(seen: number[]): StreamAnalytic {
  return { name: 'people-counting', process: async (f) => { seen.push(f.index); return [obs(f)]; } };
}
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('the next frame is analysed while the previous frame\'s events are still being stored; events keep their order', async () => {
  const seen: number[] = [];
  const emitted: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const p = new AnalyticsPipeline({
    log: silentLogger(),
    createAnalytics: async () => [analytic(seen)],
    prepareEmit: async (o) => async () => { await gate; emitted.push(o.primaryText); },
  });
  await p.setStream(entry('a'));
  p.onFrame(frame('a', 1));
  for (let i = 0; i < 5; i++) await tick();
  p.onFrame(frame('a', 2));
  for (let i = 0; i < 5; i++) await tick();
  assert.deepEqual(seen, [1, 2], 'frame 2 analysed although frame 1\'s event is still held by the store');
  assert.deepEqual(emitted, []);
  assert.equal(p.stats()[0]!.eventBacklog, 2);
  release();
  await p.stop();
  assert.deepEqual(emitted, ['1', '2'], 'stop flushes the lane, in frame order');
});

test('a store that falls behind pauses only that stream at the bound; frames meanwhile are dropped and counted, the newest analysed next', async () => {
  const seenA: number[] = [];
  const seenB: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const p = new AnalyticsPipeline({
    log: silentLogger(),
    createAnalytics: async (s) => [analytic(s.id === 'a' ? seenA : seenB)],
    prepareEmit: async (o) => async () => { if (o.streamId === 'a') await gate; },
    eventBacklog: 2,
  });
  await p.setStream(entry('a'));
  await p.setStream(entry('b'));
  for (let i = 1; i <= 6; i++) {
    p.onFrame(frame('a', i));
    p.onFrame(frame('b', i));
    for (let k = 0; k < 5; k++) await tick();
  }
  assert.deepEqual(seenB, [1, 2, 3, 4, 5, 6], 'the other stream is not held');
  assert.deepEqual(seenA, [1, 2], 'stream a stops analysing at a backlog of 2');
  const a = p.stats().find((s) => s.streamId === 'a')!;
  assert.equal(a.eventBacklog, 2);
  assert.ok((a.eventStalls ?? 0) >= 1);
  assert.equal(a.framesDropped, 3, 'frames 3, 4, 5 replaced while paused');
  release();
  for (let k = 0; k < 10; k++) await tick();
  assert.deepEqual(seenA, [1, 2, 6], 'after the store catches up the newest frame is analysed');
  await p.stop();
});

test('with the motion gate on, a still camera is analysed once per max-skip; a stream may opt out', async () => {
  const seenA: number[] = [];
  const seenB: number[] = [];
  const p = new AnalyticsPipeline({
    log: silentLogger(),
    createAnalytics: async (s) => [analytic(s.id === 'a' ? seenA : seenB)],
    prepareEmit: async () => async () => {},
    motionGate: { enabled: true, threshold: 4, maxSkipMs: 1000 },
  });
  await p.setStream(entry('a'));
  await p.setStream({ ...entry('b'), motion_gate: false });
  for (let i = 0; i < 10; i++) {
    // frame() is all zeros: nothing ever changes; timestamps 250 ms apart.
    p.onFrame({ ...frame('a', i), timestamp: i * 250 });
    p.onFrame({ ...frame('b', i), timestamp: i * 250 });
    for (let k = 0; k < 5; k++) await tick();
  }
  assert.deepEqual(seenA, [0, 4, 8]);
  assert.equal(seenB.length, 10);
  assert.equal(p.stats().find((s) => s.streamId === 'a')!.framesStill, 7);
  await p.stop();
});

test('streams sharing one slow model are served fairly, and each analyses its newest frame', async () => {
  // One model, one run at a time (like a session worker); four cameras pushing faster than it runs.
  let busy: Promise<void> = Promise.resolve();
  const latest = new Map<string, number>();
  const stale: string[] = [];
  const seen = new Map<string, number>();
  const model: StreamAnalytic = {
    name: 'people-counting',
    process: async (f) => {
      if (f.index !== latest.get(f.streamId)) stale.push(`${f.streamId}#${f.index}`);
      seen.set(f.streamId, (seen.get(f.streamId) ?? 0) + 1);
      const run = busy.then(() => new Promise<void>((r) => setTimeout(r, 5)));
      busy = run;
      await run;
      return [];
    },
  };
  const p = new AnalyticsPipeline({ log: silentLogger(), createAnalytics: async () => [model], prepareEmit: async () => async () => {} });
  const ids = ['a', 'b', 'c', 'd'];
  for (const id of ids) await p.setStream(entry(id));
  for (let i = 1; i <= 60; i++) {
    for (const id of ids) {
      latest.set(id, i);
      p.onFrame(frame(id, i));
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await p.stop();
  assert.deepEqual(stale, [], 'a frame that started analysis was the newest of its stream');
  const counts = ids.map((id) => seen.get(id) ?? 0);
  assert.ok(Math.min(...counts) >= 1, `no stream starved: ${counts}`);
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 2, `turns are shared evenly: ${counts}`);
  const st = p.stats();
  // At most the one frame still waiting when stop() came is neither analysed nor dropped.
  assert.ok(st.every((s) => { const gap = s.framesIn - s.framesAnalysed - s.framesDropped; return gap === 0 || gap === 1; }), 'every frame is analysed or counted as dropped');
});

/** A one-run-at-a-time model: each call's input is taken at once, its run waits for the previous one. */
function slowModel(runMs: number, log: string[]): (f: Frame) => Promise<void> {
  let busy: Promise<void> = Promise.resolve();
  return (f) => {
    log.push(`prepare ${f.index}`);
    const run = busy.then(() => new Promise<void>((r) => setTimeout(r, runMs)));
    busy = run;
    return run;
  };
}

test('an analytic that overlaps gets the next frame while the previous one is in the model; events stay in frame order', async () => {
  const log: string[] = [];
  const emitted: string[] = [];
  const model = slowModel(30, log);
  let active = 0;
  let maxActive = 0;
  const overlapping: StreamAnalytic = {
    name: 'people-counting',
    overlaps: true,
    process: async (f) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await model(f);
      active--;
      log.push(`done ${f.index}`);
      return [obs(f)];
    },
  };
  const p = new AnalyticsPipeline({ log: silentLogger(), createAnalytics: async () => [overlapping], prepareEmit: async (o) => async () => { emitted.push(o.primaryText); } });
  await p.setStream(entry('a'));
  p.onFrame(frame('a', 1));
  await new Promise((r) => setTimeout(r, 5));
  p.onFrame(frame('a', 2));
  await new Promise((r) => setTimeout(r, 5));
  p.onFrame(frame('a', 3));
  // Three 30-ms runs one after the other; wait for them rather than for a fixed time (a loaded box is slow).
  for (let waited = 0; p.stats()[0]!.framesAnalysed < 3 && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  const analysed = p.stats()[0]!.framesAnalysed;
  await p.stop();
  assert.equal(maxActive, 2, 'two frames in analysis at once, never more');
  assert.ok(log.indexOf('prepare 2') < log.indexOf('done 1'), `frame 2 started while frame 1 was in the model: ${log.join(', ')}`);
  assert.ok(log.indexOf('prepare 3') > log.indexOf('done 1'), `frame 3 waited for a free turn: ${log.join(', ')}`);
  assert.deepEqual(emitted, ['1', '2', '3'], 'events in frame order');
  assert.equal(analysed, 3);
});

test('an analytic that does not overlap, or a model shared with a busy stream, gets one frame at a time', async () => {
  for (const overlaps of [false, true]) {
    const active = new Map<string, number>();
    let maxActive = 0;
    const model = slowModel(20, []);
    const make = (): StreamAnalytic => ({
      name: 'people-counting',
      overlaps,
      process: async (f) => {
        const n = (active.get(f.streamId) ?? 0) + 1;
        active.set(f.streamId, n);
        maxActive = Math.max(maxActive, n);
        await model(f);
        active.set(f.streamId, active.get(f.streamId)! - 1);
        return [];
      },
    });
    const p = new AnalyticsPipeline({ log: silentLogger(), createAnalytics: async () => [make()], prepareEmit: async () => async () => {} });
    await p.setStream(entry('a'));
    // With overlap on, a second stream keeps the model busy: neither takes a second frame.
    if (overlaps) await p.setStream(entry('b'));
    for (let i = 1; i <= 6; i++) {
      p.onFrame(frame('a', i));
      if (overlaps) p.onFrame(frame('b', i));
      await new Promise((r) => setTimeout(r, 8));
    }
    await p.stop();
    assert.equal(maxActive, 1, `overlaps ${overlaps}: at most ${maxActive} frames of a stream in analysis`);
  }
});

test('a frame the model queue dropped counts as dropped, not analysed, and is not reported as a failure', async () => {
  const p = new AnalyticsPipeline({
    log: silentLogger(),
    createAnalytics: async () => [{
      name: 'people-counting',
      process: async (f) => {
        if (f.index % 2 === 0) throw new VigilError('VIGIL_ERR_INFERENCE_DROPPED', 'dropped');
        return [];
      },
    }],
    prepareEmit: async () => async () => {},
  });
  await p.setStream(entry('a'));
  for (let i = 1; i <= 4; i++) {
    p.onFrame(frame('a', i));
    for (let k = 0; k < 5; k++) await tick();
  }
  const s = p.stats()[0]!;
  await p.stop();
  assert.equal(s.framesAnalysed, 2);
  assert.equal(s.framesDropped, 2);
  assert.equal(s.errors, 0);
});

test('an analysed frame goes back to the reader only when every analytic keeps copies and no crop points into it', async () => {
  const released: string[] = [];
  const leased = (streamId: string, index: number): Frame => ({ ...frame(streamId, index), release: () => released.push(`${streamId}${index}`) });
  const copying = (withCrop: boolean): StreamAnalytic => ({
    name: 'people-counting', copiesFrames: true,
    process: async (f) => (withCrop && f.index === 2 ? [obs(f)] : [{ ...obs(f), crop: { image: { width: 1, height: 1, data: Buffer.alloc(3) }, box: [0, 0, 1, 1] } }]),
  });
  const p = new AnalyticsPipeline({
    log: silentLogger(),
    createAnalytics: async (s) => (s.id === 'keeps' ? [copying(false), analytic([])] : [copying(true)]),
    prepareEmit: async () => async () => {},
  });
  await p.setStream(entry('copies'));
  await p.setStream(entry('keeps'));
  for (const i of [1, 2, 3]) {
    p.onFrame(leased('copies', i));
    p.onFrame(leased('keeps', i));
    for (let k = 0; k < 5; k++) await tick();
  }
  await p.stop();
  assert.deepEqual(released.filter((r) => r.startsWith('copies')), ['copies1', 'copies3'], 'frame 2\'s crop is a view of the frame: kept');
  assert.deepEqual(released.filter((r) => r.startsWith('keeps')), [], 'an analytic that may keep the frame: never handed back');
});
