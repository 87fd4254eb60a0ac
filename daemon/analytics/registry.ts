import type { StreamEntry, VigilConfig } from '../../config/types.js';
import { createObjectDetector, type ObjectDetector } from '../detectors/objectDetector.js';
import { VigilError } from '../errors.js';
import type { InferenceEngine } from '../inference/engine.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/database.js';
import { createPeopleCounting } from './peopleCounting.js';
import type { AnalyticName, StreamAnalytic } from './types.js';

export interface AnalyticsFactoryDeps {
  config: VigilConfig;
  engine: InferenceEngine;
  db: Db;
  log: Logger;
}

type Builder = (stream: StreamEntry, log: Logger) => Promise<StreamAnalytic>;

/**
 * Maps a stream's `analytics` list to analytic instances. Models and detectors are
 * created once and shared by every stream; per-stream state lives in each analytic.
 */
export function createAnalyticsFactory(deps: AnalyticsFactoryDeps): (stream: StreamEntry, log: Logger) => Promise<StreamAnalytic[]> {
  const options = (name: AnalyticName): Record<string, unknown> => deps.config.analytics[name] ?? {};
  const shared = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, make: () => Promise<T>): Promise<T> => {
    let p = shared.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make();
      // A failed load is retried by the next stream that asks, not cached forever.
      p.catch(() => shared.delete(key));
      shared.set(key, p);
    }
    return p;
  };
  const personDetector = (): Promise<ObjectDetector> =>
    once('person-detector', async () => createObjectDetector(await deps.engine.forRole('person-detector'), { scoreThreshold: 0.1 }));

  const builders: Partial<Record<AnalyticName, Builder>> = {
    'people-counting': async (stream, log) => {
      const o = options('people-counting');
      return createPeopleCounting({ detector: await personDetector(), log }, stream.id, {
        areaName: stream.name ?? stream.id,
        lines: stream.lines,
        zones: stream.zones,
        presence: o.presence as boolean | undefined,
        presenceThreshold: o.presence_threshold as number | undefined,
        occupancyInterval: o.occupancy_interval_s as number | undefined,
      });
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
