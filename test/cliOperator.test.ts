// The CLI as an operator meets it: closed pipes, token hints, what each command loads, completion.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fakeEvent } from './helpers/eventFixtures.js';
import { runCli, runCliAsync } from './helpers/daemon.js';
import { modelMirror, ROOT } from './helpers/paths.js';
import { registerAdminRoutes } from '../daemon/server/adminRoutes.js';
import { VigilError } from '../daemon/errors.js';
import { ADMIN, startHarness, TOKEN } from './helpers/serverHarness.js';

const VIGIL = resolve(ROOT, 'bin/vigil.js');

/** Runs a shell pipeline with `vigil` meaning this checkout's CLI; resolves with the CLI's own exit code. */
function pipeline(script: string): Promise<{ cliCode: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn('bash', ['-c', `vigil() { "${process.execPath}" "${VIGIL}" "$@"; }\n${script}; echo "cli-exit=\${PIPESTATUS[0]}" >&2`]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', () => res({ cliCode: Number(/cli-exit=(\d+)/.exec(stderr)?.[1] ?? -1), stdout, stderr: stderr.replace(/cli-exit=\d+\n?/, '') }));
  });
}

test('piping into head: no EPIPE stack trace, exit 0 (events tail --json, config validate --print)', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  // Enough stored events that the replay overflows the pipe after head has gone.
  for (let i = 0; i < 3000; i++) {
    const { event, crop } = fakeEvent('NFV4-PC', 'gate', { n: i });
    h.emit(event, crop);
  }
  const tail = await pipeline(`vigil --url ${h.url} --token ${ADMIN} events tail --json --since 0 | head -n 2`);
  assert.equal(tail.stdout.trim().split('\n').length, 2);
  assert.equal(JSON.parse(tail.stdout.split('\n')[0]!).analytic_id, 'NFV4-PC');
  assert.equal(tail.stderr, '', 'nothing on stderr, certainly no stack trace');
  assert.equal(tail.cliCode, 0);

  const dir = mkdtempSync(join(tmpdir(), 'vigil-pipe-'));
  const cfg = join(dir, 'big.yaml');
  // Many streams make --print far longer than a pipe buffer.
  const streams = Array.from({ length: 800 }, (_, i) => `  - { id: cam${i}, url: "rtsp://user:pw@10.0.0.${i % 250}/s${i}" }`).join('\n');
  writeFileSync(cfg, `server: { port: 9999, admin_token: long-enough-token }\nstreams:\n${streams}\n`);
  const print = await pipeline(`vigil config validate --print ${cfg} | head -n 1`);
  assert.equal(print.stdout, '{\n');
  assert.equal(print.stderr, '');
  assert.equal(print.cliCode, 0);
});

test('auth errors speak CLI words: --token and VIGIL_ADMIN_TOKEN, never an HTTP header', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const noStreams = () => { throw new VigilError('VIGIL_ERR_STREAM_UNKNOWN', 'No stream with this id'); };
  registerAdminRoutes(h.server.routes, {
    streams: { list: () => [], add: noStreams, remove: noStreams, setEnabled: noStreams },
    status: { status: () => ({}) },
    events: h.store,
  });
  const cases: [string[], RegExp][] = [
    [['--url', h.url, 'events', 'ls'], /needs the admin token and none was given/],
    [['--url', h.url, '--token', 'wrong-token', 'events', 'ls'], /refused the token/],
    [['--url', h.url, '--token', 'wrong-token', 'events', 'tail'], /refused the token/],
    // A viewer token reads, but changes need the admin token.
    [['--url', h.url, '--token', TOKEN, 'stream', 'rm', 'gate'], /not the admin token/],
  ];
  for (const [args, sentence] of cases) {
    const r = await runCliAsync(args, { VIGIL_ADMIN_TOKEN: '', VIGIL_CONFIG: '/nonexistent.yaml' });
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /^VIGIL_ERR_UNAUTHORIZED: /, args.join(' '));
    assert.match(r.stderr, sentence);
    assert.match(r.stderr, /--token TOKEN or set VIGIL_ADMIN_TOKEN/);
    assert.doesNotMatch(r.stderr, /Authorization|Bearer|header/i);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  // The environment variable the hint names actually works.
  const ok = await runCliAsync(['--url', h.url, 'events', 'ls'], { VIGIL_ADMIN_TOKEN: ADMIN });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /No events/);
});

/** Every module URL node resolves while running `vigil ARGS` (a resolve hook appends them to a file). */
function modulesLoadedBy(args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-trace-'));
  const trace = join(dir, 'modules.txt');
  writeFileSync(trace, '');
  writeFileSync(join(dir, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(trace)}, r.url + '\\n'); return r; }\n`);
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
  const r = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), VIGIL, ...args], { encoding: 'utf8', env: { ...process.env, VIGIL_CONFIG: '/nonexistent.yaml' } });
  assert.notEqual(r.status, null);
  return readFileSync(trace, 'utf8').split('\n').filter(Boolean);
}

test('--help, --version and API commands do not load the daemon, models or native modules', () => {
  const heavy = /daemon\/(main|run|pipeline)\.|daemon\/inference\/|daemon\/store\/|models\/fetcher|onnxruntime|better-sqlite3|uWebSockets|sharp|pino|ajv/;
  for (const args of [['--version'], ['--help'], ['--url', 'http://127.0.0.1:9', '--token', 'x', 'status'], ['--url', 'http://127.0.0.1:9', '--token', 'x', 'events', 'ls']]) {
    const loaded = modulesLoadedBy(args);
    assert.ok(loaded.some((u) => /cli\/main\.(js|ts)$/.test(u)), `the trace works for ${args.join(' ')}`);
    assert.deepEqual(loaded.filter((u) => heavy.test(u)), [], `vigil ${args.join(' ')} loaded heavy modules`);
  }
  // The trace does see them when a command needs them: the check above can fail.
  const validate = modulesLoadedBy(['config', 'validate', '/nonexistent.yaml']);
  assert.ok(validate.some((u) => /ajv/.test(u)), 'config validate loads the schema validator');
});

test('vigil completion bash completes commands, subcommands and options', () => {
  const r = runCli(['completion', 'bash']);
  assert.equal(r.code, 0, r.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-compl-'));
  const script = join(dir, 'vigil.bash');
  writeFileSync(script, r.stdout);
  const complete = (line: string): string[] => {
    const words = line.split(' ');
    const out = spawnSync('bash', ['-c', `source ${script}; COMP_WORDS=(${words.map((w) => `"${w}"`).join(' ')}); COMP_CWORD=${words.length - 1}; _vigil_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    return out.stdout.split('\n').filter(Boolean);
  };
  assert.deepEqual(complete('vigil st'), ['stream', 'streams', 'status']);
  assert.ok(complete('vigil stream ').includes('add'));
  assert.deepEqual(complete('vigil --token abc events ta'), ['tail']);
  assert.ok(complete('vigil events tail --').includes('--json'));
  const bad = runCli(['completion', 'fish']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /use bash/);
});

test('events ls: --person and a --from/--to time window over the store', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  registerAdminRoutes(h.server.routes, { streams: { list: () => [], add: () => undefined, remove: () => undefined, setEnabled: () => undefined }, status: { status: () => ({}) }, events: h.store });
  const base = Date.parse('2026-03-01T10:00:00Z');
  const seqs: { seq: number; ts: number; name?: string }[] = [];
  for (let i = 0; i < 12; i++) {
    const ts = base + i * 3_600_000;
    const { event, crop } = fakeEvent(i % 2 ? 'NFV4-FR' : 'NFV4-PC', 'hall', { ts, n: i });
    const name = i % 2 ? (i % 4 === 1 ? 'Ada Lovelace' : 'Bob') : undefined;
    if (name) Object.assign(event.pipeline_data, { name, person_id: name.split(' ')[0]!.toLowerCase() });
    seqs.push({ seq: h.emit(event, crop), ts, name });
  }
  const ls = async (...args: string[]) => {
    const r = await runCliAsync(['--url', h.url, '--token', ADMIN, 'events', 'ls', '--json', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { seq: number }[]).map((e) => e.seq);
  };
  assert.deepEqual(await ls('--person', 'ada'), seqs.filter((s) => s.name === 'Ada Lovelace').map((s) => s.seq).reverse());
  assert.deepEqual(await ls('--person', 'bob'), seqs.filter((s) => s.name === 'Bob').map((s) => s.seq).reverse(), 'the person id matches too');
  const from = base + 3 * 3_600_000;
  const to = base + 6 * 3_600_000;
  assert.deepEqual(await ls('--from', new Date(from).toISOString(), '--to', String(to)), seqs.filter((s) => s.ts >= from && s.ts < to).map((s) => s.seq).reverse());
  const bad = await runCliAsync(['--url', h.url, '--token', ADMIN, 'events', 'ls', '--from', 'yesterday-ish']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^VIGIL_ERR_BAD_REQUEST: --from must be an ISO 8601 time or Unix ms/);
});

test('long local work says what it is doing as plain lines when not on a terminal', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-fetch-'));
  const r = runCli(['--data-dir', dataDir, 'models', 'fetch', 'yolox_nano', '--mirror', modelMirror()]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^\[1\/1\] yolox_nano: checking the cache, fetching if needed\.\.\.$/m);
  assert.doesNotMatch(r.stderr, /\r/, 'no carriage-return redraws in a log');
  assert.match(r.stdout, /^yolox_nano: ok /m);
});
