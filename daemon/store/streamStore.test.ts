import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatabase } from './database.js';
import { StreamStore } from './streamStore.js';
import { tempDir } from '../../test/helpers/eventFixtures.js';

test('stream configs survive a restart; enable/disable and remove work; bad input is coded', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const file = join(dir, 'vigil.db');
  const db = openDatabase(file);
  const store = new StreamStore(db);
  store.upsert({ id: 'gate', url: 'rtsp://admin:pw@10.0.0.5/live', fps: 5, analytics: ['plate-recognition'] });
  store.upsert({ id: 'door', url: 'rtsp://10.0.0.6/live', fps: 2, enabled: false });
  store.upsert({ id: 'gate', url: 'rtsp://admin:pw@10.0.0.5/live', fps: 10 });
  assert.equal(store.setEnabled('door', true).enabled, true);
  assert.throws(() => store.setEnabled('nope', true), { code: 'VIGIL_ERR_STREAM_UNKNOWN' });
  assert.throws(() => store.upsert({ id: '' }), { code: 'VIGIL_ERR_BAD_REQUEST' });
  db.close();

  const db2 = openDatabase(file);
  const again = new StreamStore(db2);
  const list = again.list();
  assert.deepEqual(list.map((s) => [s.id, s.enabled, s.config.fps]), [
    ['gate', true, 10],
    ['door', true, 2],
  ]);
  // The daemon needs the real URL to connect: the store keeps it; masking is the API's job.
  assert.equal(list[0]!.config.url, 'rtsp://admin:pw@10.0.0.5/live');
  assert.equal(again.get('door')!.config.enabled, true);
  assert.equal(again.remove('door'), true);
  assert.equal(again.remove('door'), false);
  assert.deepEqual(again.list().map((s) => s.id), ['gate']);
  db2.close();
});
