import { readFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { VigilError } from '../daemon/errors.js';
import { configSchema, streamSchema } from './schema.js';
import type { StreamEntry, VigilConfig } from './types.js';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validateConfig = ajv.compile(configSchema);
const validateStream = ajv.compile(streamSchema);

/** Friendly env names; anything else is VIGIL_SECTION__KEY (double underscore nests). */
const ENV_ALIASES: Record<string, string[]> = {
  VIGIL_DATA_DIR: ['data_dir'],
  VIGIL_LOG_LEVEL: ['log_level'],
  VIGIL_NODE_NUM: ['node_num'],
  VIGIL_HOST: ['server', 'host'],
  VIGIL_PORT: ['server', 'port'],
  VIGIL_ADMIN_TOKEN: ['server', 'admin_token'],
  VIGIL_MODEL_MIRROR: ['models', 'mirror'],
};
/** Variables that configure tools, not the config file. */
const ENV_IGNORED = new Set(['VIGIL_URL', 'VIGIL_MEDIA_MIRROR', 'VIGIL_CONFIG', 'VIGIL_TEST', 'VIGIL_UWS']);

/** Reads, merges env overrides, fills defaults and validates; throws VIGIL_ERR_CONFIG listing every problem. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): VigilConfig {
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new VigilError('VIGIL_ERR_CONFIG_READ', `Cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    raw = parseConfigText(text, file);
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new VigilError('VIGIL_ERR_CONFIG', `${file ?? 'config'}: the top level must be a mapping of keys`, ['(root): must be a mapping']);
  applyEnv(raw as Record<string, unknown>, env);
  const config = checkConfig(raw, file ?? 'config');
  if (file) config.data_dir = resolve(dirname(resolve(file)), config.data_dir);
  return config;
}

/** Validates an already-parsed object (fills defaults in place). */
export function checkConfig(raw: unknown, label = 'config'): VigilConfig {
  if (!validateConfig(raw)) {
    const problems = formatErrors(validateConfig.errors ?? []);
    throw new VigilError('VIGIL_ERR_CONFIG', `${label} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`, problems);
  }
  const config = raw as unknown as VigilConfig;
  const seen = new Set<string>();
  const dupes: string[] = [];
  config.streams.forEach((s, i) => {
    if (seen.has(s.id)) dupes.push(`/streams/${i}/id: duplicate stream id "${s.id}"`);
    seen.add(s.id);
  });
  if (dupes.length) throw new VigilError('VIGIL_ERR_CONFIG', `${label} is invalid:\n  ${dupes.join('\n  ')}`, dupes);
  return config;
}

/** Validates one stream (from the API or CLI), filling defaults. */
export function checkStream(raw: unknown): StreamEntry {
  const copy = structuredClone(raw);
  if (!validateStream(copy)) {
    const problems = formatErrors(validateStream.errors ?? []);
    throw new VigilError('VIGIL_ERR_BAD_REQUEST', `Invalid stream: ${problems.join('; ')}`, problems);
  }
  return copy as unknown as StreamEntry;
}

function parseConfigText(text: string, file: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line}, column ${err.linePos[0].col})` : '';
    const first = (err as Error).message.split('\n')[0];
    throw new VigilError('VIGIL_ERR_CONFIG', `${file} is not valid YAML${where}: ${first}`, [`(yaml)${where}: ${first}`]);
  }
}

function formatErrors(errors: ErrorObject[]): string[] {
  return errors.map((e) => {
    const path = e.instancePath || '(root)';
    if (e.keyword === 'additionalProperties') return `${path}: unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    if (e.keyword === 'enum') return `${path}: ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`;
    return `${path}: ${e.message}`;
  });
}

function applyEnv(target: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('VIGIL_') || value === undefined || ENV_IGNORED.has(name)) continue;
    const path = ENV_ALIASES[name] ?? name.slice(6).toLowerCase().split('__');
    let node = target;
    for (const key of path.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = parseEnvValue(value);
  }
}

/** Env values are YAML scalars or flow sequences: `9000` → number, `[cuda, cpu]` → array. */
function parseEnvValue(value: string): unknown {
  try {
    const v: unknown = parseYaml(value);
    return v === null ? value : v;
  } catch {
    return value;
  }
}
