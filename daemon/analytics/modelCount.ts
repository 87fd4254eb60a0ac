import type { ModelRole } from '../inference/types.js';
import type { AnalyticName } from './types.js';

/** The model roles each analytic loads (the person detector is one model shared by all). */
const ROLES_OF: Record<AnalyticName, ModelRole[]> = {
  'people-counting': ['person-detector'],
  'vehicle-counting': ['person-detector'],
  'crowd-estimation': ['person-detector'],
  'face-recognition': ['face-detector', 'face-embedder'],
  'plate-recognition': ['person-detector', 'plate-detector', 'plate-ocr'],
};

type StreamLike = { analytics?: readonly AnalyticName[]; enabled?: boolean };

/** How many enabled streams use each role's model: the streams that may keep it busy at once. */
export function streamsPerRole(streams: readonly StreamLike[]): Map<ModelRole, number> {
  const n = new Map<ModelRole, number>();
  for (const s of streams) {
    if (s.enabled === false) continue;
    const roles = new Set((s.analytics ?? []).flatMap((a) => ROLES_OF[a] ?? []));
    for (const r of roles) n.set(r, (n.get(r) ?? 0) + 1);
  }
  return n;
}

/** How many distinct models the streams' analytics will load (at least 1): the thread budget is split across them. */
export function expectedModelCount(streams: readonly StreamLike[]): number {
  return Math.max(1, streamsPerRole(streams).size);
}
