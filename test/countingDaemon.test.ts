import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { PEOPLE_CROSSINGS, peopleCrossingClip } from './helpers/clips.js';
import { startDaemon, waitFor } from './helpers/daemon.js';
import { subscribe } from './helpers/subscriber.js';

// Why a built clip and not the street clip: video_street_pedestrians_640x360.mp4 is a head-on
// telephoto crowd with pans and cuts; stepping through it (1 fps contact sheet, then single
// frames) nobody visibly crosses any horizontal line: people walk towards the camera and leave
// through the bottom edge, so the hand count there is ~0 and every counted crossing is a tracker
// artefact (its id-switch bound is asserted in countingDaemonStreet.test.ts). So this test builds
// a clip from real people (coco_people_group / coco_people_car crops) moved across a real,
// blurred background with ffmpeg's overlay filter: the hand count is known by construction
// (3 Down, 2 Up per loop; test/helpers/clips.ts peopleCrossingClip) and was checked by viewing
// frames 2.5 s and 8.5 s. The daemon reads it once as a file source in real time at 5 fps:
// exactly one pass of the clip, where a looping RTSP camera would be joined mid-pass.
const LINE = { name: 'mid', points: [[0, 0.5], [1, 0.5]], in: 'Down' };

interface Counter { streamId: string; analytic: string; kind: string; name: string; in: number; out: number }

test('people counting through the real daemon: exact crossings, counters kept across a restart, shown by vigil counts; geometry API', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-countd-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const stream = { id: 'hall', name: 'Hall', url: peopleCrossingClip(), fps: 5, loop: false, realtime: true, analytics: ['people-counting'], lines: [LINE] };
  const d = await startDaemon({ dataDir, config: { streams: [stream] } }, t);
  const sub = await subscribe(d.url, { authorization: d.token, stream_id: 'hall', since: '0', crops: '0' });
  t.after(() => sub.close());

  // The file plays once in real time (18 s); wait for its end, then for the last frame's analysis.
  await waitFor('the clip to end', async () => {
    const r = await d.api<{ streams: { id: string; health?: { state: string } }[] }>('GET', '/api/streams');
    return r.json.streams.find((s) => s.id === 'hall')?.health?.state === 'failed';
  }, 90_000, 500);
  await new Promise((r) => setTimeout(r, 1500));
  const line = sub.events().map((e) => e.pipeline_data as Record<string, unknown>).filter((p) => p.trigger === 'line');
  const seen = line.map((p) => `${p.in_out as string}:${p.direction as string}:${p.label as string}:${p.line as string}`);
  assert.deepEqual({ in: line.filter((p) => p.in_out === 'in').length, out: line.filter((p) => p.in_out === 'out').length }, PEOPLE_CROSSINGS, seen.join(' '));
  // In the clip's order: redShirt Down, man Up, whiteCap Down, then adidas Down and redShirt Up.
  assert.deepEqual(seen, ['in:Down:person:mid', 'out:Up:person:mid', 'in:Down:person:mid', 'in:Down:person:mid', 'out:Up:person:mid']);
  assert.equal(new Set(line.map((p) => p.track_id)).size, 5, 'five different tracks, one crossing each');
  for (const e of sub.events()) assert.equal(e.analytic_id, 'NFV4-PC');

  const all = sub.events().filter((e) => (e.pipeline_data as Record<string, unknown>).trigger === 'line');
  await d.stop();
  const stored = { in: all.filter((e) => (e.pipeline_data as Record<string, unknown>).in_out === 'in').length, out: all.filter((e) => (e.pipeline_data as Record<string, unknown>).in_out === 'out').length };

  // Restart on the same data dir with the stream switched off: the counters are what was counted.
  // API streams may read files only inside sources.file_dirs (the built clip's folder).
  const d2 = await startDaemon({ dataDir, config: { streams: [{ ...stream, enabled: false }], sources: { file_dirs: [dirname(stream.url)] } } }, t);
  const counts = await d2.api<{ counters: Counter[] }>('GET', '/api/counts');
  assert.equal(counts.status, 200);
  assert.deepEqual(counts.json.counters.map((c) => [c.streamId, c.analytic, c.kind, c.name, c.in, c.out]), [['hall', 'people-counting', 'line', 'mid', stored.in, stored.out]]);

  // The real CLI against the real daemon.
  const cli = await d2.cli(['counts', '--stream', 'hall']);
  assert.equal(cli.code, 0, cli.stderr);
  const row = cli.stdout.split('\n').find((l) => /\bmid\b/.test(l));
  assert.ok(row, cli.stdout);
  assert.match(row, new RegExp(`\\bhall\\s+people-counting\\s+line\\s+mid\\s+${stored.in}\\s+${stored.out}\\b`));
  const json = await d2.cli(['counts', '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual((JSON.parse(json.stdout) as { counters: Counter[] }).counters.map((c) => [c.name, c.in, c.out]), [['mid', stored.in, stored.out]]);

  // GET/PUT /api/geometry/:stream. A config-file stream shows its lines but is edited in the file.
  const g = await d2.api<{ lines: { name: string }[]; zones: unknown[] }>('GET', '/api/geometry/hall');
  assert.equal(g.status, 200);
  assert.deepEqual(g.json.lines.map((l) => l.name), ['mid']);
  const refused = await d2.api<{ error: { code: string } }>('PUT', '/api/geometry/hall', { lines: [], zones: [] });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error.code, 'VIGIL_ERR_BAD_REQUEST');
  // A stream added through the API is edited live: a new line shows in GET and as a 0/0 counter.
  const added = await d2.api('POST', '/api/streams', { id: 'door', url: peopleCrossingClip(), fps: 5, loop: false, enabled: false, analytics: ['people-counting'], lines: [LINE] });
  assert.ok(added.status === 200 || added.status === 201, JSON.stringify(added.json));
  const put = await d2.api('PUT', '/api/geometry/door', { lines: [LINE, { name: 'upper', points: [[0, 0.3], [1, 0.3]] }], zones: [] });
  assert.equal(put.status, 200, JSON.stringify(put.json));
  const g2 = await d2.api<{ lines: { name: string }[] }>('GET', '/api/geometry/door');
  assert.deepEqual(g2.json.lines.map((l) => l.name), ['mid', 'upper']);
  const c2 = await waitFor('the new line counter', async () => {
    const r = await d2.api<{ counters: Counter[] }>('GET', '/api/counts?stream=door');
    return r.json.counters.length === 2 ? r.json.counters : null;
  }, 10_000);
  assert.deepEqual(c2.map((c) => [c.name, c.in, c.out]), [['mid', 0, 0], ['upper', 0, 0]]);
  // hall's counters are untouched by door's.
  const hall = await d2.api<{ counters: Counter[] }>('GET', '/api/counts?stream=hall');
  assert.deepEqual(hall.json.counters.map((c) => [c.name, c.in, c.out]), [['mid', stored.in, stored.out]]);
  // A bad geometry is refused with a code, and a viewer token cannot change it.
  const bad = await d2.api<{ error: { code: string } }>('PUT', '/api/geometry/door', { lines: [{ name: 'x', points: [[0, 2], [1, 0.3]] }] });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, 'VIGIL_ERR_BAD_REQUEST');
  const viewer = await fetch(new URL('/api/geometry/door', d2.url), { method: 'PUT', headers: { authorization: 'Bearer viewer-token-1234' }, body: '{}' });
  assert.ok(viewer.status === 401 || viewer.status === 403, `viewer PUT: ${viewer.status}`);
  const unknown = await d2.api('GET', '/api/geometry/nope');
  assert.equal(unknown.status, 404);
  // The CLI's geometry editing goes through the same routes.
  const file = join(dataDir, 'geometry.json');
  writeFileSync(file, JSON.stringify({ lines: [LINE], zones: [] }));
  const set = await d2.cli(['counts', 'geometry', 'door', '--set', file]);
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual((JSON.parse(set.stdout) as { lines: { name: string }[] }).lines.map((l) => l.name), ['mid']);
});
