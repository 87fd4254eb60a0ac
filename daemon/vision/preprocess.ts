import * as ort from 'onnxruntime-node';
import { VigilError } from '../errors.js';
import type { InputSpec } from '../inference/types.js';
import type { Box, Point, RgbImage } from './image.js';
import { wasmLetterbox, type WasmLetterboxJob } from './letterboxWasm.js';

/** How a source image was mapped into the model input: undo with undoLetterbox/undoPoint. */
export interface LetterboxMeta {
  srcWidth: number;
  srcHeight: number;
  /** Model input size actually fed. */
  inWidth: number;
  inHeight: number;
  /** input px = source px * scale + pad. Equal scales unless the resize is `stretch`. */
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
}

/** A model input tensor plus how to map its coordinates back to the source image. */
export interface PreparedInput {
  tensor: ort.Tensor;
  meta: LetterboxMeta;
}

/** Computes where the image lands inside the model input (no pixels touched). */
export function letterboxMeta(srcWidth: number, srcHeight: number, input: InputSpec): LetterboxMeta {
  const inWidth = input.width;
  const inHeight = input.height;
  if (input.resize === 'stretch') {
    return { srcWidth, srcHeight, inWidth, inHeight, scaleX: inWidth / srcWidth, scaleY: inHeight / srcHeight, padX: 0, padY: 0 };
  }
  const r = Math.min(inWidth / srcWidth, inHeight / srcHeight);
  const nw = Math.max(1, Math.round(srcWidth * r));
  const nh = Math.max(1, Math.round(srcHeight * r));
  const centre = input.resize === 'letterbox-center';
  const padX = centre ? Math.floor((inWidth - nw) / 2) : 0;
  const padY = centre ? Math.floor((inHeight - nh) / 2) : 0;
  // Scale per axis from the rounded size, so undo maps the content edges exactly.
  return { srcWidth, srcHeight, inWidth, inHeight, scaleX: nw / srcWidth, scaleY: nh / srcHeight, padX, padY };
}

/** Maps a box in model-input pixels back to source pixels, clamped to the image. */
export function undoLetterbox(box: Box, meta: LetterboxMeta): Box {
  return [
    clamp((box[0] - meta.padX) / meta.scaleX, 0, meta.srcWidth),
    clamp((box[1] - meta.padY) / meta.scaleY, 0, meta.srcHeight),
    clamp((box[2] - meta.padX) / meta.scaleX, 0, meta.srcWidth),
    clamp((box[3] - meta.padY) / meta.scaleY, 0, meta.srcHeight),
  ];
}

/** Maps a point in model-input pixels back to source pixels (not clamped: landmarks may leave the frame). */
export function undoPoint(p: Point, meta: LetterboxMeta): Point {
  return [(p[0] - meta.padX) / meta.scaleX, (p[1] - meta.padY) / meta.scaleY];
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Sampling tables for one axis of a bilinear resize, cached: frames of a stream share a size. */
interface Axis {
  i0: Int32Array;
  i1: Int32Array;
  w: Float32Array;
}
const axisCache = new Map<string, Axis>();

function axis(src: number, dst: number, stride: number): Axis {
  const key = `${src}:${dst}:${stride}`;
  let a = axisCache.get(key);
  if (a) return a;
  a = { i0: new Int32Array(dst), i1: new Int32Array(dst), w: new Float32Array(dst) };
  const ratio = src / dst;
  for (let d = 0; d < dst; d++) {
    // Half-pixel centres, as OpenCV/sharp do.
    let s = (d + 0.5) * ratio - 0.5;
    if (s < 0) s = 0;
    let s0 = Math.floor(s);
    if (s0 > src - 1) s0 = src - 1;
    const s1 = s0 + 1 < src ? s0 + 1 : src - 1;
    a.i0[d] = s0 * stride;
    a.i1[d] = s1 * stride;
    a.w[d] = s - s0;
  }
  if (axisCache.size > 64) axisCache.clear();
  axisCache.set(key, a);
  return a;
}

function checkImage(img: RgbImage): void {
  if (!img || !(img.width > 0) || !(img.height > 0) || !img.data || img.data.length < img.width * img.height * 3) {
    throw new VigilError('VIGIL_ERR_INVALID_IMAGE', `Not an RGB image: ${img?.width}x${img?.height}, ${img?.data?.length ?? 0} bytes`);
  }
}

/**
 * Turns an RGB image into the model's input tensor in one pass: bilinear resize
 * (stretch or letterbox), colour order, (v-mean)/std, layout and dtype, as the
 * manifest's InputSpec says. `target` lets a caller pool the tensor buffer.
 */
export function prepareInput(img: RgbImage, input: InputSpec, target?: Float32Array | Uint8Array): PreparedInput {
  checkImage(img);
  const meta = letterboxMeta(img.width, img.height, input);
  const W = meta.inWidth;
  const H = meta.inHeight;
  const n = W * H * 3;
  const out = target ?? (input.dtype === 'uint8' ? new Uint8Array(n) : new Float32Array(n));
  if (out.length !== n) throw new VigilError('VIGIL_ERR_INTERNAL', `Pooled tensor buffer has ${out.length} values, needs ${n}`);
  fillInput(img, input, meta, out);
  const dims = input.layout === 'NCHW' ? [1, 3, H, W] : [1, H, W, 3];
  const tensor = out instanceof Uint8Array ? new ort.Tensor('uint8', out, dims) : new ort.Tensor('float32', out, dims);
  return { tensor, meta };
}

/**
 * Float NCHW tensors (most detectors) are filled by the WebAssembly letterbox where the runtime
 * has SIMD (letterboxWasm.ts), else by the JavaScript loop below; false forces the loop.
 */
let wasmOn = true;
export function useWasmLetterbox(on: boolean): void {
  wasmOn = on;
}

/** Writes the prepared pixels of `img` into `out` (length W*H*3) per `input` and `meta`. */
export function fillInput(img: RgbImage, input: InputSpec, meta: LetterboxMeta, out: Float32Array | Uint8Array): void {
  const W = meta.inWidth;
  const H = meta.inHeight;
  const nw = Math.min(W - meta.padX, Math.round(img.width * meta.scaleX));
  const nh = Math.min(H - meta.padY, Math.round(img.height * meta.scaleY));
  // Channel c of the model reads source channel src[c]; scale/offset fold mean and std.
  const bgr = input.color === 'BGR';
  const s0 = bgr ? 2 : 0;
  const s2 = bgr ? 0 : 2;
  const a0 = 1 / input.std[0], a1 = 1 / input.std[1], a2 = 1 / input.std[2];
  const b0 = -input.mean[0] * a0, b1 = -input.mean[1] * a1, b2 = -input.mean[2] * a2;
  const u8 = out instanceof Uint8Array;
  const nchw = input.layout === 'NCHW';
  const padded = nw < W || nh < H;
  const p = input.pad;
  const p0 = p * a0 + b0, p1 = p * a1 + b1, p2 = p * a2 + b2;
  const ax = axis(img.width, nw, 3);
  const ay = axis(img.height, nh, img.width * 3);
  if (!u8 && nchw && wasmOn) {
    const job = {
      src: img.data, srcWidth: img.width, srcHeight: img.height, xi0: ax.i0, xi1: ax.i1, xw: ax.w, yi0: ay.i0, yi1: ay.i1, yw: ay.w, nw, nh, W, H,
      padX: meta.padX, padY: meta.padY, bgr, a: [a0, a1, a2], c: [b0, b1, b2], pad: padded ? [p0, p1, p2] : null,
    } satisfies WasmLetterboxJob;
    if (wasmLetterbox(job, out as Float32Array)) return;
  }
  if (padded) {
    if (nchw) {
      const plane = W * H;
      out.fill(p0, 0, plane);
      out.fill(p1, plane, 2 * plane);
      out.fill(p2, 2 * plane, 3 * plane);
    } else if (p0 === p1 && p1 === p2) {
      out.fill(p0);
    } else {
      for (let i = 0; i < W * H * 3; i += 3) { out[i] = p0; out[i + 1] = p1; out[i + 2] = p2; }
    }
  }
  const src = img.data;
  // Uint8Array assignment truncates: fold +0.5 into the offsets to round (uint8 inputs are 0-255).
  const r = u8 ? 0.5 : 0;
  const c0 = b0 + r, c1 = b1 + r, c2 = b2 + r;
  // Planar (NCHW) writes go to three planes; interleaved (NHWC) to consecutive bytes.
  const step = nchw ? 1 : 3;
  const d1 = nchw ? W * H : 1;
  const d2 = 2 * d1;
  const k: Kernel = { src, xi0: ax.i0, xi1: ax.i1, xw: ax.w, yi0: ay.i0, yi1: ay.i1, yw: ay.w, nw, nh, W, padX: meta.padX, padY: meta.padY, step, d1, d2, s0, s2, a0, a1, a2, c0, c1, c2 };
  // Two copies of one loop so each stays monomorphic (a shared one slows down on mixed array types).
  if (out instanceof Uint8Array) kernelU8(k, out);
  else kernelF32(k, out);
}

/** Everything the resize loop needs, computed once per frame. */
interface Kernel {
  src: Uint8Array; xi0: Int32Array; xi1: Int32Array; xw: Float32Array; yi0: Int32Array; yi1: Int32Array; yw: Float32Array;
  nw: number; nh: number; W: number; padX: number; padY: number; step: number; d1: number; d2: number;
  s0: number; s2: number; a0: number; a1: number; a2: number; c0: number; c1: number; c2: number;
}

function kernelF32(k: Kernel, out: Float32Array): void {
  const { src, xi0, xi1, xw, yi0, yi1, yw, nw, nh, W, padX, padY, step, d1, d2, s0, s2, a0, a1, a2, c0, c1, c2 } = k;
  for (let y = 0; y < nh; y++) {
    const r0 = yi0[y]!, r1 = yi1[y]!, wy = yw[y]!;
    const wy0 = 1 - wy;
    let o = ((y + padY) * W + padX) * step;
    for (let x = 0; x < nw; x++, o += step) {
      const k0 = xi0[x]!, k1 = xi1[x]!, wx = xw[x]!;
      const wx0 = 1 - wx;
      const i00 = r0 + k0, i01 = r0 + k1, i10 = r1 + k0, i11 = r1 + k1;
      out[o] = ((src[i00 + s0]! * wx0 + src[i01 + s0]! * wx) * wy0 + (src[i10 + s0]! * wx0 + src[i11 + s0]! * wx) * wy) * a0 + c0;
      out[o + d1] = ((src[i00 + 1]! * wx0 + src[i01 + 1]! * wx) * wy0 + (src[i10 + 1]! * wx0 + src[i11 + 1]! * wx) * wy) * a1 + c1;
      out[o + d2] = ((src[i00 + s2]! * wx0 + src[i01 + s2]! * wx) * wy0 + (src[i10 + s2]! * wx0 + src[i11 + s2]! * wx) * wy) * a2 + c2;
    }
  }
}

function kernelU8(k: Kernel, out: Uint8Array): void {
  const { src, xi0, xi1, xw, yi0, yi1, yw, nw, nh, W, padX, padY, step, d1, d2, s0, s2, a0, a1, a2, c0, c1, c2 } = k;
  for (let y = 0; y < nh; y++) {
    const r0 = yi0[y]!, r1 = yi1[y]!, wy = yw[y]!;
    const wy0 = 1 - wy;
    let o = ((y + padY) * W + padX) * step;
    for (let x = 0; x < nw; x++, o += step) {
      const k0 = xi0[x]!, k1 = xi1[x]!, wx = xw[x]!;
      const wx0 = 1 - wx;
      const i00 = r0 + k0, i01 = r0 + k1, i10 = r1 + k0, i11 = r1 + k1;
      out[o] = ((src[i00 + s0]! * wx0 + src[i01 + s0]! * wx) * wy0 + (src[i10 + s0]! * wx0 + src[i11 + s0]! * wx) * wy) * a0 + c0;
      out[o + d1] = ((src[i00 + 1]! * wx0 + src[i01 + 1]! * wx) * wy0 + (src[i10 + 1]! * wx0 + src[i11 + 1]! * wx) * wy) * a1 + c1;
      out[o + d2] = ((src[i00 + s2]! * wx0 + src[i01 + s2]! * wx) * wy0 + (src[i10 + s2]! * wx0 + src[i11 + s2]! * wx) * wy) * a2 + c2;
    }
  }
}

/** Copies the pixels inside `box` (clamped to the image, rounded outwards) into a new image. */
export function cropImage(img: RgbImage, box: Box): RgbImage {
  checkImage(img);
  const x1 = Math.max(0, Math.floor(box[0]));
  const y1 = Math.max(0, Math.floor(box[1]));
  const x2 = Math.min(img.width, Math.ceil(box[2]));
  const y2 = Math.min(img.height, Math.ceil(box[3]));
  if (!(x2 > x1 && y2 > y1)) throw new VigilError('VIGIL_ERR_INVALID_IMAGE', `Empty crop [${box.join(', ')}] of a ${img.width}x${img.height} image`);
  const w = x2 - x1;
  const h = y2 - y1;
  const data = Buffer.allocUnsafe(w * h * 3);
  const rowBytes = w * 3;
  for (let y = 0; y < h; y++) {
    const s = ((y1 + y) * img.width + x1) * 3;
    img.data.copy(data, y * rowBytes, s, s + rowBytes);
  }
  return { width: w, height: h, data };
}

/** Bilinear resize to exactly w x h (aspect not kept). */
export function resizeImage(img: RgbImage, w: number, h: number): RgbImage {
  checkImage(img);
  if (!(w >= 1 && h >= 1)) throw new VigilError('VIGIL_ERR_INVALID_IMAGE', `Bad resize target ${w}x${h}`);
  const data = Buffer.allocUnsafe(w * h * 3);
  const spec: InputSpec = {
    name: 'resize', width: w, height: h, layout: 'NHWC', color: 'RGB', dtype: 'uint8',
    mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch', pad: 0,
  };
  const view = new Uint8Array(data.buffer, data.byteOffset, data.length);
  fillInput(img, spec, letterboxMeta(img.width, img.height, spec), view);
  return { width: w, height: h, data };
}

/** rectInput's answers per input spec and frame size. */
const rectCache = new WeakMap<InputSpec, Map<number, InputSpec>>();

/**
 * The input a `rectMultiple` model is fed for a srcWidth x srcHeight frame: the manifest's
 * letterbox at the same scale, each side cut to the scaled image plus one multiple of padding,
 * rounded up to the multiple (never above the manifest's size). Same pixels as the square
 * input, less padding. The padding kept matters: with yolox_nano on the street clip (115
 * frames), cut to 416x256 (22 rows of padding) person scores fell by 0.039 on average and
 * 21 % fewer people reached 0.6, where tracks start; at 416x288 they match the square's (+0.015).
 */
export function rectInput(srcWidth: number, srcHeight: number, input: InputSpec): InputSpec {
  const m = input.rectMultiple;
  if (!m || input.resize === 'stretch') return input;
  // Once per frame size, not per frame: a stream's frames share one.
  let sizes = rectCache.get(input);
  if (!sizes) rectCache.set(input, (sizes = new Map()));
  const key = srcWidth * 65536 + srcHeight;
  let out = sizes.get(key);
  if (!out) {
    const r = Math.min(input.width / srcWidth, input.height / srcHeight);
    const cut = (v: number, max: number): number => Math.min(max, Math.ceil((v * r + m) / m) * m);
    const width = cut(srcWidth, input.width);
    const height = cut(srcHeight, input.height);
    out = width === input.width && height === input.height ? input : { ...input, width, height };
    sizes.set(key, out);
  }
  return out;
}

/** Rounds an image size up to a multiple (for dynamic-size models such as YuNet), capped at `max`. */
export function dynamicInputSize(srcWidth: number, srcHeight: number, multiple: number, max: number): { width: number; height: number } {
  const r = Math.min(1, max / Math.max(srcWidth, srcHeight));
  const up = (v: number): number => Math.max(multiple, Math.ceil((v * r) / multiple) * multiple);
  return { width: up(srcWidth), height: up(srcHeight) };
}
