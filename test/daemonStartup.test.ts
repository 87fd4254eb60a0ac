// Bad input at start-up: one clear line with a code, a non-zero exit, nothing lost.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { baseConfig, runCli, startDaemon, waitFor } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';

function configFile(extra: Record<string, unknown>, dataDir = mkdtempSync(join(tmpdir(), 'vigil-start-'))): string {
  const file = join(dataDir, 'vigil.yaml');
  writeFileSync(file, stringify({ ...baseConfig(dataDir, 'startup-token-123'), ...extra }));
  return file;
}

test('an invalid config exits 78 before anything starts', () => {
  const r = runCli(['daemon', '--config', configFile({ streams: [{ id: 'x' }], bogus: 1 })]);
  assert.equal(r.code, 78);
  assert.match(r.stderr, /VIGIL_ERR_CONFIG: .*\n.*unknown key "bogus"/);
  assert.match(r.stderr, /\/streams\/0: must have required property 'url'/);
});

test('a taken port is one clear line and a non-zero exit', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-port-'));
    const file = configFile({ server: { host: '127.0.0.1', port, admin_token: 'startup-token-123' } }, dir);
    const r = await new Promise<{ code: number | null; out: string }>((res) => {
      const c = spawn(process.execPath, ['bin/vigil.js', 'daemon', '--config', file]);
      let out = '';
      c.stderr.on('data', (b: Buffer) => (out += b.toString()));
      c.on('exit', (code) => res({ code, out }));
    });
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`VIGIL_ERR_PORT_IN_USE: Port ${port} on 127.0.0.1 is already in use`));
  } finally {
    blocker.close();
  }
});

test('a data dir that cannot be created is VIGIL_ERR_DATA_DIR', () => {
  const r = runCli(['daemon', '--config', configFile({ data_dir: '/etc/hostname/vigil' })]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /VIGIL_ERR_DATA_DIR: Data directory \/etc\/hostname\/vigil is not writable/);
});

test('a database locked by another process is VIGIL_ERR_DB_LOCKED, and its data is untouched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-lock-'));
  const db = new Database(join(dir, 'vigil.db'));
  db.exec('CREATE TABLE keep (v TEXT); INSERT INTO keep VALUES (\'precious\')');
  db.exec('BEGIN EXCLUSIVE');
  try {
    const r = runCli(['daemon', '--config', configFile({}, dir)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /VIGIL_ERR_DB_LOCKED/);
  } finally {
    db.exec('COMMIT');
  }
  assert.equal((db.prepare('SELECT v FROM keep').get() as { v: string }).v, 'precious');
  db.close();
});

test('ffmpeg missing: the daemon runs and the stream reports VIGIL_ERR_FFMPEG_MISSING', async (t) => {
  // node is started by its absolute path; an empty PATH hides ffmpeg like a machine without it.
  const emptyPath = mkdtempSync(join(tmpdir(), 'vigil-nopath-'));
  const d = await startDaemon({ config: { streams: [{ id: 'f', url: mediaPath('video_street_pedestrians_640x360.mp4'), analytics: [] }] }, env: { PATH: emptyPath } }, t);
  const s = await waitFor('ffmpeg missing reported', async () => {
    const st = (await d.api<{ streams: { lastError?: { code: string; message: string }; state: string }[] }>('GET', '/api/status')).json;
    return st.streams[0]?.lastError ? st.streams[0] : undefined;
  }, 30_000);
  assert.equal(s.lastError!.code, 'VIGIL_ERR_FFMPEG_MISSING');
  assert.equal(s.state, 'failed');
});

test('under systemd: READY=1 once up, WATCHDOG=1 while healthy, STOPPING=1 on SIGTERM (sd_notify)', async (t) => {
  if (spawnSync('which', ['systemd-notify']).status !== 0) assert.fail('systemd-notify is not installed (apt: systemd)');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-notify-'));
  const sock = join(dir, 'notify.sock');
  // A unix datagram listener standing in for systemd's notify socket.
  const listener = spawn('/usr/bin/python3', ['-u', '-c', `
import socket,sys
s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); print("LISTENING", flush=True)
while True:
    print(s.recv(4096).decode().replace("\\n"," | "), flush=True)
`, sock]);
  t.after(() => listener.kill('SIGKILL'));
  let got = '';
  listener.stdout.on('data', (b: Buffer) => (got += b.toString()));
  await waitFor('notify listener', () => got.includes('LISTENING'), 10_000);
  const d = await startDaemon({ env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '2000000' } }, t);
  await waitFor('READY=1', () => got.includes('READY=1'), 20_000);
  assert.match(got, new RegExp(`MAINPID=${d.child.pid}`));
  // WatchdogSec=2 s: pings come every second while the pipeline is healthy.
  await waitFor('two WATCHDOG=1 pings', () => (got.match(/WATCHDOG=1/g) ?? []).length >= 2, 10_000);
  await d.stop('SIGTERM');
  await waitFor('STOPPING=1', () => got.includes('STOPPING=1'), 10_000);
});
