import type { Frame } from '../streams/frame.js';
import type { Box, RgbImage } from '../vision/image.js';

/** The VisionAIre analytic ids Vigil emits. */
export type AnalyticId = 'NFV4-FR' | 'NFV4-LPR' | 'NFV4-PC' | 'NFV4-VC' | 'NFV4-CE';

/** Config names of the stream analytics, mapped to their event analytic id. */
export const ANALYTIC_IDS = {
  'face-recognition': 'NFV4-FR',
  'plate-recognition': 'NFV4-LPR',
  'people-counting': 'NFV4-PC',
  'vehicle-counting': 'NFV4-VC',
  'crowd-estimation': 'NFV4-CE',
} as const satisfies Record<string, AnalyticId>;

export type AnalyticName = keyof typeof ANALYTIC_IDS;

/**
 * What an analytic found worth an event, before it becomes VisionAIre JSON.
 * events/ adds event_id, timestamp, stream_address, node_num and the base64 crop.
 */
export interface Observation {
  analyticId: AnalyticId;
  streamId: string;
  /** Unix ms of the frame this observation comes from. */
  timestamp: number;
  /**
   * The image region the event shows (encoded to JPEG by events/); null: an event without a crop
   * (summaries). `maxSide` bounds its longest side below `crops.max_side` (an object's thumbnail).
   */
  crop: { image: RgbImage; box: Box; maxSide?: number } | null;
  primaryText: string;
  secondaryText: string;
  /** Analytic-specific `pipeline_data` keys (DESIGN.md section 5), without event_id/primary/secondary text. */
  data: Record<string, unknown>;
}

/** A per-stream analytic: keeps tracking/line/vote state across the frames of one stream. */
export interface StreamAnalytic {
  readonly name: AnalyticName;
  /**
   * True when process() may be called again before the previous call has resolved: the
   * analytic then starts the new frame's model input at once and applies results in call
   * order. The pipeline overlaps frames only when every analytic of a stream says so.
   */
  readonly overlaps?: boolean;
  /**
   * True when nothing of the frame is kept once process() resolves (observations and state hold
   * copies): the pipeline then hands the frame's buffer back for a later frame instead of
   * leaving ~0.7 MB a frame (640x360) to the garbage collector.
   */
  readonly copiesFrames?: boolean;
  /** Analyses one sampled frame; returns zero or more observations. Must not throw on bad frames. */
  process(frame: Frame): Promise<Observation[]>;
  /** Releases per-stream state (called when the stream is removed or the daemon stops). */
  close?(): void;
}
