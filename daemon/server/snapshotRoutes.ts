import type { RouteRegistry } from './routes.js';

/** Where snapshots come from; main hands in the stream registry's source plus the ffmpeg grabber. */
export interface SnapshotSource {
  /** One JPEG of the stream now; throws VIGIL_ERR_STREAM_UNKNOWN / _UNREACHABLE. */
  grab(streamId: string): Promise<Buffer>;
}

/**
 * `GET /api/streams/:id/snapshot.jpg` (any token): the dashboard's live view and geometry editor
 * until the live image socket serves them. Answers are kept for `maxAgeMs` and concurrent
 * requests share one grab, so many viewers cost one camera connection a second at most.
 */
export function registerSnapshotRoutes(routes: RouteRegistry, source: SnapshotSource, maxAgeMs = 1000): void {
  const cache = new Map<string, { at: number; jpeg: Promise<Buffer> }>();
  routes.route('GET', '/api/streams/:id/snapshot.jpg', async (req) => {
    const id = req.params.id!;
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < maxAgeMs) return { body: await hit.jpeg, contentType: 'image/jpeg', headers: { 'cache-control': 'no-store' } };
    const jpeg = source.grab(id);
    cache.set(id, { at: Date.now(), jpeg });
    try {
      return { body: await jpeg, contentType: 'image/jpeg', headers: { 'cache-control': 'no-store' } };
    } catch (err) {
      cache.delete(id);
      throw err;
    }
  }, { auth: 'token' });
}
