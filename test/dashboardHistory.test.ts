// The dashboard's history, event view, stream editing and roles, in headless Chromium against the
// real server, store and static files. Screenshots land in test-artifacts/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import sharp from 'sharp';
import { VigilError } from '../daemon/errors.js';
import { registerAdminRoutes, type StreamControl } from '../daemon/server/adminRoutes.js';
import { registerSessionRoutes } from '../daemon/server/sessionRoutes.js';
import { registerWebUi } from '../daemon/server/staticRoutes.js';
import { StreamStore } from '../daemon/store/streamStore.js';
import { launchBrowser, openPage, screenshot, signIn } from './helpers/browser.js';
import { fakeEvent } from './helpers/eventFixtures.js';
import { ADMIN, startHarness, TOKEN } from './helpers/serverHarness.js';

// Page callbacks run inside Chromium; the project compiles without the DOM lib.
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const getComputedStyle: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const HOUR = 3_600_000;

/** datetime-local text of a Unix ms time, in the local zone the browser shares with this process. */
function local(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

async function setup(t: { after(fn: () => unknown): void }) {
  const h = await startHarness();
  t.after(() => h.close());
  const streams = new StreamStore(h.db);
  const puts: Record<string, unknown>[] = [];
  type Cfg = { id: string; url: string; fps?: number; analytics?: string[]; name?: string };
  const control: StreamControl = {
    list: () => streams.list().map((s) => {
      const c = s.config as Cfg;
      return { id: s.id, url: c.url, name: c.name, fps: c.fps, analytics: c.analytics ?? [], enabled: s.enabled, origin: 'api' };
    }),
    add: (cfg) => {
      const c = cfg as { id?: unknown; url?: unknown };
      if (typeof c.id !== 'string' || typeof c.url !== 'string') throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'A stream needs a string id and url');
      if (streams.get(c.id)) throw new VigilError('VIGIL_ERR_STREAM_EXISTS', `A stream with id "${c.id}" already exists`);
      return streams.upsert(cfg as { id: string }).config;
    },
    remove: (id) => {
      if (!streams.remove(id)) throw new VigilError('VIGIL_ERR_STREAM_UNKNOWN', `No stream with id "${id}"`);
    },
    setEnabled: (id, on) => streams.setEnabled(id, on).config,
    // What the dashboard sends is recorded; keys replace stored ones, null drops one (as the registry does).
    update: (id, patch) => {
      puts.push(patch);
      const old = streams.get(id);
      if (!old) throw new VigilError('VIGIL_ERR_STREAM_UNKNOWN', `No stream with id "${id}"`);
      const next: Record<string, unknown> = { ...(old.config as object), ...patch };
      for (const [k, v] of Object.entries(next)) if (v === null) delete next[k];
      return streams.upsert(next as { id: string }, old.enabled).config;
    },
  };
  registerAdminRoutes(h.server.routes, {
    streams: control,
    events: h.store,
    status: {
      status: () => ({
        version: '0.1.0', uptime_s: 1, pipeline: [],
        streams: streams.list().map((s) => ({ id: s.id, url: s.config.url, state: s.enabled ? 'running' : 'disabled', since: Date.now(), fps: 5, frames: 1, reconnects: 0 })),
      }),
    },
  });
  registerSessionRoutes(h.server.routes, [ADMIN]);
  registerWebUi(h.server.routes);

  // 60 events over 60 hours: plates, faces and people counts on two cameras, real JPEG crops.
  const crop = await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 200, g: 80, b: 40 } } }).jpeg().toBuffer();
  const start = Date.now() - 72 * HOUR;
  const seeded: { seq: number; ts: number; analytic: string; stream: string; plate?: string; name?: string }[] = [];
  for (let i = 0; i < 60; i++) {
    const analytic = (['NFV4-LPR', 'NFV4-FR', 'NFV4-PC'] as const)[i % 3]!;
    const stream = i % 2 ? 'gate' : 'lobby';
    const ts = start + i * HOUR;
    const plate = analytic === 'NFV4-LPR' ? `${i % 2 ? 'B12' : 'D77'}${String(i).padStart(2, '0')}XY` : undefined;
    const { event } = fakeEvent(analytic, stream, { ts, plate, crop, n: i });
    const name = analytic === 'NFV4-FR' ? (i % 2 ? 'Ada' : 'Bob') : undefined;
    if (name) Object.assign(event.pipeline_data, { name, person_id: name.toLowerCase() });
    seeded.push({ seq: h.emit(event, crop), ts, analytic, stream, plate, name });
  }
  return { h, seeded, start, streams, puts };
}

test('dashboard history, event view, stream editing and roles', async (t) => {
  const { h, seeded, start, streams, puts } = await setup(t);
  const browser = await launchBrowser(t);
  const { page, errors } = await openPage(browser);
  const cards = page.locator('#history li.card.event');
  const seqs = async () => (await cards.evaluateAll((els: any[]) => els.map((e) => Number(e.dataset.seq)))) as number[];

  await t.test('history pages through the store newest first', async () => {
    await signIn(page, h.url, ADMIN);
    await page.locator('#nav').waitFor();
    await page.click('#nav a[data-page="history"]');
    await page.waitForFunction(() => document.querySelectorAll('#history li.card.event').length === 24);
    const newest = [...seeded].reverse().map((s) => s.seq);
    assert.deepEqual(await seqs(), newest.slice(0, 24));
    await page.click('#h-older');
    await page.waitForFunction((first: number) => Number(document.querySelector('#history li')?.dataset.seq) === first, newest[24]!);
    assert.deepEqual(await seqs(), newest.slice(24, 48));
    await page.click('#h-older');
    await page.waitForFunction(() => document.querySelectorAll('#history li.card.event').length === 12);
    assert.equal(await page.locator('#h-older').isDisabled(), true, 'the last page has no older one');
    assert.match(await page.locator('#h-page').innerText(), /page 3/);
    await page.click('#h-newer');
    await page.waitForFunction(() => document.querySelectorAll('#history li.card.event').length === 24);
    assert.deepEqual(await seqs(), newest.slice(24, 48));
    await screenshot(page, 'dashboard-history');
  });

  await t.test('filters: time range, stream, analytic, plate and person search', async () => {
    const search = async () => {
      await page.click('#history-form button[type=submit]');
      await page.waitForTimeout(50);
      await page.waitForFunction(() => document.querySelector('#h-page')?.textContent?.startsWith('page 1'));
    };
    const from = start + 10 * HOUR;
    const to = start + 20 * HOUR;
    await page.fill('#h-from', local(from));
    await page.fill('#h-to', local(to));
    await search();
    const inRange = seeded.filter((s) => s.ts >= from && s.ts < to).map((s) => s.seq).reverse();
    await page.waitForFunction((n: number) => document.querySelectorAll('#history li.card.event').length === n, inRange.length);
    assert.deepEqual(await seqs(), inRange);
    await page.fill('#h-from', '');
    await page.fill('#h-to', '');

    await page.selectOption('#h-analytic', 'NFV4-LPR');
    await page.fill('#h-stream', 'gate');
    await page.fill('#h-plate', 'B12*');
    await search();
    const plates = seeded.filter((s) => s.plate?.startsWith('B12') && s.stream === 'gate').map((s) => s.seq).reverse();
    assert.ok(plates.length > 0);
    await page.waitForFunction((n: number) => document.querySelectorAll('#history li.card.event').length === n, plates.length);
    assert.deepEqual(await seqs(), plates);
    assert.match(await cards.first().innerText(), /B12\d\dXY/);

    await page.fill('#h-plate', '');
    await page.selectOption('#h-analytic', '');
    await page.fill('#h-stream', '');
    await page.fill('#h-person', 'ada');
    await search();
    const ada = seeded.filter((s) => s.name === 'Ada').map((s) => s.seq).reverse();
    await page.waitForFunction((n: number) => document.querySelectorAll('#history li.card.event').length === n, ada.length);
    assert.deepEqual(await seqs(), ada);

    await page.fill('#h-person', 'nobody-of-that-name');
    await search();
    await page.locator('#h-empty').waitFor({ state: 'visible' });
    assert.match(await page.locator('#h-empty').innerText(), /No stored event matches/);
    await page.fill('#h-person', 'ada');
    await search();
    await page.waitForFunction((n: number) => document.querySelectorAll('#history li.card.event').length === n, ada.length);
  });

  await t.test('an event opens with its crop and fields laid out, and the raw JSON', async () => {
    await cards.first().click();
    await page.locator('#json-dialog').waitFor({ state: 'visible' });
    await page.waitForFunction(() => document.querySelector('#json-view img.crop')?.naturalWidth === 96);
    assert.equal(await page.locator('#event-fields dd[data-field="name"]').innerText(), 'Ada');
    assert.equal(await page.locator('#event-fields dd[data-field="stream"]').innerText(), 'gate');
    assert.equal(JSON.parse(await page.locator('#json-body').innerText()).pipeline_data.name, 'Ada');
    await screenshot(page, 'dashboard-event-detail');
    await page.click('#json-dialog form button:not(#json-copy)');
  });

  await t.test('export downloads every matching event as CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#h-export')]);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    const ada = seeded.filter((s) => s.name === 'Ada');
    assert.equal(csv.length, ada.length + 1);
    assert.match(csv[0]!, /^seq,event_id,timestamp,time_iso,analytic_id,stream_id/);
    assert.deepEqual(csv.slice(1).map((l) => Number(l.split(',')[0])), ada.map((s) => s.seq).reverse());
  });

  await t.test('an admin adds, edits, disables and removes a stream', async () => {
    await page.click('#nav a[data-page="health"]');
    await page.locator('#health .note').filter({ hasText: 'No streams yet' }).waitFor();
    await page.fill('#stream-form input[name=id]', 'yard');
    await page.fill('#stream-form input[name=url]', 'rtsp://cam:secret@192.0.2.7/live');
    await page.check('#stream-form input[value="people-counting"]');
    await page.click('#stream-form button[type=submit]');
    const card = page.locator('#health .card.stream[data-stream="yard"]');
    await card.waitFor();
    const stored = await (await fetch(`${h.url}/api/streams`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as { streams: { id: string; url: string }[] };
    assert.equal(stored.streams.find((s) => s.id === 'yard')?.url, 'rtsp://***:***@192.0.2.7/live', 'stored, password masked in the answer');

    // Edit: the form opens on the stored settings, id fixed, URL masked; fps and analytics change.
    await card.locator('button[data-action="edit"]').click();
    await page.waitForFunction(() => document.querySelector('#stream-form input[name=id]')?.readOnly === true);
    assert.equal(await page.inputValue('#stream-form input[name=id]'), 'yard');
    assert.equal(await page.inputValue('#stream-form input[name=url]'), 'rtsp://***:***@192.0.2.7/live');
    assert.equal(await page.isChecked('#stream-form input[value="people-counting"]'), true);
    assert.match(await page.locator('#stream-form-title').innerText(), /Edit stream yard/);
    await page.fill('#stream-form input[name=fps]', '7');
    await page.uncheck('#stream-form input[value="people-counting"]');
    await page.check('#stream-form input[value="crowd-estimation"]');
    await page.fill('#stream-form input[name=name]', 'Back yard');
    await screenshot(page, 'dashboard-stream-edit');
    await page.click('#stream-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#stream-form-title')?.textContent === 'Add a stream');
    const edited = await (await fetch(`${h.url}/api/streams`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as { streams: { id: string; fps: number; analytics: string[]; name: string }[] };
    const yard = edited.streams.find((s) => s.id === 'yard')!;
    assert.deepEqual([yard.fps, yard.analytics, yard.name], [7, ['crowd-estimation'], 'Back yard'], 'the API shows the edited values');
    assert.equal(puts.length, 1);
    assert.ok(!('url' in puts[0]!), 'a URL left masked is not sent');
    assert.equal(streams.get('yard')!.config.url, 'rtsp://cam:secret@192.0.2.7/live', 'the stored credentials are kept');
    assert.equal(await page.locator('#stream-form input[name=id]').evaluate((e: any) => e.readOnly), false, 'the form adds again');

    await card.locator('button[data-action="disable"]').click();
    await page.locator('#health .card.stream[data-stream="yard"][data-state="disabled"]').waitFor();
    await screenshot(page, 'dashboard-streams-admin');
    page.once('dialog', (d) => void d.accept());
    await page.locator('#health .card.stream[data-stream="yard"] button[data-action="remove"]').click();
    await card.waitFor({ state: 'detached' });
  });

  await t.test('a viewer sees no admin control, and the API refuses it anyway', async () => {
    streams.upsert({ id: 'porch', url: 'rtsp://192.0.2.8/live' });
    const viewer = await openPage(browser);
    await signIn(viewer.page, h.url, TOKEN);
    await viewer.page.locator('#nav').waitFor();
    await viewer.page.click('#nav a[data-page="health"]');
    await viewer.page.locator('#health .card.stream[data-stream="porch"]').waitFor();
    assert.equal(await viewer.page.locator('#health .card.stream button[data-action="edit"]').count(), 1, 'the card has its Edit control in the page');
    assert.equal(await viewer.page.locator('#health .card.stream button[data-action="edit"]').isVisible(), false, 'a viewer does not see Edit');
    const shown = await viewer.page.evaluate(() => [...document.querySelectorAll('.admin-only')].filter((e: any) => getComputedStyle(e).display !== 'none').length);
    assert.equal(shown, 0, 'no admin control is displayed to a viewer');
    assert.ok(await viewer.page.locator('.admin-only').count() >= 3, 'the check looked at real controls');
    await screenshot(viewer.page, 'dashboard-streams-viewer');
    const refused = await fetch(`${h.url}/api/streams`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"id":"x","url":"rtsp://192.0.2.1/"}' });
    assert.equal(refused.status, 401);
    const edit = await fetch(`${h.url}/api/streams/porch`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"fps":9}' });
    assert.equal(edit.status, 401, 'a viewer cannot edit a stream');
    assert.equal(streams.get('porch')!.config.fps, undefined);
    assert.deepEqual(viewer.errors, []);
  });

  await t.test('on a phone every section is reachable and nothing scrolls sideways', async () => {
    const phone = await openPage(browser, { phone: true });
    await signIn(phone.page, h.url, TOKEN);
    await phone.page.locator('#nav').waitFor();
    const links = await phone.page.locator('#nav a').evaluateAll((els: any[]) => els.map((a) => {
      const r = a.getBoundingClientRect();
      return { page: a.dataset.page, left: r.left, right: r.right, visible: r.width > 0 && r.height > 0 };
    }));
    assert.ok(links.length >= 7);
    for (const l of links) assert.ok(l.visible && l.left >= 0 && l.right <= 390, `${l.page} link on screen: ${JSON.stringify(l)}`);
    await phone.page.click('#nav a[data-page="plates"]');
    await phone.page.locator('#page-plates').waitFor({ state: 'visible' });
    await phone.page.click('#nav a[data-page="history"]');
    await phone.page.locator('#history li.card.event').first().waitFor();
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no sideways scrolling (${overflow}px)`);
    await screenshot(phone.page, 'dashboard-history-phone', { fullPage: false });
    assert.deepEqual(phone.errors, []);
  });

  assert.deepEqual(errors, [], 'no script, CSP or HTTP errors for the admin');
});
