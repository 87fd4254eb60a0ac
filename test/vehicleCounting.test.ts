import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDaemon, waitFor } from './helpers/daemon.js';
import { carCrossingClip } from './helpers/clips.js';
import { subscribe } from './helpers/subscriber.js';

// Real frames: a clip built with ffmpeg from a real photo of a car (test/helpers/clips.ts),
// read once by the real daemon as a file source at 5 fps, counted by the real yolox_nano.
test('vehicle counting (NFV4-VC) through the daemon: one car Right (in) and one Left (out) across a vertical line', async (t) => {
  const clip = carCrossingClip();
  const d = await startDaemon({
    config: {
      streams: [{
        id: 'gate', name: 'Gate', url: clip, fps: 5, loop: false, realtime: true, analytics: ['vehicle-counting'],
        lines: [{ name: 'gate-line', points: [[0.5, 0], [0.5, 1]], in: 'Right' }],
      }],
    },
  }, t);
  const sub = await subscribe(d.url, { authorization: d.token, stream_id: 'gate', since: '0' });
  t.after(() => sub.close());
  // The file plays once (12 s, real time); wait for its end, then let the last frame's analysis land.
  await waitFor('the clip to end', async () => {
    const r = await d.api<{ streams: { id: string; health?: { state: string } }[] }>('GET', '/api/streams');
    return r.json.streams.find((s) => s.id === 'gate')?.health?.state === 'failed';
  }, 90_000, 500);
  await new Promise((r) => setTimeout(r, 1500));
  const evs = sub.events().filter((e) => (e.pipeline_data as Record<string, unknown>).trigger === 'line');
  const pd = evs.map((e) => e.pipeline_data as Record<string, unknown>);
  assert.deepEqual(pd.map((p) => [p.direction, p.in_out, p.label, p.line]), [['Right', 'in', 'car', 'gate-line'], ['Left', 'out', 'car', 'gate-line']]);
  for (const e of evs) {
    assert.equal(e.analytic_id, 'NFV4-VC');
    assert.equal((e.pipeline_data as Record<string, unknown>).primary_text, 'car');
    assert.equal((e.pipeline_data as Record<string, unknown>).area_name, 'Gate');
    assert.ok(typeof e.image_jpeg === 'string' && e.image_jpeg.length > 1000, 'a crop of the car');
  }
  const counts = await d.api<{ counters: { name: string; analytic: string; in: number; out: number }[] }>('GET', '/api/counts?stream=gate');
  assert.deepEqual(counts.json.counters.map((c) => [c.analytic, c.name, c.in, c.out]), [['vehicle-counting', 'gate-line', 1, 1]]);
});
