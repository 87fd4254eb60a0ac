import type { AnalyticName } from './types.js';

/** The model sessions each analytic loads (shared ones under the same key). */
const MODELS_OF: Record<AnalyticName, string[]> = {
  'people-counting': ['object-detector'],
  'vehicle-counting': ['object-detector'],
  'crowd-estimation': ['object-detector'],
  'face-recognition': ['face-detector', 'face-embedder'],
  'plate-recognition': ['object-detector', 'plate-detector', 'plate-ocr'],
};

/** How many distinct models the streams' analytics will load (at least 1): the thread budget is split across them. */
export function expectedModelCount(streams: { analytics?: readonly AnalyticName[]; enabled?: boolean }[]): number {
  const keys = new Set<string>();
  for (const s of streams) {
    if (s.enabled === false) continue;
    for (const a of s.analytics ?? []) for (const k of MODELS_OF[a] ?? []) keys.add(k);
  }
  return Math.max(1, keys.size);
}
