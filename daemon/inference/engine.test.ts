import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { pino } from 'pino';
import { ModelCatalog } from '../../models/catalog.js';
import { BUILTIN_MODELS } from '../../models/manifest.js';
import { mediaPath, modelMirror } from '../../test/helpers/paths.js';
import { silentLogger, type Logger } from '../log.js';
import { readImageFile } from '../vision/codec.js';
import { prepareInput } from '../vision/preprocess.js';
import { InferenceEngine, type InferenceEngineOptions } from './engine.js';
import { buildOnnxModel } from './onnxBuilder.js';
import type { ModelSpec } from './types.js';

const dirs: string[] = [];
const engines: InferenceEngine[] = [];
function makeEngine(o: Partial<InferenceEngineOptions> = {}): InferenceEngine {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-engine-'));
  dirs.push(dataDir);
  const e = new InferenceEngine({ log: silentLogger(), dataDir, mirrorDir: modelMirror(), providers: ['cpu'], threads: { intraOp: 1, interOp: 1 }, ...o });
  engines.push(e);
  return e;
}
after(async () => {
  for (const e of engines) await e.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A logger whose JSON lines we can read. */
function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); cb(); } });
  return { log: pino({ level: 'info' }, sink) as unknown as Logger, lines };
}

test('asking for cuda first on a machine without it still runs on CPU, and says so once', async () => {
  const { log, lines } = capture();
  const engine = makeEngine({ log, providers: ['cuda', 'cpu'] });
  const a = await engine.get('light_person_detector');
  const b = await engine.get('yolox_nano');
  assert.equal(a.provider, 'cpu');
  assert.equal(b.provider, 'cpu');
  const warnings = lines.filter((l) => l.provider === 'cuda' && /not available/.test(String(l.msg)));
  assert.equal(warnings.length, 1, 'the missing provider is logged once, not per model');
  assert.ok(lines.some((l) => /loaded on cpu/.test(String(l.msg))));
});

test('onnxruntime can be loaded from a custom build directory; a bad path is a clear load error', async () => {
  const custom = makeEngine({ ortModulePath: join(process.cwd(), 'node_modules', 'onnxruntime-node') });
  assert.equal((await custom.get('light_person_detector')).provider, 'cpu');
  const bad = makeEngine({ ortModulePath: '/nonexistent/onnxruntime-node' });
  await assert.rejects(bad.get('light_person_detector'), (err: Error & { code?: string }) => err.code === 'VIGIL_ERR_MODEL_LOAD' && err.message.includes('/nonexistent/onnxruntime-node'));
});

test('one session per model: concurrent gets share one runner', async () => {
  const engine = makeEngine();
  const [a, b] = await Promise.all([engine.get('light_person_detector'), engine.forRole('person-detector').then(() => engine.get('light_person_detector'))]);
  assert.equal(a, b);
});

test('model errors are clear: unknown name, missing file, wrong input shape for its family', async () => {
  const engine = makeEngine();
  await assert.rejects(engine.get('no_such_model'), { code: 'VIGIL_ERR_MODEL_UNKNOWN' });
  const yolox = BUILTIN_MODELS.find((m) => m.name === 'yolox_nano')!;
  const catalog = new ModelCatalog([
    { ...yolox, name: 'absent', file: 'absent.onnx' },
    { ...yolox, name: 'yolox_wrong_size', input: { ...yolox.input, width: 640, height: 640 } },
  ]);
  const e2 = makeEngine({ catalog });
  await assert.rejects(e2.get('absent'), (err: Error & { code?: string }) => err.code === 'VIGIL_ERR_MODEL_MISSING' && /absent\.onnx/.test(err.message));
  await assert.rejects(e2.get('yolox_wrong_size'), (err: Error & { code?: string }) => err.code === 'VIGIL_ERR_MODEL_SHAPE' && /416/.test(err.message));
  await assert.rejects(engine.forRole('plate-detector'), (err: Error & { code?: string }) => err.code === 'VIGIL_ERR_MODEL_UNKNOWN' && /plate_detect_yolov5_cn/.test(err.message));
});

test('frames from several callers are batched on a dynamic-batch model, with the same answers as alone', async () => {
  const engine = makeEngine({ batch: { maxBatch: 4, maxWaitMs: 50 } });
  const ocr = await engine.get('plate_ocr_cct_xs_v1_global');
  const a = await readImageFile(mediaPath('plate_crop_latin_KRW301.png'));
  const b = await readImageFile(mediaPath('plate_crop_latin_AD799KB.png'));
  const read = (out: Record<string, ort.Tensor>): string => {
    const t = out['Identity:0']!;
    const [, slots, n] = t.dims as [number, number, number];
    const d = t.data as Float32Array;
    let s = '';
    for (let i = 0; i < slots; i++) {
      let best = 0;
      for (let c = 1; c < n; c++) if (d[i * n + c]! > d[i * n + best]!) best = c;
      s += ocr.spec.labels![best];
    }
    return s.replace(/_+$/, '');
  };
  const alone = read(await ocr.run({ input: prepareInput(a, ocr.spec.input).tensor }));
  assert.equal(alone, 'KRW301');
  const before = engine.metrics().find((m) => m.model === ocr.spec.name)!;
  const imgs = [a, b, a, b];
  const outs = await Promise.all(imgs.map((img, i) => ocr.run({ input: prepareInput(img, ocr.spec.input).tensor }, { stream: `cam${i}` })));
  assert.deepEqual(outs.map(read), ['KRW301', 'AD799KB', 'KRW301', 'AD799KB']);
  const m = engine.metrics().find((x) => x.model === ocr.spec.name)!;
  assert.equal(m.inferences - before.inferences, 4);
  assert.ok(m.batches - before.batches < 4, `4 frames in ${m.batches - before.batches} batches`);
});

test('when inference cannot keep up, the oldest frames of the busiest stream are dropped and counted', async () => {
  const engine = makeEngine({ queueDepth: 2 });
  const det = await engine.get('yolox_nano');
  const img = await readImageFile(mediaPath('coco_cars_freeway_000000001532.jpg'));
  // One stream floods 12 frames at once; another sends one.
  const flood = Array.from({ length: 12 }, () => det.run({ images: prepareInput(img, det.spec.input).tensor }, { stream: 'flood' }).then(() => 'ok', (e: { code?: string }) => e.code));
  const calm = det.run({ images: prepareInput(img, det.spec.input).tensor }, { stream: 'calm' }).then(() => 'ok', (e: { code?: string }) => e.code);
  const results = await Promise.all([...flood, calm]);
  const dropped = results.filter((r) => r === 'VIGIL_ERR_INFERENCE_DROPPED').length;
  assert.ok(dropped >= 8, `dropped ${dropped}`);
  assert.equal(await calm, 'ok', 'the calm stream is not starved by the flooding one');
  assert.equal(results.filter((r) => r !== 'ok' && r !== 'VIGIL_ERR_INFERENCE_DROPPED').length, 0);
  const m = engine.metrics().find((x) => x.model === 'yolox_nano')!;
  assert.equal(m.drops, dropped);
  assert.equal(m.dropsByStream.flood, dropped);
  assert.equal(m.queueDepth, 0);
  assert.ok(m.p50Ms > 0 && m.p99Ms >= m.p50Ms);
});

test('inference runs off the event loop: timers keep firing during a burst of runs', async () => {
  const engine = makeEngine({ queueDepth: 64 });
  const det = await engine.get('nanodet_m_416');
  const img = await readImageFile(mediaPath('coco_cars_freeway_000000001532.jpg'));
  let ticks = 0;
  const iv = setInterval(() => ticks++, 1);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 8 }, () => det.run({ 'input.1': prepareInput(img, det.spec.input).tensor })));
  const elapsed = performance.now() - t0;
  clearInterval(iv);
  // A blocked loop would fire ~8 times (once between runs); a free one fires about once a ms.
  assert.ok(ticks > elapsed / 10, `${ticks} timer ticks in ${elapsed.toFixed(0)} ms`);
});

test('stop() rejects later calls clearly', async () => {
  const engine = makeEngine();
  const r = await engine.get('light_person_detector');
  await engine.stop();
  await assert.rejects(r.run({ images: new ort.Tensor('float32', new Float32Array(3 * 192 * 192), [1, 3, 192, 192]) }), { code: 'VIGIL_ERR_INFERENCE_STOPPED' });
  await assert.rejects(engine.get('yolox_nano'), { code: 'VIGIL_ERR_INFERENCE_STOPPED' });
});

test('sessions built with spinning off (a shared thread budget) still read plates right, and the load log says so', async () => {
  const { log, lines } = capture();
  const engine = makeEngine({ log, threads: { intraOp: 1, interOp: 1, spinning: false } });
  const ocr = await engine.get('plate_ocr_cct_xs_v1_global');
  const img = await readImageFile(mediaPath('plate_crop_latin_KRW301.png'));
  const out = (await ocr.run({ input: prepareInput(img, ocr.spec.input).tensor }))['Identity:0']!;
  const [, slots, n] = out.dims as [number, number, number];
  const d = out.data as Float32Array;
  let s = '';
  for (let i = 0; i < slots; i++) {
    let best = 0;
    for (let c = 1; c < n; c++) if (d[i * n + c]! > d[i * n + best]!) best = c;
    s += ocr.spec.labels![best];
  }
  assert.equal(s.replace(/_+$/, ''), 'KRW301');
  const loaded = lines.find((l) => /loaded on cpu/.test(String(l.msg)));
  assert.deepEqual((loaded?.threads as { spinning?: boolean } | undefined)?.spinning, false);
});

test('output buffers handed back travel to the worker and are written again by later runs with their own results; a dynamic-size model keeps working across sizes', async () => {
  const engine = makeEngine();
  const det = await engine.get('yolox_nano');
  const img = await readImageFile(mediaPath('coco_people_car_000000009891.jpg'));
  const other = await readImageFile(mediaPath('coco_bus_000000001584.jpg'));
  const feed = (im = img) => ({ [det.spec.input.name]: prepareInput(im, det.spec.input).tensor });
  const first = await det.run(feed());
  const expected = Float32Array.from(first.output!.data as Float32Array);
  const expectedOther = Float32Array.from((await det.run(feed(other))).output!.data as Float32Array);
  assert.notDeepEqual(expectedOther, expected);
  for (let i = 0; i < 4; i++) {
    // Alternate images: a buffer written in place must hold this run's outputs, not the last ones.
    const out = await det.run(feed(i % 2 ? img : other));
    assert.deepEqual(Float32Array.from(out.output!.data as Float32Array), i % 2 ? expected : expectedOther, `run ${i + 3} gives its own outputs`);
    det.recycle!(out);
  }
  det.recycle!(first);
  const next = det.run(feed(other));
  // Handed to the inference thread with that run: the caller's view is detached.
  assert.equal((first.output!.data as Float32Array).byteLength, 0, 'a recycled buffer travels back to the worker');
  assert.deepEqual(Float32Array.from((await next).output!.data as Float32Array), expectedOther, 'written in place, correctly');

  // A dynamic-size model: buffers recycled at one size are written again at that size (second
  // run) and must not break another size (third run) or the return to the first (fourth).
  const yunet = await engine.get('yunet_2023mar');
  const sizes = [[320, 320], [320, 320], [640, 480], [320, 320]] as const;
  const dims: string[] = [];
  const values: Float32Array[] = [];
  for (const [w, h] of sizes) {
    const out = await yunet.run({ [yunet.spec.input.name]: prepareInput(img, { ...yunet.spec.input, width: w, height: h }).tensor });
    dims.push(Object.values(out).map((t) => t.dims.join('x')).join(','));
    values.push(Float32Array.from(Object.values(out).flatMap((t) => [...(t.data as Float32Array)])));
    yunet.recycle!(out);
  }
  assert.equal(dims[0], dims[3]);
  assert.notEqual(dims[0], dims[2]);
  assert.deepEqual(values[1], values[0], 'the same input gives the same outputs in recycled buffers');
  assert.deepEqual(values[3], values[0]);
});

test('a rectMultiple model is loaded with its size freed only when its graph runs at another size; otherwise at its fixed size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rect-'));
  const input = { name: 'image', width: 16, height: 16, layout: 'NCHW', color: 'RGB', dtype: 'float32', mean: [0, 0, 0], std: [1, 1, 1], resize: 'letterbox-topleft', pad: 0, rectMultiple: 4 } as const;
  const entry = (name: string, bytes: Uint8Array): ModelSpec => {
    writeFileSync(join(dir, `${name}.onnx`), bytes);
    return {
      name, role: 'crowd-density', family: 'density', file: `${name}.onnx`, licence: 'test', permissive: true, outputs: ['density'], input: { ...input, mean: [0, 0, 0], std: [1, 1, 1] },
      source: { kind: 'file', path: join(dir, `${name}.onnx`) }, sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  };
  // Shape-free: a 4x4 average pool. Fixed inside: flatten, then a 768x4 matrix (16x16x3 values only).
  const pool = buildOnnxModel({
    inputs: [{ name: 'image', dims: [1, 3, 16, 16] }], outputs: [{ name: 'density', dims: [1, 3, 4, 4] }],
    nodes: [{ op: 'AveragePool', inputs: ['image'], outputs: ['density'], attrs: { kernel_shape: [4, 4], strides: [4, 4] } }],
  });
  const dense = buildOnnxModel({
    inputs: [{ name: 'image', dims: [1, 3, 16, 16] }], outputs: [{ name: 'density', dims: [1, 4, 1, 1] }], opset: 11,
    initializers: [{ name: 'w', dims: [768, 4], values: new Array(768 * 4).fill(0.01) }],
    nodes: [
      { op: 'Flatten', inputs: ['image'], outputs: ['flat'], attrs: { axis: 1 } },
      { op: 'MatMul', inputs: ['flat', 'w'], outputs: ['m'] },
      { op: 'Unsqueeze', inputs: ['m'], outputs: ['density'], attrs: { axes: [2, 3] } },
    ],
  });
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, new Writable({ write(c, _e, cb) { lines.push(JSON.parse(String(c))); cb(); } })) as unknown as Logger;
  const e = new InferenceEngine({ log, dataDir: dir, providers: ['cpu'], threads: { intraOp: 1, interOp: 1 }, catalog: new ModelCatalog([entry('pool', pool), entry('dense', dense)]) });
  try {
    const p = await e.get('pool');
    assert.equal(p.freeSize, true);
    assert.deepEqual((await p.run({ image: new ort.Tensor('float32', new Float32Array(3 * 8 * 16), [1, 3, 8, 16]) })).density!.dims, [1, 3, 2, 4]);
    const d = await e.get('dense');
    assert.equal(d.freeSize, false, 'the fixed-size graph falls back to the file as it is');
    assert.deepEqual((await d.run({ image: new ort.Tensor('float32', new Float32Array(768), [1, 3, 16, 16]) })).density!.dims, [1, 4, 1, 1]);
    const said = (m: string) => lines.find((l) => l.model === m && /loaded on cpu/.test(String(l.msg)))?.inputSize;
    assert.equal(said('pool'), 'frame aspect, up to 16x16');
    assert.equal(said('dense'), '16x16');
  } finally {
    await e.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a model shared by streams runs on several CPU sessions: frames spread over them with the same answers, and stop lets the running ones finish', async () => {
  const { log, lines } = capture();
  const engine = makeEngine({ log, threads: { intraOp: 2, interOp: 1 }, sessions: () => ({ replicas: 2, intraOp: 1, spinning: false }) });
  const det = await engine.get('yolox_nano');
  const img = await readImageFile(mediaPath('coco_cars_freeway_000000001532.jpg'));
  const feed = () => ({ images: prepareInput(img, det.spec.input).tensor });
  const alone = Array.from((await det.run(feed())).output!.data as Float32Array);
  const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => det.run(feed(), { stream: `cam${i % 4}` })));
  for (const o of outs) assert.deepEqual(Array.from(o.output!.data as Float32Array), alone, 'every session gives the same answer');
  const m = engine.metrics().find((x) => x.model === 'yolox_nano')!;
  assert.equal(m.sessionBatches.length, 2);
  assert.ok(m.sessionBatches.every((n) => n >= 2), `frames of four streams spread over both sessions: ${m.sessionBatches.join(', ')}`);
  assert.ok(lines.some((l) => l.sessions === 2 && /2 sessions of 1 thread/.test(String(l.msg))), 'the load log says how the model runs');
  // Three frames in flight: two on the first session, one on the second, which ends its run and
  // exits first; stopping must still let the first session finish both of its frames.
  const running = Array.from({ length: 3 }, (_, i) => det.run(feed(), { stream: `cam${i}` }).then(() => 'ok', (e: { code?: string }) => e.code));
  await engine.stop();
  assert.deepEqual(await Promise.all(running), ['ok', 'ok', 'ok']);
});

test('a new session plan (streams added, then removed) replaces the sessions while frames flow: none lost, same answers', async () => {
  const { log, lines } = capture();
  let plan = { replicas: 1, intraOp: 2, spinning: false };
  const engine = makeEngine({ log, threads: { intraOp: 2, interOp: 1 }, sessions: () => plan });
  const det = await engine.get('yolox_nano');
  const img = await readImageFile(mediaPath('coco_cars_freeway_000000001532.jpg'));
  const feed = () => ({ images: prepareInput(img, det.spec.input).tensor });
  const digest = (o: Record<string, ort.Tensor>) => createHash('sha1').update(o.output!.data as Float32Array).digest('hex');
  const alone = digest(await det.run(feed()));
  // Four streams keep frames coming (one in flight each) while the plan changes twice.
  let flowing = true;
  const answers: string[] = [];
  const stream = async (i: number) => {
    while (flowing) {
      const o = await det.run(feed(), { stream: `cam${i}` }).catch((e: { code?: string }) => e.code ?? 'error');
      answers.push(typeof o === 'string' ? o : digest(o) === alone ? 'same' : 'different');
    }
  };
  const streams = Array.from({ length: 4 }, (_, i) => stream(i));
  await new Promise((r) => setTimeout(r, 200));
  await engine.replan(); // nothing changed: nothing restarts
  assert.equal(lines.filter((l) => /now runs/.test(String(l.msg))).length, 0);
  plan = { replicas: 2, intraOp: 1, spinning: false };
  const sessions = () => engine.metrics().find((x) => x.model === 'yolox_nano')!.sessionBatches;
  await engine.replan();
  assert.equal(sessions().length, 2);
  await new Promise((r) => setTimeout(r, 400));
  const two = sessions();
  assert.ok(two.every((n) => n > 0), `both new sessions take frames: ${two.join(', ')}`);
  plan = { replicas: 1, intraOp: 2, spinning: false };
  await engine.replan();
  await new Promise((r) => setTimeout(r, 200));
  flowing = false;
  await Promise.all(streams);
  assert.equal(sessions().length, 1);
  assert.ok(answers.length > 20, `frames kept flowing: ${answers.length}`);
  assert.deepEqual([...new Set(answers)], ['same'], 'no frame rejected or answered differently across the swaps');
  assert.ok(lines.some((l) => /now runs 2 session\(s\) of 1 thread\(s\) \(was 1 of 2\)/.test(String(l.msg))), 'the log says what changed');
  assert.ok(lines.some((l) => /now runs 1 session\(s\) of 2 thread\(s\) \(was 2 of 1\)/.test(String(l.msg))));
});

test('re-plans in quick succession settle on the last plan, and a stop in the middle of one ends every session', async () => {
  let n = 0;
  const plans = [{ replicas: 1, intraOp: 2, spinning: false }, { replicas: 2, intraOp: 1, spinning: false }, { replicas: 3, intraOp: 1, spinning: false }];
  const engine = makeEngine({ threads: { intraOp: 2, interOp: 1 }, sessions: () => plans[n % 3]! });
  const det = await engine.get('yolox_nano');
  const img = await readImageFile(mediaPath('coco_cars_freeway_000000001532.jpg'));
  const feed = () => ({ images: prepareInput(img, det.spec.input).tensor });
  let flowing = true;
  const answers = new Map<string, number>();
  const stream = async (i: number) => {
    while (flowing) {
      const a = await det.run(feed(), { stream: `cam${i}` }).then(() => 'ok', (e: { code?: string }) => e.code ?? 'error');
      answers.set(a, (answers.get(a) ?? 0) + 1);
      if (a !== 'ok') await new Promise((r) => setTimeout(r, 5));
    }
  };
  const streams = Array.from({ length: 4 }, (_, i) => stream(i));
  for (let k = 0; k < 7; k++) {
    n++;
    void engine.replan();
    await new Promise((r) => setTimeout(r, 100));
  }
  await engine.replan();
  assert.equal(engine.metrics()[0]!.sessionBatches.length, 2, 'the last plan (two sessions) holds');
  assert.deepEqual([...answers.keys()], ['ok'], 'no frame lost while the plans changed');
  n++;
  void engine.replan(); // three sessions starting...
  await new Promise((r) => setTimeout(r, 50));
  await engine.stop(); // ...when the daemon stops
  flowing = false;
  await Promise.all(streams);
  assert.deepEqual([...answers.keys()].sort(), ['VIGIL_ERR_INFERENCE_STOPPED', 'ok'], 'after the stop, frames are turned away clearly');
});
