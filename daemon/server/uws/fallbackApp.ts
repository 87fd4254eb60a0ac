// A JavaScript stand-in for the part of uWebSockets.js that Vigil uses, over node:http and `ws`.
// It runs where no native uWS binary loads (Node 22/24 on glibc < 2.38, e.g. Debian 12):
// the registry's trufflesuite build falls back to its own JavaScript server there, but that one
// throws on custom `upgrade` handlers and never matches a socket URL with a query string, so
// Vigil's authenticated sockets would not work at all. Slower than native; loudly reported.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { HttpRequest, HttpResponse, RecognizedString, TemplatedApp, WebSocketBehavior, us_listen_socket } from 'uWebSockets.js';
import { FallbackWebSocket, remoteAddressText, toArrayBuffer, toBuffer } from './fallbackSocket.js';

type Handler = (res: HttpResponse, req: HttpRequest) => void | Promise<void>;
interface Route { method: string; segments: string[]; handler: Handler }
interface WsRoute { segments: string[]; behavior: WebSocketBehavior<unknown>; wss: WebSocketServer }
interface UpgradeContext { request: IncomingMessage; socket: Duplex; head: Buffer; route: WsRoute }

function segmentsOf(pattern: string): string[] {
  return pattern.split('/').filter(Boolean);
}

/** uWS pattern match: literal segments, `:param` segments, `*` as the last segment matches the rest. */
function matchPattern(segments: string[], parts: string[]): string[] | null {
  const params: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg === '*' && i === segments.length - 1) return params;
    const part = parts[i];
    if (part === undefined) return null;
    if (seg.startsWith(':')) params.push(part);
    else if (seg !== part) return null;
  }
  return parts.length === segments.length ? params : null;
}

/** Literal routes before parameter routes before wildcards, as uWS orders them. */
function specificity(segments: string[]): number {
  return segments.reduce((n, s) => n * 3 + (s === '*' ? 0 : s.startsWith(':') ? 1 : 2), 1);
}

class FallbackRequest {
  private readonly url: string;
  private readonly query: string;
  constructor(private readonly msg: IncomingMessage, private readonly params: string[]) {
    const raw = msg.url ?? '/';
    const q = raw.indexOf('?');
    this.url = q < 0 ? raw : raw.slice(0, q);
    this.query = q < 0 ? '' : raw.slice(q + 1);
  }
  getHeader(key: RecognizedString): string {
    const v = this.msg.headers[toBuffer(key).toString().toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : (v ?? '');
  }
  getParameter(index: number): string {
    return this.params[index] ?? '';
  }
  getUrl(): string {
    return this.url;
  }
  getMethod(): string {
    return (this.msg.method ?? 'GET').toLowerCase();
  }
  getCaseSensitiveMethod(): string {
    return this.msg.method ?? 'GET';
  }
  getQuery(key?: string): string | undefined {
    if (key === undefined) return this.query;
    return new URLSearchParams(this.query).get(key) ?? undefined;
  }
  forEach(cb: (key: string, value: string) => void): void {
    for (const [k, v] of Object.entries(this.msg.headers)) cb(k, Array.isArray(v) ? v.join(', ') : (v ?? ''));
  }
  setYield(): this {
    return this;
  }
}

/** Splits uWS's status line ("404 Not Found") into code and message. */
function parseStatus(status: RecognizedString): [number, string] {
  const text = toBuffer(status).toString();
  const m = /^(\d{3})\s*(.*)$/.exec(text);
  return m ? [Number(m[1]), m[2] ?? ''] : [200, 'OK'];
}

/** An HTTP response: plain requests write through node:http; an upgrade request may upgrade or refuse. */
class FallbackResponse {
  private status: [number, string] = [200, 'OK'];
  private readonly headers: [string, string][] = [];
  private aborted: (() => void) | null = null;
  private done = false;
  private written = 0;

  constructor(
    private readonly msg: IncomingMessage,
    private readonly out: ServerResponse | null,
    private readonly upgrading: UpgradeContext | null,
    private readonly onUpgrade: (ctx: UpgradeContext, userData: unknown) => void,
  ) {
    const gone = (): void => {
      if (this.done) return;
      this.done = true;
      this.aborted?.();
    };
    if (out) out.on('close', () => { if (!out.writableFinished) gone(); });
    else upgrading?.socket.on('close', gone);
  }

  writeStatus(status: RecognizedString): this {
    this.status = parseStatus(status);
    return this;
  }
  writeHeader(key: RecognizedString, value: RecognizedString): this {
    this.headers.push([toBuffer(key).toString(), toBuffer(value).toString()]);
    return this;
  }
  private head(): void {
    if (!this.out || this.out.headersSent) return;
    this.out.statusCode = this.status[0];
    this.out.statusMessage = this.status[1];
    const grouped = new Map<string, string[]>();
    for (const [k, v] of this.headers) grouped.set(k, [...(grouped.get(k) ?? []), v]);
    for (const [k, v] of grouped) this.out.setHeader(k, v.length === 1 ? v[0]! : v);
  }
  write(chunk: RecognizedString): boolean {
    if (this.done || !this.out) return false;
    this.head();
    const b = toBuffer(chunk);
    this.written += b.byteLength;
    return this.out.write(b);
  }
  end(body?: RecognizedString, closeConnection = false): this {
    if (this.done) return this;
    this.done = true;
    const b = toBuffer(body);
    if (this.upgrading) {
      // A refused upgrade: a plain HTTP answer on the raw socket, then close it.
      const lines = [`HTTP/1.1 ${this.status[0]} ${this.status[1]}`, ...this.headers.map(([k, v]) => `${k}: ${v}`), `content-length: ${b.byteLength}`, 'connection: close', '', ''];
      this.upgrading.socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), b]));
      return this;
    }
    const out = this.out!;
    if (closeConnection) this.writeHeader('connection', 'close');
    this.head();
    this.written += b.byteLength;
    out.end(b);
    if (closeConnection) out.once('finish', () => this.msg.socket.destroySoon?.());
    // A body nobody asked for must not hold the connection.
    this.msg.resume();
    return this;
  }
  /** A HEAD answer: the length a GET would send, and no body (as uWS's endWithoutBody). */
  endWithoutBody(reportedContentLength?: number, closeConnection = false): this {
    if (reportedContentLength !== undefined && !this.upgrading) this.writeHeader('content-length', String(reportedContentLength));
    return this.end(undefined, closeConnection);
  }
  tryEnd(chunk: RecognizedString, total: number): [boolean, boolean] {
    const b = toBuffer(chunk);
    if (this.written + b.byteLength >= total) {
      this.end(b);
      return [true, true];
    }
    return [this.write(b), false];
  }
  getWriteOffset(): number {
    return this.written;
  }
  onWritable(handler: (offset: number) => boolean): this {
    this.out?.once('drain', () => handler(this.written));
    return this;
  }
  onAborted(handler: () => void): this {
    this.aborted = handler;
    return this;
  }
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): this {
    this.msg.on('data', (chunk: Buffer) => handler(toArrayBuffer(chunk), false));
    this.msg.on('end', () => handler(new ArrayBuffer(0), true));
    return this;
  }
  cork(cb: () => void): this {
    cb();
    return this;
  }
  close(): this {
    this.done = true;
    (this.upgrading?.socket ?? this.msg.socket).destroy();
    return this;
  }
  pause(): void {
    this.msg.pause();
  }
  resume(): void {
    this.msg.resume();
  }
  getRemoteAddressAsText(): ArrayBuffer {
    return remoteAddressText(this.upgrading?.socket ?? this.msg.socket);
  }
  getRemoteAddress(): ArrayBuffer {
    return this.getRemoteAddressAsText();
  }
  upgrade(userData: unknown, _key: RecognizedString, _protocol: RecognizedString, _extensions: RecognizedString, context: unknown): void {
    if (this.done) return;
    this.done = true;
    this.onUpgrade(context as UpgradeContext, userData);
  }
}

interface FallbackListenSocket { server: Server; port: number }

/** `uWS.App()` over node:http: the routes, the WebSocket behaviors, listen and close. */
export function FallbackApp(): TemplatedApp {
  const routes: Route[] = [];
  const wsRoutes: WsRoute[] = [];
  const servers = new Set<Server>();
  const sockets = new Set<Duplex>();

  const add = (method: string) => (pattern: RecognizedString, handler: Handler): TemplatedApp => {
    routes.push({ method, segments: segmentsOf(toBuffer(pattern).toString()), handler });
    routes.sort((a, b) => specificity(b.segments) - specificity(a.segments));
    return app;
  };

  function onRequest(msg: IncomingMessage, out: ServerResponse): void {
    const parts = segmentsOf((msg.url ?? '/').split('?')[0]!);
    const method = (msg.method ?? 'GET').toLowerCase();
    for (const r of routes) {
      if (r.method !== 'any' && r.method !== method) continue;
      const params = matchPattern(r.segments, parts);
      if (!params) continue;
      void r.handler(new FallbackResponse(msg, out, null, () => undefined) as never, new FallbackRequest(msg, params) as never);
      return;
    }
    out.statusCode = 404;
    out.end();
  }

  function upgradeTo(ctx: UpgradeContext, userData: unknown): void {
    ctx.route.wss.handleUpgrade(ctx.request, ctx.socket, ctx.head, (sock) => {
      sockets.add(ctx.socket);
      const ws = new FallbackWebSocket(sock, ctx.socket, userData, ctx.route.behavior);
      ws.start(() => sockets.delete(ctx.socket));
    });
  }

  function onUpgrade(msg: IncomingMessage, socket: Duplex, head: Buffer): void {
    const parts = segmentsOf((msg.url ?? '/').split('?')[0]!);
    for (const route of wsRoutes) {
      const params = matchPattern(route.segments, parts);
      if (!params) continue;
      const ctx: UpgradeContext = { request: msg, socket, head, route };
      const res = new FallbackResponse(msg, null, ctx, upgradeTo);
      const req = new FallbackRequest(msg, params);
      if (route.behavior.upgrade) void route.behavior.upgrade(res as never, req as never, ctx as never);
      else res.upgrade({}, '', '', '', ctx);
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  }

  function listen(...args: unknown[]): TemplatedApp {
    const cb = args[args.length - 1] as (s: us_listen_socket | false) => void;
    const host = typeof args[0] === 'string' ? args[0] : undefined;
    const port = (typeof args[0] === 'string' ? args[1] : args[0]) as number;
    const server = createServer(onRequest);
    server.on('upgrade', onUpgrade);
    server.once('error', () => cb(false));
    server.listen({ host, port, exclusive: true }, () => {
      servers.add(server);
      const addr = server.address();
      cb({ server, port: typeof addr === 'object' && addr ? addr.port : port } satisfies FallbackListenSocket as never);
    });
    return app;
  }

  const app = {
    get: add('get'), post: add('post'), put: add('put'), del: add('delete'), patch: add('patch'),
    options: add('options'), head: add('head'), connect: add('connect'), trace: add('trace'), any: add('any'),
    ws<U>(pattern: RecognizedString, behavior: WebSocketBehavior<U>): TemplatedApp {
      const wss = new WebSocketServer({ noServer: true, maxPayload: behavior.maxPayloadLength ?? 16 * 1024, perMessageDeflate: false, clientTracking: false });
      wsRoutes.push({ segments: segmentsOf(toBuffer(pattern).toString()), behavior: behavior as WebSocketBehavior<unknown>, wss });
      wsRoutes.sort((a, b) => specificity(b.segments) - specificity(a.segments));
      return app;
    },
    listen,
    /** Stops listening and drops every connection, idle keep-alives and sockets included. */
    close(): TemplatedApp {
      for (const s of servers) {
        s.close();
        s.closeAllConnections();
      }
      servers.clear();
      for (const s of sockets) s.destroy();
      sockets.clear();
      return app;
    },
  } as unknown as TemplatedApp;
  return app;
}

export function fallbackListenSocketClose(listenSocket: us_listen_socket): void {
  (listenSocket as unknown as FallbackListenSocket).server.close();
}

export function fallbackLocalPort(socket: unknown): number {
  return (socket as FallbackListenSocket).port;
}
