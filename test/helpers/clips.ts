import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { mediaPath } from './paths.js';

/** A region of a real media image pasted into a clip and moved in a straight line. */
export interface Sprite {
  /** Media file name (../shared/media). */
  file: string;
  /** Crop of that image, source pixels: x, y, w, h. */
  crop: [number, number, number, number];
  /** Height in the clip, px (width keeps the aspect). */
  height: number;
  /** Top-left position in the clip at `t0` and at `t1`, px. */
  from: [number, number];
  to: [number, number];
  /** Seconds: visible (and moving) from t0 to t1; `hold` keeps it still at `from` outside that window instead. */
  t0: number;
  t1: number;
  hold?: boolean;
}

/** A synthetic clip: a real background with real crops moving across it at known times. */
export interface ClipSpec {
  /** Background: media file, crop (x, y, w, h) and blur (boxblur radius; 0 = none). */
  background: { file: string; crop?: [number, number, number, number]; blur?: number };
  width: number;
  height: number;
  seconds: number;
  fps?: number;
  sprites: Sprite[];
}

/**
 * Renders a ClipSpec to H.264 MP4 with ffmpeg's overlay filter (time expressions), cached by
 * content in the temp dir. Returns the file path.
 */
export function buildClip(spec: ClipSpec): string {
  const dir = join(tmpdir(), 'vigil-test-clips');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${createHash('sha256').update(JSON.stringify({ v: 2, spec })).digest('hex').slice(0, 16)}.mp4`);
  if (existsSync(out)) return out;
  const fps = spec.fps ?? 25;
  const args = ['-v', 'error', '-y', '-loop', '1', '-framerate', String(fps), '-i', mediaPath(spec.background.file)];
  for (const s of spec.sprites) args.push('-loop', '1', '-framerate', String(fps), '-i', mediaPath(s.file));
  const bg = spec.background;
  const chain: string[] = [
    `[0]${bg.crop ? `${ffCrop(bg.crop)},` : ''}scale=${spec.width}:${spec.height}${bg.blur ? `,boxblur=${bg.blur}` : ''},setsar=1[v0]`,
  ];
  spec.sprites.forEach((s, i) => {
    const n = i + 1;
    chain.push(`[${n}]${ffCrop(s.crop)},scale=-2:${s.height}[s${n}]`);
    const lerp = (a: number, b: number): string => `${a}+(${b - a})*(t-${s.t0})/${s.t1 - s.t0}`;
    const x = s.hold ? String(s.from[0]) : lerp(s.from[0], s.to[0]);
    const y = s.hold ? String(s.from[1]) : lerp(s.from[1], s.to[1]);
    const enable = s.hold ? '' : `:enable='between(t,${s.t0},${s.t1})'`;
    chain.push(`[v${i}][s${n}]overlay=x='${x}':y='${y}'${enable}:eval=frame[v${n}]`);
  });
  const last = `[v${spec.sprites.length}]`;
  args.push('-filter_complex', chain.join(';'), '-map', last, '-t', String(spec.seconds), '-r', String(fps),
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', String(fps), out);
  const r = spawnSync('ffmpeg', args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`ffmpeg could not build the clip: ${r.stderr}`);
  return out;
}

/** ffmpeg's crop takes w:h:x:y; specs here say x, y, w, h like a box. */
function ffCrop([x, y, w, h]: [number, number, number, number]): string {
  return `crop=${w}:${h}:${x}:${y}`;
}

/** Extracts one frame (at `t` seconds) of a clip to PNG, to look at a clip by eye. */
export function frameAt(clip: string, t: number, png: string): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-ss', String(t), '-i', clip, '-frames:v', '1', png], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

// Real people cut from the media (boxes found by yolox_nano at >= 0.79 and checked by eye).
const KIDS = 'coco_people_group_000000001000.jpg';
export const PERSON_CROPS = {
  redShirt: { file: KIDS, crop: [261, 91, 96, 332] },
  whiteCap: { file: KIDS, crop: [120, 148, 77, 239] },
  adidas: { file: KIDS, crop: [511, 191, 128, 281] },
  man: { file: 'coco_people_car_000000009891.jpg', crop: [206, 89, 142, 342] },
} as const satisfies Record<string, { file: string; crop: [number, number, number, number] }>;

/** The rear of a Nissan Pathfinder from the freeway image (yolox_nano: car 0.86). */
export const CAR_CROP = { file: 'coco_cars_freeway_000000001532.jpg', crop: [225, 361, 192, 118] as [number, number, number, number] };

/**
 * The crossing scene for people counting (640x360, 18 s): a horizontal line at y = 0.5 and
 * five real people moving straight across it at known times. Hand count by construction:
 * Down (in) 3 (redShirt 1-4 s, whiteCap 4.5-7.5 s, adidas 7-10 s), Up (out) 2 (man 2-5 s,
 * redShirt again 7.5-10.5 s; the orangeCap child scaled to 150 px scored only 0.35-0.64 with
 * yolox_nano and was missed in some frames, which made the count hinge on the detector); a sixth child stands still above the line all along (never counts);
 * nobody moves after 10.5 s, so when the clip loops, loops are apart by a quiet gap.
 */
export function peopleCrossingClip(): string {
  const H = 150;
  const down = (c: { file: string; crop: [number, number, number, number] }, x: number, t0: number, t1: number): Sprite =>
    ({ ...c, crop: [...c.crop], height: H, from: [x, 0], to: [x, 200], t0, t1 });
  const up = (c: { file: string; crop: [number, number, number, number] }, x: number, t0: number, t1: number): Sprite =>
    ({ ...c, crop: [...c.crop], height: H, from: [x, 200], to: [x, 0], t0, t1 });
  const P = PERSON_CROPS;
  return buildClip({
    background: { file: 'coco_cars_freeway_000000001532.jpg', blur: 20 }, width: 640, height: 360, seconds: 18,
    sprites: [
      { ...P.whiteCap, crop: [...P.whiteCap.crop], height: 140, from: [570, 10], to: [570, 10], t0: 0, t1: 18, hold: true },
      down(P.redShirt, 60, 1, 4), up(P.man, 400, 2, 5), down(P.whiteCap, 250, 4.5, 7.5), down(P.adidas, 440, 7, 10), up(P.redShirt, 120, 7.5, 10.5),
    ],
  });
}

/** Hand count of peopleCrossingClip per loop, line `mid` (points (0,0.5)-(1,0.5), in: Down). */
export const PEOPLE_CROSSINGS = { in: 3, out: 2 } as const;

/**
 * The vehicle scene (640x360, 12 s): a real car (coco_people_car, yolox_nano car 0.58 in the
 * source image) driven right across a vertical line at x = 0.5 (1-5 s), then back left (6-10 s).
 * Hand count by construction: one Right (in), one Left (out), both `car`. The car is drawn
 * 150 px tall: at 130 its scores sat around the tracker's 0.6 start threshold (median
 * 0.52-0.55), so which frames ffmpeg sampled decided whether the second car got a track.
 */
export function carCrossingClip(): string {
  return buildClip({
    background: { file: 'coco_people_group_000000001000.jpg', crop: [0, 0, 640, 100], blur: 20 }, width: 640, height: 360, seconds: 12,
    sprites: [
      { file: 'coco_people_car_000000009891.jpg', crop: [359, 91, 281, 244], height: 150, from: [0, 200], to: [480, 200], t0: 1, t1: 5 },
      { file: 'coco_people_car_000000009891.jpg', crop: [359, 91, 281, 244], height: 150, from: [480, 120], to: [0, 120], t0: 6, t1: 10 },
    ],
  });
}
