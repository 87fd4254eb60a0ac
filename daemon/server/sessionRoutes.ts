import { requestToken, TokenSet } from './auth.js';
import type { RouteRegistry } from './routes.js';

/**
 * `GET /api/session`: which role the caller's token has (`admin` or `viewer`), so the
 * dashboard shows admin controls only to admins. It grants nothing: every admin route
 * still checks the token itself.
 */
export function registerSessionRoutes(routes: RouteRegistry, adminTokens: readonly string[]): void {
  const admin = new TokenSet(adminTokens);
  routes.route('GET', '/api/session', (req) => {
    const token = requestToken(req.headers.authorization, req.query);
    return { json: { role: admin.has(token) ? 'admin' : 'viewer' } };
  }, { auth: 'token' });
}
