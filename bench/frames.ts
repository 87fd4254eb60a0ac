/**
 * `npm run bench -- frames`: the same 200 frames (the street clip at 10 fps) through
 * `/ws/detect` and `POST /api/analyze/detect`, on loopback and through a proxy that
 * delays every chunk 15 ms each way (like `tc netem delay 15ms` on lo), plus the
 * model-only time of the same frames. Latency = send to reply, one frame at a time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer as createTcpServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { analyzerRegistry, createDetectAnalyzer, DETECT_CLASSES } from '../daemon/analytics/frameAnalyzers.js';
import { createObjectDetector } from '../daemon/detectors/objectDetector.js';
import { InferenceEngine } from '../daemon/inference/engine.js';
import { silentLogger } from '../daemon/log.js';
import { registerAnalyzeRoutes } from '../daemon/server/frameSockets/analyzeRoutes.js';
import { registerFrameSockets } from '../daemon/server/frameSockets/frameSockets.js';
import { createServer } from '../daemon/server/server.js';
import { decodeImage } from '../daemon/vision/codec.js';
import { mediaPath, modelMirror } from '../test/helpers/paths.js';

const FRAMES = 200;
const DELAY_MS = 15;
const TOKEN = 'bench';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const fmt = (v: number): string => v.toFixed(1).padStart(7);

/** 200 JPEG frames of the street clip (ffmpeg), or the test photos cycled when ffmpeg is missing. */
function loadFrames(dir: string): Buffer[] {
  try {
    execFileSync('ffmpeg', ['-loglevel', 'error', '-i', mediaPath('video_street_pedestrians_640x360.mp4'), '-vf', 'fps=10', '-frames:v', String(FRAMES), '-q:v', '4', join(dir, 'f%03d.jpg')]);
    const files = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort();
    if (files.length >= FRAMES) return files.slice(0, FRAMES).map((f) => readFileSync(join(dir, f)));
  } catch {
    // fall through
  }
  const photos = ['coco_people_car_000000009891.jpg', 'coco_bus_000000001584.jpg', 'pedestrians_hall_mpcount_test.jpg'].map((n) => readFileSync(mediaPath(n)));
  return Array.from({ length: FRAMES }, (_, i) => photos[i % photos.length]!);
}

/** A TCP proxy that holds every chunk `delayMs` in each direction; the first bytes also wait one round trip, like a SYN/SYN-ACK would. */
function delayingProxy(target: number, delayMs: number): Promise<{ port: number; server: Server }> {
  const server = createTcpServer((client) => {
    client.setNoDelay(true);
    const upstream = connect(target, '127.0.0.1');
    upstream.setNoDelay(true);
    const opened = Date.now();
    const pipe = (from: Socket, to: Socket): void => {
      from.on('data', (chunk) => {
        const handshake = Math.max(0, opened + 2 * delayMs - Date.now());
        setTimeout(() => to.writable && to.write(chunk), delayMs + handshake);
      });
      from.on('end', () => setTimeout(() => to.end(), delayMs));
      from.on('error', () => to.destroy());
    };
    pipe(client, upstream);
    pipe(upstream, client);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server })));
}

/** A WebSocket client that sends one frame and waits for its result. */
async function wsClient(port: number): Promise<{ send(f: Buffer): Promise<number>; close(): void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/detect?authorization=${TOKEN}`);
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const replies: ((m: string) => void)[] = [];
  ws.on('message', (d) => {
    const text = d.toString();
    if (text.includes('"type":"status"')) return;
    replies.shift()?.(text);
  });
  return {
    async send(f) {
      const t0 = performance.now();
      const reply = new Promise<string>((r) => replies.push(r));
      ws.send(JSON.stringify({ action: 'start_frame', fileSize: f.length }));
      ws.send(f, { binary: true });
      const text = await reply;
      if (!text.includes('"type":"result"')) throw new Error(`unexpected reply: ${text.slice(0, 200)}`);
      return performance.now() - t0;
    },
    close: () => ws.close(),
  };
}

/** POSTs one frame; with `agent` false a new TCP connection per frame, as a plain HTTP client does. */
function restSend(port: number, f: Buffer, agent: Agent | false): Promise<number> {
  const t0 = performance.now();
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/analyze/detect', agent, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'image/jpeg', 'content-length': f.length } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`))));
    });
    req.on('error', reject);
    req.end(f);
  });
}

/** Runs the benchmark and prints a table. */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-frames-'));
  const log = silentLogger();
  const engine = new InferenceEngine({ log, dataDir: dir, mirrorDir: modelMirror(), providers: ['cpu'], threads: { intraOp: 2, interOp: 1 } });
  const server = createServer({ host: '127.0.0.1', port: 0, tokens: [TOKEN], adminToken: 'bench-admin', log, store: { scan: () => [], lastSeq: () => 0 } });
  let proxy: Server | undefined;
  try {
    const frames = loadFrames(dir);
    const runner = await engine.forRole('person-detector');
    const detect = createDetectAnalyzer(createObjectDetector(runner, { classes: [...DETECT_CLASSES] }));
    const analyzers = analyzerRegistry([detect]);
    const sockets = registerFrameSockets(server.app, { analyzers, tokens: [TOKEN], log, limits: { maxFps: 0 } });
    registerAnalyzeRoutes(server.routes, analyzers, {}, { gate: sockets.gate, log });
    await server.start();
    const kb = frames.reduce((n, f) => n + f.length, 0) / frames.length / 1024;
    console.log(`${frames.length} frames, mean ${kb.toFixed(1)} KB, model ${runner.spec.name} on ${runner.provider}`);

    // Model only: decode outside the timer, analyze inside.
    const decodeMs: number[] = [];
    const modelMs: number[] = [];
    for (const f of frames) {
      const t0 = performance.now();
      const img = await decodeImage(f);
      const t1 = performance.now();
      await detect.analyze(img);
      modelMs.push(performance.now() - t1);
      decodeMs.push(t1 - t0);
    }

    const rows: [string, number[]][] = [['model only (detect.analyze)', modelMs], ['JPEG decode only', decodeMs]];
    const p = await delayingProxy(server.port(), DELAY_MS);
    proxy = p.server;
    for (const [label, port] of [['loopback', server.port()], [`+${DELAY_MS} ms each way`, p.port]] as const) {
      const ws = await wsClient(port);
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      for (const f of frames.slice(0, 10)) await ws.send(f); // warm-up
      const w: number[] = [], ka: number[] = [], fresh: number[] = [];
      // Interleaved frame by frame: the box is shared, so load drifts hit all three alike.
      for (const f of frames) {
        w.push(await ws.send(f));
        ka.push(await restSend(port, f, agent));
        fresh.push(await restSend(port, f, false));
      }
      ws.close();
      agent.destroy();
      rows.push([`${label}: WebSocket`, w], [`${label}: REST keep-alive`, ka], [`${label}: REST new connection`, fresh]);
    }
    console.log(`${'path'.padEnd(40)}    p50     p99    mean`);
    for (const [label, xs] of rows) console.log(`${label.padEnd(40)}${fmt(pct(xs, 50))} ${fmt(pct(xs, 99))} ${fmt(xs.reduce((a, b) => a + b, 0) / xs.length)}`);
    const p50 = (label: string): number => pct(rows.find((r) => r[0] === label)![1], 50);
    for (const net of ['loopback', `+${DELAY_MS} ms each way`]) {
      console.log(`${net}: WebSocket/REST p50 ratio = ${(p50(`${net}: WebSocket`) / p50(`${net}: REST keep-alive`)).toFixed(2)} (keep-alive), ${(p50(`${net}: WebSocket`) / p50(`${net}: REST new connection`)).toFixed(2)} (new connection)`);
    }
    sockets.close();
  } finally {
    proxy?.close();
    await server.stop();
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
