// `npm run bench -- latency [--load] [--full]`: a frame leaves ffmpeg (the time the daemon read
// it, the event's `timestamp`) → its event reaches a subscriber in another process: p50/p99,
// beside the model's own run time (engine p50) in the same run. People counting on the street
// clip read at its own pace, fps 5 (its default events: one per person, summaries every 10 s;
// ~1.5 events a second per stream, hence 20 s windows); 1 and 4 streams (--full adds 8).
// Event-loop lag p99 and the main thread's GC share alongside.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mediaPath } from '../test/helpers/paths.js';
import { modelRunMs, startBenchDaemon, warm } from './lib/limits.js';
import { f1, loadLine, mainThreadWatch, pct, wantsFull, withOptionalLoad } from './lib/measure.js';

const SECONDS = 20;

/** A subscriber in its own process (its JSON parsing must not load the daemon's loop): prints one latency per event. */
const SUBSCRIBER = `
const WebSocket = require(${JSON.stringify(new URL('../node_modules/ws/index.js', import.meta.url).pathname)});
const ws = new WebSocket(process.argv[1]);
ws.on('message', (d) => {
  const now = Date.now();
  const m = JSON.parse(String(d));
  if (m.analytic_id) process.stdout.write((now - Number(m.timestamp)) + '\\n');
});
ws.on('open', () => process.stdout.write('open\\n'));
`;

async function measure(streams: number): Promise<void> {
  const b = await startBenchDaemon(Array.from({ length: streams }, (_, i) => ({
    id: `s${i}`, url: mediaPath('video_street_pedestrians_640x360.mp4'), fps: 5, realtime: true, loop: true, analytics: ['people-counting'],
  })));
  const sub = spawn(process.execPath, ['-e', SUBSCRIBER, `ws://127.0.0.1:${new URL(b.url).port}/event_channel?authorization=${b.token}&crops=0`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lat: number[] = [];
  let recording = false;
  const opened = new Promise<void>((resolve) => {
    createInterface({ input: sub.stdout! }).on('line', (l) => {
      if (l === 'open') resolve();
      else if (recording) lat.push(Number(l));
    });
  });
  try {
    await opened;
    await warm(b.daemon);
    recording = true;
    const watch = mainThreadWatch();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const m = watch.stop();
    recording = false;
    const run = modelRunMs(b.daemon);
    const p50 = pct(lat, 50), p99 = pct(lat, 99);
    console.log(
      `${streams} stream(s) at fps 5: frame -> subscriber p50 ${f1(p50)} ms, p99 ${f1(p99)} ms over ${lat.length} events | model run p50 ${f1(run)} ms` +
        ` -> p50 - streams x run = ${f1(p50 - streams * run)} ms, p99/p50 ${f1(p99 / p50)} | loop lag p99 ${f1(m.lagP99Ms)} ms, GC ${f1(100 * m.gcShare)} % | ${loadLine()}`,
    );
  } finally {
    sub.kill();
    await b.close();
  }
}

export async function run(): Promise<void> {
  await withOptionalLoad(async () => {
    for (const n of wantsFull() ? [1, 4, 8] : [1, 4]) await measure(n);
  });
}
