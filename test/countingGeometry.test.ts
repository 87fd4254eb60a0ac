import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGeometry } from '../daemon/analytics/geometry/geometryConfig.js';
import { GeometryCounter, type GeometryEvent } from '../daemon/analytics/geometry/geometryCounter.js';
import { ByteTracker } from '../daemon/analytics/tracker/byteTracker.js';
import { isVigilError } from '../daemon/errors.js';

const W = 1000, H = 1000; // frame size: normalised 0.5 = 500 px; default band = 0.02 * 1414 = 28 px

/** Feeds a path of anchor points (bottom-centre of a 40x100 box) for one track. */
function walk(g: GeometryCounter, id: number, pts: [number, number][]): GeometryEvent[] {
  const out: GeometryEvent[] = [];
  for (const [x, y] of pts) g.observe(id, x - 20, y - 100, x + 20, y, out);
  return out;
}
const horizontal = () => {
  const g = new GeometryCounter(parseGeometry({ lines: [{ name: 'door', points: [[0.1, 0.5], [0.9, 0.5]], in: 'Down' }] }));
  g.setFrameSize(W, H);
  return g;
};

test('a track walking down across a horizontal line counts once, in, Down', () => {
  const ev = walk(horizontal(), 1, [[500, 300], [500, 400], [500, 480], [500, 560], [500, 700]]);
  assert.deepEqual(ev.map((e) => [e.name, e.inOut, e.direction]), [['door', 'in', 'Down']]);
});

test('walking up counts out, Up; a U-turn is two real crossings', () => {
  assert.deepEqual(walk(horizontal(), 1, [[500, 700], [500, 300]]).map((e) => [e.inOut, e.direction]), [['out', 'Up']]);
  const u = walk(horizontal(), 2, [[500, 300], [500, 700], [500, 300]]);
  assert.deepEqual(u.map((e) => e.inOut), ['in', 'out']);
});

test('jitter around the line inside the dead band gives no duplicate events', () => {
  // Arrives from above, jitters +-20 px around y=500 for 30 frames, then leaves below: exactly one event.
  const path: [number, number][] = [[500, 300], [500, 420]];
  for (let i = 0; i < 30; i++) path.push([500 + (i % 3), 500 + (i % 2 ? 20 : -20)]);
  path.push([500, 650]);
  const ev = walk(horizontal(), 1, path);
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.inOut, 'in');
  // With no dead band the same jitter would count every swing.
  const g0 = new GeometryCounter(parseGeometry({ lines: [{ name: 'door', points: [[0.1, 0.5], [0.9, 0.5]], hysteresis: 0 }] }));
  g0.setFrameSize(W, H);
  assert.ok(walk(g0, 1, path).length > 10);
});

test('a track that stops on the line is counted once', () => {
  const path: [number, number][] = [[500, 200], [500, 350], [500, 530]];
  for (let i = 0; i < 40; i++) path.push([500, 530 + (i % 2)]); // stands just past the line, beyond the band
  const ev = walk(horizontal(), 1, path);
  assert.equal(ev.length, 1);
  // Stopping exactly on the line (inside the band) and turning back is no crossing at all.
  const back = walk(horizontal(), 2, [[500, 300], [500, 495], [500, 505], [500, 498], [500, 300]]);
  assert.equal(back.length, 0);
});

test('a diagonal crossing of a diagonal line reports the dominant direction; passing beyond the segment end does not count', () => {
  const g = new GeometryCounter(parseGeometry({ lines: [{ name: 'diag', points: [[0.2, 0.2], [0.8, 0.8]], in: 'right' }] }));
  g.setFrameSize(W, H);
  // From lower-left to upper-right through the middle: crosses to the right-hand side of 1->2 (the upper-right).
  const ev = walk(g, 1, [[300, 700], [450, 550], [550, 450], [700, 300]]);
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.direction, 'Right'); // dx = dy in size: ties go horizontal
  assert.equal(ev[0]!.inOut, 'out');
  assert.equal(walk(g, 2, [[900, 700], [950, 650], [980, 620], [999, 600]]).length, 0, 'never crosses the segment');
  assert.equal(walk(g, 3, [[50, 200], [200, 50]]).length, 0, 'crosses the infinite line beyond the segment end');
  const steep = walk(g, 4, [[520, 600], [480, 400]]);
  assert.deepEqual(steep.map((e) => [e.direction, e.inOut]), [['Up', 'out']]); // lower-left (the right-hand side of 1->2) is "in"
});

test('polygon zones: entry and exit events, occupancy, band on the edge, forgotten tracks leave', () => {
  const g = new GeometryCounter(parseGeometry({ zones: [{ name: 'plaza', polygon: [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.5, 0.95], [0.2, 0.8]] }] }));
  g.setFrameSize(W, H);
  const a = walk(g, 1, [[100, 500], [300, 500], [500, 500]]);
  assert.deepEqual(a.map((e) => [e.kind, e.direction]), [['zone-enter', 'Right']]);
  assert.equal(g.occupancy[0], 1);
  // Born inside: occupancy, but no entry event (it was never seen outside).
  assert.deepEqual(walk(g, 2, [[500, 600], [510, 610]]), []);
  assert.equal(g.occupancy[0], 2);
  // Inside the pentagon's bottom point (y 880 at x 500 is inside, at x 300 it is outside).
  assert.deepEqual(walk(g, 3, [[500, 700], [500, 880]]), []);
  assert.equal(g.occupancy[0], 3);
  assert.deepEqual(walk(g, 3, [[300, 900]]).map((e) => e.kind), ['zone-exit']);
  assert.equal(g.occupancy[0], 2);
  // Edge jitter inside the band changes nothing.
  assert.deepEqual(walk(g, 1, [[795, 500], [805, 500], [795, 500]]), []);
  g.forget(2);
  assert.equal(g.occupancy[0], 1);
});

test('bad geometry is one VIGIL_ERR_CONFIG listing every problem', () => {
  try {
    parseGeometry({ lines: [{ name: 'a', points: [[0, 0], [2, 0]] }, { name: 'a', points: [[0, 0.5], [1, 0.5]], in: 'Left' }], zones: [{ name: 'z', polygon: [[0, 0], [1, 1]] }] });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(isVigilError(err));
    assert.equal(err.code, 'VIGIL_ERR_CONFIG');
    assert.match(err.message, /within 0\.\.1/);
    assert.match(err.message, /used twice/);
    assert.match(err.message, /parallel/);
    assert.match(err.message, /three/);
  }
});

test('tracker + line: a detected box walking down through jittery detections keeps one id and counts once', () => {
  const tracker = new ByteTracker();
  const g = horizontal();
  const events: GeometryEvent[] = [];
  const ids = new Set<number>();
  for (let f = 0; f < 40; f++) {
    // 10 px a frame down, +-6 px detection noise, a missed detection every 7th frame.
    const y = 200 + f * 10 + (f % 2 ? 6 : -6);
    const dets = f % 7 === 3 ? [] : [{ box: [480, y - 100, 520, y] as [number, number, number, number], score: 0.8, label: 'person' }];
    for (const t of tracker.update(dets, f * 200)) {
      ids.add(t.id);
      if (t.matched) g.observe(t.id, t.box[0], t.box[1], t.box[2], t.box[3], events);
    }
  }
  assert.equal(ids.size, 1);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.direction, 'Down');
});

test('tracker: two people passing each other keep their ids; majority label wins', () => {
  const tracker = new ByteTracker();
  const seen = new Map<number, number[]>();
  for (let f = 0; f < 30; f++) {
    const a = 100 + f * 25, b = 900 - f * 25;
    const dets = [
      { box: [a - 20, 400, a + 20, 500] as [number, number, number, number], score: 0.9, label: f === 5 ? 'car' : 'person' },
      { box: [b - 20, 420, b + 20, 520] as [number, number, number, number], score: 0.85, label: 'person' },
    ];
    for (const t of tracker.update(dets, f * 100)) {
      if (!seen.has(t.id)) seen.set(t.id, []);
      seen.get(t.id)!.push((t.box[0] + t.box[2]) / 2);
      assert.equal(t.label, 'person');
    }
  }
  assert.equal(seen.size, 2, 'two ids in all');
  for (const xs of seen.values()) {
    const dir = Math.sign(xs[xs.length - 1]! - xs[0]!);
    for (let i = 1; i < xs.length; i++) assert.equal(Math.sign(xs[i]! - xs[i - 1]!), dir, 'each id keeps moving one way: no swap');
  }
});
