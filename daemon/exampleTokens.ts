/** Tokens printed in the docs and the example config: a daemon using one is open to anyone who read them. */
const EXAMPLE_TOKENS = new Set(['change-me-admin-token', 'change-me', 'changeme', 'admin-token', 'secret-token', 'your-admin-token', 'viewer-token']);

/** The given tokens that are documentation examples. */
export function exampleTokens(tokens: string[]): string[] {
  return tokens.filter((t) => EXAMPLE_TOKENS.has(t.trim().toLowerCase()));
}
