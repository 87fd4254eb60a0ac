import sharp from 'sharp';
import { VigilError } from '../errors.js';
import type { RgbImage } from './image.js';

/** Largest image we agree to decode (a 1 GB frame is an attack, not a photo). */
const MAX_PIXELS = 64_000_000;

/** Decodes JPEG/PNG/WebP (EXIF rotation applied) into packed RGB; garbage or truncated bytes → VIGIL_ERR_INVALID_IMAGE. */
export async function decodeImage(bytes: Buffer | Uint8Array): Promise<RgbImage> {
  if (!bytes || bytes.length === 0) throw new VigilError('VIGIL_ERR_INVALID_IMAGE', 'The image is empty.');
  try {
    // failOn 'truncated' refuses cut-off files but tolerates the harmless warnings real cameras produce.
    const { data, info } = await sharp(bytes, { failOn: 'truncated', limitInputPixels: MAX_PIXELS })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels === 3) return { width: info.width, height: info.height, data };
    return { width: info.width, height: info.height, data: toRgb(data, info.channels, info.width * info.height) };
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new VigilError('VIGIL_ERR_INVALID_IMAGE', `The image cannot be decoded: ${why}`);
  }
}

function toRgb(data: Buffer, channels: number, pixels: number): Buffer {
  const out = Buffer.allocUnsafe(pixels * 3);
  for (let i = 0, o = 0, s = 0; i < pixels; i++, o += 3, s += channels) {
    const g = data[s]!;
    out[o] = g;
    out[o + 1] = channels >= 3 ? data[s + 1]! : g;
    out[o + 2] = channels >= 3 ? data[s + 2]! : g;
  }
  return out;
}

/** Encodes packed RGB to JPEG (quality 1-100). */
export async function encodeJpeg(img: RgbImage, quality = 80): Promise<Buffer> {
  if (!(img.width > 0 && img.height > 0) || img.data.length < img.width * img.height * 3) {
    throw new VigilError('VIGIL_ERR_INVALID_IMAGE', `Cannot encode a ${img.width}x${img.height} image from ${img.data.length} bytes`);
  }
  const q = Math.max(1, Math.min(100, Math.round(quality)));
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality: q, mozjpeg: false }).toBuffer();
}

/** Reads an image file from disk and decodes it (tests, enrolment from a path). */
export async function readImageFile(path: string): Promise<RgbImage> {
  const { readFile } = await import('node:fs/promises');
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new VigilError('VIGIL_ERR_INVALID_IMAGE', `Cannot read ${path}: ${(err as Error).message}`);
  }
  return decodeImage(bytes);
}
