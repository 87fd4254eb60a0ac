/**
 * Dot products of one query against every row of a gallery matrix: the hot loop of
 * face matching (10k rows x 512 dims = 5M multiply-adds per face).
 *
 * `WasmDotScanner` runs it in a tiny hand-assembled WebAssembly SIMD kernel (4 x f32x4
 * accumulators, 16 floats per step): ~10x faster than the JS loop at 10k x 512
 * (0.6 vs 6.4 ms, `npm run bench -- faces`) and still synchronous, so
 * GalleryIndex.match keeps its API. (An ORT MatMul measured 0.8 ms but its run is
 * async.) The gallery lives in the module's memory (no copy per query; the memory
 * grows with the gallery and is not shrunk). `JsDotScanner` is the plain loop: the fallback where
 * WebAssembly SIMD is missing, and the reference the benchmark and tests compare with.
 * Sums differ from the JS loop's only by rounding order (~1e-7); GalleryIndex re-scores
 * the two leading persons with the JS `dot`, so reported similarities are identical.
 */

/** Fills `out[r]` with the dot product of the query and row r. */
export interface DotScanner {
  readonly kind: 'wasm-simd' | 'js';
  /** Copies `rows` (n x d, row-major) in; replaces what was loaded. */
  load(rows: Float32Array, n: number, d: number): void;
  /** out[r] = q · row r, for r < n (`out.length >= n`). */
  scan(q: Float32Array, out: Float32Array): void;
  /** Row r as loaded (a view, for exact checks of single rows). */
  row(r: number): Float32Array;
}

/** The plain JS loop, unrolled by 4. */
export class JsDotScanner implements DotScanner {
  readonly kind = 'js' as const;
  private rows: Float32Array = new Float32Array(0);
  private n = 0;
  private d = 0;

  load(rows: Float32Array, n: number, d: number): void {
    this.rows = rows.subarray(0, n * d); // GalleryIndex hands over a fresh array: no copy
    this.n = n;
    this.d = d;
  }

  scan(q: Float32Array, out: Float32Array): void {
    const rows = this.rows, d = this.d;
    for (let r = 0, off = 0; r < this.n; r++, off += d) out[r] = dot(q, rows, off, d);
  }

  row(r: number): Float32Array {
    return this.rows.subarray(r * this.d, (r + 1) * this.d);
  }
}

/** Dot product of `a` with `b[off .. off+d)`, unrolled by 4. */
export function dot(a: Float32Array, b: Float32Array, off: number, d: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 3 < d; i += 4) {
    s0 += a[i]! * b[off + i]!;
    s1 += a[i + 1]! * b[off + i + 1]!;
    s2 += a[i + 2]! * b[off + i + 2]!;
    s3 += a[i + 3]! * b[off + i + 3]!;
  }
  for (; i < d; i++) s0 += a[i]! * b[off + i]!;
  return s0 + s1 + s2 + s3;
}

// --- WebAssembly kernel -------------------------------------------------------------

const SIMD = 0xfd;
/** LEB128 of an unsigned 32-bit value. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [s.length, ...Buffer.from(s, 'ascii')];

/**
 * `scores(q, g, out, n, rowBytes)`: for r < n, f32 out[r] = Σ q[i]·g[r][i], rows of
 * `rowBytes` (a multiple of 64: 16 floats per step, the caller zero-pads). Pointers are
 * byte offsets into the imported memory `env.mem`, 16-byte aligned.
 */
function kernelBytes(): Uint8Array {
  const Q = 0, G = 1, OUT = 2, N = 3, RB = 4, R = 5, I = 6, A0 = 7; // locals
  const get = (l: number): number[] => [0x20, l];
  const set = (l: number): number[] => [0x21, l];
  const load = (offset: number): number[] => [SIMD, 0x00, 4, ...uleb(offset)]; // v128.load align=16
  const f32x4Add = [SIMD, ...uleb(0xe4)], f32x4Mul = [SIMD, ...uleb(0xe6)];
  const lane = (k: number): number[] => [SIMD, 0x1f, k]; // f32x4.extract_lane
  const zero = [SIMD, 0x0c, ...new Array(16).fill(0)]; // v128.const 0
  const body: number[] = [
    2, 2, 0x7f, 4, 0x7b, // locals: 2 x i32 (r, i), 4 x v128 (accumulators)
    0x02, 0x40, 0x03, 0x40, // block, loop over rows
    ...get(R), ...get(N), 0x4f, 0x0d, 1, // r >= n: exit
    ...zero, ...set(A0), ...zero, ...set(A0 + 1), ...zero, ...set(A0 + 2), ...zero, ...set(A0 + 3),
    0x41, 0, ...set(I),
    0x02, 0x40, 0x03, 0x40, // block, loop over 16-float steps
    ...get(I), ...get(RB), 0x4f, 0x0d, 1, // i >= rowBytes: exit
  ];
  for (let k = 0; k < 4; k++) {
    // acc_k += g[i + 16k] * q[i + 16k]
    body.push(...get(A0 + k), ...get(G), ...get(I), 0x6a, ...load(16 * k), ...get(Q), ...get(I), 0x6a, ...load(16 * k), ...f32x4Mul, ...f32x4Add, ...set(A0 + k));
  }
  body.push(
    ...get(I), 0x41, 0xc0, 0x00, 0x6a, ...set(I), // i += 64 (i32.const takes signed LEB128: 64 is 0xc0 0x00)
    0x0c, 0, 0x0b, 0x0b, // br loop; end loop; end block

    ...get(OUT), ...get(R), 0x41, 2, 0x74, 0x6a, // &out[r] = out + (r << 2)
    ...get(A0), ...get(A0 + 1), ...f32x4Add, ...get(A0 + 2), ...get(A0 + 3), ...f32x4Add, ...f32x4Add, ...set(A0),
    ...get(A0), ...lane(0), ...get(A0), ...lane(1), 0x92, ...get(A0), ...lane(2), ...get(A0), ...lane(3), 0x92, 0x92,
    0x38, 2, 0, // f32.store align=4 offset=0
    ...get(G), ...get(RB), 0x6a, ...set(G), // g += rowBytes
    ...get(R), 0x41, 1, 0x6a, ...set(R), // r++
    0x0c, 0, 0x0b, 0x0b, // br rows; end loop; end block
    0x0b, // end function
  );
  const code = [1, ...uleb(body.length), ...body];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]), // type: (i32 x5) -> ()
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]), // import memory, min 1 page
    ...section(3, [1, 0]), // one function of type 0
    ...section(7, [1, ...name('scores'), 0x00, 0]), // export it
    ...section(10, code),
  ]);
}

/** The few WebAssembly JS-API members used here (the project's TS libs declare none). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (mod: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number }) => WasmMemory;
}
const WASM = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;
/** The compiled kernel, or null where WebAssembly SIMD is unavailable. */
function kernelModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = WASM ? new WASM.Module(kernelBytes()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** True when the WebAssembly SIMD kernel compiles here. */
export function wasmSimdAvailable(): boolean {
  return kernelModule() !== null;
}

const PAGE = 65536;
const STEP = 16; // floats per kernel step: rows are zero-padded to a multiple

/** The WebAssembly SIMD scanner; throws where `wasmSimdAvailable()` is false. */
export class WasmDotScanner implements DotScanner {
  readonly kind = 'wasm-simd' as const;
  private memory: WasmMemory;
  private fn: (q: number, g: number, out: number, n: number, rowBytes: number) => void;
  private n = 0;
  private d = 0;
  private stride = 0; // padded row length in floats
  private qOff = 0;
  private outOff = 0;
  private gOff = 0;

  constructor() {
    const mod = kernelModule();
    if (!mod) throw new Error('WebAssembly SIMD is not available');
    this.memory = new WASM!.Memory({ initial: 1 });
    this.fn = this.instantiate(mod);
  }

  private instantiate(mod: object): WasmDotScanner['fn'] {
    const inst = new WASM!.Instance(mod, { env: { mem: this.memory } });
    return inst.exports.scores as WasmDotScanner['fn'];
  }

  load(rows: Float32Array, n: number, d: number): void {
    const stride = Math.ceil(Math.max(1, d) / STEP) * STEP;
    // Layout (bytes): query [stride floats] | out [n, rounded to 4] | gallery [n x stride].
    const qOff = 0, outOff = stride * 4, gOff = outOff + Math.ceil(n / 4) * 16;
    const bytes = gOff + n * stride * 4;
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    const f = new Float32Array(this.memory.buffer);
    f.fill(0, 0, bytes / 4); // padding lanes must be zero
    if (stride === d) f.set(rows.subarray(0, n * d), gOff / 4);
    else for (let r = 0; r < n; r++) f.set(rows.subarray(r * d, (r + 1) * d), gOff / 4 + r * stride);
    Object.assign(this, { n, d, stride, qOff, outOff, gOff });
  }

  scan(q: Float32Array, out: Float32Array): void {
    if (this.n === 0) return;
    // Views are re-made per call: memory.grow detaches the old buffer.
    const f = new Float32Array(this.memory.buffer);
    f.set(q.subarray(0, this.d), this.qOff / 4);
    this.fn(this.qOff, this.gOff, this.outOff, this.n, this.stride * 4);
    out.set(f.subarray(this.outOff / 4, this.outOff / 4 + this.n));
  }

  row(r: number): Float32Array {
    const start = this.gOff / 4 + r * this.stride;
    return new Float32Array(this.memory.buffer).subarray(start, start + this.d);
  }
}

/** The fastest scanner available here (wasm-simd, else js); `prefer: 'js'` forces the loop. */
export function createDotScanner(prefer: 'auto' | 'js' = 'auto'): DotScanner {
  return prefer === 'auto' && wasmSimdAvailable() ? new WasmDotScanner() : new JsDotScanner();
}
