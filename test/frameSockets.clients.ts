/** Real `ws` clients and a tiny server fixture for the frame-socket tests. */
import { readFileSync } from 'node:fs';
import type * as uWSTypes from 'uWebSockets.js';
import { uws as uWS } from '../daemon/server/uws/loadUws.js';
import WebSocket from 'ws';
import { mediaPath } from './helpers/paths.js';

/** A JSON message from the server (or a list of them, for batches). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = any;

/** A real WebSocket client that queues what it receives so tests can await it in order. */
export class TestClient {
  readonly received: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const m: Msg = isBinary ? data : JSON.parse(data.toString());
      const i = this.waiters.findIndex((w) => w.pred(m));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
      else this.received.push(m);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Connects; rejects with `{status, body}` when the server refuses the upgrade. */
  static open(url: string): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const client = new TestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body: JSON.parse(body || '{}') })));
      });
      ws.once('error', (err) => reject(err));
    });
  }

  /** The next message matching `pred` (default: any), taken from the queue or awaited. */
  next(pred: (m: Msg) => boolean = () => true, timeoutMs = 20000): Promise<Msg> {
    const i = this.received.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (m: Msg) => { clearTimeout(t); resolve(m); } };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no matching message within ${timeoutMs} ms; queued: ${JSON.stringify(this.received).slice(0, 400)}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** The next message that is not a heartbeat/status. */
  reply(timeoutMs?: number): Promise<Msg> {
    return this.next((m) => Array.isArray(m) || (m.type !== 'heartbeat' && m.type !== 'status'), timeoutMs);
  }

  json(o: unknown): void {
    this.ws.send(typeof o === 'string' ? o : JSON.stringify(o));
  }

  binary(b: Buffer): void {
    this.ws.send(b, { binary: true });
  }

  /** start_frame + the bytes, as the protocol's clients do. */
  frame(b: Buffer): void {
    this.json({ action: 'start_frame', fileSize: b.length });
    this.binary(b);
  }

  close(): void {
    this.ws.close();
  }
}

/** A bare uWS app on 127.0.0.1 with a free port. */
export async function listenApp(app: uWSTypes.TemplatedApp): Promise<{ port: number; close(): void }> {
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', 0, (socket) => {
      if (!socket) return reject(new Error('listen failed'));
      const port = uWS.us_socket_local_port(socket as unknown as uWSTypes.us_socket);
      resolve({ port, close: () => { uWS.us_listen_socket_close(socket); } });
    });
  });
}

/** A media file's bytes. */
export function media(name: string): Buffer {
  return readFileSync(mediaPath(name));
}
