// kill -9 while ~1,000 events/s are stored and published: nothing a subscriber saw may be missing
// from the store after restart, the file must pass integrity_check, and seqs must never be reused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatabase } from '../daemon/store/database.js';
import { EventStore } from '../daemon/store/eventStore.js';
import { Collector } from './helpers/serverHarness.js';
import { tempDir } from './helpers/eventFixtures.js';
import { PRODUCER_TOKEN, startProducer } from './helpers/producerProcess.js';


/** seq → event_id of everything a subscriber received. */
function seen(c: Collector, into: Map<number, string>): void {
  for (const e of c.events()) into.set(e.seq as number, (e.pipeline_data as { event_id: string }).event_id);
}

test('kill -9 at 1,000 events/s: every seq a subscriber saw is stored, integrity_check is ok, seqs go on after restart', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'vigil.db');
  const p = await startProducer(file, 1000, t);
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
  const p2 = await startProducer(file, 1000, t);
  const after = await Collector.connect(`ws://127.0.0.1:${p2.port}/event_channel?authorization=${PRODUCER_TOKEN}&crops=0&since=${maxSeen}`);
  await after.until(() => after.events().length >= 50, 'events after restart');
  assert.ok(after.seqs().every((s) => s > maxSeen));
  after.close();
});
