// Resume through the real daemon: a subscriber drops and reconnects with since=<last seen seq>
// while a looping clip produces events; the union of what it received is exactly the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, waitFor } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';
import { subscribe } from './helpers/subscriber.js';

test('real daemon: disconnect and resume with since while events flow: no hole, no duplicate', async (t) => {
  const daemon = await startDaemon(
    { config: { streams: [{ id: 'street', url: mediaPath('video_street_pedestrians_640x360.mp4'), loop: true, fps: 4, analytics: ['people-counting'] }] } },
    t,
  );
  const token = 'viewer-token-1234';
  const received: number[] = [];
  let last = 0;
  const sessions: number[] = [];
  // Six or more sessions, each closed at an arbitrary point of the flow.
  for (let i = 0; i < 6 || received.length < 15; i++) {
    if (i > 40) break;
    const sub = await subscribe(daemon.url, { authorization: token, since: String(last), crops: i % 2 ? '0' : '1' });
    await new Promise((r) => setTimeout(r, 1500));
    sub.close();
    const seqs = sub.events().map((e) => e.seq as number);
    sessions.push(seqs.length);
    received.push(...seqs);
    if (seqs.length) last = seqs[seqs.length - 1]!;
  }
  assert.ok(received.length >= 15, `events flowed: ${received.length}`);
  assert.ok(sessions.filter((n) => n > 0).length >= 3, `several sessions received events: ${sessions.join(',')}`);
  assert.equal(new Set(received).size, received.length, 'no duplicate across reconnects');
  for (let i = 1; i < received.length; i++) assert.ok(received[i]! > received[i - 1]!, 'in seq order');

  const stored: number[] = [];
  let since = 0;
  for (;;) {
    const page = (await daemon.api<{ events: { seq: number }[]; next: { since: number } | null }>('GET', `/api/events?since=${since}&limit=1000`)).json;
    stored.push(...page.events.map((e) => e.seq).filter((s) => s <= last));
    if (!page.next || page.events.some((e) => e.seq > last)) break;
    since = page.next.since;
  }
  assert.deepEqual(received, stored, 'the union of received seqs is exactly the stored range: no hole');
  await waitFor('daemon still healthy', async () => (await daemon.api('GET', '/healthz')).status === 200, 5000);
});
