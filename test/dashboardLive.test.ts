// Live view (annotated frames from /ws/live) and line/zone drawing on a snapshot, against the
// real daemon and a real ffmpeg grab, in headless Chromium; the snapshot fallback when the
// socket refuses; and the /live/ example page.
// Screenshots land in test-artifacts/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { launchBrowser, openPage, screenshot, signIn } from './helpers/browser.js';
import { startDaemon } from './helpers/daemon.js';
import { mediaDir, mediaPath } from './helpers/paths.js';

declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const VIEWER = 'viewer-token-1234'; // from baseConfig in helpers/daemon.ts

/** The live series of /metrics: open /ws/live viewers, and frames sent for one stream. */
async function liveMetrics(url: string, stream: string): Promise<{ viewers: number; sent: number }> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${VIEWER}` } })).text();
  const viewers = Number(/^vigil_live_viewers (\S+)$/m.exec(text)?.[1] ?? NaN);
  const sent = Number(new RegExp(`^vigil_live_frames_sent_total\\{stream="${stream}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { viewers, sent };
}

/** Polls /metrics until `ok` holds (no deadline of its own: the test's timeout bounds it). */
async function metricsUntil(url: string, ok: (m: { viewers: number; sent: number }) => boolean): Promise<{ viewers: number; sent: number }> {
  for (;;) {
    const m = await liveMetrics(url, 'street');
    if (ok(m)) return m;
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('live view per camera, lines and zones drawn on a snapshot by an admin, read-only for a viewer', async (t) => {
  // API streams may read files only inside sources.file_dirs.
  const daemon = await startDaemon({ config: { sources: { file_dirs: [mediaDir()] } } }, t);
  const added = await daemon.api('POST', '/api/streams', { id: 'street', name: 'Street', url: mediaPath('video_street_pedestrians_640x360.mp4'), fps: 2, analytics: [] });
  assert.equal(added.status, 201, JSON.stringify(added.json));

  await t.test('the snapshot endpoint answers a JPEG for any token and refuses without one', async () => {
    const res = await fetch(`${daemon.url}/api/streams/street/snapshot.jpg`, { headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    const jpeg = Buffer.from(await res.arrayBuffer());
    assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    assert.equal((await fetch(`${daemon.url}/api/streams/street/snapshot.jpg`)).status, 401);
    const unknown = await fetch(`${daemon.url}/api/streams/nope/snapshot.jpg`, { headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(unknown.status, 404);
  });

  const browser = await launchBrowser(t);
  const { page, errors } = await openPage(browser);
  const snapshots: number[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/snapshot.jpg')) snapshots.push(Date.now());
  });
  const sockets: URL[] = [];
  page.on('websocket', (ws) => {
    if (ws.url().includes('/ws/live')) sockets.push(new URL(ws.url()));
  });

  await t.test('the live tile shows annotated frames pushed by the live image socket', async () => {
    const before = await liveMetrics(daemon.url, 'street');
    assert.equal(before.viewers, 0, 'no viewer before the page is open');
    await signIn(page, daemon.url, daemon.token);
    await page.locator('#nav').waitFor();
    await page.click('#nav a[data-page="live"]');
    const tile = page.locator('#live .card.live[data-stream="street"]');
    // The socket may refuse until the stream decodes its first frames; the tile then shows
    // snapshots and tries the socket again, so wait for frames from the socket itself.
    await page.waitForFunction(() => document.querySelector('#live .card.live[data-stream="street"]')?.dataset.source === 'socket', null, { timeout: 45_000 });
    await page.waitForFunction(() => document.querySelector('#live img.live-img')?.naturalWidth === 640, null, { timeout: 20_000 });
    assert.match((await tile.locator('[data-role="live-status"]').textContent()) ?? '', /^live, updated/);
    const asked = sockets.at(-1)!;
    assert.deepEqual(['stream', 'annotated'].map((k) => asked.searchParams.get(k)), ['street', '1'], asked.search);
    assert.ok(Number(asked.searchParams.get('fps')) > 0, 'a steady push, not single frames');
    const open = await metricsUntil(daemon.url, (m) => m.viewers === 1 && m.sent > before.sent);
    const n = snapshots.length;
    // The push keeps going while the page stays open, with no snapshot polling beside it.
    await metricsUntil(daemon.url, (m) => m.sent >= open.sent + 3);
    assert.equal(snapshots.length, n, 'no snapshot polling while the socket delivers');
  });

  await t.test('an admin sees the camera live and draws a line and a zone on its picture', async () => {
    const tile = page.locator('#live .card.live[data-stream="street"]');
    await tile.locator('img.live-img').waitFor();
    await page.waitForFunction(() => document.querySelector('#live img.live-img')?.naturalWidth === 640, null, { timeout: 20_000 });

    await tile.locator('button[data-action="geometry"]').click();
    await page.locator('#geo-dialog').waitFor({ state: 'visible' });
    await page.waitForFunction(() => document.querySelector('#geo-img')?.naturalWidth > 0);
    const box = (await page.locator('#geo-svg').boundingBox())!;
    const at = (x: number, y: number) => page.mouse.click(box.x + x * box.width, box.y + y * box.height);
    await page.fill('#geo-name', 'crossing');
    await at(0.5, 0.1);
    await at(0.5, 0.9);
    await page.click('#geo-mode-zone');
    await page.fill('#geo-name', 'kerb');
    await at(0.1, 0.6);
    await at(0.4, 0.6);
    await at(0.4, 0.95);
    await page.click('#geo-close-zone');
    assert.equal(await page.locator('#geo-svg line.line').count(), 1);
    assert.equal(await page.locator('#geo-svg polygon.zone').count(), 1);
    await screenshot(page, 'dashboard-geometry-editor');
    await page.click('#geo-save');
    await page.locator('#geo-dialog').waitFor({ state: 'hidden' });

    const g = (await daemon.api<{ lines: { name: string; points: number[][] }[]; zones: { name: string; polygon: number[][] }[] }>('GET', '/api/geometry/street')).json;
    assert.deepEqual(g.lines.map((l) => l.name), ['crossing']);
    const [[x1, y1], [x2, y2]] = g.lines[0]!.points as [[number, number], [number, number]];
    for (const [got, want] of [[x1, 0.5], [y1, 0.1], [x2, 0.5], [y2, 0.9]] as const) assert.ok(Math.abs(got - want) < 0.02, `line point ${got} ≈ ${want}`);
    assert.deepEqual(g.zones.map((z) => [z.name, z.polygon.length]), [['kerb', 3]]);
    // The tile shows what was saved.
    await tile.locator('svg line.line[data-name="crossing"]').waitFor({ state: 'attached' });
    await tile.locator('svg polygon.zone[data-name="kerb"]').waitFor();
    await screenshot(page, 'dashboard-live');
  });

  await t.test('leaving the live page closes the socket: no viewer, no frames sent, no snapshot', async () => {
    await page.click('#nav a[data-page="history"]');
    const left = await metricsUntil(daemon.url, (m) => m.viewers === 0);
    const n = snapshots.length;
    await page.waitForTimeout(4500); // over a dozen push intervals, two snapshot periods
    const later = await liveMetrics(daemon.url, 'street');
    assert.equal(later.viewers, 0);
    assert.equal(later.sent, left.sent, 'no frame sent while nobody watches');
    assert.equal(snapshots.length, n, 'no snapshot requested while nobody watches');
  });

  await t.test('a viewer sees the live view but cannot edit lines and zones', async () => {
    const viewer = await openPage(browser);
    await signIn(viewer.page, daemon.url, VIEWER);
    await viewer.page.locator('#nav').waitFor();
    await viewer.page.click('#nav a[data-page="live"]');
    await viewer.page.waitForFunction(() => document.querySelector('#live img.live-img')?.naturalWidth === 640, null, { timeout: 20_000 });
    assert.equal(await viewer.page.locator('#live button[data-action="geometry"]').isVisible(), false);
    await viewer.page.locator('#live svg line.line[data-name="crossing"]').waitFor({ state: 'attached' });
    const refused = await fetch(`${daemon.url}/api/geometry/street`, { method: 'PUT', headers: { authorization: `Bearer ${VIEWER}`, 'content-type': 'application/json' }, body: '{"lines":[],"zones":[]}' });
    assert.equal(refused.status, 401);
    assert.deepEqual(viewer.errors, []);
    await viewer.page.close();
  });

  await t.test('when the socket refuses (every live viewer slot taken) the tile shows snapshots, then the socket once a slot frees', async () => {
    await metricsUntil(daemon.url, (m) => m.viewers === 0); // the pages before have closed theirs
    const held: WebSocket[] = [];
    try {
      for (let i = 0; i < 64; i++) {
        const ws = new WebSocket(`${daemon.url.replace(/^http/, 'ws')}/ws/live?authorization=${VIEWER}`);
        const opened = await new Promise<boolean>((resolve) => {
          ws.once('open', () => resolve(true));
          ws.once('error', () => resolve(false));
        });
        if (!opened) break;
        held.push(ws);
      }
      assert.equal((await liveMetrics(daemon.url, 'street')).viewers, held.length, 'every slot is taken');
      const fb = await openPage(browser);
      await signIn(fb.page, daemon.url, VIEWER);
      await fb.page.locator('#nav').waitFor();
      await fb.page.click('#nav a[data-page="live"]');
      await fb.page.waitForFunction(() => document.querySelector('#live .card.live[data-stream="street"]')?.dataset.source === 'snapshot', null, { timeout: 20_000 });
      await fb.page.waitForFunction(() => document.querySelector('#live img.live-img')?.naturalWidth === 640, null, { timeout: 20_000 });
      for (const ws of held.splice(0)) ws.close();
      await fb.page.waitForFunction(() => document.querySelector('#live .card.live[data-stream="street"]')?.dataset.source === 'socket', null, { timeout: 45_000 });
      // The refused handshakes are logged by the browser; nothing else went wrong.
      assert.deepEqual(fb.errors.filter((e) => !/WebSocket/.test(e)), []);
      await fb.page.close();
    } finally {
      for (const ws of held) ws.close();
    }
  });

  await t.test('/live/ serves the live image page, which shows annotated frames with a viewer token', async () => {
    const res = await fetch(`${daemon.url}/live/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const live = await openPage(browser);
    await live.page.goto(`${daemon.url}/live/?token=${VIEWER}&autoconnect=1`);
    await live.page.waitForFunction(() => document.getElementById('state')?.textContent === 'connected');
    await live.page.fill('#messageText', 'stream=street&fps=2&annotated=1');
    await live.page.click('#send');
    await live.page.waitForFunction(() => Number(document.getElementById('frame')?.dataset.frames ?? 0) >= 2, null, { timeout: 20_000 });
    assert.equal(await live.page.evaluate(() => document.getElementById('frame').naturalWidth), 640);
    assert.equal(await live.page.locator('#messages li').count(), 0, 'no error message from the socket');
    await screenshot(live.page, 'live-page');
    assert.deepEqual(live.errors, []);
  });

  assert.deepEqual(errors, []);
});
