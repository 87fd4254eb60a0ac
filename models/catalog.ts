import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { VigilError } from '../daemon/errors.js';
import type { ModelFamily, ModelRole, ModelSpec } from '../daemon/inference/types.js';
import { BUILTIN_MODELS, DEFAULT_ROLES, ROLE_FAMILIES } from './manifest.js';

const FAMILIES: readonly ModelFamily[] = ['yolox', 'nanodet', 'yunet', 'scrfd', 'ultraface', 'blazeface', 'yolov5-plate', 'retina-plate', 'ctc', 'cct', 'ppocr-det', 'embedding', 'density'];
const ROLES = Object.keys(DEFAULT_ROLES) as ModelRole[];

/** Names of the user manifest files looked for in the data dir. */
export const USER_MANIFEST_FILES = ['models.yaml', 'models.yml', 'models.json'];

/** The built-in manifest plus the user's own entries; what `vigil models ls` lists. */
export class ModelCatalog {
  private readonly byName = new Map<string, ModelSpec>();

  constructor(specs: ModelSpec[] = BUILTIN_MODELS) {
    for (const s of specs) this.byName.set(s.name, s);
  }

  /** Loads the built-ins plus `<dataDir>/models.{yaml,yml,json}` and any extra manifest paths. */
  static load(opts: { dataDir?: string; extraPaths?: string[] } = {}): ModelCatalog {
    const cat = new ModelCatalog();
    const paths = [...(opts.extraPaths ?? [])];
    if (opts.dataDir) for (const f of USER_MANIFEST_FILES) { const p = join(opts.dataDir, f); if (existsSync(p)) paths.push(p); }
    for (const p of paths) for (const spec of readUserManifest(p)) cat.add(spec);
    return cat;
  }

  /** Adds or replaces an entry (user entries override built-ins of the same name). */
  add(spec: ModelSpec): void {
    this.byName.set(spec.name, spec);
  }

  /** The entry of a name, or VIGIL_ERR_MODEL_UNKNOWN. */
  get(name: string): ModelSpec {
    const s = this.byName.get(name);
    if (!s) throw new VigilError('VIGIL_ERR_MODEL_UNKNOWN', `No model "${name}" in the manifest (known: ${[...this.byName.keys()].join(', ')})`);
    return s;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  all(): ModelSpec[] {
    return [...this.byName.values()];
  }

  /** The model name for a role: the configured one, else the default; checks the family fits the role. */
  nameForRole(role: ModelRole, configured?: Partial<Record<ModelRole, string>>): string {
    if (!ROLES.includes(role)) throw new VigilError('VIGIL_ERR_CONFIG', `Unknown model role "${role}"`);
    const name = configured?.[role] ?? DEFAULT_ROLES[role];
    if (!name) {
      const candidates = this.all().filter((s) => ROLE_FAMILIES[role].includes(s.family)).map((s) => `${s.name} (${s.licence})`);
      throw new VigilError('VIGIL_ERR_MODEL_UNKNOWN', `No default model for role ${role} (no permissive one exists); set models.roles.${role}${candidates.length ? ` to one of: ${candidates.join('; ')}` : ' after adding a model of family ' + ROLE_FAMILIES[role].join('/') + ' to a user manifest'}`);
    }
    const spec = this.get(name);
    if (!ROLE_FAMILIES[role].includes(spec.family)) {
      throw new VigilError('VIGIL_ERR_CONFIG', `Model ${name} (family ${spec.family}) cannot serve role ${role} (needs ${ROLE_FAMILIES[role].join(', ')})`);
    }
    return name;
  }
}

/** Reads a YAML/JSON user manifest: `{ models: [ModelSpec...] }` or a bare list. */
export function readUserManifest(path: string): ModelSpec[] {
  let doc: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new VigilError('VIGIL_ERR_CONFIG_READ', `Cannot read model manifest ${path}: ${(err as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { models?: unknown })?.models;
  if (!Array.isArray(list)) throw new VigilError('VIGIL_ERR_CONFIG', `Model manifest ${path} must hold a list under "models"`);
  const errors: string[] = [];
  const specs = list.map((e, i) => validateSpec(e, `${path}: models[${i}]`, dirname(path), errors));
  if (errors.length) throw new VigilError('VIGIL_ERR_CONFIG', `Model manifest ${path} is invalid:\n  ${errors.join('\n  ')}`, { errors });
  return specs as ModelSpec[];
}

/** Checks a user entry, filling input defaults; collects every problem at once. */
function validateSpec(raw: unknown, where: string, baseDir: string, errors: string[]): ModelSpec | undefined {
  const e = raw as Record<string, unknown>;
  const err = (m: string): void => void errors.push(`${where}: ${m}`);
  if (!e || typeof e !== 'object') { err('not an object'); return undefined; }
  if (typeof e.name !== 'string' || !/^[\w.-]+$/.test(e.name)) err('name must be letters, digits, _ . -');
  if (!ROLES.includes(e.role as ModelRole)) err(`role must be one of ${ROLES.join(', ')}`);
  if (!FAMILIES.includes(e.family as ModelFamily)) err(`family must be one of ${FAMILIES.join(', ')}`);
  if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) err('sha256 must be 64 lowercase hex digits');
  const src = e.source as Record<string, unknown> | undefined;
  let source: ModelSpec['source'] | undefined;
  if (src?.kind === 'url' && typeof src.url === 'string') source = { kind: 'url', url: src.url };
  else if (src?.kind === 'npm' && typeof src.package === 'string' && typeof src.version === 'string' && typeof src.path === 'string') source = { kind: 'npm', package: src.package, version: src.version, path: src.path };
  else if (src?.kind === 'file' && typeof src.path === 'string') source = { kind: 'file', path: isAbsolute(src.path) ? src.path : resolve(baseDir, src.path) };
  else err('source must be {kind: url, url} | {kind: npm, package, version, path} | {kind: file, path}');
  const inp = (e.input ?? {}) as Record<string, unknown>;
  const triple = (v: unknown, d: number): [number, number, number] =>
    Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number') ? (v as [number, number, number]) : [d, d, d];
  if (!(Number(inp.width) > 0 && Number(inp.height) > 0) || typeof inp.name !== 'string') err('input needs name, width, height');
  const input = {
    name: String(inp.name), width: Number(inp.width), height: Number(inp.height),
    layout: inp.layout === 'NHWC' ? 'NHWC' : 'NCHW', color: inp.color === 'BGR' ? 'BGR' : 'RGB',
    dtype: inp.dtype === 'uint8' ? 'uint8' : 'float32', mean: triple(inp.mean, 0), std: triple(inp.std, 1),
    resize: inp.resize === 'letterbox-topleft' || inp.resize === 'letterbox-center' ? inp.resize : 'stretch',
    pad: typeof inp.pad === 'number' ? inp.pad : 0,
    ...(inp.dynamicSize ? { dynamicSize: true, multiple: Number(inp.multiple) || 32 } : {}),
    // A shape-free letterbox graph (e.g. another YOLOX export): fed the frame's aspect.
    ...(Number(inp.rectMultiple) > 0 ? { rectMultiple: Number(inp.rectMultiple) } : {}),
  } as ModelSpec['input'];
  if (!source) return undefined;
  return {
    name: String(e.name), role: e.role as ModelRole, family: e.family as ModelFamily,
    file: typeof e.file === 'string' ? e.file : `${String(e.name)}.onnx`, source, sha256: String(e.sha256),
    licence: typeof e.licence === 'string' ? e.licence : 'user-supplied', permissive: e.permissive === true, input,
    ...(Array.isArray(e.outputs) ? { outputs: e.outputs.map(String) } : {}),
    ...(Array.isArray(e.labels) ? { labels: e.labels.map(String) } : {}),
    ...(e.dynamicBatch === true ? { dynamicBatch: true } : {}),
    ...(e.decode && typeof e.decode === 'object' ? { decode: e.decode as ModelSpec['decode'] } : {}),
    ...(typeof e.notes === 'string' ? { notes: e.notes } : {}),
  };
}
