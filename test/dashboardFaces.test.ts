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

// A real video through the RTSP server: a performer on stage (4-8 s of each 10 s loop)
// among audience shots; the operator's photo of him is one frame of the clip.
const CLIP = 'video_faces_hamilton_clip.mp4';
const NAME = 'Stage performer';

/** The operator's photo of the performer: one frame of the clip with only him in it. */
function enrolmentPhoto(out: string): void {
  const r = spawnSync('ffmpeg', ['-y', '-hide_banner', '-loglevel', 'error', '-ss', '6', '-i', mediaPath(CLIP), '-frames:v', '1', '-q:v', '3', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test('enrolling a face through the page makes the next capture KNOWN', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-dash-faces-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const photo = join(dir, 'performer.jpg');
  enrolmentPhoto(photo);
  const cam = await startRtspServer({ source: { file: mediaPath(CLIP) } }, t);
  const daemon = await startDaemon({ config: { streams: [{ id: 'door', url: cam.url(), fps: 4, analytics: ['face-recognition'] }] } }, t);

  const gallery = await daemon.api('GET', '/api/faces/persons');
  assert.equal(gallery.status, 200, 'the face gallery API answers (face recognition is wired into the daemon)');

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
  await page.fill('#enroll-form input[name="name"]', NAME);
  await page.fill('#enroll-form input[name="relationship"]', 'visitor');
  await page.setInputFiles('#enroll-form input[name="photos"]', photo);
  await page.click('#enroll-form button[type="submit"]');
  const person = page.locator(`#persons .card.person[data-name="${NAME}"]`);
  await person.waitFor({ timeout: 30_000 });
  assert.match(await person.innerText(), /visitor · 1 photo/);
  const enrolledAt = (await daemon.api<{ store: { last_seq: number } }>('GET', '/api/status')).json.store.last_seq;

  // The next appearance on camera is recognised, in the live feed and among the captures.
  await page.click('#nav a[data-page="feed"]');
  await page.waitForFunction(
    ({ after, name }: { after: number; name: string }) =>
      [...document.querySelectorAll('#feed li.card.event[data-analytic="NFV4-FR"]')].some((li: any) => Number(li.dataset.seq) > after && li.textContent.includes(name)),
    { after: enrolledAt, name: NAME },
    { timeout: 60_000 },
  );
  await screenshot(page, 'dashboard-faces-feed-known');
  await page.click('#nav a[data-page="faces"]');
  const known = page.locator('#captures .card.capture[data-status="KNOWN"]').first();
  await known.waitFor({ timeout: 15_000 });
  assert.match(await known.innerText(), new RegExp(`KNOWN: ${NAME}`));
  await screenshot(page, 'dashboard-faces');

  // Reject that capture (the operator says it is not him), then delete the person.
  await known.getByRole('button', { name: /^Not / }).click();
  await page.locator('.toast').filter({ hasText: 'Capture rejected' }).waitFor({ timeout: 10_000 });
  await person.getByRole('button', { name: 'Delete' }).click();
  await person.waitFor({ state: 'detached', timeout: 10_000 });
  assert.equal((await daemon.api<{ persons: unknown[] }>('GET', '/api/faces/persons')).json.persons.length, 0);
  assert.deepEqual(errors, []);
});
