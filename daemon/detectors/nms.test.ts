import assert from 'node:assert/strict';
import { test } from 'node:test';
import { iou, nms } from './nms.js';

test('iou of identical, disjoint and half-overlapping boxes', () => {
  assert.equal(iou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
  assert.equal(iou([0, 0, 10, 10], [20, 20, 30, 30]), 0);
  assert.ok(Math.abs(iou([0, 0, 10, 10], [5, 0, 15, 10]) - 1 / 3) < 1e-9);
});

test('class-wise NMS keeps the best of each overlapping group and boxes of other classes', () => {
  const kept = nms([
    { box: [0, 0, 10, 10], score: 0.6, classId: 0 },
    { box: [1, 1, 10, 10], score: 0.9, classId: 0 },
    { box: [1, 1, 10, 10], score: 0.5, classId: 2 },
    { box: [50, 50, 60, 60], score: 0.4, classId: 0 },
  ], 0.45);
  assert.deepEqual(kept.map((k) => k.score), [0.9, 0.5, 0.4]);
  assert.deepEqual(nms(kept, 0.45, { agnostic: true }).map((k) => k.score), [0.9, 0.4]);
});
