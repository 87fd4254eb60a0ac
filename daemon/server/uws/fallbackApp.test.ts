// The JavaScript stand-in for uWebSockets.js, driven the way Vigil drives uWS: REST on '/*',
// sockets with a custom upgrade handler reading the query, refusals, backpressure, size limits.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import WebSocket from 'ws';
import type { TemplatedApp, WebSocket as UwsSocket } from 'uWebSockets.js';
import { FallbackApp, fallbackListenSocketClose, fallbackLocalPort } from './fallbackApp.js';

function listen(app: TemplatedApp, port = 0): Promise<{ port: number; close(): void } | false> {
  return new Promise((resolve) => {
    app.listen('127.0.0.1', port, (s) => {
      resolve(s ? { port: fallbackLocalPort(s), close: () => { fallbackListenSocketClose(s); (app as unknown as { close(): void }).close(); } } : false);
    });
  });
}

function connect(url: string): Promise<{ ws: WebSocket; messages: string[]; closed: Promise<number> } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: string[] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (m) => messages.push(String(m)));
    ws.once('open', () => resolve({ ws, messages, closed }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (cond()) {
        clearInterval(t);
        resolve();
      }
    }, 10);
  });
}

function makeApp(): { app: TemplatedApp; opened: UwsSocket<{ token: string }>[]; closes: number[]; drains: number[] } {
  const app = FallbackApp();
  const opened: UwsSocket<{ token: string }>[] = [];
  const closes: number[] = [];
  const drains: number[] = [];
  app.ws<{ token: string }>('/ws/:name', {
    maxPayloadLength: 1024,
    maxBackpressure: 64 * 1024,
    idleTimeout: 0,
    upgrade: (res, req, ctx) => {
      const token = new URLSearchParams(req.getQuery() ?? '').get('authorization') ?? '';
      if (token !== 'good') {
        res.cork(() => res.writeStatus('401 Unauthorized').writeHeader('content-type', 'application/json').end('{"error":"UNAUTHORIZED"}'));
        return;
      }
      res.upgrade({ token: `${req.getUrl()}:${token}` }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), ctx);
    },
    open: (ws) => {
      opened.push(ws);
      ws.send(`hello ${ws.getUserData().token}`);
    },
    message: (ws, msg, isBinary) => {
      ws.send(`echo ${isBinary ? 'bin' : 'text'} ${Buffer.from(msg).toString()}`);
    },
    drain: (ws) => drains.push(ws.getBufferedAmount()),
    close: (_ws, code) => closes.push(code),
  });
  app.any('/*', (res, req) => {
    const method = req.getMethod();
    const url = req.getUrl();
    const q = req.getQuery() ?? '';
    const chunks: Buffer[] = [];
    res.onAborted(() => undefined);
    res.onData((chunk, isLast) => {
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) res.cork(() => res.writeStatus('201 Created').writeHeader('x-a', '1').end(JSON.stringify({ method, url, q, body: Buffer.concat(chunks).toString() })));
    });
  });
  return { app, opened, closes, drains };
}

test('REST through any("/*"): method, path, query and body as uWS gives them', async (t) => {
  const { app } = makeApp();
  const srv = await listen(app);
  assert.ok(srv);
  t.after(() => srv.close());
  const r = await fetch(`http://127.0.0.1:${srv.port}/api/x?y=1`, { method: 'POST', body: 'payload' });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get('x-a'), '1');
  assert.deepEqual(await r.json(), { method: 'post', url: '/api/x', q: 'y=1', body: 'payload' });
});

test('a socket URL with a query string reaches the upgrade handler; a bad token gets a plain 401', async (t) => {
  const { app } = makeApp();
  const srv = await listen(app);
  assert.ok(srv);
  t.after(() => srv.close());
  const refused = await connect(`ws://127.0.0.1:${srv.port}/ws/detect?authorization=bad`);
  assert.ok('status' in refused);
  assert.equal(refused.status, 401);
  assert.equal(refused.body, '{"error":"UNAUTHORIZED"}');

  const ok = await connect(`ws://127.0.0.1:${srv.port}/ws/detect?authorization=good`);
  assert.ok('ws' in ok);
  ok.ws.send('ping');
  ok.ws.send(Buffer.from('raw'));
  await until(() => ok.messages.length >= 3);
  assert.deepEqual(ok.messages, ['hello /ws/detect:good', 'echo text ping', 'echo bin raw']);
  ok.ws.close(1000);
  assert.equal(await ok.closed, 1000);
});

test('a message over maxPayloadLength drops the connection without a close frame (1006), as uWS does', async (t) => {
  const { app, closes } = makeApp();
  const srv = await listen(app);
  assert.ok(srv);
  t.after(() => srv.close());
  const c = await connect(`ws://127.0.0.1:${srv.port}/ws/a?authorization=good`);
  assert.ok('ws' in c);
  c.ws.send(Buffer.alloc(4096));
  assert.equal(await c.closed, 1006);
  await until(() => closes.length === 1);
});

test('send reports backpressure, drops past maxBackpressure (2), and drain fires once the client reads', async (t) => {
  const { app, opened, drains } = makeApp();
  const srv = await listen(app);
  assert.ok(srv);
  t.after(() => srv.close());
  const c = await connect(`ws://127.0.0.1:${srv.port}/ws/a?authorization=good`);
  assert.ok('ws' in c);
  await until(() => opened.length === 1);
  const ws = opened[0]!;
  // A client that does not read: the kernel buffers fill, then ws's, then sends are dropped.
  (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  const big = 'x'.repeat(32 * 1024);
  const results: number[] = [];
  for (let i = 0; i < 400 && !results.includes(2); i++) results.push(ws.send(big));
  assert.ok(results.includes(0), 'backpressure reported before the limit');
  assert.equal(results.at(-1), 2, 'dropped past maxBackpressure');
  assert.ok(ws.getBufferedAmount() > 64 * 1024);
  (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  await until(() => drains.length > 0);
  c.ws.terminate();
});

test('a port in use answers listen with false, as the exclusive uWS listen does', async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const { app } = makeApp();
  assert.equal(await listen(app, port), false);
});
