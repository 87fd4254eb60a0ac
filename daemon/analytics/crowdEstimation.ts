import { createDensityEstimator } from '../detectors/density.js';
import type { Detection } from '../detectors/types.js';
import { isInferenceDropped, VigilError } from '../errors.js';
import type { ModelRunner } from '../inference/types.js';
import type { Logger } from '../log.js';
import type { Frame } from '../streams/frame.js';
import type { Box, Point } from '../vision/image.js';
import { cropImage } from '../vision/preprocess.js';
import { pointInPolygon } from './geometry/geometryCounter.js';
import type { FrameDetector } from './peopleCounting.js';
import { detectTiled } from './tiling.js';
import type { Observation, StreamAnalytic } from './types.js';

/** What main hands crowd estimation: a density model (role crowd-density) and/or a person detector. */
export interface CrowdEstimationDeps {
  /** COCO/person detector for the tiled-count fallback (used when no density model is given). */
  detector?: FrameDetector;
  /** Density-family model runner; when present it is used instead of the detector. */
  density?: ModelRunner;
  log: Logger;
}

/** One counted area: a normalised polygon; `interval_s` overrides the analytic's interval. */
export interface CrowdArea {
  name: string;
  polygon: [number, number][];
  interval_s?: number;
}

/** Options of crowd estimation (config `analytics.crowd-estimation` plus the stream's `areas`). */
export interface CrowdEstimationOptions {
  /** Areas of this stream; none: the whole frame, named after `defaultAreaName`. */
  areas?: CrowdArea[];
  /** Name of the whole-frame area when no areas are configured (default: the stream id). */
  defaultAreaName?: string;
  /** Seconds between estimations per area. Default 10. */
  intervalS?: number;
  /** Tile side in source pixels for the tiled count. Default 320. */
  tileSize?: number;
  /** Tile overlap, fraction of the tile side. Default 0.25. */
  overlap?: number;
  /** Smallest person score counted by the tiled count. Default 0.4. */
  scoreThreshold?: number;
}

/** How the estimate was made (logged; the event keys are fixed by the VisionAIre docs). */
export type CrowdMethod = 'density' | 'tiled-detection';

/**
 * Crowd estimation (NFV4-CE): per area, every `interval` seconds, one event with the
 * estimated number of people inside it: the density map's sum inside the area with a
 * density model, else a tiled person-detection count (box centres inside the area).
 * The event crop is the area's bounding box.
 */
export function createCrowdEstimation(deps: CrowdEstimationDeps, streamId: string, options: CrowdEstimationOptions = {}): StreamAnalytic {
  const log = deps.log.child({ component: 'crowd-estimation', stream: streamId });
  if (!deps.density && !deps.detector) {
    throw new VigilError('VIGIL_ERR_CONFIG', 'Crowd estimation needs a crowd-density model or a person detector');
  }
  const estimator = deps.density ? createDensityEstimator(deps.density) : null;
  const method: CrowdMethod = estimator ? 'density' : 'tiled-detection';
  const intervalS = options.intervalS ?? 10;
  const areas: CrowdArea[] = options.areas?.length
    ? options.areas
    : [{ name: options.defaultAreaName ?? streamId, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] }];
  for (const a of areas) {
    if (!a.polygon || a.polygon.length < 3) throw new VigilError('VIGIL_ERR_CONFIG', `Crowd area "${a.name}" needs at least 3 points`);
  }
  const everyMs = areas.map((a) => Math.max(0, a.interval_s ?? intervalS) * 1000);
  const lastMs = areas.map(() => NaN);
  const scoreThreshold = options.scoreThreshold ?? 0.4;
  log.info({ method, areas: areas.map((a) => a.name), interval_s: intervalS }, 'crowd estimation ready');

  function due(ts: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < areas.length; i++) {
      // The first frame is always due; after that, wait out the area's interval.
      if (Number.isNaN(lastMs[i]!) || ts - lastMs[i]! >= everyMs[i]!) out.push(i);
    }
    return out;
  }

  const toPixels = (a: CrowdArea, w: number, h: number): Point[] => a.polygon.map(([x, y]): Point => [x * w, y * h]);

  async function estimate(frame: Frame, idx: number[]): Promise<number[]> {
    if (estimator) {
      const polys: Record<string, Point[]> = {};
      for (const i of idx) polys[String(i)] = toPixels(areas[i]!, frame.width, frame.height);
      const r = await estimator.estimate(frame, polys, { stream: streamId });
      return idx.map((i) => r.areas[String(i)] ?? 0);
    }
    const dets = await detectTiled(deps.detector!, frame, { tileSize: options.tileSize, overlap: options.overlap }, { stream: streamId });
    const persons = dets.filter((d: Detection) => d.label === 'person' && d.score >= scoreThreshold);
    return idx.map((i) => {
      const poly = Float64Array.from(toPixels(areas[i]!, frame.width, frame.height).flat());
      // A person belongs to the area their box centre stands in.
      return persons.filter((d) => pointInPolygon((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2, poly)).length;
    });
  }

  function observation(frame: Frame, i: number, value: number): Observation {
    const a = areas[i]!;
    const xs = a.polygon.map((p) => p[0] * frame.width), ys = a.polygon.map((p) => p[1] * frame.height);
    const box: Box = [Math.max(0, Math.min(...xs)), Math.max(0, Math.min(...ys)), Math.min(frame.width, Math.max(...xs)), Math.min(frame.height, Math.max(...ys))];
    // A copy: the frame buffer may be reused once process() returns.
    const image = cropImage(frame, box);
    const estimation = Math.round(value * 100) / 100;
    return {
      analyticId: 'NFV4-CE', streamId, timestamp: frame.timestamp,
      crop: { image, box: [0, 0, image.width, image.height] },
      primaryText: String(estimation), secondaryText: a.name,
      data: { area: a.name, estimation, interval: everyMs[i]! / 1000 },
    };
  }

  return {
    name: 'crowd-estimation',
    async process(frame: Frame): Promise<Observation[]> {
      const idx = due(frame.timestamp);
      if (idx.length === 0) return [];
      let values: number[];
      try {
        values = await estimate(frame, idx);
      } catch (err) {
        // Not marked done: the next frame tries again. A drop by the model queue is the
        // pipeline's to count (a dropped frame, not an analysed one).
        if (isInferenceDropped(err)) throw err;
        log.warn({ err }, 'crowd estimation failed; frame skipped');
        return [];
      }
      const out: Observation[] = [];
      for (const [k, i] of idx.entries()) {
        lastMs[i] = frame.timestamp;
        try {
          out.push(observation(frame, i, values[k]!));
        } catch (err) {
          log.warn({ err, area: areas[i]!.name }, 'crowd area outside the frame; no event');
        }
      }
      return out;
    },
    close(): void {
      lastMs.fill(NaN);
    },
  };
}
