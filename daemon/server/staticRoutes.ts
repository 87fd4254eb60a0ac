import { createHash } from 'node:crypto';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VigilError } from '../errors.js';
import type { ApiResponse, RouteRegistry } from './routes.js';

/** Content types of the files a web UI ships; anything else is served as octet-stream. */
export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** The dashboard's policy: only its own scripts, styles and API; crops arrive as data: URLs, photos as blob: URLs. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface StaticOptions {
  /** Directory whose files are served. */
  root: string;
  /** URL prefix: `/` or e.g. `/identify`. A directory's `index.html` answers at the directory's URL. */
  mount: string;
  /** Content-Security-Policy header value; none when absent. */
  csp?: string;
}

/**
 * Serves the files under `root` at `mount`: one GET route per file, listed when this
 * is called. Only files that exist under root at that moment can ever be served, so
 * `..`, encoded slashes or symlinks out of root have nothing to reach. Files are read on
 * each request (edits show without a restart) and revalidated by ETag. Returns the URLs.
 */
export function registerStaticRoutes(routes: RouteRegistry, opts: StaticOptions): string[] {
  const root = realpathSync(opts.root);
  const mount = `/${opts.mount.split('/').filter(Boolean).join('/')}`.replace(/^\/$/, '');
  const urls: string[] = [];
  for (const file of listFiles(root)) {
    const segments = relative(root, file).split(sep);
    // A ':' first would read as a route parameter; such names are never served.
    if (segments.some((s) => s.startsWith(':'))) continue;
    const url = `${mount}/${segments.map(encodeURIComponent).join('/')}`;
    const headers = staticHeaders(file, opts.csp);
    routes.route('GET', url, (req) => serveFile(file, req.headers['if-none-match'], headers), { auth: 'none' });
    urls.push(url);
    if (segments[segments.length - 1] === 'index.html') {
      const dirUrl = `${mount}/${segments.slice(0, -1).map(encodeURIComponent).join('/')}`.replace(/\/$/, '') || '/';
      routes.route(
        'GET',
        dirUrl,
        (req) => {
          // Relative links in the page resolve against the directory: /identify must become /identify/.
          if (!req.path.endsWith('/')) {
            const q = req.query.toString();
            return { status: 301, headers: { location: `${req.path}/${q ? `?${q}` : ''}` }, body: '' };
          }
          return serveFile(file, req.headers['if-none-match'], headers);
        },
        { auth: 'none' },
      );
      urls.push(dirUrl === '/' ? '/' : `${dirUrl}/`);
    }
  }
  return urls;
}

/** Regular files under dir, recursively; dotfiles and anything resolving outside dir are left out. */
function listFiles(dir: string, root = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    let real: string;
    try {
      real = realpathSync(p);
    } catch {
      continue; // a dangling link
    }
    if (real !== root && !real.startsWith(root + sep)) continue;
    const st = statSync(real);
    if (st.isDirectory()) out.push(...listFiles(p, root));
    else if (st.isFile()) out.push(p);
  }
  return out.sort();
}

function staticHeaders(file: string, csp: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    // Revalidate every time (cheap 304s): a daemon upgrade must never leave a stale script running.
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  if (csp && extname(file) === '.html') headers['content-security-policy'] = csp;
  return headers;
}

async function serveFile(file: string, ifNoneMatch: string | undefined, headers: Record<string, string>): Promise<ApiResponse> {
  let st;
  try {
    st = await stat(file);
  } catch {
    throw new VigilError('VIGIL_ERR_NOT_FOUND', 'This file was removed since the daemon started.');
  }
  const etag = `"${createHash('sha1').update(`${file}:${st.size}:${st.mtimeMs}`).digest('base64url').slice(0, 20)}"`;
  const contentType = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === etag)) {
    return { status: 304, body: '', contentType, headers: { ...headers, etag } };
  }
  return { body: await readFile(file), contentType, headers: { ...headers, etag } };
}

/** The `web/` folder of this install: beside the sources (`daemon/server/`) or the compiled files (`dist/daemon/server/`). */
export function defaultWebDir(): string | undefined {
  for (const up of ['../../web', '../../../web']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(join(dir, 'dashboard', 'index.html'))) return dir;
  }
  return undefined;
}

/**
 * Serves the web UIs: the dashboard (`web/dashboard/`) at `/` under DASHBOARD_CSP, the
 * identify kiosk (`web/identify/`) at `/identify/` and the live image page (`web/live/`) at
 * `/live/` when present. Returns the URLs served
 * (empty when there is no web folder, e.g. a stripped install).
 */
export function registerWebUi(routes: RouteRegistry, opts: { webDir?: string } = {}): string[] {
  const webDir = opts.webDir ?? defaultWebDir();
  if (!webDir) return [];
  const urls: string[] = [];
  const dashboard = join(webDir, 'dashboard');
  if (existsSync(dashboard)) urls.push(...registerStaticRoutes(routes, { root: dashboard, mount: '/', csp: DASHBOARD_CSP }));
  const identify = join(webDir, 'identify');
  // The kiosk has inline styles and may talk to another daemon's socket: no dashboard CSP there.
  if (existsSync(identify)) urls.push(...registerStaticRoutes(routes, { root: identify, mount: '/identify' }));
  const live = join(webDir, 'live');
  // Same for the live image page (inline script, socket URL a field).
  if (existsSync(live)) urls.push(...registerStaticRoutes(routes, { root: live, mount: '/live' }));
  return urls;
}
