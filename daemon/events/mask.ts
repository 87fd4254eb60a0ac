/** Credentials never leave the daemon: `scheme://user:pass@host` becomes `scheme://***:***@host`. */
const CREDENTIALS_IN_URL = /([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*)(?::([^\s/@]*))?@/gi;

export function maskUrl(text: string): string {
  return text.replace(CREDENTIALS_IN_URL, (_m, scheme: string) => `${scheme}***:***@`);
}

/** Masks credentials in every string inside a JSON-like value (returns a copy). */
export function maskDeep<T>(value: T): T {
  if (typeof value === 'string') return maskUrl(value) as T;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v)) as T;
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskDeep(v);
    return out as T;
  }
  return value;
}
