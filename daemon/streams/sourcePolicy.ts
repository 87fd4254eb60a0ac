import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VigilError } from '../errors.js';
import { maskUrl } from '../events/mask.js';

/** What streams added through the API may read (config `sources`); config-file streams are not limited. */
export interface SourcePolicy {
  /** URL schemes allowed, without `:` (default rtsp, rtsps, http, https, rtmp, srt, udp). */
  schemes: string[];
  /** Directories whose files API streams may read (file:// or a path); empty: no files. */
  fileDirs: string[];
}

export const DEFAULT_API_SCHEMES = ['rtsp', 'rtsps', 'http', 'https', 'rtmp', 'srt', 'udp'];

/**
 * Throws VIGIL_ERR_STREAM_SOURCE_POLICY unless an API stream's URL is a network URL of an allowed
 * scheme, or a file inside an allowed directory. ffmpeg reads much more than cameras (local files,
 * `concat:`, `subfile:`, lavfi graphs, input options): none of that may come through the API.
 */
export function checkSourcePolicy(url: string, policy: SourcePolicy): void {
  const shown = maskUrl(url.trim()).slice(0, 200);
  const refuse = (why: string): never => {
    throw new VigilError('VIGIL_ERR_STREAM_SOURCE_POLICY', `The stream source "${shown}" is not allowed through the API: ${why}.`);
  };
  const u = url.trim();
  if (u.startsWith('-')) refuse('ffmpeg options cannot be given as a URL');
  if (/[\r\n\0]/.test(u)) refuse('it holds control characters');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(u)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === 'file') {
    let path = u;
    if (scheme === 'file') {
      try {
        path = fileURLToPath(u);
      } catch {
        refuse('not a valid file:// URL');
      }
    }
    if (!policy.fileDirs.length) refuse(`files are not allowed (allowed schemes: ${policy.schemes.join(', ')}; files need sources.file_dirs in the config)`);
    if (!isAbsolute(path)) refuse('a file must be given by its absolute path');
    const real = realOrResolved(path);
    const inside = policy.fileDirs.some((d) => {
      const rel = relative(realOrResolved(d), real);
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
    });
    if (!inside) refuse(`files must be inside ${policy.fileDirs.join(' or ')}`);
    return;
  }
  if (!u.slice(scheme.length + 1).startsWith('//')) refuse(`"${scheme}:" is an ffmpeg protocol, not a camera URL`);
  if (!policy.schemes.map((s) => s.toLowerCase()).includes(scheme)) refuse(`the scheme ${scheme} is not allowed (allowed: ${policy.schemes.join(', ')})`);
}

/** The real path (symlinks resolved) when it exists, else the resolved path. */
function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}
