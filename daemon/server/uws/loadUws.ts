// Picks the uWebSockets.js the sockets run on: a native binary that fits this Node ABI, platform
// and glibc, else the JavaScript stand-in (fallbackApp.ts), which is slower and reported loudly
// (log line, `vigil_uws_native` metric, `vigil status`, `vigil doctor`).
//
// Binaries in the registry: `@trufflesuite/uws-js-unofficial` 20.30 (aliased `uWebSockets.js`):
// Node 16/18/20 (ABIs 93/108/115), glibc >= 2.27. `@btc-vision/uwebsockets.js` 20.57 (the
// official build republished): Node 20/22/24/25 (ABIs 115/127/137/141), glibc >= 2.38.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import type * as UwsTypes from 'uWebSockets.js';
import { FallbackApp, fallbackListenSocketClose, fallbackLocalPort } from './fallbackApp.js';

export type UwsModule = Pick<typeof UwsTypes, 'App' | 'us_listen_socket_close' | 'us_socket_local_port' | 'DISABLED'> & { LIBUS_LISTEN_EXCLUSIVE_PORT?: number };

export interface UwsCandidate {
  package: string;
  version: string | null;
  binary: string;
  /** Why it did not load (missing for the one that did). */
  error?: string;
}

export interface UwsInfo {
  kind: 'native' | 'fallback';
  /** The package whose binary loaded (native only). */
  package: string | null;
  version: string | null;
  binary: string | null;
  /** process.versions.modules, e.g. "115" for Node 20, "137" for Node 24. */
  abi: string;
  glibc: string | null;
  /** Every native binary tried, in order, with why it failed. */
  tried: UwsCandidate[];
  /** Why the fallback runs (fallback only). */
  reason?: string;
}

const require = createRequire(import.meta.url);

/** The glibc this process runs on (null on musl or non-Linux). */
export function glibcVersion(): string | null {
  if (process.platform !== 'linux') return null;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ?? null;
}

/** The installed package's directory and version; null when it is not installed. */
function packageDir(name: string): { dir: string; version: string | null } | null {
  try {
    const dir = dirname(require.resolve(name));
    // The main file sits at the root (official) or in src/ (trufflesuite).
    for (const d of [dir, dirname(dir)]) {
      const pkg = join(d, 'package.json');
      if (existsSync(pkg)) return { dir: d, version: (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version ?? null };
    }
    return { dir, version: null };
  } catch {
    return null;
  }
}

/** Native binaries that could fit, in the order they are tried. */
export function nativeCandidates(): { package: string; version: string | null; path: string }[] {
  const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  const out: { package: string; version: string | null; path: string }[] = [];
  // The 20.30 build first where it has a binary (Node 20: the version the suite was written on).
  const truffle = packageDir('uWebSockets.js');
  if (truffle) out.push({ package: '@trufflesuite/uws-js-unofficial', version: truffle.version, path: join(truffle.dir, 'binaries', file) });
  const official = packageDir('@btc-vision/uwebsockets.js');
  if (official) out.push({ package: '@btc-vision/uwebsockets.js', version: official.version, path: join(official.dir, file) });
  return out;
}

function firstLine(err: unknown): string {
  return ((err as Error).message ?? String(err)).split('\n').find((l) => l.trim()) ?? String(err);
}

function load(): { mod: UwsModule; info: UwsInfo } {
  const abi = process.versions.modules;
  const glibc = glibcVersion();
  const tried: UwsCandidate[] = [];
  const forced = process.env.VIGIL_UWS;
  if (forced !== 'fallback') {
    for (const c of nativeCandidates()) {
      if (!existsSync(c.path)) {
        tried.push({ package: c.package, version: c.version, binary: c.path, error: `no binary for ${process.platform}-${process.arch} Node ABI ${abi}` });
        continue;
      }
      try {
        const mod = require(c.path) as UwsModule;
        return { mod, info: { kind: 'native', package: c.package, version: c.version, binary: c.path, abi, glibc, tried } };
      } catch (err) {
        tried.push({ package: c.package, version: c.version, binary: c.path, error: firstLine(err) });
      }
    }
    if (forced === 'native') {
      throw new Error(`VIGIL_UWS=native but no native uWebSockets.js loads here: ${tried.map((t) => `${t.package}: ${t.error}`).join('; ') || 'none installed'}`);
    }
  }
  const reason = forced === 'fallback'
    ? 'VIGIL_UWS=fallback'
    : `no native uWebSockets.js binary loads on Node ${process.versions.node} (ABI ${abi}, ${process.platform}-${process.arch}, glibc ${glibc ?? 'n/a'})`;
  const mod: UwsModule = {
    App: FallbackApp as unknown as UwsModule['App'],
    us_listen_socket_close: fallbackListenSocketClose,
    us_socket_local_port: fallbackLocalPort as UwsModule['us_socket_local_port'],
    DISABLED: 0,
    LIBUS_LISTEN_EXCLUSIVE_PORT: 1,
  };
  return { mod, info: { kind: 'fallback', package: null, version: null, binary: null, abi, glibc, tried, reason } };
}

const loaded = load();

/** The uWS module the server uses (native or the JavaScript stand-in). */
export const uws: UwsModule = loaded.mod;
/** Which one loaded and why. */
export const uwsInfo: UwsInfo = loaded.info;

/** One line for logs and `vigil status`. */
export function uwsSummary(info: UwsInfo = uwsInfo): string {
  return info.kind === 'native'
    ? `native uWebSockets.js ${info.version ?? ''} (${info.package}, ABI ${info.abi})`.replace('  ', ' ')
    : `JavaScript fallback (ws over node:http, slower): ${info.reason}`;
}
