/**
 * Constant-velocity Kalman filter over a box as (cx, cy, aspect, height), as in
 * ByteTrack/DeepSORT. With diagonal Q and R (ByteTrack's choice) the 8x8
 * covariance never couples different coordinates, so it is kept as four
 * independent 2x2 [position, velocity] blocks: same result, no matrices, no garbage.
 *
 * Layout of one filter in a Float64Array(KF_SIZE):
 *   [0..3]  position  cx, cy, a, h
 *   [4..7]  velocity  per step
 *   [8..19] covariance, per coordinate i: P_pp, P_pv, P_vv at 8 + 3*i
 */
export const KF_SIZE = 20;

/** Noise weights relative to box height (ByteTrack: 1/20 and 1/160 at 30 fps). */
export interface KalmanWeights {
  position: number;
  velocity: number;
}

export const DEFAULT_WEIGHTS: KalmanWeights = { position: 1 / 20, velocity: 1 / 160 };

// Aspect ratio noise is absolute, not height-relative (ByteTrack constants).
const A_POS = 1e-2;
const A_VEL = 1e-5;
const A_MEAS = 1e-1;

/** Starts a filter at a measured box (x1,y1,x2,y2), velocity 0, wide uncertainty. */
export function kfInit(s: Float64Array, x1: number, y1: number, x2: number, y2: number, w: KalmanWeights): void {
  const h = Math.max(1e-3, y2 - y1);
  s[0] = (x1 + x2) / 2;
  s[1] = (y1 + y2) / 2;
  s[2] = (x2 - x1) / h;
  s[3] = h;
  s[4] = s[5] = s[6] = s[7] = 0;
  const sp = 2 * w.position * h;
  const sv = 10 * w.velocity * h;
  for (let i = 0; i < 4; i++) {
    const p = i === 2 ? 1e-2 : sp;
    const v = i === 2 ? 1e-5 : sv;
    s[8 + 3 * i] = p * p;
    s[9 + 3 * i] = 0;
    s[10 + 3 * i] = v * v;
  }
}

/** Predicts `dt` steps ahead (dt = 1 for one nominal sampling interval). */
export function kfPredict(s: Float64Array, dt: number, w: KalmanWeights): void {
  const h = s[3]!;
  const qp = w.position * h;
  const qv = w.velocity * h;
  for (let i = 0; i < 4; i++) {
    s[i] = s[i]! + dt * s[4 + i]!;
    const k = 8 + 3 * i;
    const pp = s[k]!, pv = s[k + 1]!, vv = s[k + 2]!;
    // P = F P F^T + Q*dt, F = [[1, dt], [0, 1]]
    const sp = i === 2 ? A_POS : qp;
    const sv = i === 2 ? A_VEL : qv;
    s[k] = pp + 2 * dt * pv + dt * dt * vv + sp * sp * dt;
    s[k + 1] = pv + dt * vv;
    s[k + 2] = vv + sv * sv * dt;
  }
  if (s[3]! < 1e-3) s[3] = 1e-3;
}

/** Corrects the filter with a measured box (x1,y1,x2,y2). */
export function kfUpdate(s: Float64Array, x1: number, y1: number, x2: number, y2: number, w: KalmanWeights): void {
  const mh = Math.max(1e-3, y2 - y1);
  const z0 = (x1 + x2) / 2, z1 = (y1 + y2) / 2, z2 = (x2 - x1) / mh, z3 = mh;
  const r = w.position * s[3]!;
  const r2 = r * r;
  for (let i = 0; i < 4; i++) {
    const z = i === 0 ? z0 : i === 1 ? z1 : i === 2 ? z2 : z3;
    const k = 8 + 3 * i;
    const pp = s[k]!, pv = s[k + 1]!, vv = s[k + 2]!;
    const S = pp + (i === 2 ? A_MEAS * A_MEAS : r2);
    const kp = pp / S, kv = pv / S;
    const y = z - s[i]!;
    s[i] = s[i]! + kp * y;
    s[4 + i] = s[4 + i]! + kv * y;
    s[k] = pp - kp * pp;
    s[k + 1] = pv - kp * pv;
    s[k + 2] = vv - kv * pv;
  }
}

/** Writes the filter's box as x1,y1,x2,y2 into `out` at `o`. */
export function kfBox(s: Float64Array, out: Float64Array | Float32Array | number[], o = 0): void {
  const h = s[3]!;
  const w = s[2]! * h;
  out[o] = s[0]! - w / 2;
  out[o + 1] = s[1]! - h / 2;
  out[o + 2] = s[0]! + w / 2;
  out[o + 3] = s[1]! + h / 2;
}
