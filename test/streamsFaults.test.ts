// Real ffmpeg against servers that misbehave in the ways cameras do: each fault gets its own code.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../daemon/log.js';
import { StreamManager } from '../daemon/streams/streamManager.js';
import type { StreamHealth } from '../daemon/streams/types.js';

/** A TCP server on a free port; `onConnection` plays the faulty camera. */
async function tcpServer(t: { after(fn: () => unknown): void }, onConnection: (s: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as { port: number }).port;
}

test('silent camera, garbage server and refused port: three codes, each saying what to check', async (t) => {
  // Accepts and never answers (a frozen camera).
  const silent = await tcpServer(t, () => undefined);
  // Answers the first request with an endless stream of random bytes.
  const garbage = await tcpServer(t, (s) => {
    s.once('data', () => {
      const timer = setInterval(() => s.write(randomBytes(2048)), 50);
      s.on('close', () => clearInterval(timer));
    });
  });
  const history: StreamHealth[] = [];
  const m = new StreamManager({ log: silentLogger(), onFrame: () => undefined, onHealth: (h) => history.push(h) });
  t.after(() => m.stop());
  // -timeout 5 s: a silent server costs the whole of it; garbage fails at once or keeps ffmpeg busy past startTimeoutS.
  const common = { fps: 1, stallTimeoutS: 5, startTimeoutS: 12, backoff: { initialMs: 60_000, maxMs: 60_000 } };
  m.add({ id: 'silent', url: `rtsp://u:hunter2@127.0.0.1:${silent}/live`, ...common });
  m.add({ id: 'garbage', url: `rtsp://127.0.0.1:${garbage}/live`, ...common });
  // A port nothing listens on: take one and close it.
  const closedPort = await new Promise<number>((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
  m.add({ id: 'refused', url: `rtsp://127.0.0.1:${closedPort}/live`, ...common });
  m.start();
  const deadline = Date.now() + 60_000;
  const errorOf = (id: string) => m.get(id)?.lastError;
  while (['silent', 'garbage', 'refused'].some((id) => !errorOf(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const got = Object.fromEntries(['silent', 'garbage', 'refused'].map((id) => [id, errorOf(id)]));
  assert.equal(got.silent?.code, 'VIGIL_ERR_STREAM_SILENT', JSON.stringify(got));
  assert.equal(got.garbage?.code, 'VIGIL_ERR_STREAM_GARBAGE', JSON.stringify(got));
  assert.equal(got.refused?.code, 'VIGIL_ERR_STREAM_REFUSED', JSON.stringify(got));
  for (const e of Object.values(got)) assert.match(e!.message, /check|may be/);
  assert.doesNotMatch(JSON.stringify(got), /hunter2/);
});
