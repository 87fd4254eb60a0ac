import { STATUS_CODES } from 'node:http';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { VigilError, toVigilError, type ErrorCode } from '../errors.js';
import { maskDeep } from '../events/mask.js';
import type { Logger } from '../log.js';
import { requestToken, type TokenSet } from './auth.js';
import { HTTP_STATUS, type ApiHandler, type ApiRequest, type ApiResponse, type HttpMethod, type RouteOptions, type RouteRegistry } from './routes.js';

/** Default body cap of a route (RouteOptions.maxBody). */
export const DEFAULT_MAX_BODY = 1024 * 1024;

interface Route {
  method: HttpMethod;
  pattern: string;
  segments: string[];
  params: number;
  handler: ApiHandler;
  auth: 'admin' | 'token' | 'none';
  maxBody: number;
}

/** Per-request state: uWS forbids touching a response after it was aborted or ended. */
interface ResState {
  aborted: boolean;
  done: boolean;
  /** A HEAD request: headers as for GET, no body. */
  head?: boolean;
}

/** The REST side of the server: `:param` routes, auth, body cap, errors as `{error:{code,message}}`. */
export class RestRouter implements RouteRegistry {
  private readonly routes: Route[] = [];

  constructor(private readonly deps: { admin: TokenSet; tokens: TokenSet; log: Logger }) {}

  route(method: HttpMethod, pattern: string, handler: ApiHandler, options: RouteOptions = {}): void {
    if (!pattern.startsWith('/')) throw new Error(`Route pattern must start with "/": ${pattern}`);
    const segments = split(pattern);
    const shape = segments.map((s) => (s.startsWith(':') ? ':' : s)).join('/');
    if (this.routes.some((r) => r.method === method && r.segments.map((s) => (s.startsWith(':') ? ':' : s)).join('/') === shape)) {
      throw new Error(`Route ${method} ${pattern} is registered twice`);
    }
    this.routes.push({
      method,
      pattern,
      segments,
      params: segments.filter((s) => s.startsWith(':')).length,
      handler,
      auth: options.auth ?? 'admin',
      maxBody: options.maxBody ?? DEFAULT_MAX_BODY,
    });
    // Literal segments beat parameters: /api/streams/export before /api/streams/:id.
    this.routes.sort((a, b) => a.params - b.params);
  }

  /** Registered routes, for the log and tests. */
  list(): { method: HttpMethod; pattern: string }[] {
    return this.routes.map((r) => ({ method: r.method, pattern: r.pattern }));
  }

  /** uWS entry point (`app.any('/*', ...)`). Reads everything from `req` synchronously, as uWS requires. */
  handle(res: HttpResponse, req: HttpRequest): void {
    const state: ResState = { aborted: false, done: false };
    res.onAborted(() => {
      state.aborted = true;
    });
    const requested = req.getMethod().toUpperCase();
    // HEAD is GET without a body (RFC 9110): same route, same status and headers.
    const head = requested === 'HEAD';
    const method = head ? 'GET' : requested;
    const path = req.getUrl();
    const query = new URLSearchParams(req.getQuery() ?? '');
    const headers: Record<string, string> = {};
    req.forEach((k, v) => {
      headers[k] = v;
    });
    try {
      const found = this.match(method, path);
      if (!found.route) {
        if (found.allowed.length) {
          throw new VigilError('VIGIL_ERR_METHOD_NOT_ALLOWED', `${method} is not accepted at ${path}; use ${found.allowed.join(' or ')}`);
        }
        throw new VigilError('VIGIL_ERR_NOT_FOUND', `No route for ${method} ${path}`);
      }
      const route = found.route;
      this.authorize(route, headers, query);
      const length = Number(headers['content-length'] ?? 0);
      if (Number.isFinite(length) && length > route.maxBody) {
        // The body is not read: close the connection so its bytes are not parsed as a next request.
        this.fail(res, state, new VigilError('VIGIL_ERR_BODY_TOO_LARGE', `The body is ${length} bytes; ${method} ${route.pattern} accepts at most ${route.maxBody}`), true);
        return;
      }
      const token = requestToken(headers.authorization, query);
      const authenticated = this.deps.admin.has(token) || this.deps.tokens.has(token);
      const base = { method, path, params: found.params, query, headers, authenticated };
      if (head) state.head = true;
      if (length > 0 || headers['transfer-encoding']) {
        this.readBody(res, state, route, (body) => void this.run(res, state, route, { ...base, body }));
      } else {
        void this.run(res, state, route, { ...base, body: Buffer.alloc(0) });
      }
    } catch (err) {
      // An unread body would be parsed as the next request: close the connection when one was sent.
      this.fail(res, state, err, Number(headers['content-length'] ?? 0) > 0 || !!headers['transfer-encoding']);
    }
  }

  private match(method: string, path: string): { route?: Route; params: Record<string, string>; allowed: string[] } {
    const parts = split(path);
    const allowed: string[] = [];
    for (const r of this.routes) {
      if (r.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = r.segments[i]!;
        const part = parts[i]!;
        if (seg.startsWith(':')) params[seg.slice(1)] = decode(part);
        else ok = seg === part;
      }
      if (!ok) continue;
      if (r.method === method) return { route: r, params, allowed };
      if (!allowed.includes(r.method)) allowed.push(r.method);
    }
    return { params: {}, allowed };
  }

  private authorize(route: Route, headers: Record<string, string>, query: URLSearchParams): void {
    if (route.auth === 'none') return;
    const token = requestToken(headers.authorization, query);
    const ok = this.deps.admin.has(token) || (route.auth === 'token' && this.deps.tokens.has(token));
    if (!ok) {
      const which = route.auth === 'admin' ? 'the admin token' : 'a token';
      throw new VigilError('VIGIL_ERR_UNAUTHORIZED', token ? `The token is not valid for ${route.pattern}; it needs ${which}.` : `${route.pattern} needs ${which}: send "Authorization: Bearer TOKEN".`);
    }
  }

  private readBody(res: HttpResponse, state: ResState, route: Route, done: (body: Buffer) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (state.done || state.aborted) return;
      size += chunk.byteLength;
      if (size > route.maxBody) {
        this.fail(res, state, new VigilError('VIGIL_ERR_BODY_TOO_LARGE', `The body is larger than the ${route.maxBody} bytes ${route.pattern} accepts`), true);
        return;
      }
      // uWS neuters the ArrayBuffer after this callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) done(Buffer.concat(chunks, size));
    });
  }

  private async run(res: HttpResponse, state: ResState, route: Route, req: ApiRequest): Promise<void> {
    try {
      const out = await route.handler(req);
      this.send(res, state, out ?? {});
    } catch (err) {
      this.fail(res, state, err, false, req);
    }
  }

  private fail(res: HttpResponse, state: ResState, err: unknown, close = false, req?: ApiRequest): void {
    const e = toVigilError(err);
    const status = HTTP_STATUS[e.code] ?? 500;
    let body = maskDeep(e.toJSON());
    if (status >= 500 && !(err instanceof VigilError)) {
      // A crash: the details go to the log, not to the client.
      this.deps.log.error({ err, method: req?.method, path: req?.path }, 'REST handler failed');
      body = { code: 'VIGIL_ERR_INTERNAL' as ErrorCode, message: 'An internal error occurred; see the daemon log.' };
    } else if (status >= 500) {
      this.deps.log.warn({ code: e.code, method: req?.method, path: req?.path, msg2: e.message }, 'REST request failed');
    }
    this.send(res, state, { status, json: { error: body } }, close);
  }

  private send(res: HttpResponse, state: ResState, out: ApiResponse, close = false): void {
    if (state.aborted || state.done) return;
    state.done = true;
    const status = out.status ?? 200;
    let body: Buffer | string;
    let type = out.contentType;
    if (out.json !== undefined) {
      body = JSON.stringify(out.json);
      type ??= 'application/json; charset=utf-8';
    } else {
      body = out.body ?? '';
      type ??= typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream';
    }
    res.cork(() => {
      res.writeStatus(`${status} ${STATUS_CODES[status] ?? ''}`.trim());
      res.writeHeader('content-type', type!);
      res.writeHeader('cache-control', 'no-store');
      for (const [k, v] of Object.entries(out.headers ?? {})) res.writeHeader(k, v);
      if (state.head) {
        // HEAD announces the GET body's length and sends none. (The JavaScript fallback of the
        // uWS package lacks endWithoutBody; Node's http omits a HEAD body by itself there.)
        try {
          res.endWithoutBody(Buffer.byteLength(body), close);
        } catch {
          res.end(body, close);
        }
      } else {
        res.end(body, close);
      }
    });
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new VigilError('VIGIL_ERR_BAD_REQUEST', `The path segment "${part}" is not valid percent-encoding`);
  }
}
