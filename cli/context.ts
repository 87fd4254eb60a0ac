import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ApiClient } from './client.js';

// The YAML parser is loaded only when a config file is actually read (most runs pass --url/--token or env).
const parseYaml = (text: string): unknown => (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);

export const DEFAULT_CONFIG_PATH = '/etc/vigil/vigil.yaml';

/** Global CLI options shared by every command that talks to the daemon. */
export interface GlobalOptions {
  url?: string;
  token?: string;
  config?: string;
  dataDir?: string;
}

/** The data dir for local commands: --data-dir, VIGIL_DATA_DIR, the config file's data_dir, /var/lib/vigil. */
export function resolveDataDir(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string {
  if (opts.dataDir) return opts.dataDir;
  if (env.VIGIL_DATA_DIR) return env.VIGIL_DATA_DIR;
  const file = opts.config ?? env.VIGIL_CONFIG ?? DEFAULT_CONFIG_PATH;
  if (existsSync(file)) {
    try {
      const cfg = parseYaml(readFileSync(file, 'utf8')) as { data_dir?: string } | null;
      if (cfg?.data_dir) return cfg.data_dir;
    } catch {
      // unreadable config: fall back to the default
    }
  }
  return '/var/lib/vigil';
}

/**
 * Finds the daemon: --url/--token, then VIGIL_URL/VIGIL_ADMIN_TOKEN, then the
 * config file's server section (readable by root or the vigil group), then defaults.
 */
export function resolveClient(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): ApiClient {
  let url = opts.url ?? env.VIGIL_URL;
  let token = opts.token ?? env.VIGIL_ADMIN_TOKEN;
  const file = opts.config ?? env.VIGIL_CONFIG ?? DEFAULT_CONFIG_PATH;
  if ((!url || !token) && existsSync(file)) {
    try {
      const cfg = parseYaml(readFileSync(file, 'utf8')) as { server?: { host?: string; port?: number; admin_token?: string } } | null;
      const host = cfg?.server?.host && cfg.server.host !== '0.0.0.0' ? cfg.server.host : '127.0.0.1';
      url ??= `http://${host.includes(':') ? `[${host}]` : host}:${cfg?.server?.port ?? 8090}`;
      token ??= cfg?.server?.admin_token;
    } catch {
      // An unreadable config just means: use the defaults.
    }
  }
  return new ApiClient({ url: url ?? 'http://127.0.0.1:8090', token });
}
