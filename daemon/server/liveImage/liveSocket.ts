import type { HttpResponse, TemplatedApp, WebSocket } from 'uWebSockets.js';
import { VigilError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { requestToken, TokenSet } from '../auth.js';
import type { RouteRegistry } from '../routes.js';
import { LiveEncoder, type EncodedFrame } from './liveEncoder.js';
import type { LiveFrameSource } from './liveFrameStore.js';
import { LiveRequestError, parseLiveMessage, requestFrom, requestFromQuery, type LiveFormat, type LiveRequest } from './liveRequest.js';

/** Settings of the live image socket (config `server.frames.live`). */
export interface LiveOptions {
  maxFps: number;
  maxWidth: number;
  jpegQuality: number;
  maxViewers: number;
}

export const DEFAULT_LIVE_OPTIONS: LiveOptions = { maxFps: 10, maxWidth: 1280, jpegQuality: 75, maxViewers: 16 };

/** Requests a viewer may have waiting for their reply. */
const MAX_PENDING = 32;
/** Bytes a viewer may have unsent before its pushes are skipped (a slow link never queues frames). */
const MAX_BUFFERED = 2 * 1024 * 1024;

/** Live-view counters since start, per stream (for /metrics and tests). */
export interface LiveStats {
  viewers: number;
  streams: { stream: string; encodes: number; sent: number; skipped: number }[];
}

/** The registered live image socket. */
export interface LiveImage {
  stats(): LiveStats;
  /** Stops every push and closes every viewer (1001). */
  close(): void;
}

interface Viewer {
  ws: WebSocket<ViewerData> | undefined;
  base: LiveRequest;
  /** The format of this viewer's pushes (the group shares the encode, not the wrapping). */
  format: LiveFormat;
  group: Group | undefined;
  closed: boolean;
  /** Requests are answered one after the other, so replies come in the order asked. */
  chain: Promise<void>;
  pending: number;
}
interface ViewerData {
  viewer: Viewer;
}
/** Viewers of one variant at one rate: one timer, one encode per tick, shared by all of them. */
interface Group {
  key: string;
  request: LiveRequest;
  viewers: Set<Viewer>;
  timer: NodeJS.Timeout;
  busy: boolean;
  warned: Set<Viewer>;
}

/**
 * `/ws/live`: the latest frame of a stream as base64 JPEG, as in the FastAPI example
 * (text request in, image out), optionally annotated with the current detections,
 * track ids, lines and zones. One reply per request, or a steady push at the requested
 * fps. Cost is bounded: a frame is encoded once per variant and interval for all
 * viewers (LiveEncoder), viewers at the same rate share one timer, and a viewer whose
 * link lags is skipped rather than queued. Also `GET /api/live/<stream>` (image/jpeg).
 */
export function registerLiveImage(
  app: TemplatedApp,
  routes: RouteRegistry | undefined,
  deps: { source: LiveFrameSource; tokens: readonly string[]; log: Logger; options?: Partial<LiveOptions> },
): LiveImage {
  const opts = { ...DEFAULT_LIVE_OPTIONS, ...deps.options };
  const log = deps.log.child({ component: 'live-image' });
  const tokens = new TokenSet(deps.tokens);
  const counts = new Map<string, { encodes: number; sent: number; skipped: number }>();
  const countOf = (stream: string) => {
    let c = counts.get(stream);
    if (!c) counts.set(stream, (c = { encodes: 0, sent: 0, skipped: 0 }));
    return c;
  };
  const encoder = new LiveEncoder(deps.source, {
    jpegQuality: opts.jpegQuality,
    maxWidth: opts.maxWidth,
    minIntervalMs: 1000 / opts.maxFps,
    onEncode: (s) => countOf(s).encodes++,
  });
  const viewers = new Set<Viewer>();
  const groups = new Map<string, Group>();
  const isStream = (id: string): boolean => deps.source.latest(id) !== undefined;

  function send(v: Viewer, payload: string): boolean {
    if (v.closed || !v.ws) return false;
    try {
      if (v.ws.getBufferedAmount() > MAX_BUFFERED) return false;
      v.ws.send(payload, false);
      return true;
    } catch {
      return false;
    }
  }
  const error = (v: Viewer, code: string, message: string): void => void send(v, JSON.stringify({ type: 'error', code, message }));

  function payload(e: EncodedFrame, format: LiveFormat): string {
    if (format === 'base64') return e.base64;
    if (format === 'data_url') return `data:image/jpeg;base64,${e.base64}`;
    return JSON.stringify({ type: 'frame', stream: e.stream, seq: e.seq, encode_id: e.encodeId, timestamp: new Date(e.timestamp).toISOString(), width: e.width, height: e.height, annotated: e.annotated, data: e.base64 });
  }

  /** Resolves the stream a request names (or the only one there is); sends an error and returns undefined if none. */
  function streamOf(v: Viewer, r: LiveRequest): string | undefined {
    if (r.stream) {
      if (isStream(r.stream)) return r.stream;
      error(v, 'STREAM_UNKNOWN', `No frames from a stream "${r.stream.slice(0, 64)}" (unknown, or not running yet); known: ${deps.source.streamIds().join(', ') || 'none'}.`);
      return undefined;
    }
    const ids = deps.source.streamIds();
    if (ids.length === 1) return ids[0];
    error(v, 'STREAM_REQUIRED', `Name a stream: {"stream":"ID"} or ?stream=ID; known: ${ids.join(', ') || 'none'}.`);
    return undefined;
  }

  async function once(v: Viewer, r: LiveRequest, stream: string): Promise<void> {
    const e = await encoder.get(stream, r.annotated, r.width);
    if (!e) return error(v, 'STREAM_UNKNOWN', `The stream "${stream}" has no frame.`);
    if (send(v, payload(e, r.format))) countOf(stream).sent++;
    else countOf(stream).skipped++;
  }

  function leave(v: Viewer): void {
    const g = v.group;
    v.group = undefined;
    if (!g) return;
    g.viewers.delete(v);
    g.warned.delete(v);
    if (g.viewers.size === 0) {
      clearInterval(g.timer);
      groups.delete(g.key);
    }
  }

  function join(v: Viewer, r: LiveRequest, stream: string): void {
    const fps = Math.min(r.fps, opts.maxFps);
    const req = { ...r, stream, fps, width: r.width === undefined ? undefined : Math.min(r.width, opts.maxWidth) };
    const key = `${stream}\u0000${req.annotated ? 1 : 0}\u0000${req.width ?? 0}\u0000${fps}`;
    leave(v);
    let g = groups.get(key);
    if (!g) {
      const group: Group = { key, request: req, viewers: new Set(), busy: false, warned: new Set(), timer: setInterval(() => void tick(group), 1000 / fps) };
      groups.set(key, (g = group));
    }
    g.viewers.add(v);
    v.group = g;
    v.format = r.format;
  }

  async function tick(g: Group): Promise<void> {
    if (g.busy) return; // an encode slower than the interval: skip this tick rather than pile up
    g.busy = true;
    try {
      const stream = g.request.stream!;
      const e = await encoder.get(stream, g.request.annotated, g.request.width);
      const c = countOf(stream);
      for (const v of g.viewers) {
        if (!e) {
          if (!g.warned.has(v)) error(v, 'STREAM_UNKNOWN', `The stream "${stream}" has no frame any more.`);
          g.warned.add(v);
          continue;
        }
        g.warned.delete(v);
        if (send(v, payload(e, v.format))) c.sent++;
        else c.skipped++;
      }
    } catch (err) {
      log.warn({ err }, 'live frame could not be encoded');
    } finally {
      g.busy = false;
    }
  }

  /** One reply per request, in order: each waits for the previous one's encode. */
  function onText(v: Viewer, text: string): void {
    if (v.pending >= MAX_PENDING) return error(v, 'RATE_LIMITED', `More than ${MAX_PENDING} requests waiting on this connection: this one is refused.`);
    v.pending++;
    v.chain = v.chain
      .then(() => answer(v, text))
      .catch((err: unknown) => {
        log.warn({ err }, 'live frame could not be encoded');
        error(v, 'PROCESSING_ERROR', 'The frame could not be encoded.');
      })
      .finally(() => v.pending--);
  }

  async function answer(v: Viewer, text: string): Promise<void> {
    if (v.closed) return;
    let cmd;
    try {
      cmd = parseLiveMessage(text, v.base, isStream);
    } catch (err) {
      if (err instanceof LiveRequestError) return error(v, err.code, err.message);
      throw err;
    }
    if (cmd.kind === 'stop') return leave(v);
    if (cmd.kind === 'list') return void send(v, JSON.stringify({ type: 'streams', streams: deps.source.streamIds() }));
    const r = cmd.request;
    const stream = streamOf(v, r);
    if (!stream) return;
    if (r.fps > 0) join(v, r, stream);
    else {
      leave(v);
      await once(v, r, stream);
    }
  }

  app.ws<ViewerData>('/ws/live', {
    maxPayloadLength: 16 * 1024,
    maxBackpressure: 2 * MAX_BUFFERED,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      const query = new URLSearchParams(req.getQuery() ?? '');
      const token = requestToken(req.getHeader('authorization') || undefined, query);
      if (tokens.size > 0 && !tokens.has(token)) return refuse(res, '401 Unauthorized', 'UNAUTHORIZED', 'The token is missing or not valid.');
      if (viewers.size >= opts.maxViewers) return refuse(res, '429 Too Many Requests', 'RATE_LIMITED', `At most ${opts.maxViewers} live viewers.`);
      let base: LiveRequest;
      try {
        base = requestFromQuery(query);
      } catch (err) {
        return refuse(res, '400 Bad Request', 'INVALID_MESSAGE', (err as Error).message);
      }
      const viewer: Viewer = { ws: undefined, base, format: base.format, group: undefined, closed: false, chain: Promise.resolve(), pending: 0 };
      res.upgrade<ViewerData>({ viewer }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => {
      const v = ws.getUserData().viewer;
      v.ws = ws;
      viewers.add(v);
      // A URL that asks for a push starts it at once; otherwise the viewer's first text message asks.
      if (v.base.fps > 0 && v.base.stream) {
        const stream = streamOf(v, v.base);
        if (stream) join(v, v.base, stream);
      }
    },
    message: (ws, message, isBinary) => {
      const v = ws.getUserData().viewer;
      if (isBinary) return error(v, 'INVALID_MESSAGE', 'Send a text request (a stream id, JSON or key=value pairs), not binary.');
      try {
        onText(v, Buffer.from(message).toString('utf8'));
      } catch (err) {
        log.error({ err }, 'live socket message handler failed');
      }
    },
    close: (ws) => {
      const v = ws.getUserData().viewer;
      v.closed = true;
      v.ws = undefined;
      leave(v);
      viewers.delete(v);
    },
  });

  routes?.route(
    'GET',
    '/api/live/:stream',
    async (req) => {
      const stream = req.params.stream ?? '';
      if (!isStream(stream)) throw new VigilError('VIGIL_ERR_STREAM_UNKNOWN', `No frames from a stream "${stream.slice(0, 64)}" (unknown, or not running yet).`);
      let r: LiveRequest;
      try {
        r = requestFrom(Object.fromEntries(req.query), { stream, annotated: false, width: undefined, fps: 0, format: 'base64' });
      } catch (err) {
        throw new VigilError('VIGIL_ERR_BAD_REQUEST', (err as Error).message);
      }
      const e = await encoder.get(stream, r.annotated, r.width);
      if (!e) throw new VigilError('VIGIL_ERR_STREAM_UNKNOWN', `The stream "${stream}" has no frame.`);
      countOf(stream).sent++;
      return { body: Buffer.from(e.base64, 'base64'), contentType: 'image/jpeg', headers: { 'cache-control': 'no-store' } };
    },
    { auth: 'token' },
  );

  return {
    stats: () => ({ viewers: viewers.size, streams: [...counts].map(([stream, c]) => ({ stream, ...c })) }),
    close() {
      for (const g of groups.values()) clearInterval(g.timer);
      groups.clear();
      for (const v of [...viewers]) {
        try {
          v.ws?.end(1001, 'server stopping');
        } catch {
          // already closed
        }
      }
    },
  };
}

function refuse(res: HttpResponse, status: string, code: string, message: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'application/json').end(JSON.stringify({ type: 'error', code, message }));
  });
}
