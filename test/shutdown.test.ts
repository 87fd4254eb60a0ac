// SIGTERM under load, or during start-up, must end the daemon cleanly every time: exit code 0,
// "stopped" in the log, and no native abort (`terminate called after throwing an instance of
// 'Napi::Error'` came from a session worker ended inside a native ORT run). Load: two looping cameras with people counting, a
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

test(`SIGTERM under load and during start-up, ${ROUNDS} rounds: exit 0, "stopped" logged, no native abort`, { timeout: ROUNDS * 120_000 }, async (t) => {
  const image = readFileSync(mediaPath(JPEG));
  const outcomes: string[] = [];
  const failures: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const daemon = await startDaemon(
      {
        config: {
          streams: ['street', 'square'].map((id) => ({ id, url: mediaPath(CLIP), fps: 5, loop: true, realtime: true, analytics: ['people-counting'] })),
        },
      },
      t,
    );
    const sub = new WebSocket(`${daemon.url.replace('http', 'ws')}/event_channel?authorization=${daemon.token}`);
    sub.on('error', () => undefined);
    const detect = () => fetch(new URL('/api/analyze/detect', daemon.url), { method: 'POST', headers: { authorization: `Bearer ${daemon.token}`, 'content-type': 'image/jpeg' }, body: image }).then((r) => r.status, () => 0);
    // Every third round stops during start-up: the server already answers, the cameras and their
    // models are still being started (a SIGTERM then used to kill the process with no clean stop).
    const atStartup = round % 3 === 1;
    // Otherwise the models are loaded and busy once a detect request comes back.
    if (!atStartup) await waitFor('a detect answer', async () => (await detect()) === 200, 90_000, 200);
    let loading = true;
    // Two clients at once: a run is in flight in the detector at nearly every moment.
    const load = Promise.all(
      [0, 1].map(async () => {
        while (loading) await detect();
      }),
    );
    // A different moment of the frame path at each round.
    if (!atStartup) await sleep(200 + Math.random() * 1500);
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
    // Every round runs to the end, so a failure reports how many rounds of how many went wrong.
    const problems = [
      ...(signal ? [`killed by ${signal}`] : []),
      ...(code !== 0 ? [`exit code ${code}`] : []),
      ...(bad ? [bad[0]] : []),
      ...(/"msg":"stopped"/.test(log) ? [] : ['no "stopped" in the log']),
    ];
    const phase = /stopping once start-up ends/.test(log) ? 'S' : 'L'; // where the SIGTERM landed
    outcomes.push(`${round}${phase}:${code}${signal ? `/${signal}` : ''}${problems.length ? `:${problems.join('+')}` : ''}`);
    if (problems.length) failures.push(`round ${round}: ${problems.join(', ')}\n${log.slice(-1500)}`);
  }
  t.diagnostic(`rounds: ${outcomes.join(' ')}`);
  assert.deepEqual(failures, [], `${failures.length} of ${ROUNDS} rounds failed (${outcomes.join(' ')}):\n${failures.join('\n---\n')}`);
});
