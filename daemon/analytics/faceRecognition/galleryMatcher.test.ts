// The WebAssembly SIMD matcher must give the same answers as the plain JS scan.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalize } from './embedder.js';
import { GalleryIndex } from './galleryIndex.js';
import { JsDotScanner, WasmDotScanner, wasmSimdAvailable } from './galleryMatcher.js';
import type { VectorRow } from './galleryPort.js';

/** Seeded random unit vectors, so a failure can be replayed. */
function vectors(n: number, dim: number, seed: number): Float32Array[] {
  let s = seed;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) - 0.5;
  return Array.from({ length: n }, () => normalize(Float32Array.from({ length: dim }, rnd)));
}
const rowsOf = (v: Float32Array[], perPerson: number): VectorRow[] => v.map((vector, i) => ({ person_id: `p${Math.floor(i / perPerson)}`, ref: `r${i}`, vector }));
const T = { matchThreshold: 0.4, margin: 0.08 };

describe('gallery matcher', () => {
  it('compiles the WebAssembly SIMD kernel on this Node', () => {
    assert.ok(wasmSimdAvailable());
    assert.equal(new GalleryIndex().kernel, 'wasm-simd');
    assert.equal(new GalleryIndex({ scanner: 'js' }).kernel, 'js');
  });

  it('gives every row the same dot product as the JS loop, for odd sizes and dims', () => {
    const wasm = new WasmDotScanner(), js = new JsDotScanner();
    // Dims not a multiple of 16 exercise the zero padding; the reloads grow and shrink memory.
    for (const [n, d] of [[1, 1], [3, 5], [17, 100], [1000, 512], [5, 128], [2500, 130], [0, 64]] as const) {
      const flat = new Float32Array(n * d);
      vectors(n, d, n + d).forEach((v, i) => flat.set(v, i * d));
      wasm.load(flat, n, d);
      js.load(flat, n, d);
      const q = vectors(1, d, 99)[0]!;
      const a = new Float32Array(n).fill(NaN), b = new Float32Array(n).fill(NaN);
      wasm.scan(q, a);
      js.scan(q, b);
      for (let r = 0; r < n; r++) assert.ok(Math.abs(a[r]! - b[r]!) < 1e-5, `${n}x${d} row ${r}: ${a[r]} vs ${b[r]}`);
      if (n) assert.deepEqual([...wasm.row(n - 1)], [...js.row(n - 1)]);
    }
  });

  it('matches a self-query at similarity 1 and a stranger below threshold', () => {
    const v = vectors(300, 512, 3);
    const index = new GalleryIndex();
    index.load(rowsOf(v, 3));
    const m = index.match(v[151]!, T);
    assert.equal(m.personId, 'p50');
    assert.ok(Math.abs(m.similarity - 1) < 1e-5);
    const s = index.match(vectors(1, 512, 1234)[0]!, T);
    assert.equal(s.personId, null);
    assert.equal(s.reason, 'below-threshold');
  });

  for (const dim of [512, 128]) {
    it(`decides exactly as the JS scan on 10k random ${dim}-d embeddings (200 queries, near and far)`, () => {
      const v = vectors(10_000, dim, dim);
      const fast = new GalleryIndex(), slow = new GalleryIndex({ scanner: 'js' });
      fast.load(rowsOf(v, 2), rowsOf(v.slice(0, 40), 2));
      slow.load(rowsOf(v, 2), rowsOf(v.slice(0, 40), 2));
      const far = vectors(100, dim, 777);
      // Near queries: a stored vector plus noise, so matches, margins and negatives all occur.
      const near = vectors(100, dim, 555).map((noise, i) => normalize(v[(i * 97) % v.length]!.map((x, k) => x + 0.8 * noise[k]!)));
      const reasons = new Set<string>();
      for (const q of [...far, ...near]) {
        const a = fast.match(q, T), b = slow.match(q, T);
        assert.equal(a.candidateId, b.candidateId);
        assert.equal(a.personId, b.personId);
        assert.equal(a.reason, b.reason);
        assert.ok(Math.abs(a.similarity - b.similarity) < 1e-4 && Math.abs(a.secondSimilarity - b.secondSimilarity) < 1e-4);
        reasons.add(a.reason);
      }
      assert.ok(reasons.has('match') && reasons.has('below-threshold'), [...reasons].join());
      const sa = fast.scores(near[0]!), sb = slow.scores(near[0]!);
      assert.equal(sa.size, 5000);
      for (const [p, s] of sb) assert.ok(Math.abs(sa.get(p)! - s) < 1e-4);
    });
  }

  it('is empty before a load and after loading nothing', () => {
    const index = new GalleryIndex();
    assert.equal(index.match(new Float32Array(512), T).reason, 'empty');
    index.load(rowsOf(vectors(10, 64, 1), 1));
    index.load([]);
    assert.equal(index.size, 0);
    assert.equal(index.match(new Float32Array(64), T).reason, 'empty');
  });
});
