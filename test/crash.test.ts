// kill -9 while ~1,000 events/s are stored and published: nothing a subscriber saw may be missing
// from the store after restart, the file must pass integrity_check, and seqs must never be reused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { openDatabase } from '../daemon/store/database.js';
import { EventStore } from '../daemon/store/eventStore.js';
import { Collector } from './helpers/serverHarness.js';
import { tempDir } from './helpers/eventFixtures.js';
import { ROOT } from './helpers/paths.js';

const PRODUCER = resolve(ROOT, 'test/helpers/producer.ts');
const PRODUCER_TOKEN = 'producer-token-123'; // as in producer.ts (importing it would run the script)

async function startProducer(file: string, t: { after(fn: () => unknown): void }): Promise<{ child: ChildProcess; port: number; exited: Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', PRODUCER, file, '1000'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`producer did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    void exited.then(() => rej(new Error(`producer exited:\n${out}`)));
  });
  return { child, port, exited };
}

/** seq → event_id of everything a subscriber received. */
function seen(c: Collector, into: Map<number, string>): void {
  for (const e of c.events()) into.set(e.seq as number, (e.pipeline_data as { event_id: string }).event_id);
}

test('kill -9 at 1,000 events/s: every seq a subscriber saw is stored, integrity_check is ok, seqs go on after restart', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'vigil.db');
  const p = await startProducer(file, t);
  const ws = (q: string) => `ws://127.0.0.1:${p.port}/event_channel?authorization=${PRODUCER_TOKEN}&crops=0${q}`;

  const live = await Collector.connect(ws(''));
  const replay = await Collector.connect(ws('&since=0'));
  const lpr = await Collector.connect(ws('&analytic_id=NFV4-LPR'));
  // A subscriber that keeps dropping and resuming with since while the load runs.
  const resumed: Collector[] = [];
  let last = 0;
  const deadline = Date.now() + 2500;
  while (Date.now() < deadline) {
    const c = await Collector.connect(ws(`&since=${last}`));
    resumed.push(c);
    await new Promise((r) => setTimeout(r, 300));
    c.close();
    last = Math.max(last, ...c.seqs());
  }
  p.child.kill('SIGKILL');
  await p.exited;
  for (const c of [live, replay, lpr]) await c.until(() => c.closed !== null, 'socket closed by the kill');

  const saw = new Map<number, string>();
  for (const c of [live, replay, lpr, ...resumed]) seen(c, saw);
  assert.ok(saw.size > 1000, `the load was real: ${saw.size} distinct events seen`);

  const db = openDatabase(file);
  t.after(() => db.close());
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  const get = db.prepare('SELECT event_id FROM events WHERE seq = ?');
  const missing = [...saw].filter(([seq, id]) => (get.get(seq) as { event_id: string } | undefined)?.event_id !== id);
  assert.deepEqual(missing, [], 'no event a subscriber received is missing from the store');
  // Resume across reconnects: no hole, no duplicate over what the store holds for that range.
  const resumedSeqs = resumed.flatMap((c) => c.seqs());
  assert.equal(new Set(resumedSeqs).size, resumedSeqs.length, 'no duplicate across resumes');
  const storedInRange = (db.prepare('SELECT seq FROM events WHERE seq <= ? ORDER BY seq').all(last) as { seq: number }[]).map((r) => r.seq);
  assert.deepEqual(resumedSeqs, storedInRange, 'the resuming subscriber got exactly the stored events, in order');

  // Restart: the store opens, and new events never reuse a seq that was handed out.
  const maxSeen = Math.max(...saw.keys());
  assert.ok(new EventStore(db).lastSeq() >= maxSeen);
  const p2 = await startProducer(file, t);
  const after = await Collector.connect(`ws://127.0.0.1:${p2.port}/event_channel?authorization=${PRODUCER_TOKEN}&crops=0&since=${maxSeen}`);
  await after.until(() => after.events().length >= 50, 'events after restart');
  assert.ok(after.seqs().every((s) => s > maxSeen));
  after.close();
});
