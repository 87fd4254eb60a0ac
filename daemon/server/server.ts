import type * as uWSTypes from 'uWebSockets.js';
import type { TemplatedApp, us_listen_socket, HttpResponse } from 'uWebSockets.js';
import { uws as uWS, uwsInfo, uwsSummary } from './uws/loadUws.js';
import { STATUS_CODES } from 'node:http';
import { VigilError, toVigilError } from '../errors.js';
import type { VisionEvent } from '../events/schema.js';
import type { Logger } from '../log.js';
import { requestToken, TokenSet } from './auth.js';
import { EventSocketHub, parseSubscription, type EventSocketOptions, type EventSource, type SocketData } from './eventSocket.js';
import { RestRouter } from './restRouter.js';
import type { RouteRegistry } from './routes.js';

/** Paths of the event socket (VisionAIre name first). */
export const EVENT_SOCKET_PATHS = ['/event_channel', '/ws/events'] as const;

export interface ServerOptions extends EventSocketOptions {
  host: string;
  /** 0 picks a free port (see `port()`). */
  port: number;
  /** Tokens accepted on the event socket and `auth: 'token'` routes. */
  tokens: string[];
  /** Token for admin routes (also accepted wherever a token is). */
  adminToken: string;
  /** Seconds between heartbeats on the event socket (default 10; 0 disables). */
  heartbeatS?: number;
  log: Logger;
  store: EventSource;
  /** Bytes uWS may queue per socket before it drops sends (default 16 MiB; must exceed highWaterBytes + the largest event). */
  maxBackpressure?: number;
  /** Event-socket subscribers allowed at once, in total and per token (defaults 256 and 64); more are refused with 429. */
  maxSubscribers?: number;
  maxSubscribersPerToken?: number;
  /** Seconds between WebSocket pings to each subscriber (default 20). */
  pingIntervalS?: number;
}

/** The daemon's one HTTP/WebSocket server. */
export interface VigilServer {
  /** Where parts register their REST routes; register before or after start. */
  routes: RouteRegistry;
  /** The uWS app, for other socket handlers (frame sockets) to add `app.ws(...)` before start. */
  app: TemplatedApp;
  /** Sends a stored event to matching subscribers; call after the store committed it, in seq order. */
  publish(event: VisionEvent, seq: number): void;
  /** Sends an event the store could not take to live subscribers, as `"seq": null` (never replayable). */
  publishLive(event: VisionEvent): void;
  /** Sends a control message (`type`: status, error, ...) to all subscribers; `stream_id` narrows it. */
  publishControl(msg: { type: string; stream_id?: string; [k: string]: unknown }): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  subscriberCount(): number;
  /** Per-subscriber mode, lastSeq, bytes queued (status page, tests). */
  subscriberStats(): ReturnType<EventSocketHub['stats']>;
  /** The bound port (after start). */
  port(): number;
}

/** Builds the uWS app: REST router on every path, the event socket on EVENT_SOCKET_PATHS. */
export function createServer(opts: ServerOptions): VigilServer {
  const log = opts.log.child({ component: 'server' });
  if (uwsInfo.kind === 'fallback') log.warn({ uws: uwsInfo }, `event and frame sockets run on the ${uwsSummary()}; see vigil doctor`);
  const admin = new TokenSet([opts.adminToken]);
  const tokens = new TokenSet(opts.tokens);
  const router = new RestRouter({ admin, tokens, log });
  const hub = new EventSocketHub(opts.store, log, opts);
  const maxSubs = opts.maxSubscribers ?? 256;
  const maxPerToken = opts.maxSubscribersPerToken ?? 64;
  let pinger: NodeJS.Timeout | null = null;
  const maxBackpressure = opts.maxBackpressure ?? 16 * 1024 * 1024;
  const app = uWS.App();
  let listenSocket: us_listen_socket | null = null;
  let boundPort = 0;
  let heartbeat: NodeJS.Timeout | null = null;

  const behavior: uWSTypes.WebSocketBehavior<SocketData> = {
    compression: uWS.DISABLED,
    maxPayloadLength: 64 * 1024,
    maxBackpressure,
    closeOnBackpressureLimit: 0,
    // The hub pings and closes idle subscribers itself, with a code and a log line (uWS's own
    // idle cut is silent, and it cut healthy-but-quiet clients whose pongs sat behind a full buffer).
    idleTimeout: 0,
    sendPingsAutomatically: false,
    upgrade: (res, req, context) => {
      // Everything is read synchronously and answered before returning: no onAborted needed.
      const query = new URLSearchParams(req.getQuery() ?? '');
      const token = requestToken(req.getHeader('authorization') || undefined, query);
      if (!admin.has(token) && !tokens.has(token)) {
        const msg = token ? 'The token is not valid for the event socket.' : 'The event socket needs a token: ?authorization=TOKEN or "Authorization: Bearer TOKEN".';
        refuse(res, new VigilError('VIGIL_ERR_UNAUTHORIZED', msg));
        return;
      }
      let filter;
      try {
        filter = parseSubscription(query);
      } catch (err) {
        refuse(res, toVigilError(err, 'VIGIL_ERR_BAD_REQUEST'));
        return;
      }
      const full = hub.count() >= maxSubs ? `${maxSubs} subscribers are connected, the most allowed (server.events.max_subscribers)` : hub.countFor(token ?? '') >= maxPerToken ? `this token has ${maxPerToken} subscribers connected, the most allowed (server.events.max_subscribers_per_token)` : '';
      if (full) {
        log.warn({ subscribers: hub.count() }, `event subscriber refused: ${full}`);
        opts.onSubscriberClosed?.('refused');
        refuse(res, new VigilError('VIGIL_ERR_TOO_MANY_SUBSCRIBERS', `${full}; close another subscriber first.`));
        return;
      }
      res.upgrade<SocketData>(
        { filter, token: token ?? '' },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => guard(log, 'open', () => hub.open(ws)),
    drain: (ws) => guard(log, 'drain', () => hub.drain(ws)),
    close: (ws, code) => guard(log, 'close', () => hub.close(ws, code)),
    pong: (ws) => guard(log, 'pong', () => hub.heard(ws)),
    message: (ws) => {
      // Clients have nothing to say on this socket; a message (e.g. a JSON pong) only shows it is alive.
      guard(log, 'message', () => hub.heard(ws));
    },
  };
  for (const path of EVENT_SOCKET_PATHS) app.ws<SocketData>(path, behavior);
  app.any('/*', (res, req) => router.handle(res, req));

  return {
    routes: router,
    app,
    publish: (event, seq) => guard(log, 'publish', () => hub.publish(event, seq)),
    publishLive: (event) => guard(log, 'publishLive', () => hub.publishUnstored(event)),
    publishControl: (msg) => guard(log, 'publishControl', () => hub.publishControl(msg)),
    subscriberCount: () => hub.count(),
    subscriberStats: () => hub.stats(),
    port: () => boundPort,
    start: () =>
      new Promise<void>((resolve, reject) => {
        if (listenSocket) return resolve();
        // Exclusive: a second daemon on the same port must fail, not share it via SO_REUSEPORT.
        (app as unknown as NativeApp).listen(opts.host, opts.port, EXCLUSIVE_PORT, (socket) => {
          if (!socket) {
            reject(
              new VigilError(
                'VIGIL_ERR_PORT_IN_USE',
                `Port ${opts.port} on ${opts.host} is already in use (or not allowed); stop the other process or set server.port to a free port.`,
              ),
            );
            return;
          }
          listenSocket = socket;
          boundPort = uWS.us_socket_local_port(socket as unknown as uWSTypes.us_socket);
          const every = opts.heartbeatS ?? 10;
          if (every > 0) {
            heartbeat = setInterval(() => guard(log, 'heartbeat', () => hub.heartbeat()), every * 1000);
            heartbeat.unref();
          }
          pinger = setInterval(() => guard(log, 'ping', () => hub.ping()), (opts.pingIntervalS ?? 20) * 1000);
          pinger.unref();
          log.info({ host: opts.host, port: boundPort }, 'server listening');
          resolve();
        });
      }),
    stop: async () => {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      if (pinger) clearInterval(pinger);
      pinger = null;
      hub.closeAll();
      if (listenSocket) uWS.us_listen_socket_close(listenSocket);
      listenSocket = null;
      // Also drops idle keep-alive connections, so the process can exit.
      (app as unknown as NativeApp).close();
    },
  };
}

/** What the native module has but its bundled typings lack (4-argument listen, close). */
interface NativeApp {
  listen(host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void): void;
  close(): void;
}
const EXCLUSIVE_PORT = (uWS as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT?: number }).LIBUS_LISTEN_EXCLUSIVE_PORT ?? 1;

/** Answers an upgrade request with an error instead of switching protocols. */
function refuse(res: HttpResponse, err: VigilError): void {
  const status = err.code === 'VIGIL_ERR_UNAUTHORIZED' ? 401 : err.code === 'VIGIL_ERR_TOO_MANY_SUBSCRIBERS' ? 429 : 400;
  res.cork(() => {
    res.writeStatus(`${status} ${STATUS_CODES[status]}`);
    res.writeHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify({ error: err.toJSON() }), true);
  });
}

/** A listener's failure never kills the daemon: log it with its context. */
function guard(log: Logger, where: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.error({ err, where }, 'event socket handler failed');
  }
}
