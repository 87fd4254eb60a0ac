import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectedModelCount, streamsPerRole } from '../analytics/modelCount.js';
import { planThreads, sessionsFor } from './threadBudget.js';

test('one model on a 2-core box gets both cores, with spinning off (it shares them with ffmpeg and Node)', () => {
  const p = planThreads({ cores: 2, models: 1 });
  assert.deepEqual({ intraOp: p.intraOp, spinning: p.spinning, budget: p.budget }, { intraOp: 2, spinning: false, budget: 2 });
});

test('several models split the budget and never spin; a fixed per-session count wins', () => {
  const p = planThreads({ cores: 8, models: 3 });
  assert.equal(p.intraOp, 3);
  assert.equal(p.spinning, false);
  assert.equal(planThreads({ cores: 2, models: 3 }).intraOp, 1, 'never below one thread');
  assert.equal(planThreads({ cores: 8, models: 3, perSession: 2 }).intraOp, 2);
});

test('a lone model with cores to spare may spin; config can force spinning either way', () => {
  assert.equal(planThreads({ cores: 8, budget: 4, models: 1 }).spinning, true);
  assert.equal(planThreads({ cores: 8, budget: 4, models: 1, spinning: false }).spinning, false);
  assert.equal(planThreads({ cores: 2, models: 2, spinning: true }).spinning, true);
});

test('the model count follows the enabled streams\' analytics, shared detectors counted once', () => {
  assert.equal(expectedModelCount([]), 1);
  assert.equal(expectedModelCount([{ analytics: ['people-counting'] }, { analytics: ['vehicle-counting', 'crowd-estimation'] }]), 1);
  assert.equal(expectedModelCount([{ analytics: ['people-counting', 'face-recognition'] }]), 3);
  assert.equal(expectedModelCount([{ analytics: ['face-recognition'], enabled: false }, { analytics: ['people-counting'] }]), 1);
  assert.equal(expectedModelCount([{}, { analytics: ['plate-recognition'] }]), 3, 'a stored stream without an analytics list counts nothing');
});

test('a model shared by several streams splits its threads into single-thread sessions; a lone stream keeps one session with all of them', () => {
  const two = planThreads({ cores: 2, models: 1 });
  assert.deepEqual(sessionsFor(two, 1), { replicas: 1, intraOp: 2, spinning: false });
  assert.deepEqual(sessionsFor(two, 4), { replicas: 2, intraOp: 1, spinning: false }, 'never more sessions than threads');
  const eight = planThreads({ cores: 8, models: 2 });
  assert.deepEqual(sessionsFor(eight, 2), { replicas: 2, intraOp: 2, spinning: false });
  assert.deepEqual(sessionsFor(eight, 0), { replicas: 1, intraOp: 4, spinning: false }, 'a model no stream names yet (a test or the CLI) gets one session');
  assert.equal(sessionsFor(eight, 4, 1).replicas, 1, 'inference.sessions_per_model: 1 keeps one session');
  assert.deepEqual(sessionsFor(planThreads({ cores: 8, budget: 4, models: 1 }), 1), { replicas: 1, intraOp: 4, spinning: true });
  assert.deepEqual(sessionsFor(planThreads({ cores: 8, models: 1, perSession: 3 }), 4, 'auto', true), { replicas: 1, intraOp: 3, spinning: true }, 'a fixed per-session count is kept as set');
});

test('streams per role: each enabled stream counts once per model it uses', () => {
  const n = streamsPerRole([
    { analytics: ['people-counting', 'vehicle-counting'] },
    { analytics: ['people-counting'] },
    { analytics: ['face-recognition'] },
    { analytics: ['plate-recognition'], enabled: false },
  ]);
  assert.deepEqual(Object.fromEntries(n), { 'person-detector': 2, 'face-detector': 1, 'face-embedder': 1 });
});
