import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { VigilError } from '../errors.js';
import type { Observation } from '../analytics/types.js';
import type { Box, RgbImage } from '../vision/image.js';
import { maskUrl } from './mask.js';
import { cropKey, type VisionEvent } from './schema.js';

/** Where an event comes from: the node number (VisionAIre `node_num`) and the stream URL (masked here). */
export interface EventContext {
  nodeNum: number;
  streamAddress: string;
  /** JPEG quality of the crop, 1-100 (default 80). */
  jpegQuality?: number;
  /** Longest side of the crop in pixels: larger regions are scaled down (default: kept as cut). */
  cropMaxSide?: number;
}

/** `<timestamp>-<8 hex>`: sortable by time, unique enough across nodes without coordination. */
export function newEventId(timestampMs: number): string {
  return `${Math.trunc(timestampMs)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Clamps a box to the image: sorts the corners, rounds outwards, keeps at least 1×1 pixel
 * inside the image. NaN/infinite coordinates fall back to the image edges. Never throws.
 */
export function clampBox(box: Box, width: number, height: number): { left: number; top: number; width: number; height: number } {
  const fin = (v: number, fallback: number) => (Number.isFinite(v) ? v : fallback);
  const [a, b, c, d] = Array.isArray(box) ? box : [0, 0, width, height];
  const x1 = fin(Math.min(a, c), 0);
  const x2 = fin(Math.max(a, c), width);
  const y1 = fin(Math.min(b, d), 0);
  const y2 = fin(Math.max(b, d), height);
  const left = Math.min(Math.max(0, Math.floor(x1)), width - 1);
  const top = Math.min(Math.max(0, Math.floor(y1)), height - 1);
  const right = Math.max(left + 1, Math.min(width, Math.ceil(x2)));
  const bottom = Math.max(top + 1, Math.min(height, Math.ceil(y2)));
  return { left, top, width: right - left, height: bottom - top };
}

/**
 * Encodes the box region of an rgb24 image as JPEG, scaled down to `maxSide` when larger (what a
 * dashboard shows; keeps a crop to tens of KB); odd boxes are clamped, a bad image is VIGIL_ERR_INVALID_IMAGE.
 */
export async function encodeCrop(image: RgbImage, box: Box, quality = 80, maxSide?: number): Promise<Buffer> {
  const { width, height, data } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || !data || data.length < width * height * 3) {
    throw new VigilError('VIGIL_ERR_INVALID_IMAGE', `Cannot crop a ${width}x${height} rgb24 image from ${data?.length ?? 0} bytes`);
  }
  const region = clampBox(box, width, height);
  const q = Math.max(1, Math.min(100, Math.round(quality)));
  let img = sharp(data, { raw: { width, height, channels: 3 } }).extract(region);
  if (maxSide !== undefined && maxSide > 0 && Math.max(region.width, region.height) > maxSide) {
    const side = Math.max(1, Math.round(maxSide));
    img = img.resize({ width: side, height: side, fit: 'inside' });
  }
  // mozjpeg's preset without its progressive scans: trellis quantisation and the ImageMagick
  // table give the same bytes and PSNR on person-sized crops as the full preset (whose scan
  // search costs most of its time), in 2/3 of the CPU; the event waits for this encode.
  return img.jpeg({ quality: q, quantisationTable: 3, trellisQuantisation: true, overshootDeringing: true }).toBuffer();
}

/**
 * Turns an analytic's observation into a VisionAIre event plus its JPEG crop.
 * The event carries the crop base64 (`image_jpeg`, or `jpeg` for NFV4-LPR); the store keeps the bytes apart.
 * An observation without a crop (a count summary) gives an event without the crop key.
 */
export async function buildEvent(obs: Observation, ctx: EventContext): Promise<{ event: VisionEvent; crop: Buffer | null }> {
  const ts = Number.isFinite(obs.timestamp) && obs.timestamp > 0 ? Math.trunc(obs.timestamp) : Date.now();
  const eventId = newEventId(ts);
  const maxSide = smallest(ctx.cropMaxSide, obs.crop?.maxSide);
  const crop = obs.crop ? await encodeCrop(obs.crop.image, obs.crop.box, ctx.jpegQuality, maxSide) : null;
  // Analytic keys first, then the three keys every event must carry (they win over stray duplicates in data).
  const pipeline_data = { ...obs.data, event_id: eventId, primary_text: obs.primaryText ?? '', secondary_text: obs.secondaryText ?? '' };
  const event: VisionEvent = {
    analytic_id: obs.analyticId,
    ...(crop ? { [cropKey(obs.analyticId)]: crop.toString('base64') } : {}),
    node_num: Number.isInteger(ctx.nodeNum) ? ctx.nodeNum : Math.trunc(Number(ctx.nodeNum) || 0),
    stream_id: obs.streamId,
    stream_address: maskUrl(ctx.streamAddress ?? ''),
    timestamp: String(ts),
    pipeline_data,
  };
  return { event, crop };
}

/** The tighter of two optional bounds. */
function smallest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || !(a > 0)) return b;
  return b !== undefined && b > 0 ? Math.min(a, b) : a;
}

/** A copy of the event without its base64 crop (for `crops=0`, storage and logs). */
export function withoutCrop(event: VisionEvent): VisionEvent {
  const { image_jpeg: _a, jpeg: _b, ...rest } = event;
  return rest;
}

/** A copy of the event with the crop bytes put back under the analytic's crop key. */
export function withCrop(event: VisionEvent, crop: Buffer | null | undefined): VisionEvent {
  if (!crop) return event;
  return { ...event, [cropKey(event.analytic_id)]: crop.toString('base64') };
}
