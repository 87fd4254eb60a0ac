import type { StreamAnalytic } from './types.js';
import { createTrackCounting, type CountingDeps, type CountingOptions } from './peopleCounting.js';

/** COCO classes counted as vehicles unless the options say otherwise. */
export const VEHICLE_CLASSES = ['car', 'motorcycle', 'bus', 'truck'];

/**
 * Vehicle counting (NFV4-VC): people counting's tracks, lines and zones over
 * vehicle classes; label and confidence are the track's majority class.
 */
export function createVehicleCounting(deps: CountingDeps, streamId: string, options: CountingOptions = {}): StreamAnalytic {
  return createTrackCounting({ name: 'vehicle-counting', id: 'NFV4-VC', classes: VEHICLE_CLASSES }, deps, streamId, options);
}
