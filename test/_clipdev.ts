import { buildClip, frameAt, PERSON_CROPS as P } from './helpers/clips.js';
import { createPeopleCounting } from '../daemon/analytics/peopleCounting.js';
import { silentLogger } from '../daemon/log.js';
import { cocoDetector, decodeFrames, testEngine } from './countingFixtures.js';
const H = 150, DOWN = { from: [0, 0], to: [0, 200] }, UP = { from: [0, 200], to: [0, 0] };
const mv = (c: any, x: number, d: any, t0: number, t1: number) => ({ ...c, height: H, from: [x, d.from[1]], to: [x, d.to[1]], t0, t1 });
const clip = buildClip({
  background: { file: 'coco_cars_freeway_000000001532.jpg', blur: 20 }, width: 640, height: 360, seconds: 18,
  sprites: [
    { ...P.whiteCap, height: 140, from: [570, 10], to: [570, 10], t0: 0, t1: 18, hold: true },
    mv(P.redShirt, 60, DOWN, 1, 4), mv(P.man, 400, UP, 2, 5), mv(P.whiteCap, 250, DOWN, 4.5, 7.5), mv(P.adidas, 440, DOWN, 7, 10), mv(P.orangeCap, 120, UP, 7.5, 10.5),
  ],
});
console.log(clip);
for (const t of [2.5, 8.5]) frameAt(clip, t, `/tmp/ce/clip_${t}.png`);
const engine = testEngine();
const det = await cocoDetector(engine, ['person']);
const pc = createPeopleCounting({ detector: det, log: silentLogger() }, 'x', { lines: [{ name: 'mid', points: [[0, 0.5], [1, 0.5]], in: 'Down' }] });
for await (const f of decodeFrames(clip, 5, 640, 360)) for (const o of await pc.process(f)) console.log(f.index/5, o.data.in_out, o.data.direction, o.data.track_id);
await engine.stop();
