import type { Box, Point } from '../vision/image.js';

/** One thing a detector found, in pixels of the source image (letterbox already undone). */
export interface Detection {
  box: Box;
  score: number;
  classId: number;
  /** Class name from the model's manifest labels, e.g. `person`, `car`, `face`, `plate`. */
  label: string;
  /** Face landmarks (5 for YuNet/SCRFD: eyes, nose, mouth corners) or plate corners (TL, TR, BR, BL). */
  keypoints?: Point[];
}
