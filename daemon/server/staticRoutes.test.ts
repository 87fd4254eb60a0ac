import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers/eventFixtures.js';
import { startHarness } from '../../test/helpers/serverHarness.js';
import { DASHBOARD_CSP, registerStaticRoutes, registerWebUi } from './staticRoutes.js';

/** Sends the path byte for byte (fetch would normalise `..` away before it leaves). */
function rawGet(port: number, path: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let data = '';
    sock.on('data', (d) => (data += d.toString('latin1')));
    sock.on('end', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), head, body });
    });
    sock.on('error', reject);
  });
}

test('static files: types, index, redirects, ETag, and nothing outside the root', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = join(dir, 'site');
  mkdirSync(join(root, 'js'), { recursive: true });
  mkdirSync(join(root, 'kiosk'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>dash</title>');
  writeFileSync(join(root, 'js', 'app.js'), 'export const x = 1;');
  writeFileSync(join(root, 'style.css'), 'body{}');
  writeFileSync(join(root, 'kiosk', 'index.html'), '<!doctype html><title>kiosk</title>');
  writeFileSync(join(root, '.env'), 'SECRET=1');
  writeFileSync(join(dir, 'secret.txt'), 'TOP SECRET');
  symlinkSync(join(dir, 'secret.txt'), join(root, 'link.txt'));
  symlinkSync('/etc', join(root, 'etc'));

  const h = await startHarness();
  t.after(() => h.close());
  const urls = registerStaticRoutes(h.server.routes, { root, mount: '/', csp: DASHBOARD_CSP });
  assert.deepEqual(urls.sort(), ['/', '/index.html', '/js/app.js', '/kiosk/', '/kiosk/index.html', '/style.css']);
  const port = new URL(h.url).port;

  const index = await fetch(`${h.url}/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('content-security-policy'), DASHBOARD_CSP);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.match(await index.text(), /<title>dash/);

  const js = await fetch(`${h.url}/js/app.js`);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.match(js.headers.get('cache-control') ?? '', /no-cache/);
  const etag = js.headers.get('etag');
  assert.ok(etag, 'an ETag for revalidation');
  assert.equal((await fetch(`${h.url}/js/app.js`, { headers: { 'if-none-match': etag } })).status, 304);
  assert.equal((await fetch(`${h.url}/style.css`)).headers.get('content-type'), 'text/css; charset=utf-8');

  // A sub-directory's index answers at the directory, after a redirect that keeps relative links working.
  const bare = await fetch(`${h.url}/kiosk?token=abc`, { redirect: 'manual' });
  assert.equal(bare.status, 301);
  assert.equal(bare.headers.get('location'), '/kiosk/?token=abc');
  assert.match(await (await fetch(`${h.url}/kiosk/`)).text(), /<title>kiosk/);

  for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/js/..%2f..%2fsecret.txt', '/js/../../secret.txt', '/link.txt', '/etc/passwd', '/.env', '/..%5csecret.txt']) {
    const r = await rawGet(Number(port), path);
    assert.ok(r.status === 404 || r.status === 400, `${path} must not be served (got ${r.status})`);
    assert.doesNotMatch(r.body, /TOP SECRET|root:|SECRET=1/, `${path} leaked a file`);
  }
  // POST to a file is not allowed; the file list is fixed at registration.
  assert.equal((await fetch(`${h.url}/js/app.js`, { method: 'POST' })).status, 405);
});

test('a mount prefixes every URL', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'index.html'), 'kiosk');
  writeFileSync(join(dir, 'identify.js'), '1');
  const h = await startHarness();
  t.after(() => h.close());
  const urls = registerStaticRoutes(h.server.routes, { root: dir, mount: '/identify' });
  assert.deepEqual(urls.sort(), ['/identify/', '/identify/identify.js', '/identify/index.html']);
  const page = await fetch(`${h.url}/identify/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-security-policy'), null, 'no CSP unless asked');
  assert.equal((await fetch(`${h.url}/identify.js`)).status, 404);
});

test('registerWebUi serves this checkout\'s dashboard at /, the kiosk at /identify/ and the live image page at /live/', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const urls = registerWebUi(h.server.routes);
  assert.ok(urls.includes('/') && urls.includes('/js/app.js') && urls.includes('/identify/') && urls.includes('/live/'), urls.join(' '));
  const page = await (await fetch(`${h.url}/`)).text();
  assert.match(page, /<title>Vigil<\/title>/);
  // Every script and stylesheet the page names is served with the right type.
  for (const [, ref] of page.matchAll(/(?:src|href)="((?:js|css)\/[^"]+)"/g)) {
    const res = await fetch(`${h.url}/${ref}`);
    assert.equal(res.status, 200, ref);
    assert.match(res.headers.get('content-type') ?? '', ref!.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
  }
  assert.equal((await fetch(`${h.url}/identify/`)).status, 200);
  const live = await fetch(`${h.url}/live/`);
  assert.equal(live.status, 200);
  assert.match(await live.text(), /\/ws\/live/);
  assert.equal(live.headers.get('content-security-policy'), null, 'its inline script runs');
  assert.equal((await fetch(`${h.url}/live`, { redirect: 'manual' })).headers.get('location'), '/live/');
});
