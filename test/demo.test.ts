// The README's first command: `vigil demo` prints live events, one line each with the analytic id.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCliAsync } from './helpers/daemon.js';

test('vigil demo shows live people-counting events and cleans up after itself', async () => {
  const r = await runCliAsync(['demo', '--events', '3', '--duration', '120']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Vigil demo running at http:\/\/127\.0\.0\.1:\d+/);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 3, r.stdout);
  // One line per tracked person (appear, with its track) or per count summary, not one per frame.
  for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  #\d+  NFV4-PC  street  person  event_type=(appear track_id=\d+ dwell_s=[\d.]+|summary count=\d+)/);
});
