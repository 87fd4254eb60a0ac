import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The read-only media folder: VIGIL_MEDIA_MIRROR, else ../shared/media beside the checkout. */
export function mediaDir(): string {
  return process.env.VIGIL_MEDIA_MIRROR ?? resolve(ROOT, '../shared/media');
}

/** The model mirror: VIGIL_MODEL_MIRROR, else ../shared/models beside the checkout. */
export function modelMirror(): string {
  return process.env.VIGIL_MODEL_MIRROR ?? resolve(ROOT, '../shared/models');
}

/** Absolute path of a test media file; throws a clear error when the mirror lacks it. */
export function mediaPath(name: string): string {
  const p = resolve(mediaDir(), name);
  if (!existsSync(p)) throw new Error(`Test media ${name} not found in ${mediaDir()} (set VIGIL_MEDIA_MIRROR)`);
  return p;
}
