// Editing a stream (PUT /api/streams/ID, `vigil stream set`) on the real daemon: applied live
// (ffmpeg and analytics restart), persisted, masked; config-file streams, unknown ids, viewers,
// bad bodies and disallowed sources are refused with a code.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { startDaemon, waitFor } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';

const CLIP = mediaPath('video_street_pedestrians_640x360.mp4');
const VIEWER = 'viewer-token-1234';

interface Row {
  id: string;
  url: string;
  fps: number;
  name?: string;
  analytics: string[];
  enabled: boolean;
  origin: string;
  health?: { state: string };
}

test('PUT /api/streams/ID and vigil stream set change an API stream live; the rest is refused', async (t) => {
  const d = await startDaemon(
    {
      config: {
        sources: { file_dirs: [dirname(CLIP)] },
        // Disabled: owned by the file, costs no ffmpeg.
        streams: [{ id: 'fixed', url: CLIP, fps: 1, analytics: [], enabled: false }],
      },
    },
    t,
  );
  const put = (id: string, body: string, token = d.token) =>
    fetch(`${d.url}/api/streams/${id}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body }).then(async (r) => ({
      status: r.status,
      text: await r.text(),
    }));
  const streams = async () => (await d.api<{ streams: Row[] }>('GET', '/api/streams')).json.streams;
  const storedUrl = (id: string) => {
    const db = new Database(join(d.dataDir, 'vigil.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT config FROM streams WHERE id = ?').get(id) as { config: string };
      return JSON.parse(row.config) as { url: string; fps: number; analytics: string[] };
    } finally {
      db.close();
    }
  };

  // A camera that refuses the connection, no analytics.
  const added = await d.api('POST', '/api/streams', { id: 'yard', url: 'rtsp://cam:TopSecret9@127.0.0.1:9/live', fps: 1, analytics: [] });
  assert.equal(added.status, 201);

  await t.test('a masked URL sent back keeps the stored credentials; the answer is masked', async () => {
    const r = await put('yard', JSON.stringify({ url: 'rtsp://***:***@127.0.0.1:9/live', fps: 3, name: 'Yard' }));
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.text.includes('TopSecret9'), 'no password in the answer');
    const s = (JSON.parse(r.text) as { stream: Row }).stream;
    assert.deepEqual([s.id, s.url, s.fps, s.name, s.origin], ['yard', 'rtsp://***:***@127.0.0.1:9/live', 3, 'Yard', 'api']);
    const stored = storedUrl('yard');
    assert.equal(stored.url, 'rtsp://cam:TopSecret9@127.0.0.1:9/live', 'the stored URL kept its credentials');
    assert.equal(stored.fps, 3, 'persisted');
    assert.ok(!d.logs().includes('TopSecret9'), 'no password in the logs');
  });

  await t.test('vigil stream set: new URL, fps and analytics run at once', async () => {
    const set = await d.cli(['stream', 'set', 'yard', CLIP, '--fps', '2', '--analytics', 'people-counting']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /Stream yard changed \(fps 2, analytics people-counting\)/);
    await waitFor('yard running on the clip', async () => (await streams()).find((s) => s.id === 'yard' && s.health?.state === 'running'), 60_000);
    await waitFor('a people-counting event of yard', async () => JSON.parse((await d.cli(['events', 'ls', '--stream', 'yard', '--analytic', 'NFV4-PC', '--json'])).stdout).length > 0, 90_000);
    const yard = (await streams()).find((s) => s.id === 'yard')!;
    assert.deepEqual([yard.fps, yard.analytics, yard.name], [2, ['people-counting'], 'Yard'], 'keys not given are kept');
    assert.deepEqual(storedUrl('yard').analytics, ['people-counting']);
    assert.match(d.logs(), /"stream":"yard".*"msg":"stream changed: restarted"/);
    const nothing = await d.cli(['stream', 'set', 'yard']);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /Nothing to change/);
    // Off again, so the rest of the test costs no inference.
    assert.equal((await put('yard', '{"analytics":[]}')).status, 200);
  });

  await t.test('refusals: config stream 409, unknown 404, viewer 401, bad body 400, disallowed source 403', async () => {
    const owned = await put('fixed', '{"fps":2}');
    assert.equal(owned.status, 409);
    assert.match(owned.text, /"code":"VIGIL_ERR_STREAM_CONFIG_OWNED".*defined in the config file/);
    const cliOwned = await d.cli(['stream', 'set', 'fixed', '--fps', '2']);
    assert.equal(cliOwned.code, 1);
    assert.match(cliOwned.stderr, /VIGIL_ERR_STREAM_CONFIG_OWNED/);

    const unknown = await put('nope', '{"fps":2}');
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /"code":"VIGIL_ERR_STREAM_UNKNOWN"/);

    const viewer = await put('yard', '{"fps":4}', VIEWER);
    assert.equal(viewer.status, 401);
    assert.match(viewer.text, /VIGIL_ERR_UNAUTHORIZED/);

    for (const [body, why] of [
      ['{"fps":1000}', /Invalid stream: \/fps/],
      ['{"transport":"carrier-pigeon"}', /\/transport/],
      ['{"colour":"red"}', /unknown key "colour"/],
      ['{"id":"other"}', /id cannot change/],
      ['[1]', /must be an object/],
      ['not json', /not valid JSON/],
    ] as const) {
      const r = await put('yard', body);
      assert.equal(r.status, 400, `${body}: ${r.text}`);
      const { error } = JSON.parse(r.text) as { error: { code: string; message: string } };
      assert.equal(error.code, 'VIGIL_ERR_BAD_REQUEST');
      assert.match(error.message, why);
    }
    for (const url of ['gopher://x', '/etc/passwd', 'concat:/a|/b']) {
      const r = await put('yard', JSON.stringify({ url }));
      assert.equal(r.status, 403, `${url}: ${r.text}`);
      assert.match(r.text, /VIGIL_ERR_STREAM_SOURCE_POLICY/);
    }
    // Nothing refused was applied.
    const yard = (await streams()).find((s) => s.id === 'yard')!;
    assert.deepEqual([yard.fps, yard.url, yard.analytics], [2, CLIP, []]);
    assert.equal((await streams()).find((s) => s.id === 'fixed')!.fps, 1);
  });
});
