// The real daemon against abuse and mistakes: camera passwords out of every child's command line,
// private data files, a source policy for API streams, reloads that would stop every camera,
// retry-now, and the documentation's example token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { baseConfig, runCli, startDaemon, waitFor, type DaemonProcess } from './helpers/daemon.js';
import { freePort } from './helpers/mosquitto.js';
import { startRtspServer } from './helpers/rtspServer.js';

const PASSWORD = 'S3cretPw0rd';

interface Health {
  id: string;
  state: string;
  since: number;
  reconnects: number;
  lastError?: { code: string; message: string };
}

async function health(d: DaemonProcess, id: string): Promise<Health | undefined> {
  return (await d.api<{ streams: Health[] }>('GET', '/api/status')).json.streams.find((s) => s.id === id);
}

/** Every descendant process of `pid` with its command line (NUL-separated, as /proc has it). */
function descendants(pid: number): { pid: number; cmdline: string }[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out: { pid: number; cmdline: string }[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp !== p) continue;
      try {
        out.push({ pid: child, cmdline: readFileSync(`/proc/${child}/cmdline`, 'utf8') });
      } catch {
        /* gone */
      }
      walk(child);
    }
  };
  walk(pid);
  return out;
}

test('camera passwords never reach a command line; data files are private; faults are still recovered', async (t) => {
  const cam = await startRtspServer({ source: { pattern: 'ball', fps: 10 }, user: 'camuser', password: PASSWORD }, t);
  const d = await startDaemon({ config: { streams: [{ id: 'door', url: cam.url(), fps: 2, stall_timeout_s: 4, backoff_initial_ms: 300, backoff_max_ms: 2000, analytics: [] }] } }, t);
  await waitFor('door running', async () => (await health(d, 'door'))?.state === 'running', 60_000);

  const children = descendants(d.child.pid!);
  const ffmpegs = children.filter((c) => c.cmdline.split('\0')[0]!.endsWith('ffmpeg'));
  assert.equal(ffmpegs.length, 1, `one ffmpeg child: ${children.map((c) => c.cmdline.replace(/\0/g, ' ')).join('\n')}`);
  for (const c of children) assert.ok(!c.cmdline.includes(PASSWORD), `no password in /proc/${c.pid}/cmdline: ${c.cmdline.replace(/\0/g, ' ')}`);
  assert.ok(!readFileSync(`/proc/${d.child.pid}/cmdline`, 'utf8').includes(PASSWORD));
  // The URL reaches ffmpeg through a file only the daemon's user can read.
  const list = ffmpegs[0]!.cmdline.split('\0').find((a) => a.endsWith('.ffconcat'));
  assert.ok(list, 'ffmpeg reads its source from an ffconcat file');
  assert.equal(statSync(list).mode & 0o777, 0o600);
  assert.equal(statSync(join(list, '..')).mode & 0o777, 0o700);

  for (const f of ['vigil.db', 'vigil.db-wal', 'vigil.db-shm']) {
    const file = join(d.dataDir, f);
    if (!existsSync(file)) continue;
    assert.equal(statSync(file).mode & 0o077, 0, `${f} is not readable by others (${(statSync(file).mode & 0o777).toString(8)})`);
  }
  assert.doesNotMatch(d.logs(), new RegExp(PASSWORD), 'no password in the log');
  assert.doesNotMatch(JSON.stringify(await d.api('GET', '/api/status')), new RegExp(PASSWORD));

  // A drop and a freeze are still recovered through the file.
  const before = (await health(d, 'door'))!.reconnects;
  await cam.kill();
  await waitFor('backoff after kill', async () => (await health(d, 'door'))?.state === 'backoff', 30_000);
  await cam.restart();
  await waitFor('running again', async () => {
    const h = await health(d, 'door');
    return h?.state === 'running' && h.reconnects > before;
  }, 60_000);
  cam.freeze();
  const stalled = await waitFor('stalled or silent', async () => {
    const h = await health(d, 'door');
    return h && h.state !== 'running' && h.lastError ? h : undefined;
  }, 60_000);
  assert.match(stalled.lastError!.code, /^VIGIL_ERR_STREAM_(STALLED|SILENT)$/, stalled.lastError!.message);
  cam.thaw();
  await waitFor('running after the freeze', async () => (await health(d, 'door'))?.state === 'running', 60_000);
  assert.equal(readdirSync(join(d.dataDir, 'run')).length, 1, 'one private source file per running stream; the old ones were removed');
});

test('API streams: only camera schemes; files, ffmpeg protocols and options are refused with a code', async (t) => {
  const d = await startDaemon({}, t);
  for (const url of ['file:///etc/passwd', '/etc/passwd', 'concat:/etc/passwd|/etc/hosts', 'subfile:,start,0,end,64,:/etc/passwd', '-f lavfi -i testsrc', 'lavfi:testsrc', 'ftp://u:p@h/x']) {
    const r = await d.api<{ error: { code: string; message: string } }>('POST', '/api/streams', { id: 'x', url, analytics: [] });
    assert.equal(r.status, 403, url);
    assert.equal(r.json.error.code, 'VIGIL_ERR_STREAM_SOURCE_POLICY', url);
  }
  const ok = await d.api('POST', '/api/streams', { id: 'cam', url: 'rtsp://u:p@127.0.0.1:9/x', enabled: false, analytics: [] });
  assert.equal(ok.status, 201);
  const cli = await d.cli(['stream', 'add', 'bad', 'file:///etc/shadow']);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /VIGIL_ERR_STREAM_SOURCE_POLICY/);
});

test('SIGHUP: an empty file or one without streams is refused unless it says so; a reload logs what changed', async (t) => {
  const port = await freePort();
  const stream = { id: 'lot', url: `rtsp://127.0.0.1:${port}/stream`, fps: 1, analytics: [], backoff_initial_ms: 60_000, backoff_max_ms: 60_000 };
  const d = await startDaemon({ config: { streams: [stream] } }, t);
  const linesOf = (re: RegExp) => d.logs().split('\n').filter((l) => re.test(l));
  await waitFor('backoff', async () => (await health(d, 'lot'))?.state === 'backoff', 30_000);

  writeFileSync(d.configFile, '');
  d.child.kill('SIGHUP');
  await waitFor('empty file refused', () => linesOf(/VIGIL_ERR_RELOAD_REFUSED/).length === 1, 20_000);
  assert.ok(await health(d, 'lot'), 'the stream is still there');

  d.writeConfig({ streams: [] });
  d.child.kill('SIGHUP');
  await waitFor('no streams refused', () => linesOf(/VIGIL_ERR_RELOAD_REFUSED/).length === 2, 20_000);
  assert.match(linesOf(/VIGIL_ERR_RELOAD_REFUSED/)[1]!, /allow_no_streams/);
  assert.ok(await health(d, 'lot'));

  // Retry now: the camera comes up while the stream waits out a 60 s backoff.
  const cam = await startRtspServer({ source: { pattern: 'ball', fps: 10 }, port }, t);
  const restart = await d.cli(['stream', 'restart', 'lot']);
  assert.equal(restart.code, 0, restart.stderr);
  await waitFor('running without waiting out the backoff', async () => (await health(d, 'lot'))?.state === 'running', 30_000);
  const unknown = await d.api<{ error: { code: string } }>('POST', '/api/streams/nope/restart');
  assert.equal(unknown.json.error.code, 'VIGIL_ERR_STREAM_UNKNOWN');

  d.writeConfig({ streams: [], allow_no_streams: true });
  d.child.kill('SIGHUP');
  await waitFor('removal applied', () => linesOf(/SIGHUP: config re-read and applied: removed lot/).length === 1, 20_000);
  assert.equal(await health(d, 'lot'), undefined);
  d.writeConfig({ streams: [{ ...stream, id: 'lot2' }] });
  d.child.kill('SIGHUP');
  await waitFor('addition applied', () => linesOf(/SIGHUP: config re-read and applied: added lot2/).length === 1, 20_000);
  await cam.stop();
});

test('the example admin token from the docs is refused at start', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-example-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'vigil.yaml');
  const cfg = baseConfig(dir, 'change-me-admin-token');
  writeFileSync(file, stringify(cfg));
  const r = runCli(['daemon', '--config', file]);
  assert.equal(r.code, 78);
  assert.match(r.stderr, /VIGIL_ERR_EXAMPLE_TOKEN/);
});
