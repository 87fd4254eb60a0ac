import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { FaceAdmin } from '../daemon/analytics/faceRecognition/faceAdmin.js';
import { createFaceRecognitionAnalytic } from '../daemon/analytics/faceRecognition/faceRecognitionAnalytic.js';
import { FaceRecognizer } from '../daemon/analytics/faceRecognition/faceRecognizer.js';
import type { Observation } from '../daemon/analytics/types.js';
import { silentLogger } from '../daemon/log.js';
import { openDatabase } from '../daemon/store/database.js';
import { FaceGallery } from '../daemon/store/faceGallery.js';
import { faceModels } from './facesHelpers.js';
import { mediaPath } from './helpers/paths.js';
import { startRtspServer } from './helpers/rtspServer.js';

const W = 640, H = 360, FPS = 4;
// 30 fps so the server's 30-frame GOP heals a lost I-frame slice within 1 s (seen: its UDP hop drops packets under load).
const SHOW_S = 2.5, GAP_S = 1.5;
const CAST = ['face_obama_2.jpg', 'face_rose_leslie_1.jpg', 'face_kit_harington_2.jpg', 'face_biden_1.jpg'];
const PERIOD_S = CAST.length * (SHOW_S + GAP_S);

/** Builds the clip: for each photo, GAP_S seconds of black then the photo for SHOW_S seconds, H.264. */
function makeClip(out: string): void {
  const args = ['-y', '-hide_banner', '-loglevel', 'error'];
  const chains: string[] = [];
  CAST.forEach((f, i) => {
    args.push('-loop', '1', '-t', String(SHOW_S), '-i', mediaPath(f));
    chains.push(`[${i}:v]scale=${W}:${H}:force_original_aspect_ratio=decrease,pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=30,format=yuv420p[v${i}]`);
    chains.push(`color=c=black:s=${W}x${H}:d=${GAP_S}:r=30,format=yuv420p[b${i}]`);
  });
  // Black first: the server's loop seam (decoder glitches) then falls on black, not on a face.
  const concat = CAST.map((_, i) => `[b${i}][v${i}]`).join('') + `concat=n=${CAST.length * 2}:v=1:a=0[out]`;
  args.push('-filter_complex', [...chains, concat].join(';'), '-map', '[out]', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '30', '-pix_fmt', 'yuv420p', out);
  const r = spawnSync('ffmpeg', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** Reads rgb24 frames from the RTSP URL with ffmpeg until `enough(frames)` says stop. */
async function readFrames(url: string, enough: (frames: Buffer[]) => boolean, maxSeconds: number): Promise<Buffer[]> {
  const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url, '-vf', `fps=${FPS}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  const size = W * H * 3;
  const frames: Buffer[] = [];
  let pending = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { ff.kill('SIGKILL'); reject(new Error(`only ${frames.length} frames in ${maxSeconds} s`)); }, maxSeconds * 1000);
    ff.stdout.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= size) {
        frames.push(Buffer.from(pending.subarray(0, size)));
        pending = pending.subarray(size);
      }
      if (enough(frames)) { clearTimeout(timer); ff.kill('SIGKILL'); resolve(frames); }
    });
    ff.on('error', reject);
  });
}

const isBlack = (f: Buffer): boolean => {
  let s = 0;
  for (let i = 0; i < f.length; i += 97) s += f[i]!;
  return s / (f.length / 97) < 12;
};

it('gives exactly one NFV4-FR event per appearance on an RTSP stream, with the right names', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-faces-stream-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clip = join(dir, 'faces.mp4');
  makeClip(clip);

  const models = await faceModels();
  t.after(() => models.close());
  const db = openDatabase(join(dir, 'vigil.db'));
  t.after(() => db.close());
  const rec = new FaceRecognizer({ models, gallery: new FaceGallery(db), log: silentLogger() });
  await rec.start();
  const admin = new FaceAdmin(rec, silentLogger());
  await admin.enroll({ name: 'Barack Obama' }, [readFileSync(mediaPath('face_obama_1.jpg'))]);
  await admin.enroll({ name: 'Joe Biden' }, [readFileSync(mediaPath('face_biden_2.jpg'))]);
  await admin.enroll({ name: 'Kit Harington' }, [readFileSync(mediaPath('face_kit_harington_1.jpg'))]);

  const server = await startRtspServer({ source: { file: clip } }, t);
  // The server loops the clip live: start at the first black→picture edge, then take one full loop plus a gap.
  const need = Math.round(PERIOD_S * FPS);
  const startOf = (fr: Buffer[]): number => fr.findIndex((f, i) => i > 0 && isBlack(fr[i - 1]!) && !isBlack(f));
  const frames = await readFrames(server.url(), (fr) => { const s = startOf(fr); return s >= 0 && fr.length - s >= need; }, PERIOD_S * 3 + 20);
  const start = startOf(frames);

  const analytic = createFaceRecognitionAnalytic(rec, { streamId: 'door', log: silentLogger() });
  const events: Observation[] = [];
  for (let i = start; i < start + need; i++) {
    events.push(...(await analytic.process({ width: W, height: H, data: frames[i]!, streamId: 'door', index: i, timestamp: 1_700_000_000_000 + i * 250 })));
  }
  const seen = events.map((e) => `${e.primaryText}:${(e.data.name as string | undefined) ?? '-'}`);
  assert.deepEqual([...seen].sort(), ['KNOWN:Barack Obama', 'KNOWN:Joe Biden', 'KNOWN:Kit Harington', 'UNKNOWN:-'], `events: ${seen.join(', ')}`);
  assert.equal(new Set(events.map((e) => e.data['face-id'])).size, 4, 'one face track per appearance');
  for (const e of events) {
    assert.equal(e.analyticId, 'NFV4-FR');
    assert.equal(e.secondaryText, '');
    assert.equal(typeof e.data.variation, 'string');
    assert.ok(e.crop!.image.width > 0 && e.crop!.image.width <= 256);
  }
});
