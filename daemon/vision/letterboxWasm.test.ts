import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { InputSpec } from '../inference/types.js';
import { LETTERBOX_WASM } from './letterboxWasmBytes.js';
import { wasmLetterboxAvailable } from './letterboxWasm.js';
import { fillInput, letterboxMeta, rectInput, useWasmLetterbox } from './preprocess.js';

const spec = (over: Partial<InputSpec>): InputSpec => ({
  name: 'images', width: 416, height: 416, layout: 'NCHW', color: 'BGR', dtype: 'float32',
  mean: [0, 0, 0], std: [1, 1, 1], resize: 'letterbox-topleft', pad: 114, ...over,
});

/** A frame with detail in every channel (so a swapped channel or an off-by-one row shows). */
function frame(width: number, height: number, extra = 0): { width: number; height: number; data: Buffer } {
  const data = Buffer.alloc(width * height * 3 + extra, 77);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 5 + y) & 255;
      data[i + 1] = (y * 7) & 255;
      data[i + 2] = ((x * y) >> 3) & 255;
    }
  }
  return { width, height, data };
}

/** The tensor of one frame, by the JavaScript loop and by WebAssembly. */
function both(img: ReturnType<typeof frame>, input: InputSpec): { js: Float32Array; wasm: Float32Array } {
  const meta = letterboxMeta(img.width, img.height, input);
  const n = input.width * input.height * 3;
  const js = new Float32Array(n).fill(NaN);
  const wasm = new Float32Array(n).fill(NaN);
  useWasmLetterbox(false);
  try {
    fillInput(img, input, meta, js);
  } finally {
    useWasmLetterbox(true);
  }
  fillInput(img, input, meta, wasm);
  return { js, wasm };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('the WebAssembly letterbox runs here (x86-64 and ARM64 have its SIMD)', () => {
  assert.ok(['x64', 'arm64'].includes(process.arch), `untested architecture ${process.arch}`);
  assert.equal(wasmLetterboxAvailable(), true);
});

test('the committed module is what letterbox.wat compiles to', () => {
  const script = fileURLToPath(new URL('../../scripts/build-wasm.mjs', import.meta.url));
  const b64 = execFileSync(process.execPath, [script, '--print'], { encoding: 'utf8' });
  assert.equal(LETTERBOX_WASM, b64, 'run `node scripts/build-wasm.mjs` after editing letterbox.wat');
});

test('WebAssembly and the JavaScript loop give the same tensor (to float rounding) for every kind of frame', () => {
  const cases: [string, ReturnType<typeof frame>, InputSpec][] = [
    ['16:9 camera, frame-aspect input, BGR 0-255', frame(640, 360), rectInput(640, 360, spec({ rectMultiple: 32 }))],
    ['720p, square, RGB normalised', frame(1280, 720), spec({ color: 'RGB', mean: [123.7, 116.3, 103.5], std: [58.4, 57.1, 57.4] })],
    ['portrait, centred', frame(300, 500), spec({ resize: 'letterbox-center', pad: 0 })],
    ['odd sizes, upscaled', frame(97, 31), spec({ width: 160, height: 128 })],
    ['one pixel', frame(1, 1), spec({ width: 32, height: 32 })],
    ['stretch, no padding', frame(333, 211), spec({ resize: 'stretch', width: 112, height: 112, color: 'RGB', mean: [127.5, 127.5, 127.5], std: [128, 128, 128] })],
    ['a reused frame buffer larger than the frame', frame(640, 360, 4096), rectInput(640, 360, spec({ rectMultiple: 32 }))],
  ];
  for (const [name, img, input] of cases) {
    const { js, wasm } = both(img, input);
    assert.ok(!wasm.some(Number.isNaN), `${name}: every value written`);
    const scale = 1 / Math.min(...input.std);
    assert.ok(maxDiff(js, wasm) <= 1e-3 * scale, `${name}: largest difference ${maxDiff(js, wasm)}`);
  }
});

test('a small frame after a large one, and the large one again, each read their own pixels and tables (the module memory is reused)', () => {
  const input = spec({ width: 64, height: 64 });
  both(frame(1920, 1080), input);
  const { js, wasm } = both(frame(50, 40), input);
  assert.ok(maxDiff(js, wasm) < 0.01);
  // ...and back: the large frame's tables are written again, not taken from the small one's.
  const again = both(frame(1920, 1080), input);
  assert.ok(maxDiff(again.js, again.wasm) < 0.01);
});
