import { join } from 'node:path';
import WebSocket from 'ws';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { EventStore } from '../../daemon/store/eventStore.js';
import { createServer, type ServerOptions, type VigilServer } from '../../daemon/server/server.js';
import type { VisionEvent } from '../../daemon/events/schema.js';
import { silentLogger } from '../../daemon/log.js';
import { tempDir } from './eventFixtures.js';

export const TOKEN = 'sub-token-123';
export const ADMIN = 'admin-token-456';

/** A real SQLite store and a real uWS server on 127.0.0.1 with a free port. */
export interface Harness {
  db: Db;
  store: EventStore;
  server: VigilServer;
  url: string;
  wsUrl: string;
  /** Stores then publishes (the daemon's order); returns the seq. */
  emit(event: VisionEvent, crop?: Buffer): number;
  close(): Promise<void>;
}

export async function startHarness(over: Partial<ServerOptions> = {}): Promise<Harness> {
  const { dir, cleanup } = tempDir();
  const db = openDatabase(join(dir, 'vigil.db'));
  const store = new EventStore(db);
  const server = createServer({ host: '127.0.0.1', port: 0, tokens: [TOKEN], adminToken: ADMIN, heartbeatS: 0, log: silentLogger(), store, ...over });
  await server.start();
  const port = server.port();
  return {
    db,
    store,
    server,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    emit(event, crop) {
      const seq = store.append(event, crop);
      server.publish(event, seq);
      return seq;
    },
    async close() {
      await server.stop();
      store.close();
      db.close();
      cleanup();
    },
  };
}

/** A `ws` client that keeps every parsed message. */
export class Collector {
  readonly messages: Record<string, unknown>[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }
  static async connect(url: string, headers?: Record<string, string>): Promise<Collector> {
    const ws = new WebSocket(url, { headers });
    const c = new Collector(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return c;
  }
  /** Events only (messages with analytic_id). */
  events(): Record<string, unknown>[] {
    return this.messages.filter((m) => 'analytic_id' in m);
  }
  seqs(): number[] {
    return this.events().map((m) => m.seq as number);
  }
  /** Resolves when `pred` holds; rejects with `what` after timeoutMs. */
  async until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
  close(): void {
    this.ws.terminate();
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Tries an upgrade that should be refused; resolves with the HTTP status and JSON body. */
export function refusedUpgrade(url: string, headers?: Record<string, string>): Promise<{ status: number; body: { error?: { code: string; message: string } } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') }));
    });
    ws.once('error', () => undefined);
  });
}
