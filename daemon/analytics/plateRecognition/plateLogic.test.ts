import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalisePlate, resolveFormats } from './formats.js';
import { PlateVote } from './vote.js';
import { DedupWindow, editDistance, KnownPlates } from './knownPlates.js';
import { createPlateRecognition } from './analytic.js';
import { majorityDirection, stepVote, VehiclePath, type Point } from './vehiclePath.js';
import type { PlateReader } from './reader.js';
import { warpQuad } from '../../vision/warp.js';
import { isVigilError, VigilError } from '../../errors.js';

const read = (s: string, p = 0.9) => ({ chars: Array.from(s), confidences: Array.from(s, () => p) });

test('confusions are corrected only where the format demands', () => {
  const id = resolveFormats(['id']);
  assert.equal(normalisePlate(Array.from('B1234XYZ'), Array(8).fill(1), id).text, 'B1234XYZ');
  assert.equal(normalisePlate(Array.from('8 1234-XYZ'), Array(10).fill(1), id).text, 'B1234XYZ');
  const uk = resolveFormats(['uk']);
  assert.equal(normalisePlate(Array.from('AB12CDO'), Array(7).fill(1), uk).text, 'AB12CDO');
  assert.equal(normalisePlate(Array.from('A812CD0'), Array(7).fill(1), uk).text, 'AB12CDO');
  assert.equal(normalisePlate(Array.from('沪A·F71017'), Array(9).fill(1), resolveFormats(['cn'])).format, 'cn');
  assert.equal(normalisePlate(Array.from('HELLO'), Array(5).fill(1), uk).format, null);
  assert.throws(() => resolveFormats(['mars']), (e) => isVigilError(e) && e.code === 'VIGIL_ERR_CONFIG');
  assert.throws(() => resolveFormats([{ name: 'x', pattern: '([' }]), (e) => isVigilError(e) && e.code === 'VIGIL_ERR_CONFIG');
});

test('the vote outvotes a misread character per position', () => {
  const v = new PlateVote();
  v.add(read('B1234XY'));
  v.add(read('B1Z34XY', 0.6));
  v.add(read('B1234XY'));
  v.add(read('B123', 0.99));
  const r = v.result()!;
  assert.equal(r.text, 'B1234XY');
  assert.equal(r.agreeing, 2);
  assert.equal(r.reads, 4);
});

/** The `direction` of a vehicle whose 20-px box (as tracked and as detected) is centred on each point in turn. */
function pathThrough(...points: Point[]): string {
  const box = ([x, y]: Point): [number, number, number, number] => [x - 10, y - 10, x + 10, y + 10];
  const p = new VehiclePath(box(points[0]!), box(points[0]!));
  for (const pt of points.slice(1)) p.add(box(pt), box(pt));
  return p.direction;
}

test('known plates match wildcards; dedup window; direction', () => {
  const k = new KnownPlates([{ plate: 'B12*', status: 'blocked', tags: ['watch'] }, { plate: 'D?99' }]);
  assert.deepEqual(k.match('B1234XY'), { status: 'blocked', tags: ['watch'], known_plate: 'B12*' });
  assert.equal(k.match('D199').status, 'known');
  assert.equal(k.match('X12').status, 'unknown');
  const d = new DedupWindow(1000);
  d.mark('A', 0);
  assert.equal(d.isDuplicate('A', 999), true);
  assert.equal(d.isDuplicate('A', 1000), false);
  assert.equal(pathThrough([100, 100], [20, 110]), 'Left');
  assert.equal(pathThrough([100, 100], [105, 200]), 'Down');
  assert.equal(pathThrough([100, 100], [102, 101]), '', 'a 2-px move is jitter');
});

test('warpQuad rectifies a rotated square back upright', () => {
  // A 20x20 image: left half black, right half white; read a quad covering it rotated 180 degrees.
  const w = 20, data = Buffer.alloc(w * w * 3);
  for (let y = 0; y < w; y++) for (let x = 10; x < w; x++) data.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
  const out = warpQuad({ width: w, height: w, data }, [[20, 20], [0, 20], [0, 0], [20, 0]], 20, 20);
  assert.equal(out.data[(10 * 20 + 2) * 3], 255, 'left of the output is the right of the source');
  assert.equal(out.data[(10 * 20 + 17) * 3], 0);
  assert.throws(() => warpQuad({ width: w, height: w, data }, [[0, 0], [1, 1], [2, 2], [3, 3]], 5, 5), (e) => isVigilError(e));
});

test('direction is the majority of steps: one jump to another car cannot outvote a path', () => {
  const votes: [number, number, number, number] = [0, 0, 0, 0];
  const path: [number, number][] = [[600, 200], [570, 201], [540, 199], [760, 230], [730, 231], [700, 229], [670, 230]];
  for (let i = 1; i < path.length; i++) stepVote(votes, path[i - 1]!, path[i]!);
  assert.equal(majorityDirection(votes), 'Left');
  assert.ok(path[path.length - 1]![0] > path[0]![0], 'first-to-last alone would say Right');
  assert.equal(pathThrough(...path), 'Left', 'the jump back starts a new path, which drives left');
  assert.equal(majorityDirection([0, 0, 0, 0]), '');
});

/** One vehicle in a scripted frame: left and top edge (100), plate shown (or null), box width (200), plate cut by the frame's left edge. */
type Seen = { x: number; y?: number; plate: string | null; w?: number; cut?: boolean };

/** A scripted reader: per frame index, the vehicles it sees and the plate each one shows. */
function scriptedReader(script: Map<number, Seen[]>): PlateReader {
  return {
    async detectVehicles(f: { index: number }) {
      return (script.get(f.index) ?? []).map((v) => ({ box: [v.x, v.y ?? 100, v.x + (v.w ?? 200), (v.y ?? 100) + 150], score: 0.9, label: 'car', classId: 2, plate: v.plate, cut: v.cut }));
    },
    async readVehicle(_f: unknown, det: { plate: string | null; cut?: boolean; box: number[] }) {
      if (!det.plate) return null;
      const r = read(det.plate);
      const [x1, , x2] = det.box as [number, number, number, number];
      const box = det.cut ? [0, 200, 30, 230] : [x1 + (x2 - x1) * 0.35, 200, x1 + (x2 - x1) * 0.65, 230];
      return { ...r, text: det.plate, confidence: 0.9, box, plate_type: 'single', type: 'car', format: null, score: 0.9 };
    },
  } as unknown as PlateReader;
}

const frameAt = (index: number) => ({ streamId: 's', index, timestamp: 1_000_000 + index * 200, width: 640, height: 360, data: Buffer.alloc(640 * 360 * 3) });

test('a broken track: the fragment\'s read waits, the new track of the same plate takes it over; one event, with its direction', async () => {
  // A car seen for 2 frames barely moving (one read), gone for 3 s (its track ends), back as a new
  // track far away, moving left, whose plate reads only twice: with the fragment's read, three agree.
  const script = new Map<number, Seen[]>([
    [0, [{ x: 300, plate: 'AB123CD' }]], [1, [{ x: 298, plate: null }]],
    ...[16, 17, 18, 19, 20, 21].map((i): [number, Seen[]] => [i, [{ x: 440 - (i - 16) * 30, plate: i < 18 ? 'AB123CD' : null }]]),
  ]);
  const pr = createPlateRecognition(scriptedReader(script), { minAgreeing: 3 });
  const events: Array<{ at: number; data: Record<string, unknown> }> = [];
  for (let i = 0; i <= 60; i++) for (const e of await pr.process(frameAt(i) as never)) events.push({ at: i, data: e.data });
  assert.equal(events.length, 1, JSON.stringify(events));
  const [e] = events as [{ at: number; data: Record<string, unknown> }];
  assert.deepEqual([e.data.plate_number, e.data.direction, e.data.reads], ['AB123CD', 'Left', 3]);
  assert.ok(e.at <= 21, `announced while the car is in view (frame ${e.at}), not when its track ends`);
});

test('a weak fragment no track takes over is still announced, after the wait', async () => {
  const script = new Map([[0, [{ x: 300, plate: 'XY987' }]], [1, [{ x: 299, plate: 'XY987' }]]]);
  const pr = createPlateRecognition(scriptedReader(script), { minAgreeing: 3 });
  const when: number[] = [];
  for (let i = 0; i <= 60; i++) for (const e of await pr.process(frameAt(i) as never)) when.push(i);
  assert.equal(when.length, 1, 'announced once');
  // Lost after ~2 s (tracker), then parked 3 s: announced ~5 s (25 frames) after the last sighting.
  assert.ok(when[0]! >= 20, `announced at frame ${when[0]}`);
});

test('a weak read a few characters from a plate just announced is taken as its misread; a different weak plate is still announced', async () => {
  // Car A passes with a clear plate; a box beside it (a car behind, its plate partly hidden) reads
  // twice as something 3 characters off, then ends: below the agreement bar, it is not a second car.
  const run = async (weakPlate: string) => {
    const script = new Map<number, Seen[]>();
    for (let i = 0; i <= 5; i++) script.set(i, [{ x: 500 - i * 30, plate: '闽DG065G' }, ...(i < 2 ? [{ x: 20, plate: weakPlate }] : [])]);
    const pr = createPlateRecognition(scriptedReader(script), { minAgreeing: 3 });
    const plates: string[] = [];
    for (let i = 0; i <= 60; i++) for (const e of await pr.process(frameAt(i) as never)) plates.push(String(e.data.plate_number));
    return plates;
  };
  assert.deepEqual(await run('粤DGR67G'), ['闽DG065G']);
  assert.deepEqual(await run('京A12345'), ['闽DG065G', '京A12345'], 'a plate far from it is another car');
  assert.equal(editDistance(Array.from('粤DGR67G'), Array.from('闽DG065G')), 3);
  assert.equal(editDistance(Array.from('AB123'), Array.from('XY98765'), 2), 3, 'capped past the limit');
});

/** The scripted reader with the model queue dropping detections and reads on the given frames. */
function loadedReader(script: Map<number, Seen[]>, dropDetect: (i: number) => boolean, dropRead: (i: number) => boolean): PlateReader {
  const base = scriptedReader(script);
  const drop = () => new VigilError('VIGIL_ERR_INFERENCE_DROPPED', 'the model queue is full');
  return {
    async detectVehicles(f: { index: number }, run: unknown) {
      if (dropDetect(f.index)) throw drop();
      return base.detectVehicles(f as never, run as never);
    },
    async readVehicle(f: { index: number }, det: unknown, run: unknown) {
      if (dropRead(f.index)) throw drop();
      return base.readVehicle(f as never, det as never, run as never);
    },
  } as unknown as PlateReader;
}

/** Frames 0-60 through the analytic: event data, and the frames it reported as dropped. */
async function runFrames(reader: PlateReader): Promise<{ data: Record<string, unknown>[]; dropped: number[] }> {
  const pr = createPlateRecognition(reader, { minAgreeing: 3 });
  const data: Record<string, unknown>[] = [];
  const dropped: number[] = [];
  for (let i = 0; i <= 60; i++) {
    try {
      for (const e of await pr.process(frameAt(i) as never)) data.push(e.data);
    } catch (err) {
      assert.ok(isVigilError(err) && err.code === 'VIGIL_ERR_INFERENCE_DROPPED', `only drops reach the pipeline: ${String(err)}`);
      dropped.push(i);
    }
  }
  return { data, dropped };
}

const pick = (d: Record<string, unknown>) => [d.plate_number, d.direction, d.reads];

/** Frames 0..last of a script through the analytic, `stepMs` apart: plate, direction and reads of each event. */
async function eventsOf(script: Map<number, Seen[]>, last = 60, stepMs = 200): Promise<unknown[][]> {
  const pr = createPlateRecognition(scriptedReader(script), { minAgreeing: 3 });
  const events: Record<string, unknown>[] = [];
  for (let i = 0; i <= last; i++) for (const e of await pr.process({ ...frameAt(i), timestamp: 1_000_000 + i * stepMs } as never)) events.push(e.data);
  return events.map(pick);
}

test('under load, a dropped detection is a dropped frame (the pipeline counts it) and a dropped read is tried again: the same one event', async () => {
  // A car driving left across 16 frames, its plate readable in each.
  const script = new Map(Array.from({ length: 16 }, (_, i): [number, Seen[]] => [i, [{ x: 440 - i * 20, plate: 'AB123CD' }]]));
  const clean = await runFrames(loadedReader(script, () => false, () => false));
  const loaded = await runFrames(loadedReader(script, (i) => i === 2 || i === 6, (i) => [0, 1, 3, 4].includes(i)));
  assert.deepEqual(clean.dropped, []);
  assert.deepEqual(loaded.dropped, [2, 6]);
  assert.equal(clean.data.length, 1);
  assert.equal(loaded.data.length, 1, JSON.stringify(loaded.data));
  assert.deepEqual(pick(loaded.data[0]!), pick(clean.data[0]!));
  assert.deepEqual(pick(loaded.data[0]!), ['AB123CD', 'Left', 3]);
});

test('a read dropped on the frame where another car\'s track ends: that car is still announced', async () => {
  // Car A is read twice and leaves; car B stands in view from frame 8 and the model queue drops
  // every read of it, among them the read on the frame where A's track ends.
  const script = new Map<number, Seen[]>([
    [0, [{ x: 300, plate: 'XY987' }]], [1, [{ x: 299, plate: 'XY987' }]],
    ...Array.from({ length: 50 }, (_, k): [number, Seen[]] => [k + 8, [{ x: 20, plate: 'ZZ111' }]]),
  ]);
  const { data, dropped } = await runFrames(loadedReader(script, () => false, (i) => i >= 8));
  assert.deepEqual(dropped, []);
  assert.deepEqual(data.map((d) => d.plate_number), ['XY987']);
});

test('a track that jumps back against its path (another vehicle took it over) gets the direction of its new path', async () => {
  // Seen sparsely (a saturated box): a wide car near the left edge moves left, then the track is
  // matched to a vehicle 140 px to its right, then 150 px further right (the smoothed box still
  // gliding), and that vehicle drives left. Votes over the whole track said Right (2 steps to 1).
  const at: Array<[number, number]> = [[0, 241], [1, 234], [8, 375], [14, 528], [15, 516], [17, 494], [19, 468], [20, 456], [23, 393], [29, 279]];
  const plateFrames = new Set([0, 1, 14, 15, 17]);
  const script = new Map(at.map(([i, cx]): [number, Seen[]] => [i, [{ x: cx - 187, w: 375, plate: plateFrames.has(i) ? 'AB123CD' : null }]]));
  assert.deepEqual(await eventsOf(script), [['AB123CD', 'Left', 3]]);
});

test('a plate cut by the frame\'s edge is not voted: a car leaving with half a plate makes no event of its misread', async () => {
  const run = async (cut: boolean) => {
    // A car in its last frames at the left edge: its partly hidden plate reads as something else.
    const script = new Map([0, 1].map((i): [number, Seen[]] => [i, [{ x: 40 - i * 30, plate: 'ZJ5S5E9', cut }]]));
    return (await eventsOf(script)).map((e) => e[0]);
  };
  assert.deepEqual(await run(true), []);
  assert.deepEqual(await run(false), ['ZJ5S5E9'], 'the same reads with the whole plate in view make the event');
});

test('a track first matched to another vehicle: its own steps name the direction, though its net move is short', async () => {
  // The track starts on a car up the frame, then follows a wider one below it that drives left:
  // from the first sighting the track moved less than a quarter of its widest box.
  const at: Array<[number, number, number, number]> = [[0, 516, 92, 260], [7, 552, 148, 375], [8, 548, 149, 375], [10, 529, 151, 375], [13, 513, 152, 375], [16, 496, 152, 375], [20, 470, 153, 375]];
  const script = new Map(at.map(([i, cx, cy, w]): [number, Seen[]] => [i, [{ x: cx - w / 2, y: cy - 75, w, plate: i >= 7 && i <= 10 ? 'AB123CD' : null }]]));
  assert.deepEqual(await eventsOf(script), [['AB123CD', 'Left', 3]]);
});

test('on a stream analysed once a second, a broken track\'s weak read waits long enough for the new track to take it over', async () => {
  // As the first broken-track test, sampled at 1 fps (a saturated box): the new track's first read
  // comes 4 s after the fragment's track ended, past the 3 s a 5 fps stream waits.
  const script = new Map<number, Seen[]>([
    [0, [{ x: 300, plate: 'AB123CD' }]], [1, [{ x: 298, plate: null }]],
    ...[6, 7, 8, 9, 10, 11].map((i): [number, Seen[]] => [i, [{ x: 440 - (i - 6) * 60, plate: i >= 8 && i <= 9 ? 'AB123CD' : null }]]),
  ]);
  assert.deepEqual(await eventsOf(script, 30, 1000), [['AB123CD', 'Left', 3]]);
});

test('a car whose plate shows only after a dozen frames (entering side-on) is still read: frames without a plate spend a larger allowance', async () => {
  const script = new Map(Array.from({ length: 20 }, (_, i): [number, Seen[]] => [i, [{ x: 430 - i * 15, plate: i >= 13 ? 'AB123CD' : null }]]));
  assert.deepEqual(await eventsOf(script, 40), [['AB123CD', 'Left', 3]]);
});

test('two weak fragments of one plate make one event, with the path of the fragment that moved', async () => {
  // A car seen standing for two frames (one read), and, while its track is still lost, a track of
  // the same plate driving left (one read) that ends too: both wait parked as one.
  const script = new Map<number, Seen[]>([
    [0, [{ x: 300, plate: 'AB123CD' }]], [1, [{ x: 299, plate: null }]],
    ...[5, 6, 7, 8].map((i): [number, Seen[]] => [i, [{ x: 500 - (i - 5) * 30, w: 100, plate: i === 5 ? 'AB123CD' : null }]]),
  ]);
  assert.deepEqual(await eventsOf(script), [['AB123CD', 'Left', 2]]);
});

test('a weak track whose reads differ in several places is not announced as their per-character mix', async () => {
  const run = (plates: string[]) => eventsOf(new Map(plates.map((plate, i): [number, Seen[]] => [i, [{ x: 300 - i, plate }]])));
  // Per character the three vote AB123CD, which none of them read.
  assert.deepEqual(await run(['AB123CE', 'XB123CD', 'AB123XD']), [], 'no read gave the mixed text');
  assert.deepEqual(await run(['AB123CE', 'AB123CD', 'AB123XD']), [['AB123CD', '', 3]], 'one read of the voted text is enough for a weak event');
});
