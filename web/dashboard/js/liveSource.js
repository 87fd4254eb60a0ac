// Where the live view's pictures come from, kept apart so the live image socket can plug in:
// a replacement exports the same openLive(streamId, onFrame, onError) → { close() } and
// calls onFrame(blob) with each JPEG it receives (annotated with boxes and track ids by the
// daemon). Today: the snapshot endpoint, polled while the page is open; nothing when closed.
import { api } from './api.js';

const EVERY_MS = 2000;

export function openLive(streamId, onFrame, onError) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    try {
      const res = await api(`/api/streams/${encodeURIComponent(streamId)}/snapshot.jpg`, { raw: true });
      if (!stopped) onFrame(await res.blob());
    } catch (err) {
      if (!stopped) onError(err);
    }
    if (!stopped) timer = setTimeout(tick, EVERY_MS);
  };
  void tick();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
