// SIGTERM under load must end the daemon cleanly every time: exit code 0, "stopped" in the log, and
// no native abort (`terminate called after throwing an instance of 'Napi::Error'` came from a
// session worker ended inside a native ORT run). Load: a looping camera with people counting, a
// subscriber, and detect requests on the REST twin of the frame sockets (ORT + sharp + SQLite + uWS).
// SHUTDOWN_ROUNDS sets the rounds (default 3; the README figure is 50).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { startDaemon, waitFor } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';

const ROUNDS = Number(process.env.SHUTDOWN_ROUNDS ?? 3);
const CLIP = 'video_street_pedestrians_640x360.mp4';
const JPEG = 'coco_people_car_000000009891.jpg';

test(`SIGTERM under load, ${ROUNDS} rounds: exit 0, "stopped" logged, no native abort`, { timeout: ROUNDS * 120_000 }, async (t) => {
  const image = readFileSync(mediaPath(JPEG));
  const outcomes: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const daemon = await startDaemon(
      { config: { streams: [{ id: 'street', url: mediaPath(CLIP), fps: 5, loop: true, realtime: true, analytics: ['people-counting'] }] } },
      t,
    );
    const sub = new WebSocket(`${daemon.url.replace('http', 'ws')}/event_channel?authorization=${daemon.token}`);
    sub.on('error', () => undefined);
    // The models are loaded and busy once a detect request comes back.
    const detect = () => fetch(new URL('/api/analyze/detect', daemon.url), { method: 'POST', headers: { authorization: `Bearer ${daemon.token}`, 'content-type': 'image/jpeg' }, body: image }).then((r) => r.status, () => 0);
    await waitFor('a detect answer', async () => (await detect()) === 200, 90_000, 200);
    let loading = true;
    const load = (async () => {
      while (loading) await detect();
    })();
    // A different moment of the frame path at each round.
    await sleep(200 + Math.random() * 1500);
    const { code } = await daemon.stop('SIGTERM');
    loading = false;
    await load;
    sub.terminate();
    // 'exit' can come before the last stdout bytes: read them all.
    const out = daemon.child.stdout!;
    if (!out.readableEnded) await new Promise((r) => out.once('end', r));
    const log = daemon.logs();
    const signal = daemon.child.signalCode;
    const bad = /terminate called|Napi::Error|Aborted|core dumped|"msg":"stop failed"|shutdown took longer/.exec(log);
    outcomes.push(`${round}:${code}${signal ? `/${signal}` : ''}${bad ? `:${bad[0]}` : ''}`);
    assert.equal(signal, null, `round ${round}: killed by ${signal}\n${log.slice(-2000)}`);
    assert.equal(code, 0, `round ${round}: exit code ${code}\n${log.slice(-2000)}`);
    assert.equal(bad, null, `round ${round}: ${bad?.[0]}\n${log.slice(-2000)}`);
    assert.match(log, /"msg":"stopped"/, `round ${round}: "stopped" logged`);
  }
  t.diagnostic(`rounds: ${outcomes.join(' ')}`);
});
