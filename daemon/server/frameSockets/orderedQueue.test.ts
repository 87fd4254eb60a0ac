import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FrameJob, FrameOutcome } from './frameProcessor.js';
import { OrderedFrameQueue, type FrameReply } from './orderedQueue.js';

/** A queue whose analyses finish only when the test says so. */
function harness(capacity: number, maxBacklog?: number) {
  const replies: FrameReply[] = [];
  const pending: (() => void)[] = [];
  let overflowed = 0;
  const q = new OrderedFrameQueue(
    (job: FrameJob) => new Promise<FrameOutcome>((resolve) => pending.push(() => resolve({ ok: true, index: job.index, result: {}, ms: 1 }))),
    (r) => replies.push(r),
    () => capacity,
    () => overflowed++,
    maxBacklog,
  );
  const job = (index: number): FrameJob => ({ index, bytes: Buffer.alloc(1), receivedAt: 0 });
  const finishOne = async (): Promise<void> => {
    pending.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  const indexes = () => replies.map((r) => (r.kind === 'outcome' ? `${r.outcome.index}` : `${r.index}:${r.code}`));
  return { q, replies, job, finishOne, indexes, overflowed: () => overflowed };
}

test('every frame gets one reply in order: analysed, then skipped past the capacity', async () => {
  const h = harness(2);
  for (let i = 0; i < 6; i++) h.q.offer(h.job(i));
  assert.equal(h.q.backlog, 6);
  assert.deepEqual(h.indexes(), [], 'nothing overtakes frame 0');
  for (let i = 0; i < 3; i++) await h.finishOne();
  assert.deepEqual(h.indexes(), ['0', '1', '2', '3:FRAME_SKIPPED', '4:FRAME_SKIPPED', '5:FRAME_SKIPPED']);
  assert.equal(h.q.backlog, 0);
});

test('refusals and echoes wait behind earlier frames; a free slot is used again after a skip', async () => {
  const h = harness(1);
  const echoed: number[] = [];
  h.q.offer(h.job(0));
  h.q.refuse(1, 'INVALID_FRAME', 'bad');
  h.q.after(() => echoed.push(h.replies.length));
  h.q.offer(h.job(2));
  h.q.offer(h.job(3)); // the one waiting slot is taken by 2
  await h.finishOne();
  assert.deepEqual(h.indexes(), ['0', '1:INVALID_FRAME']);
  assert.deepEqual(echoed, [2], 'the echo came after the replies of frames 0 and 1');
  await h.finishOne();
  assert.deepEqual(h.indexes(), ['0', '1:INVALID_FRAME', '2', '3:FRAME_SKIPPED']);
  h.q.offer(h.job(4));
  await h.finishOne();
  assert.deepEqual(h.indexes().at(-1), '4');
});

test('a flood of skipped frames costs one range, not one entry each; other refusals are bounded', async () => {
  const h = harness(1, 8);
  h.q.offer(h.job(0));
  h.q.offer(h.job(1));
  for (let i = 2; i < 10_002; i++) h.q.offer(h.job(i));
  assert.equal(h.q.backlog, 10_002);
  assert.equal(h.overflowed(), 0);
  for (let i = 0; i < 10; i++) h.q.refuse(10_002 + i, 'INVALID_FRAME', `bad ${i}`);
  assert.equal(h.overflowed(), 1, 'past maxBacklog entries the connection is given up');
});
