import { createHash, timingSafeEqual } from 'node:crypto';

/** The token a request carries: `Authorization: Bearer X` header first, then the `authorization` query parameter. */
export function requestToken(authorizationHeader: string | undefined, query: URLSearchParams): string | undefined {
  const h = authorizationHeader?.trim();
  if (h) {
    const m = /^Bearer\s+(.+)$/i.exec(h);
    return m ? m[1]!.trim() : h;
  }
  const q = query.get('authorization') ?? query.get('token');
  if (!q) return undefined;
  return q.replace(/^Bearer\s+/i, '').trim() || undefined;
}

/** Constant-time membership test: hashing first makes lengths equal, so no length leak either. */
export class TokenSet {
  private readonly hashes: Buffer[];
  constructor(tokens: readonly string[]) {
    this.hashes = tokens.filter((t) => typeof t === 'string' && t.length > 0).map(digest);
  }
  has(token: string | undefined): boolean {
    if (!token) return false;
    const d = digest(token);
    let found = false;
    for (const h of this.hashes) found = timingSafeEqual(h, d) || found;
    return found;
  }
  get size(): number {
    return this.hashes.length;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
