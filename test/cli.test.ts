// The real `vigil` binary against a running daemon: streams, status, events, config.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { runCli, runCliAsync, startDaemon, waitFor } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';

const CLIP = mediaPath('video_street_pedestrians_640x360.mp4');

test('vigil config validate: valid file, and every problem at once with exit 78', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cfg-'));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'server: { port: 9999, admin_token: long-enough-token }\nstreams:\n  - id: a\n    url: rtsp://u:p@10.0.0.1/s\n');
  const ok = runCli(['config', 'validate', good]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /valid \(1 stream\)/);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'server: { prot: 1 }\nstreams:\n  - id: a\n    url: x\n    fps: 500\n  - id: a\n    url: y\n');
  const r = runCli(['config', 'validate', bad]);
  assert.equal(r.code, 78);
  assert.match(r.stderr, /VIGIL_ERR_CONFIG/);
  assert.match(r.stderr, /\/server: unknown key "prot"/);
  assert.match(r.stderr, /\/streams\/0\/fps: must be <= 60/);

  const yamlErr = join(dir, 'broken.yaml');
  writeFileSync(yamlErr, 'streams: [\n');
  const y = runCli(['config', 'validate', yamlErr]);
  assert.equal(y.code, 78);
  assert.match(y.stderr, /VIGIL_ERR_CONFIG: .*not valid YAML \(line \d+/);

  const missing = runCli(['config', 'validate', join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 78);
  assert.match(missing.stderr, /VIGIL_ERR_CONFIG_READ: Cannot read config file .*ENOENT/);

  const env = runCli(['config', 'validate', good], { VIGIL_PORT: 'not-a-port' });
  assert.equal(env.code, 78, 'env overrides are validated too');
  assert.match(env.stderr, /\/server\/port: must be integer/);
});

test('a CLI without a daemon says so clearly', () => {
  const r = runCli(['--url', 'http://127.0.0.1:9', '--token', 'x', 'status']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^VIGIL_ERR_DAEMON_DOWN: Cannot reach the Vigil daemon at http:\/\/127\.0\.0\.1:9/);
});

test('streams added, listed, disabled, enabled and removed live; they survive a restart', async (t) => {
  // API streams may read files only inside sources.file_dirs.
  const d = await startDaemon({ config: { sources: { file_dirs: [dirname(CLIP)] } } }, t);
  const empty = await d.cli(['stream', 'ls']);
  assert.equal(empty.code, 0, empty.stderr);
  assert.match(empty.stdout, /No streams/);

  const add = await d.cli(['stream', 'add', 'lobby', CLIP, '--fps', '2', '--analytics', 'people-counting']);
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /Added stream lobby/);
  const dup = await d.cli(['stream', 'add', 'lobby', CLIP]);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /VIGIL_ERR_STREAM_EXISTS/);
  const badUrl = await d.cli(['stream', 'add', 'weird', 'gopher://x']);
  assert.equal(badUrl.code, 1);
  assert.match(badUrl.stderr, /VIGIL_ERR_STREAM_SOURCE_POLICY: .*the scheme gopher is not allowed/); // API streams: camera schemes only
  const badFps = await d.cli(['stream', 'add', 'fast', CLIP, '--fps', '1000']);
  assert.equal(badFps.code, 1);
  assert.match(badFps.stderr, /VIGIL_ERR_BAD_REQUEST: Invalid stream: \/fps/);
  const secret = await d.cli(['stream', 'add', 'cam', 'rtsp://admin:TopSecret9@127.0.0.1:9/s', '--analytics', '', '--transport', 'udp']);
  assert.equal(secret.code, 0, secret.stderr);
  assert.ok(!secret.stdout.includes('TopSecret9'), 'the answer masks the password');

  // Live: frames flow without a restart, and events are listed.
  await waitFor('lobby running', async () => (await d.cli(['stream', 'ls'])).stdout.match(/lobby\s+running/), 60_000);
  await waitFor('an event of lobby', async () => JSON.parse((await d.cli(['events', 'ls', '--stream', 'lobby', '--json'])).stdout).length > 0, 60_000);
  const ls = await d.cli(['events', 'ls', '--stream', 'lobby', '--limit', '3']);
  assert.match(ls.stdout, /SEQ\s+TIME\s+ANALYTIC/);
  assert.match(ls.stdout, /NFV4-PC\s+lobby/);

  const json = JSON.parse((await d.cli(['stream', 'ls', '--json'])).stdout) as { id: string; url: string; health?: { state: string } }[];
  assert.deepEqual(json.map((s) => s.id).sort(), ['cam', 'lobby']);
  assert.equal(json.find((s) => s.id === 'cam')!.url, 'rtsp://***:***@127.0.0.1:9/s');

  assert.equal((await d.cli(['stream', 'disable', 'lobby'])).code, 0);
  await waitFor('lobby disabled', async () => (await d.cli(['stream', 'ls'])).stdout.match(/lobby\s+disabled/), 20_000);
  assert.equal((await d.cli(['stream', 'enable', 'lobby'])).code, 0);
  await waitFor('lobby running again', async () => (await d.cli(['stream', 'ls'])).stdout.match(/lobby\s+running/), 60_000);

  const status = await d.cli(['status']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^Vigil \d+\.\d+\.\d+ node 1/);
  assert.match(status.stdout, /lobby\s+running/);
  assert.match(status.stdout, /yolox_nano\s+cpu/);

  // events tail follows the socket.
  const tail = runCliAsync(['--url', d.url, '--token', d.token, 'events', 'tail', '--stream', 'lobby']);
  await new Promise((r) => setTimeout(r, 4000));
  const { stop } = d;
  assert.equal((await d.cli(['stream', 'rm', 'cam'])).code, 0);
  const rmAgain = await d.cli(['stream', 'rm', 'cam']);
  assert.match(rmAgain.stderr, /VIGIL_ERR_STREAM_UNKNOWN/);

  // Restart on the same data dir: the API-added stream is still there.
  await stop('SIGTERM');
  const tailed = await tail;
  assert.match(tailed.stdout, /#\d+\s+NFV4-PC\s+lobby\s+person/, 'events tail printed live events');
  const d2 = await startDaemon({ dataDir: d.dataDir, config: { sources: { file_dirs: [dirname(CLIP)] } } }, t);
  const again = JSON.parse((await d2.cli(['stream', 'ls', '--json'])).stdout) as { id: string }[];
  assert.deepEqual(again.map((s) => s.id), ['lobby']);
});

test('SIGHUP applies stream changes of the config file live', async (t) => {
  const d = await startDaemon({ config: { streams: [] } }, t);
  d.writeConfig({ log_level: 'info', streams: [{ id: 'hup', url: CLIP, fps: 1, analytics: [] }] });
  d.child.kill('SIGHUP');
  let ls = '';
  await waitFor('stream from the reloaded file running', async () => /hup\s+running/.test(ls = (await d.cli(['stream', 'ls'])).stdout), 60_000)
    .catch((err: Error) => {
      // Say what the daemon saw: its streams and the end of its log.
      throw new Error(`${err.message}\nstream ls:\n${ls}\nlog tail:\n${d.logs().split('\n').slice(-25).join('\n')}`);
    });
  const rm = await d.cli(['stream', 'rm', 'hup']);
  assert.match(rm.stderr, /defined in the config file/);
  // Removing every stream must be said on purpose (an empty file is refused).
  d.writeConfig({ streams: [], allow_no_streams: true, server: { host: '127.0.0.1', port: 1 } });
  d.child.kill('SIGHUP');
  await waitFor('stream removed by reload', async () => (await d.cli(['stream', 'ls'])).stdout.includes('No streams'), 30_000);
  assert.match(d.logs(), /"keys":\["server"\],"msg":"SIGHUP: these settings change only after a restart"/);
});
