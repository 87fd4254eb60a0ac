import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnalyticId, Observation } from '../../daemon/analytics/types.js';
import type { VisionEvent } from '../../daemon/events/schema.js';
import { newEventId } from '../../daemon/events/eventBuilder.js';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import type { RgbImage } from '../../daemon/vision/image.js';

/** A temp directory removed by the returned cleanup. */
export function tempDir(prefix = 'vigil-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh `vigil.db` in a temp directory; closed and removed after the test. */
export function tempDatabase(t: { after(fn: () => unknown): void }): { dir: string; db: Db } {
  const { dir, cleanup } = tempDir();
  const db = openDatabase(join(dir, 'vigil.db'));
  t.after(() => {
    db.close();
    cleanup();
  });
  return { dir, db };
}

/** A gradient rgb24 image, so crops of different boxes differ. */
export function gradientImage(width = 64, height = 48): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = (x * 255) / width;
      data[o + 1] = (y * 255) / height;
      data[o + 2] = 128;
    }
  }
  return { width, height, data };
}

const DATA: Record<AnalyticId, Record<string, unknown>> = {
  'NFV4-FR': { confidence_detection: 0.98, 'face-id': 7, similarity: 0.81, status: 'enrolled', variation: 3, person_id: 'p1', name: 'Ada', relationship: 'staff' },
  'NFV4-LPR': { label: 'car', area_name: 'gate', direction: 'Up', confidence: 0.9, plate_type: 'civil', plate_number: 'B 1234 XYZ', plate_confidence: 0.88 },
  'NFV4-VC': { area_name: 'road', confidence: 0.7, label: 'car', direction: 'Left', line: 'line-1' },
  'NFV4-PC': { area_name: 'door', confidence: 0.7, label: 'person', direction: 'Right', line: 'entry' },
  'NFV4-CE': { area: 'hall', estimation: 12.5, interval: 10 },
};

/** An observation of the given analytic with every schema key filled in. */
export function observation(analyticId: AnalyticId, over: Partial<Observation> = {}): Observation {
  return {
    analyticId,
    streamId: 'cam1',
    timestamp: Date.now(),
    crop: { image: gradientImage(), box: [4, 4, 40, 30] },
    primaryText: analyticId === 'NFV4-FR' ? 'KNOWN' : 'text',
    secondaryText: '',
    data: { ...DATA[analyticId] },
    ...over,
  };
}

/** A stored-shape event built without sharp (fast, for bulk tests); the crop key holds `crop` base64. */
export function fakeEvent(
  analyticId: AnalyticId,
  streamId: string,
  opts: { ts?: number; plate?: string; crop?: Buffer; n?: number } = {},
): { event: VisionEvent; crop: Buffer } {
  const ts = opts.ts ?? Date.now();
  const crop = opts.crop ?? Buffer.from(`jpeg-bytes-${opts.n ?? 0}`);
  const data = { ...DATA[analyticId], ...(opts.plate !== undefined ? { plate_number: opts.plate } : {}), n: opts.n ?? 0 };
  const event: VisionEvent = {
    analytic_id: analyticId,
    [analyticId === 'NFV4-LPR' ? 'jpeg' : 'image_jpeg']: crop.toString('base64'),
    node_num: 1,
    stream_id: streamId,
    stream_address: 'rtsp://***:***@10.0.0.5/stream',
    timestamp: String(ts),
    pipeline_data: { ...data, event_id: newEventId(ts), primary_text: 'p', secondary_text: '' },
  };
  return { event, crop };
}
