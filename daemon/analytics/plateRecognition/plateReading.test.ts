import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandQuad } from './crops.js';
import { DEFAULT_PLATE_FORMATS, normalisePlate, resolveFormats } from './formats.js';
import { groupLines } from './localize.js';
import { pickRead, type PlateResult } from './reader.js';
import { editDistance, formatSummary, loadPlateTruth, scorePhoto, summarise, type PlateTruth } from './evaluate.js';
import { isVigilError } from '../../errors.js';
import type { Box } from '../../vision/image.js';

function res(text: string, confidence: number, format: string | null = 'eu-generic', corrections = 0): PlateResult {
  return { box: [0, 0, 10, 5], text, chars: Array.from(text), confidences: Array.from(text, () => confidence), confidence, plate_type: 'single', type: 'single', format, corrections, score: 1, ocr: 'x' };
}

test('a text line grows along its own axes by fractions of its height (no character lost at the edges)', () => {
  const q = expandQuad([[10, 10], [110, 10], [110, 30], [10, 30]], 0.5, 0.25);
  assert.deepEqual(q, [[0, 5], [120, 5], [120, 35], [0, 35]]);
  // Rotated 90°: the margins follow the line, not the image axes.
  const r = expandQuad([[0, 0], [0, 100], [-20, 100], [-20, 0]], 0.5, 0);
  assert.deepEqual(r.map(([x, y]) => [Math.round(x), Math.round(y)]), [[0, -10], [0, 110], [-20, 110], [-20, -10]]);
});

test('the chosen read: format fit first, then the text most crops agree on, never a confident outlier alone', () => {
  assert.equal(pickRead([res('JOG9221', 0.9), res('1OG9221', 0.95), res('JOG9221', 0.9)])!.text, 'JOG9221');
  assert.equal(pickRead([res('OUM2', 0.99, null), res('MYX3152', 0.7)])!.text, 'MYX3152');
  // A read that fits only after an O/0 correction ranks below a direct fit, and a vanity word below a real format.
  assert.equal(pickRead([res('AB12CDE', 0.8, 'uk', 1), res('AB12CDF', 0.7, 'uk')])!.text, 'AB12CDF');
  assert.equal(pickRead([res('EXPLORER', 0.99, 'vanity'), res('AVP2403', 0.9, 'us-generic')])!.text, 'AVP2403');
  assert.equal(pickRead([]), null);
});

test('a vanity plate is read as written, not "corrected" into a format (NEILDMND stays NEILDMND)', () => {
  const f = resolveFormats(DEFAULT_PLATE_FORMATS);
  const n = normalisePlate(Array.from('NEILDMND'), Array(8).fill(0.9), f);
  assert.equal(n.text, 'NEILDMND');
  assert.equal(n.format, 'vanity');
  assert.equal(n.corrections, 0);
  assert.equal(normalisePlate(Array.from('JOG9221'), Array(7).fill(0.9), resolveFormats(['br'])).format, 'br');
  assert.equal(normalisePlate(Array.from('ABC1D23'), Array(7).fill(0.9), resolveFormats(['br'])).format, 'br', 'Mercosur');
  assert.equal(normalisePlate(Array.from('1OG9221'), Array(7).fill(0.9), resolveFormats(['br'])).text, 'IOG9221', 'a correction is marked as one');
  assert.equal(normalisePlate(Array.from('1OG9221'), Array(7).fill(0.9), resolveFormats(['br'])).corrections, 1);
});

test('a plate split at a space becomes one more candidate spanning both pieces', () => {
  const det = (box: Box) => ({ box, score: 0.9, classId: 0, label: 'text' });
  const regions = groupLines([det([10, 10, 40, 30]), det([52, 11, 100, 31]), det([10, 60, 100, 80])]);
  const merged = regions.filter((r) => !r.double && r.box[0] === 10 && r.box[2] === 100 && r.box[3] <= 31);
  assert.equal(merged.length, 1);
  assert.deepEqual(merged[0]!.corners, [[10, 10], [100, 11], [100, 31], [10, 30]]);
});

test('bench ground truth: folders of regions, scoring, CER and the summary table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-truth-'));
  try {
    mkdirSync(join(dir, 'eu'));
    mkdirSync(join(dir, 'us'));
    writeFileSync(join(dir, 'eu', 'a.txt'), 'a.jpg\t10\t20\t100\t25\tAB-123 CD\n');
    writeFileSync(join(dir, 'us', 'b.txt'), 'b.jpg\t0\t0\t50\t20\tXYZ123\n');
    const t = loadPlateTruth(dir);
    assert.deepEqual(t.map((x) => [x.region, x.plate, x.box]), [['eu', 'AB123CD', [10, 20, 110, 45]], ['us', 'XYZ123', [0, 0, 50, 20]]]);
    const s1 = scorePhoto(t[0]!, [{ text: 'B123CD', confidence: 0.9, box: [15, 22, 100, 44] }, { text: 'AB123CD', confidence: 0.5, box: [300, 300, 400, 330] }], 12);
    assert.deepEqual([s1.found, s1.exact, s1.read, s1.edits], [true, false, 'B123CD', 1], 'the read over the plate is compared, not one elsewhere');
    const s2 = scorePhoto(t[1]!, [], 30);
    assert.deepEqual([s2.found, s2.exact, s2.edits], [false, false, 6]);
    const rows = summarise([s1, s2]);
    assert.deepEqual(rows.map((r) => [r.region, r.found, r.exact]), [['eu', 1, 0], ['us', 0, 0], ['all', 1, 0]]);
    assert.equal(rows[2]!.cer, 7 / 13);
    assert.match(formatSummary(rows), /\| eu \| 1 \| 100\.0 % \(1\/1\) \| 0\.0 % \(0\/1\)/);
    assert.equal(editDistance('沪AF71017', '沪AF7101'), 1);
    writeFileSync(join(dir, 'us', 'bad.txt'), 'b.jpg\tx\n');
    assert.throws(() => loadPlateTruth(dir), (e) => isVigilError(e) && e.code === 'VIGIL_ERR_BAD_REQUEST' && /bad\.txt/.test(e.message));
    assert.throws(() => loadPlateTruth(join(dir, 'nope')), (e) => isVigilError(e) && e.code === 'VIGIL_ERR_NOT_FOUND');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
