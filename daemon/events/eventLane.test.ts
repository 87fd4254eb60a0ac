import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../log.js';
import { EventLane } from './eventLane.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a frame with several events prepares their crops at once and still delivers them one at a time, in order', async () => {
  let preparing = 0, maxPreparing = 0, delivering = 0, maxDelivering = 0;
  const delivered: number[] = [];
  // Earlier items take longer to prepare: a lane that delivered as preparations finish would reorder them.
  const lane = new EventLane<number>(async (n) => {
    preparing++;
    maxPreparing = Math.max(maxPreparing, preparing);
    await sleep(60 - n * 10);
    preparing--;
    return async () => {
      delivering++;
      maxDelivering = Math.max(maxDelivering, delivering);
      await sleep(5);
      delivered.push(n);
      delivering--;
    };
  }, 64, silentLogger());
  lane.push([0, 1, 2, 3, 4]);
  assert.equal(lane.stats.backlog, 5);
  await lane.idle();
  assert.deepEqual(delivered, [0, 1, 2, 3, 4]);
  assert.equal(maxPreparing, 5, 'all five crops were being prepared together');
  assert.equal(maxDelivering, 1, 'deliveries never overlap (the store assigns seqs in this order)');
  assert.equal(lane.stats.backlog, 0);
});

test('a failed preparation or delivery is logged and the lane goes on with the next item', async () => {
  const delivered: number[] = [];
  const errors: string[] = [];
  const log = { ...silentLogger(), error: (o: { err: Error }, msg: string) => errors.push(`${msg}: ${o.err.message}`) } as unknown as ReturnType<typeof silentLogger>;
  const lane = new EventLane<number>(async (n) => {
    if (n === 1) throw new Error('cannot encode');
    return async () => {
      if (n === 2) throw new Error('cannot store');
      delivered.push(n);
    };
  }, 64, log);
  lane.push([0, 1, 2, 3]);
  await lane.idle();
  assert.deepEqual(delivered, [0, 3]);
  assert.equal(errors.length, 2);
});

test('the backlog counts items being prepared, and room() waits while it is at the bound', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const lane = new EventLane<number>(async () => {
    await held;
    return async () => {};
  }, 3, silentLogger());
  lane.push([1, 2, 3]);
  await sleep(5);
  assert.equal(lane.stats.backlog, 3);
  const room = lane.room();
  assert.ok(room, 'no room at the bound');
  release();
  await room;
  await lane.idle();
  assert.equal(lane.stats.backlog, 0);
  assert.equal(lane.stats.stalls, 1);
});
