// Issue 6 end to end: car photos panned across the frame (ffmpeg crop), served looped over RTSP,
// through the real daemon binary with plate-recognition, to a real WebSocket subscriber, the
// events API and the CLI: one NFV4-LPR event per vehicle per dedup window, right plate and direction.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { validateEvent } from '../daemon/events/schema.js';
import { startDaemon, waitFor } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';
import { startRtspServer } from './helpers/rtspServer.js';
import { subscribe } from './helpers/subscriber.js';

const CLIP_S = 6;
const FPS = 5;

/**
 * A photo scaled to `width` px on a 1280x360 grey canvas (centred); a 640x360 window pans from the
 * canvas' left edge to its right over CLIP_S s at 10 fps, so the vehicles move right to left.
 */
function panClip(dir: string, image: string, width: number): string {
  const out = join(dir, `${image}.mp4`);
  const frames = CLIP_S * 10;
  const vf = [`scale=${width}:-2`, 'pad=1280:360:(ow-iw)/2:(oh-ih)/2:gray',
    `crop=640:360:x='min(640,n*${(640 / (frames - 1)).toFixed(3)})':y=0`, 'format=yuv420p'].join(',');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-loop', '1', '-framerate', '10', '-t', String(CLIP_S),
    '-i', mediaPath(image), '-vf', vf, '-c:v', 'libx264', '-g', '10', '-preset', 'veryfast', out]);
  assert.equal(r.status, 0, r.stderr?.toString());
  return out;
}

type Ev = Record<string, unknown> & { pipeline_data: Record<string, unknown> };
interface Health { id: string; state: string; frames: number }

test('panned cars over RTSP through the daemon: one LPR event per vehicle, right plate and direction, found by plate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-plates-daemon-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gateCam = await startRtspServer({ source: { file: panClip(dir, 'plate_cn_yellow_single_yellow.jpg', 384) } }, t);
  const laneCam = await startRtspServer({ source: { file: panClip(dir, 'plate_cn_two_plates_Quicker_20220930_181044.png', 640) } }, t);
  const stream = (id: string, url: string) => ({ id, url, fps: FPS, analytics: ['plate-recognition'], plate_formats: ['cn'] });
  const daemon = await startDaemon({
    config: {
      streams: [stream('gate', gateCam.url()), stream('lane', laneCam.url())],
      analytics: {
        'plate-recognition': {
          models: 'cn', min_agreeing: 3, dedup_window_s: 60,
          known_plates: [{ plate: '皖K666*', status: 'watch', tags: ['fleet'] }],
        },
      },
    },
  }, t);
  const sub = await subscribe(daemon.url, { authorization: 'viewer-token-1234' });
  t.after(() => sub.close());
  const lpr = (): Ev[] => sub.events().filter((e) => e.analytic_id === 'NFV4-LPR') as Ev[];
  const plates = (streamId: string) => lpr().filter((e) => e.stream_id === streamId).map((e) => e.pipeline_data.plate_number as string).sort();
  const frames = async (id: string) => (await daemon.api<{ streams: Health[] }>('GET', '/api/status')).json.streams.find((s) => s.id === id)?.frames ?? 0;

  // Models load on first use; after that each vehicle needs 3 agreeing reads.
  await waitFor('the yellow car and both cars of the lane clip', () => plates('gate').length >= 1 && plates('lane').length >= 2, 240_000, 500);
  // Two more loops of each clip: every car passes again, well inside the 60 s dedup window.
  const base = { gate: await frames('gate'), lane: await frames('lane') };
  await waitFor('two more loops decoded', async () => (await frames('gate')) - base.gate >= 2 * CLIP_S * FPS
    && (await frames('lane')) - base.lane >= 2 * CLIP_S * FPS, 90_000, 500);
  await new Promise((r) => setTimeout(r, 2000)); // analysis of the last frames and publication
  t.diagnostic(JSON.stringify(lpr().map((e) => ({ s: e.stream_id, ts: e.timestamp, ...e.pipeline_data, image_jpeg: undefined, jpeg: undefined }))));

  await t.test('exactly one event per vehicle in the dedup window, with the right plates', () => {
    assert.deepEqual(plates('gate'), ['皖K66666'], 'gate events');
    assert.deepEqual(plates('lane'), ['粤B6R678', '闽DG065G'], 'lane events');
  });

  await t.test('the event: NFV4-LPR schema, crop in `jpeg`, plate, direction, label, known-plate status', async () => {
    const e = lpr().find((x) => x.stream_id === 'gate')!;
    assert.deepEqual(validateEvent(e, { requireSeq: true }), []);
    assert.equal(e.image_jpeg, undefined, 'LPR carries its crop in `jpeg`, not `image_jpeg`');
    const meta = await sharp(Buffer.from(e.jpeg as string, 'base64')).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.ok((meta.width ?? 0) > 100 && (meta.height ?? 0) > 60, `the crop shows the vehicle (${meta.width}x${meta.height})`);
    const pd = e.pipeline_data;
    const fields = (d: Record<string, unknown>) => ({ plate: d.plate_number, direction: d.direction, label: d.label, area: d.area_name, status: d.status, tags: d.tags });
    assert.deepEqual(fields(pd), { plate: '皖K66666', direction: 'Left', label: 'car', area: 'gate', status: 'watch', tags: ['fleet'] });
    // The lane image has a third, background car whose raw box jitters vertically around the 闽DG065G
    // plate; direction comes from the tracker's smoothed box, so both lane cars still read Left.
    const lane = lpr().filter((x) => x.stream_id === 'lane')
      .map((o) => ({ plate: o.pipeline_data.plate_number, direction: o.pipeline_data.direction, status: o.pipeline_data.status, schema: validateEvent(o, { requireSeq: true }) }))
      .sort((a, b) => String(a.plate).localeCompare(String(b.plate)));
    assert.deepEqual(lane, ['粤B6R678', '闽DG065G'].sort((a, b) => a.localeCompare(b))
      .map((plate) => ({ plate, direction: 'Left', status: 'unknown', schema: [] })), 'both lane cars move left and are not on the watch list');
  });

  await t.test('GET /api/events?plate= and `vigil events ls --plate` find it by province prefix, and only it', async () => {
    const q = async (p: string) => (await daemon.api<{ events: Ev[] }>('GET', `/api/events?plate=${encodeURIComponent(p)}`)).json.events
      .map((e) => e.pipeline_data.plate_number).sort();
    assert.deepEqual(await q('皖K*'), ['皖K66666']);
    assert.deepEqual(await q('皖k 666-66'), ['皖K66666'], 'exact match, normalised');
    // The province character counts: a stripped "K*" would find other provinces' K plates too.
    assert.deepEqual(await q('沪K*'), []);
    assert.deepEqual(await q('*6*'), ['粤B6R678', '闽DG065G', '皖K66666'].sort());
    const cli = await daemon.cli(['events', 'ls', '--plate', '皖K*', '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const rows = JSON.parse(cli.stdout) as Ev[];
    assert.deepEqual(rows.map((r) => r.pipeline_data.plate_number), ['皖K66666']);
  });
});
