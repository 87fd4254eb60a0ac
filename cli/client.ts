import { VigilError } from '../daemon/errors.js';

/** How the CLI finds the daemon: flags, then VIGIL_URL / VIGIL_ADMIN_TOKEN, then defaults. */
export interface ClientOptions {
  url: string;
  token?: string;
}

/** The CLI's only way to the daemon: its REST API over HTTP. */
export class ApiClient {
  constructor(private readonly opts: ClientOptions) {}

  get url(): string {
    return this.opts.url;
  }

  get token(): string | undefined {
    return this.opts.token;
  }

  async get<T = unknown>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  async post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  async put<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  async delete<T = unknown>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** Sends raw bytes (e.g. an image) and parses the JSON answer. */
  async postBytes<T = unknown>(path: string, bytes: Buffer, contentType = 'application/octet-stream'): Promise<T> {
    return this.request<T>('POST', path, bytes, contentType);
  }

  private async request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    let payload: Buffer | string | undefined;
    if (Buffer.isBuffer(body)) {
      payload = body;
      headers['content-type'] = contentType ?? 'application/octet-stream';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(new URL(path, this.opts.url), { method, headers, body: payload });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new VigilError('VIGIL_ERR_DAEMON_DOWN', `Cannot reach the Vigil daemon at ${this.opts.url} (${cause}). Is it running? Start it with \`vigil daemon --config FILE\` or \`systemctl start vigil\`.`);
    }
    const text = await res.text();
    let data: unknown = undefined;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = text;
    }
    if (!res.ok) {
      const e = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
      const code = (e?.code ?? (res.status === 401 ? 'VIGIL_ERR_UNAUTHORIZED' : 'VIGIL_ERR_INTERNAL')) as VigilError['code'];
      // The server's sentence speaks HTTP (headers); the CLI user needs the CLI's words.
      if (code === 'VIGIL_ERR_UNAUTHORIZED') throw new VigilError(code, unauthorizedSentence(this.opts.url, this.opts.token));
      throw new VigilError(code, e?.message ?? `HTTP ${res.status} from ${path}`);
    }
    return data as T;
  }
}

/** A 401 in CLI words: which daemon refused, and whether a token was sent at all. */
export function unauthorizedSentence(url: string, token: string | undefined): string {
  return token
    ? `The daemon at ${url} refused the token: it is not the admin token.`
    : `The daemon at ${url} needs the admin token and none was given.`;
}
