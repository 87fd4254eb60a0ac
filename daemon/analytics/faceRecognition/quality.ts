import type { Box, Point } from '../../vision/image.js';

/** The quality gates; each is configurable and each value is reported with the face. */
export interface QualityGates {
  /** Smallest face (shorter box side, source px). Default 40. */
  minFaceSize: number;
  /** Smallest blur score (Laplacian variance on the aligned 112x112 face). Default 15. */
  minBlur: number;
  /** Largest |yaw| in degrees, estimated (roughly) from the landmarks. Default 55. */
  maxYaw: number;
  /** Largest |roll| in degrees (eye line tilt); alignment undoes roll, so this is loose. Default 60. */
  maxRoll: number;
}

export const DEFAULT_GATES: QualityGates = { minFaceSize: 40, minBlur: 15, maxYaw: 55, maxRoll: 60 };

/** What the gates measured, and whether the face passed. */
export interface FaceQuality {
  size: number;
  blur: number;
  yaw: number;
  roll: number;
  /** 0..1, used to weight the vote across a track. */
  score: number;
  ok: boolean;
  /** Why the face failed, one short phrase a gate (empty when ok). */
  reasons: string[];
}

/**
 * Head pose from the 5 landmarks: yaw from where the nose sits between the eyes
 * (frontal: at the middle; profile: at an eye), roll from the eye line.
 */
export function poseFromLandmarks(k: readonly Point[]): { yaw: number; roll: number } {
  const [le, re, nose] = k as [Point, Point, Point];
  const ex = re[0] - le[0], ey = re[1] - le[1];
  const eyeDist = Math.hypot(ex, ey) || 1;
  const roll = (Math.atan2(ey, ex) * 180) / Math.PI;
  // Nose offset from the eye midpoint, projected on the eye line, in eye distances.
  const mx = (le[0] + re[0]) / 2, my = (le[1] + re[1]) / 2;
  const off = ((nose[0] - mx) * ex + (nose[1] - my) * ey) / (eyeDist * eyeDist);
  const yaw = (Math.asin(Math.max(-1, Math.min(1, off * 2))) * 180) / Math.PI;
  return { yaw, roll };
}

/** Applies the gates to one face; `blur` comes from vision/align blurScore on the aligned face. */
export function assessQuality(box: Box, landmarks: readonly Point[], blur: number, detScore: number, gates: QualityGates, poseKnown = true): FaceQuality {
  const size = Math.min(box[2] - box[0], box[3] - box[1]);
  const { yaw, roll } = poseKnown ? poseFromLandmarks(landmarks) : { yaw: 0, roll: 0 };
  const reasons: string[] = [];
  if (size < gates.minFaceSize) reasons.push(`face is ${Math.round(size)} px, smaller than ${gates.minFaceSize} px`);
  if (blur < gates.minBlur) reasons.push(`face is blurred (sharpness ${blur.toFixed(1)} < ${gates.minBlur})`);
  if (Math.abs(yaw) > gates.maxYaw) reasons.push(`face is turned ${Math.round(Math.abs(yaw))}° away (max ${gates.maxYaw}°)`);
  if (Math.abs(roll) > gates.maxRoll) reasons.push(`face is tilted ${Math.round(Math.abs(roll))}° (max ${gates.maxRoll}°)`);
  const sizeF = Math.min(1, size / 112);
  const blurF = Math.min(1, blur / (gates.minBlur * 6));
  const poseF = Math.cos((Math.min(90, Math.abs(yaw)) * Math.PI) / 180);
  const score = Math.max(0, Math.min(1, detScore)) * sizeF * blurF * poseF;
  return { size, blur, yaw, roll, score, ok: reasons.length === 0, reasons };
}
