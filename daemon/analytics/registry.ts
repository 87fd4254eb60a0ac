import { join } from 'node:path';
import type { StreamEntry, VigilConfig } from '../../config/types.js';
import { createObjectDetector, type ObjectDetector } from '../detectors/objectDetector.js';
import type { Detection } from '../detectors/types.js';
import { VigilError } from '../errors.js';
import type { InferenceEngine } from '../inference/engine.js';
import type { RunOptions } from '../inference/types.js';
import type { Logger } from '../log.js';
import type { CounterStore } from '../store/counterStore.js';
import type { RgbImage } from '../vision/image.js';
import type { ObjectEventOptions } from './objectEvents.js';
import { createPeopleCounting, type CountingOptions, type DetectionsListener } from './peopleCounting.js';
import { buildPlateReader, CN_PLATE_MODELS, createPlateRecognition, DEFAULT_PLATE_MODELS, type PlateReader } from './plateRecognition/index.js';
import { createCrowdEstimation } from './crowdEstimation.js';
import { createFaceDetector, type FaceDetector } from './faceRecognition/faceDetector.js';
import { FaceAdmin, type EventVariationLookup } from './faceRecognition/faceAdmin.js';
import { createFaceRecognitionAnalytic } from './faceRecognition/faceRecognitionAnalytic.js';
import { FaceRecognizer, type FaceRecognitionConfig } from './faceRecognition/faceRecognizer.js';
import type { FaceGalleryPort } from './faceRecognition/galleryPort.js';
import type { QualityGates } from './faceRecognition/quality.js';
import type { AnalyticName, StreamAnalytic } from './types.js';
import { createVehicleCounting } from './vehicleCounting.js';

export interface AnalyticsFactoryDeps {
  config: VigilConfig;
  engine: InferenceEngine;
  counters: CounterStore;
  /** The face gallery (store/faceGallery.ts), reached only through its port. */
  gallery: FaceGalleryPort;
  /** `pipeline_data.variation` of a stored NFV4-FR event, for reject/confirm by event id. */
  faceVariation: EventVariationLookup;
  log: Logger;
  /** Told what the counting analytics see on each frame (main: the live view's overlay). */
  onDetections?: DetectionsListener;
}

/** Face recognition shared by streams, frame sockets and the gallery API. */
export interface FaceServices {
  recognizer: FaceRecognizer;
  admin: FaceAdmin;
}

type Options = Record<string, unknown>;
type Builder = (stream: StreamEntry, log: Logger) => Promise<StreamAnalytic>;

/** Models, detectors and readers built once and shared by every stream and the frame sockets. */
export class SharedAnalytics {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: AnalyticsFactoryDeps) {}

  options(name: AnalyticName): Options {
    return (this.deps.config.analytics[name] as Options | undefined) ?? {};
  }

  /** Builds once; a failed build is retried by the next caller rather than cached. */
  once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make();
      p.catch(() => this.cache.delete(key));
      this.cache.set(key, p);
    }
    return p;
  }

  /**
   * The COCO detector at a low threshold (ByteTrack's second pass wants weak boxes),
   * memoised per frame so people and vehicle counting on one stream run it once.
   */
  trackingDetector(): Promise<FrameMemoDetector> {
    return this.once('tracking-detector', async () => new FrameMemoDetector(createObjectDetector(await this.deps.engine.forRole('person-detector'), { scoreThreshold: 0.1 })));
  }

  /** The detector of the `detect` frame socket: persons and vehicles at the usual threshold. */
  objectDetector(): Promise<ObjectDetector> {
    return this.once('object-detector', async () => createObjectDetector(await this.deps.engine.forRole('person-detector')));
  }

  /** The face recognizer, started once (models loaded, gallery re-embedded if the embedder changed). */
  faces(): Promise<FaceServices> {
    return this.once('faces', async () => {
      const recognizer = new FaceRecognizer({ models: this.deps.engine, gallery: this.deps.gallery, log: this.deps.log, config: faceConfig(this.options('face-recognition')) });
      await recognizer.start();
      return { recognizer, admin: new FaceAdmin(recognizer, this.deps.log, this.deps.faceVariation) };
    });
  }

  /** The bare face detector of the `face-detect` frame socket. */
  faceDetector(): Promise<FaceDetector> {
    return this.once('face-detector', async () => {
      const name = this.options('face-recognition').detector_model as string | undefined;
      return createFaceDetector(name ? await this.deps.engine.get(name) : await this.deps.engine.forRole('face-detector'));
    });
  }

  /** A plate reader for a list of formats (per stream); model sessions are shared by the engine anyway. */
  plateReader(formats?: string[]): Promise<PlateReader> {
    const o = this.options('plate-recognition');
    const wanted = formats ?? (o.formats as string[] | undefined);
    return this.once(`plate-reader:${JSON.stringify(wanted ?? null)}`, async () => {
      const preset = o.models === 'cn' ? CN_PLATE_MODELS : DEFAULT_PLATE_MODELS;
      return buildPlateReader(this.deps.engine, join(this.deps.config.data_dir, 'models'), {
        vehicleDetector: o.vehicle_detector === undefined ? preset.vehicleDetector : (o.vehicle_detector as string | null),
        plateLocalizer: (o.plate_localizer as string | undefined) ?? preset.plateLocalizer,
        ocr: (o.ocr as string[] | undefined) ?? preset.ocr,
      }, {
        formats: wanted,
        requireFormat: o.require_format as boolean | undefined,
        minVehicleScore: o.min_vehicle_score as number | undefined,
      });
    });
  }
}

/** Runs the wrapped detector once per image object, however many analytics ask for it. */
export class FrameMemoDetector {
  private last: { img: RgbImage; result: Promise<Detection[]> } | null = null;
  constructor(private readonly inner: ObjectDetector) {}
  detect(img: RgbImage, run?: RunOptions): Promise<Detection[]> {
    if (this.last?.img !== img) this.last = { img, result: this.inner.detect(img, run) };
    return this.last.result;
  }
}

function gates(o: Record<string, unknown> | undefined): Partial<QualityGates> | undefined {
  if (!o) return undefined;
  return { minFaceSize: o.min_face_size as number | undefined, minBlur: o.min_blur as number | undefined, maxYaw: o.max_yaw as number | undefined, maxRoll: o.max_roll as number | undefined };
}

/** `analytics.face-recognition` (snake_case YAML) to the recognizer's options; unset keys keep defaults. */
function faceConfig(o: Options): Partial<FaceRecognitionConfig> {
  const c: Record<string, unknown> = {
    detectorModel: o.detector_model,
    embedderModel: o.embedder_model,
    matchThreshold: o.match_threshold,
    margin: o.margin,
    clusterThreshold: o.cluster_threshold,
    decisionFrames: o.decision_frames,
    maxMissed: o.max_missed,
    updates: o.updates,
    unknownImages: o.unknown_images,
    unknownRecentImages: o.unknown_recent_images,
    gates: gates(o.gates as Record<string, unknown> | undefined),
    enrollGates: gates(o.enroll_gates as Record<string, unknown> | undefined),
  };
  const strip = (x: Record<string, unknown>) => Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined));
  if (c.gates) c.gates = strip(c.gates as Record<string, unknown>);
  if (c.enrollGates) c.enrollGates = strip(c.enrollGates as Record<string, unknown>);
  return strip(c) as Partial<FaceRecognitionConfig>;
}

function countingOptions(o: Options, stream: StreamEntry): CountingOptions {
  return {
    areaName: stream.name ?? stream.id,
    lines: stream.lines,
    zones: stream.zones,
    presence: o.presence as boolean | undefined,
    presenceThreshold: o.presence_threshold as number | undefined,
    occupancyInterval: o.occupancy_interval_s as number | undefined,
    cropPadding: o.crop_padding as number | undefined,
    cropMaxSide: o.crop_max_side as number | undefined,
    classes: o.classes as string[] | undefined,
    objects: {
      events: o.track_events as ObjectEventOptions['events'],
      confirmFrames: o.confirm_frames as number | undefined,
      confirmScore: o.confirm_score as number | undefined,
      updateGain: o.update_gain as number | undefined,
      intervalS: o.interval_s as number | undefined,
    },
  };
}

/**
 * Maps a stream's `analytics` list to analytic instances. Models and detectors are
 * shared; per-stream state (tracks, votes, counters) lives in each analytic.
 */
export function createAnalyticsFactory(shared: SharedAnalytics, deps: AnalyticsFactoryDeps): (stream: StreamEntry, log: Logger) => Promise<StreamAnalytic[]> {
  const builders: Partial<Record<AnalyticName, Builder>> = {
    'people-counting': async (stream, log) =>
      createPeopleCounting({ detector: await shared.trackingDetector(), log, counters: deps.counters, onDetections: deps.onDetections }, stream.id, countingOptions(shared.options('people-counting'), stream)),
    'vehicle-counting': async (stream, log) =>
      createVehicleCounting({ detector: await shared.trackingDetector(), log, counters: deps.counters, onDetections: deps.onDetections }, stream.id, countingOptions(shared.options('vehicle-counting'), stream)),
    'crowd-estimation': async (stream, log) => {
      const o = shared.options('crowd-estimation');
      // A configured crowd-density model (models.roles.crowd-density) wins; else a tiled person count.
      const density = deps.config.models.roles['crowd-density'] ? await shared.once('crowd-density', () => deps.engine.forRole('crowd-density')) : undefined;
      return createCrowdEstimation({ density, detector: density ? undefined : await shared.trackingDetector(), log }, stream.id, {
        areas: stream.areas,
        defaultAreaName: stream.name ?? stream.id,
        intervalS: o.interval_s as number | undefined,
        tileSize: o.tile_size as number | undefined,
        overlap: o.overlap as number | undefined,
        scoreThreshold: o.score_threshold as number | undefined,
      });
    },
    'face-recognition': async (stream, log) => createFaceRecognitionAnalytic((await shared.faces()).recognizer, { streamId: stream.id, log }),
    'plate-recognition': async (stream, log) => {
      const o = shared.options('plate-recognition');
      const reader = await shared.plateReader(stream.plate_formats);
      return createPlateRecognition(
        reader,
        {
          areaName: stream.name ?? stream.id,
          minAgreeing: o.min_agreeing as number | undefined,
          dedupWindowMs: o.dedup_window_s === undefined ? undefined : (o.dedup_window_s as number) * 1000,
          knownPlates: o.known_plates as { plate: string }[] | undefined,
          maxReadsPerTrack: o.max_reads_per_track as number | undefined,
          minReadConfidence: o.min_read_confidence as number | undefined,
        },
        log,
      );
    },
  };

  return async (stream, log) => {
    const out: StreamAnalytic[] = [];
    for (const name of stream.analytics) {
      const build = builders[name];
      if (!build) throw new VigilError('VIGIL_ERR_ANALYTIC_UNKNOWN', `Analytic "${name}" is not available in this build.`);
      out.push(await build(stream, log.child({ analytic: name })));
    }
    return out;
  };
}
