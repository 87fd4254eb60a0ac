// Where the live view's pictures come from: the live image socket (/ws/live), asked for
// annotated frames (boxes, track ids, lines and zones drawn by the daemon) at a few fps.
// openLive(streamId, onFrame, onError) → { close() }; onFrame(blob, source) gets each JPEG,
// source 'socket' or 'snapshot'. Only if the socket fails (refused, dropped, or the stream
// has no frames for it yet) does the view poll the snapshot endpoint, and it tries the
// socket again now and then. close() stops everything: nothing runs while nobody watches.
import { api, token } from './api.js';

const FPS = 3;
const SNAPSHOT_EVERY_MS = 2000;
const SOCKET_RETRY_MS = 10000;

export function openLive(streamId, onFrame, onError) {
  let stopped = false;
  let ws = null;
  let poll = null; // the snapshot fallback, only while the socket is down
  let retry = null;

  const fallBack = () => {
    if (stopped) return;
    if (!poll) poll = pollSnapshots(streamId, onFrame, onError);
    clearTimeout(retry);
    retry = setTimeout(connect, SOCKET_RETRY_MS);
  };

  function connect() {
    if (stopped) return;
    const q = new URLSearchParams({ authorization: token() ?? '', stream: streamId, annotated: '1', fps: String(FPS) });
    const sock = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/live?${q}`);
    ws = sock;
    const fail = () => {
      if (ws !== sock) return; // already given up on, or closed on purpose
      ws = null;
      sock.close();
      fallBack();
    };
    sock.onmessage = (m) => {
      if (ws !== sock || typeof m.data !== 'string') return;
      // Errors are JSON (base64 never starts with "{"), e.g. a stream not decoding yet.
      if (m.data.startsWith('{')) return fail();
      if (poll) {
        poll.close();
        poll = null;
      }
      onFrame(jpegBlob(m.data), 'socket');
    };
    sock.onerror = fail;
    sock.onclose = fail;
  }

  connect();
  return {
    close() {
      stopped = true;
      clearTimeout(retry);
      poll?.close();
      const sock = ws;
      ws = null;
      sock?.close();
    },
  };
}

/** Bare base64 JPEG text → Blob (decoded here: the page's CSP allows no fetch of data: URLs). */
function jpegBlob(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: 'image/jpeg' });
}

/** GET /api/streams/ID/snapshot.jpg every SNAPSHOT_EVERY_MS until closed. */
function pollSnapshots(streamId, onFrame, onError) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    try {
      const res = await api(`/api/streams/${encodeURIComponent(streamId)}/snapshot.jpg`, { raw: true });
      if (!stopped) onFrame(await res.blob(), 'snapshot');
    } catch (err) {
      if (!stopped) onError(err);
    }
    if (!stopped) timer = setTimeout(tick, SNAPSHOT_EVERY_MS);
  };
  void tick();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
