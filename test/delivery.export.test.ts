// `vigil events export` logic against a real store and server over HTTP: pages by seq, filters, CSV and JSONL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { registerAdminRoutes } from '../daemon/server/adminRoutes.js';
import { ApiClient } from '../cli/client.js';
import { CSV_COLUMNS, csvField, exportEvents } from '../cli/eventsExport.js';
import { fakeEvent } from './helpers/eventFixtures.js';
import { ADMIN, startHarness } from './helpers/serverHarness.js';

async function collect(fn: (out: PassThrough) => Promise<number>): Promise<{ n: number; text: string }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const n = await fn(out);
  out.end();
  return { n, text };
}

test('export streams every matching event in seq order across pages, as JSONL (with crops) and CSV', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  registerAdminRoutes(h.server.routes, { streams: { list: () => [], add: () => null, remove: () => undefined, setEnabled: () => null }, status: { status: () => ({}) }, events: h.store });
  const kinds = ['NFV4-LPR', 'NFV4-PC', 'NFV4-FR'] as const;
  for (let i = 0; i < 25; i++) h.store.appendMany(Array.from({ length: 100 }, (_, k) => fakeEvent(kinds[k % 3]!, `cam${k % 2}`, { n: i * 100 + k, plate: 'B 12, "X"' })));
  const client = new ApiClient({ url: h.url, token: ADMIN });

  const want = h.store.query({ sinceSeq: 10, beforeSeq: 2001, streamIds: ['cam1'], limit: 10_000, withCrops: true });
  const jsonl = await collect((out) => exportEvents(client, { since: 10, until: 2000, streams: 'cam1', format: 'jsonl', crops: true, pageSize: 300 }, out));
  assert.equal(jsonl.n, want.length);
  const lines = jsonl.text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines, want as unknown as Record<string, unknown>[], 'identical to the store, crops included');

  const csv = await collect((out) => exportEvents(client, { since: 0, analytics: 'NFV4-LPR', format: 'csv', crops: false }, out));
  const rows = csv.text.trimEnd().split('\n');
  assert.equal(rows[0], CSV_COLUMNS.join(','));
  assert.equal(rows.length - 1, h.store.query({ analyticIds: ['NFV4-LPR'], limit: 10_000 }).length);
  const first = h.store.query({ sinceSeq: 0, analyticIds: ['NFV4-LPR'], limit: 1 })[0]!;
  assert.ok(rows[1]!.startsWith(`${first.seq},${first.pipeline_data.event_id},${first.timestamp},`));
  assert.ok(rows[1]!.includes(csvField('B 12, "X"')), 'fields with commas and quotes are escaped');
  assert.equal(csvField('a"b,c'), '"a""b,c"');

  await assert.rejects(exportEvents(new ApiClient({ url: h.url, token: 'nope' }), { since: 0, format: 'csv', crops: false }, new PassThrough()), /VIGIL_ERR_UNAUTHORIZED|token/);
});
