import { spawn } from 'node:child_process';
import { VigilError } from '../errors.js';
import { maskUrl } from '../events/mask.js';
import { parseSource } from './ffmpegArgs.js';

/**
 * One JPEG frame of a stream, grabbed by a short-lived ffmpeg (at most `maxWidth` wide).
 * It opens its own connection to the camera, so callers cache and coalesce; it costs
 * nothing while nobody asks.
 */
export function grabSnapshot(url: string, opts: { transport?: 'tcp' | 'udp'; timeoutMs?: number; maxWidth?: number } = {}): Promise<Buffer> {
  const source = parseSource(url);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  if (source.kind === 'rtsp') args.push('-rtsp_transport', opts.transport ?? 'tcp', '-timeout', String(timeoutMs * 1000));
  if (source.kind === 'http') args.push('-rw_timeout', String(timeoutMs * 1000));
  args.push('-i', source.input, '-frames:v', '1', '-vf', `scale='min(${opts.maxWidth ?? 1280},iw)':-2`, '-q:v', '4', '-f', 'image2', '-c:v', 'mjpeg', 'pipe:1');
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new VigilError('VIGIL_ERR_FFMPEG_MISSING', `ffmpeg cannot be started: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const jpeg = Buffer.concat(out);
      if (code === 0 && jpeg.length > 0) return resolve(jpeg);
      const why = maskUrl(err.trim().split('\n').pop() ?? '') || (code === null ? `no frame within ${timeoutMs} ms` : `ffmpeg exited with ${code}`);
      reject(new VigilError('VIGIL_ERR_STREAM_UNREACHABLE', `No snapshot of ${maskUrl(url)}: ${why}`));
    });
  });
}
