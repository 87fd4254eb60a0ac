import type { ErrorCode } from '../errors.js';

/** A parsed HTTP request as handlers see it (body fully read, size-capped). */
export interface ApiRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** `:name` segments of the route pattern. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
  /** Whether the request carried a valid token (any route, open ones included). */
  authenticated?: boolean;
}

/** What a handler returns; `json` wins over `body`. */
export interface ApiResponse {
  status?: number;
  json?: unknown;
  body?: Buffer | string;
  contentType?: string;
  headers?: Record<string, string>;
}

export type ApiHandler = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteOptions {
  /** admin: the admin token; token: any configured token (or admin); none: open. Default admin. */
  auth?: 'admin' | 'token' | 'none';
  /** Largest accepted body in bytes (default 1 MiB). */
  maxBody?: number;
}

/**
 * Where parts register their REST routes (`/api/...`); the server owns the sockets,
 * parts own their handlers. A thrown VigilError becomes `{error:{code,message}}` with
 * the status of HTTP_STATUS below.
 */
export interface RouteRegistry {
  route(method: HttpMethod, pattern: string, handler: ApiHandler, options?: RouteOptions): void;
}

/** HTTP status for each catalogue code a handler may throw (500 when absent). */
export const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  VIGIL_ERR_BAD_REQUEST: 400,
  VIGIL_ERR_CONFIG: 400,
  VIGIL_ERR_STREAM_URL: 400,
  VIGIL_ERR_STREAM_SOURCE_POLICY: 403,
  VIGIL_ERR_TOO_MANY_SUBSCRIBERS: 429,
  VIGIL_ERR_INVALID_IMAGE: 400,
  VIGIL_ERR_FACE_COUNT: 422,
  VIGIL_ERR_FACE_QUALITY: 422,
  VIGIL_ERR_UNAUTHORIZED: 401,
  VIGIL_ERR_NOT_FOUND: 404,
  VIGIL_ERR_STREAM_UNKNOWN: 404,
  VIGIL_ERR_MODEL_UNKNOWN: 404,
  VIGIL_ERR_ANALYTIC_UNKNOWN: 404,
  VIGIL_ERR_STREAM_EXISTS: 409,
  VIGIL_ERR_STREAM_CONFIG_OWNED: 409,
  VIGIL_ERR_DISK_FULL: 507,
  VIGIL_ERR_BODY_TOO_LARGE: 413,
  VIGIL_ERR_METHOD_NOT_ALLOWED: 405,
  VIGIL_ERR_DB_LOCKED: 503,
};
