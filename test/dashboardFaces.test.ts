// Face gallery through the dashboard: a face on camera is UNKNOWN, the operator enrols
// that person by uploading a photo in the page, and the next capture is KNOWN.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { launchBrowser, openPage, screenshot, signIn } from './helpers/browser.js';
import { startDaemon } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';
import { startRtspServer } from './helpers/rtspServer.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

/** A loop of one face for 2 s, then 1.5 s of black: each appearance is a new capture. */
function makeClip(out: string): void {
  const face = mediaPath('face_obama_2.jpg');
  const filter =
    '[0:v]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10,format=yuv420p[f];' +
    'color=c=black:s=640x360:d=1.5:r=10,format=yuv420p[b];[f][b]concat=n=2:v=1:a=0[out]';
  const r = spawnSync('ffmpeg', ['-y', '-hide_banner', '-loglevel', 'error', '-loop', '1', '-t', '2', '-i', face, '-filter_complex', filter, '-map', '[out]', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '10', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test('enrolling a face through the page makes the next capture KNOWN', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-dash-faces-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clip = join(dir, 'face.mp4');
  makeClip(clip);
  const cam = await startRtspServer({ source: { file: clip } }, t);
  const daemon = await startDaemon({ config: { streams: [{ id: 'door', url: cam.url(), fps: 4, analytics: ['face-recognition'] }] } }, t);

  const gallery = await daemon.api('GET', '/api/faces/persons');
  assert.equal(gallery.status, 200, 'PENDING on the lead: face recognition (registerFaceRoutes + the face-recognition analytic) is not wired into the daemon yet');

  const browser = await launchBrowser(t);
  const { page, errors } = await openPage(browser);
  page.on('dialog', (d) => void d.accept());
  await signIn(page, daemon.url, daemon.token);
  await page.locator('#page-feed').waitFor({ state: 'visible' });

  // Before enrolment the face is a stranger.
  await page
    .locator('#feed li.card.event[data-analytic="NFV4-FR"]')
    .filter({ hasText: 'Unknown face' })
    .first()
    .waitFor({ timeout: 120_000 })
    .catch((err: Error) => {
      throw new Error(`${err.message}\n--- daemon log (warnings and errors) ---\n${daemon.logs().split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-15).join('\n')}`);
    });

  await page.click('#nav a[data-page="faces"]');
  await page.fill('#enroll-form input[name="name"]', 'Barack Obama');
  await page.fill('#enroll-form input[name="relationship"]', 'visitor');
  await page.setInputFiles('#enroll-form input[name="photos"]', mediaPath('face_obama_1.jpg'));
  await page.click('#enroll-form button[type="submit"]');
  const person = page.locator('#persons .card.person[data-name="Barack Obama"]');
  await person.waitFor({ timeout: 30_000 });
  assert.match(await person.innerText(), /visitor · 1 photo/);
  const enrolledAt = (await daemon.api<{ store: { last_seq: number } }>('GET', '/api/status')).json.store.last_seq;

  // The next appearance on camera is recognised, in the live feed and among the captures.
  await page.click('#nav a[data-page="feed"]');
  await page.waitForFunction(
    (after: number) =>
      [...document.querySelectorAll('#feed li.card.event[data-analytic="NFV4-FR"]')].some((li: any) => Number(li.dataset.seq) > after && /Barack Obama/.test(li.textContent)),
    enrolledAt,
    { timeout: 60_000 },
  );
  await screenshot(page, 'dashboard-faces-feed-known');
  await page.click('#nav a[data-page="faces"]');
  const known = page.locator('#captures .card.capture[data-status="KNOWN"]').first();
  await known.waitFor({ timeout: 15_000 });
  assert.match(await known.innerText(), /KNOWN: Barack Obama/);
  await screenshot(page, 'dashboard-faces');

  // Reject that capture (the operator says it is not him), then delete the person.
  await known.getByRole('button', { name: /^Not / }).click();
  await page.locator('.toast').filter({ hasText: 'Capture rejected' }).waitFor({ timeout: 10_000 });
  await person.getByRole('button', { name: 'Delete' }).click();
  await person.waitFor({ state: 'detached', timeout: 10_000 });
  assert.equal((await daemon.api<{ persons: unknown[] }>('GET', '/api/faces/persons')).json.persons.length, 0);
  assert.deepEqual(errors, []);
});
