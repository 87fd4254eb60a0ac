// Event volume and store growth of a typical four-camera box with no lines or zones drawn:
// people counting on two street cameras at 5 fps (one also counting vehicles), face
// recognition on a third, crowd estimation at 2 fps on the fourth. Counting must send one
// event per tracked object plus periodic summaries, not one per frame, and the store must grow
// by under a tenth of what per-frame presence events cost (~4 MB a minute).
// EVENT_VOLUME_S sets how long the cameras run (default 75 s; the figures of the README come
// from a 10-minute run).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { join } from 'node:path';
import { startDaemon, waitFor } from './helpers/daemon.js';
import { mediaPath } from './helpers/paths.js';
import { subscribe } from './helpers/subscriber.js';
import { usedBytes } from './helpers/sqliteBytes.js';

const DURATION_S = Number(process.env.EVENT_VOLUME_S ?? 75);
/** What per-frame presence events cost this setup on an idle box (~560 events, ~4 MB a minute). */
const PER_FRAME_BYTES_PER_MIN = 4 * 1024 * 1024;
/**
 * The events and their crops: the tenth. The street clip shows ~20 different people
 * every 23-s loop, so two cameras announce ~100 people a minute at full rate, each with its
 * thumbnail (~1.2 KB at crop_max_side 112, q60). Measured: ~0.32 MB a minute when every frame
 * is analysed (a 10-minute run), less on a loaded box.
 */
const EVENT_GROWTH_LIMIT = PER_FRAME_BYTES_PER_MIN / 10;
/**
 * The whole file, face gallery included: face recognition keeps its own capture (JPEG q90) and
 * embedding per face track beside the event (~10 KB); a stranger seen again keeps them only for
 * its 20 newest and 5 best captures, so the looping face clip's two strangers stop adding them
 * after their first ~25 passes. Over 10 minutes the file grows by under a tenth (README); a
 * short run is still in those first passes (~0.15 MB a minute more): a sixth.
 */
const FILE_GROWTH_LIMIT = PER_FRAME_BYTES_PER_MIN / 6;
/** Longest side of a counted object's crop: people-counting's crop_max_side default. */
const THUMBNAIL_SIDE = 112;

/** Bytes of the event tables (events, crops and their indexes). */
function eventTableBytes(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT coalesce(sum(pgsize), 0) AS n FROM dbstat WHERE name IN ('events', 'crops') OR name LIKE 'events_%' OR name = 'sqlite_autoindex_events_1'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

type Pd = Record<string, unknown>;

/** Bytes per table and index (SQLite's dbstat), to say where growth goes. */
function tableBytes(file: string): Record<string, number | string> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 8').all() as { name: string; bytes: number }[];
    const crops = db.prepare('SELECT e.analytic_id AS a, count(*) AS n, sum(length(c.jpeg)) AS bytes FROM crops c JOIN events e ON e.seq = c.seq GROUP BY e.analytic_id').all() as { a: string; n: number; bytes: number }[];
    const faces = db.prepare('SELECT count(*) AS n, coalesce(sum(length(crop_jpeg)), 0) AS bytes FROM face_captures').get() as { n: number; bytes: number };
    return {
      ...Object.fromEntries(rows.map((r) => [r.name, r.bytes])),
      ...Object.fromEntries(crops.map((c) => [`crops:${c.a}`, `${c.n}x${Math.round(c.bytes / c.n)}`])),
      'face_captures:jpeg': `${faces.n}x${faces.n ? Math.round(faces.bytes / faces.n) : 0}`,
    };
  } catch {
    return {};
  } finally {
    db.close();
  }
}

test(`four cameras without lines or zones for ${DURATION_S} s: one event per tracked object plus summaries, store growth a fraction of per-frame events`, async (t) => {
  const street = mediaPath('video_street_pedestrians_640x360.mp4');
  const faces = mediaPath('video_faces_hamilton_clip.mp4');
  const d = await startDaemon({
    config: {
      streams: [
        { id: 'street-a', url: street, fps: 5, analytics: ['people-counting'] },
        { id: 'street-b', url: street, fps: 5, analytics: ['people-counting', 'vehicle-counting'] },
        { id: 'lobby', url: faces, fps: 5, analytics: ['face-recognition'] },
        { id: 'plaza', url: street, fps: 2, analytics: ['crowd-estimation'] },
      ],
    },
  }, t);
  const dbFile = join(d.dataDir, 'vigil.db');
  const sub = await subscribe(d.url, { authorization: d.token });
  t.after(() => sub.close());
  // Start the clock once every camera delivers frames (models load first).
  await waitFor('all four cameras analysing', async () => {
    const s = await d.api<{ pipeline: { streamId: string; framesAnalysed: number }[] }>('GET', '/api/status');
    return s.json.pipeline.length === 4 && s.json.pipeline.every((p) => p.framesAnalysed > 0);
  }, 120_000, 500);
  const startBytes = usedBytes(dbFile);
  const startEventBytes = eventTableBytes(dbFile);
  const startMsg = sub.messages.length;
  const started = Date.now();
  await new Promise((r) => setTimeout(r, DURATION_S * 1000));
  const minutes = (Date.now() - started) / 60_000;
  const growth = usedBytes(dbFile) - startBytes;
  const eventGrowth = eventTableBytes(dbFile) - startEventBytes;
  const status = await d.api<{ pipeline: { streamId: string; framesAnalysed: number; framesDropped: number }[]; store?: Record<string, unknown> }>('GET', '/api/status');
  const events = sub.messages.slice(startMsg).filter((m) => 'analytic_id' in m);

  const by = (a: string) => events.filter((e) => e.analytic_id === a);
  const pd = (e: Record<string, unknown>) => e.pipeline_data as Pd;
  const counting = [...by('NFV4-PC'), ...by('NFV4-VC')];
  const summaries = counting.filter((e) => pd(e).event_type === 'summary');
  const objects = counting.filter((e) => pd(e).event_type !== 'summary');
  const perTrack = new Map<string, number>();
  for (const e of objects) {
    const key = `${String(e.stream_id)}/${String(e.analytic_id)}/${String(pd(e).track_id)}`;
    perTrack.set(key, (perTrack.get(key) ?? 0) + 1);
  }
  const crops = events.map((e) => String(e.image_jpeg ?? e.jpeg ?? '')).filter((c) => c.length > 0).map((c) => Buffer.from(c, 'base64').length);
  const figures = {
    minutes: +minutes.toFixed(2),
    events: events.length,
    eventsPerMin: +(events.length / minutes).toFixed(1),
    byAnalytic: Object.fromEntries(['NFV4-PC', 'NFV4-VC', 'NFV4-FR', 'NFV4-CE'].map((a) => [a, by(a).length])),
    countingObjectEvents: objects.length,
    countingTracks: perTrack.size,
    summaries: summaries.length,
    storeBytesPerMin: Math.round(growth / minutes),
    eventStoreBytesPerMin: Math.round(eventGrowth / minutes),
    maxCropBytes: Math.max(0, ...crops),
    meanCropBytes: crops.length ? Math.round(crops.reduce((a, b) => a + b, 0) / crops.length) : 0,
    pipeline: status.json.pipeline.map((p) => `${p.streamId}:${p.framesAnalysed}/${p.framesDropped}`),
    store: status.json.store,
    tables: tableBytes(dbFile),
  };
  t.diagnostic(JSON.stringify(figures));

  assert.ok(objects.length > 0, `people were counted: ${JSON.stringify(figures)}`);
  for (const e of objects) assert.ok(Number.isInteger(pd(e).track_id), 'object events name their track');
  const repeated = [...perTrack].filter(([, n]) => n > 1);
  assert.deepEqual(repeated, [], 'at most one event per tracked object');
  // One summary per counting analytic per interval (10 s): street-a PC, street-b PC and VC.
  const expectedSummaries = 3 * Math.floor(minutes * 6);
  assert.ok(summaries.length >= expectedSummaries - 3 && summaries.length <= expectedSummaries + 3, `summaries every 10 s: ${summaries.length} vs ~${expectedSummaries}`);
  for (const s of summaries) {
    assert.equal(s.image_jpeg, undefined, 'a summary carries no crop');
    assert.ok(Number.isInteger(pd(s).count), 'a summary carries the count');
  }
  // Every counting event is an object or a summary: no per-frame presence events.
  assert.equal(objects.length + summaries.length, counting.length);
  assert.ok(figures.maxCropBytes <= 50 * 1024, `every crop within the budget: ${figures.maxCropBytes} bytes`);
  const withCrop = objects.filter((o) => o.image_jpeg);
  assert.ok(withCrop.length > 0, 'counted objects carry their crop');
  for (const e of withCrop.slice(0, 50)) {
    const m = await sharp(Buffer.from(String(e.image_jpeg), 'base64')).metadata();
    assert.ok(Math.max(m.width!, m.height!) <= THUMBNAIL_SIDE, `a counted object's crop is a thumbnail: ${m.width}x${m.height}`);
  }
  assert.ok(figures.eventStoreBytesPerMin < EVENT_GROWTH_LIMIT, `events and crops grow ${figures.eventStoreBytesPerMin} B/min < ${EVENT_GROWTH_LIMIT}`);
  assert.ok(figures.storeBytesPerMin < FILE_GROWTH_LIMIT, `the whole file grows ${figures.storeBytesPerMin} B/min < ${FILE_GROWTH_LIMIT}`);
  // vigil status and the dashboard read this figure.
  const perDay = Number(status.json.store?.bytes_per_day);
  assert.ok(perDay > 0, 'vigil status shows bytes per day');
});
