import type { HttpResponse, TemplatedApp, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import type { FrameAnalyzerRegistry } from '../../analytics/frameAnalyzers.js';
import type { Logger } from '../../log.js';
import { requestToken, TokenSet } from '../auth.js';
import { AnalyticConnection } from './analyticSocket.js';
import { CLOSE, type ConnectionContext, type FrameConnection, type SocketData } from './connection.js';
import { IdentifyConnection } from './identifySocket.js';
import { ConcurrencyGate, ConnectionCounter, frameLimits, type FrameLimits } from './limits.js';
import { MobiledgexConnection } from './mobiledgexSocket.js';
import { parseMode, type FrameErrorCode, type FrameMode } from './protocol.js';

/** Paths of the MobiledgeX-style face-detection socket (its clients use the trailing slash). */
export const MOBILEDGEX_SOCKET_PATHS = ['/ws/detector/detect/', '/ws/detector/detect'] as const;

/** What registerFrameSockets needs. */
export interface FrameSocketDeps {
  /** `identify` serves `/ws/identify`; every other name `/ws/<name>`. */
  analyzers: FrameAnalyzerRegistry;
  /** Accepted tokens (include the admin token); empty = no auth (development only). */
  tokens: readonly string[];
  limits?: Partial<FrameLimits>;
  log: Logger;
  /** Share one gate with the REST twin so both count against the same CPU budget. */
  gate?: ConcurrencyGate;
  /** Counts frame replies by socket and kind (for /metrics); optional. */
  count?: (socket: string, kind: 'result' | 'failed' | 'skipped') => void;
}

/** The registered frame sockets: their live state and a way to close them on stop. */
export interface FrameSockets {
  readonly limits: FrameLimits;
  readonly gate: ConcurrencyGate;
  /** Open frame-socket connections. */
  connections(): number;
  /** Frame replies sent since start, by socket (`identify`, `detector`, or the analytic) and kind. */
  replies(): { socket: string; kind: string; count: number }[];
  /** Stops the heartbeat timer and closes every frame socket (1001). */
  close(): void;
}

/**
 * Adds `/ws/identify`, `/ws/<analytic>` and the MobiledgeX-style `/ws/detector/detect/`
 * to a uWS app. Auth, `?mode=` and the per-token connection limit are checked before
 * the upgrade (401/400/429 JSON).
 */
export function registerFrameSockets(app: TemplatedApp, deps: FrameSocketDeps): FrameSockets {
  const limits = frameLimits(deps.limits);
  const gate = deps.gate ?? new ConcurrencyGate(limits.maxConcurrent);
  const log = deps.log.child({ component: 'frame-sockets' });
  const tokens = new TokenSet(deps.tokens);
  const counter = new ConnectionCounter(limits.maxConnectionsPerToken);
  const open = new Set<FrameConnection>();

  const replyCounts = new Map<string, number>();
  const count = (socket: string) => (kind: 'result' | 'failed' | 'skipped') => {
    const k = `${socket}\u0000${kind}`;
    replyCounts.set(k, (replyCounts.get(k) ?? 0) + 1);
    deps.count?.(socket, kind);
  };

  // Up to 4x a socket's limit still gets a polite FRAME_TOO_LARGE reply; beyond, uWS drops the connection
  // at once (1006, no close frame) without buffering the rest: the hard cap on memory per socket.
  const analyticPayload = 4 * limits.maxFrameBytes + 1024;
  const identifyPayload = Math.ceil((limits.identifyMaxFrameBytes * 4) / 3) * 2 + 4096;
  const mobiledgexPayload = 2 * limits.mobiledgexMaxFrameBytes + 1024;

  function behavior(
    payload: number,
    maxFrameBytes: number,
    make: (ctx: ConnectionContext, key: string) => FrameConnection,
    pick: (url: string) => string | undefined,
  ): WebSocketBehavior<SocketData> {
    return {
      maxPayloadLength: payload,
      maxBackpressure: 1024 * 1024,
      // Liveness is ours (heartbeat sweep below): uWS's own timer has a 4 s grain and no configurability below 8 s.
      idleTimeout: 0,
      sendPingsAutomatically: false,
      upgrade: (res, req, context) => {
        const url = req.getUrl();
        const query = new URLSearchParams(req.getQuery() ?? '');
        const auth = req.getHeader('authorization');
        const wsKey = req.getHeader('sec-websocket-key');
        const wsProtocol = req.getHeader('sec-websocket-protocol');
        const wsExtensions = req.getHeader('sec-websocket-extensions');
        const name = pick(url);
        const analyzer = name === undefined ? undefined : deps.analyzers.get(name);
        if (!analyzer) return refuse(res, '404 Not Found', 'NOT_FOUND', `No frame analytic at ${url}.`);
        const token = requestToken(auth || undefined, query);
        if (tokens.size > 0 && !tokens.has(token)) return refuse(res, '401 Unauthorized', 'UNAUTHORIZED', 'The token is missing or not valid.');
        let mode: FrameMode = 'all';
        try {
          if (query.has('mode')) mode = parseMode(query.get('mode'));
        } catch (err) {
          return refuse(res, '400 Bad Request', 'INVALID_MODE', (err as Error).message);
        }
        const key = token ? `token:${token}` : `addr:${Buffer.from(res.getRemoteAddressAsText()).toString()}`;
        if (limits.maxConnectionsPerToken > 0 && counter.count(key) >= limits.maxConnectionsPerToken) {
          return refuse(res, '429 Too Many Requests', 'RATE_LIMITED', `At most ${limits.maxConnectionsPerToken} frame connections per token.`);
        }
        const socket = name === 'face-detect' && url.startsWith('/ws/detector') ? 'detector' : (name ?? '');
        const conn = make({ analyzer, limits, maxFrameBytes, mode, gate, log, count: count(socket) }, key);
        res.upgrade<SocketData>({ conn }, wsKey, wsProtocol, wsExtensions, context);
      },
      open: (ws: WebSocket<SocketData>) => {
        const conn = ws.getUserData().conn;
        conn.ws = ws;
        if (!counter.acquire(conn.key)) {
          // Two upgrades raced past the check above.
          conn.end(CLOSE.POLICY, 'too many connections for this token');
          return;
        }
        open.add(conn);
        const hello = conn.greeting();
        if (hello) conn.send(hello);
      },
      message: (ws, message, isBinary) => {
        const conn = ws.getUserData().conn;
        conn.lastSeen = performance.now();
        try {
          // uWS reuses the ArrayBuffer after this callback: copy before anything async sees it.
          if (isBinary) conn.onBinary(Buffer.from(new Uint8Array(message)));
          else conn.onText(Buffer.from(message).toString('utf8'));
        } catch (err) {
          log.error({ err }, 'frame socket message handler failed');
          conn.send({ type: 'error', code: 'PROCESSING_ERROR', message: 'The message could not be handled.' });
        }
      },
      pong: (ws) => {
        ws.getUserData().conn.lastSeen = performance.now();
      },
      close: (ws, code) => {
        const conn = ws.getUserData().conn;
        if (open.delete(conn)) counter.release(conn.key);
        conn.onClose();
        log.debug({ code }, 'frame socket closed');
      },
    };
  }

  app.ws<SocketData>('/ws/identify', behavior(identifyPayload, limits.identifyMaxFrameBytes, (c, k) => new IdentifyConnection(c, k), () => 'identify'));
  const mobiledgex = behavior(mobiledgexPayload, limits.mobiledgexMaxFrameBytes, (c, k) => new MobiledgexConnection(c, k), () => 'face-detect');
  for (const path of MOBILEDGEX_SOCKET_PATHS) app.ws<SocketData>(path, mobiledgex);
  const analytic = behavior(analyticPayload, limits.maxFrameBytes, (c, k) => new AnalyticConnection(c, k), (url) => {
    // The protocol's SDKs end the path with a slash (`/ws/face-detect/`).
    const name = decodeURIComponent(url.slice('/ws/'.length).replace(/\/$/, ''));
    return name === 'identify' || name.includes('/') ? undefined : name;
  });
  app.ws<SocketData>('/ws/:analytic', analytic);
  app.ws<SocketData>('/ws/:analytic/', analytic);

  // One sweep for all sockets: heartbeats out, silent clients closed.
  const beatMs = limits.heartbeatS * 1000;
  const idleMs = limits.idleTimeoutS * 1000;
  const timer = setInterval(() => {
    const now = performance.now();
    for (const conn of [...open]) {
      if (now - conn.lastSeen > idleMs) {
        conn.end(CLOSE.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
        continue;
      }
      if (now - conn.lastBeat >= beatMs) {
        conn.lastBeat = now;
        conn.beat();
      }
    }
  }, Math.max(20, Math.min(1000, beatMs / 4, idleMs / 4)));
  timer.unref();

  return {
    limits,
    gate,
    connections: () => open.size,
    replies: () =>
      [...replyCounts].map(([k, n]) => {
        const [socket, kind] = k.split('\u0000') as [string, string];
        return { socket, kind, count: n };
      }),
    close() {
      clearInterval(timer);
      for (const conn of [...open]) conn.end(CLOSE.GOING_AWAY, 'server stopping');
    },
  };
}

function refuse(res: HttpResponse, status: string, code: FrameErrorCode | 'NOT_FOUND', message: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'application/json').end(JSON.stringify({ type: 'error', code, message }));
  });
}
