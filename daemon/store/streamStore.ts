import { VigilError } from '../errors.js';
import { migrate, type Db } from './database.js';

const MIGRATIONS = [
  `CREATE TABLE streams (
     id TEXT PRIMARY KEY,
     config TEXT NOT NULL,
     enabled INTEGER NOT NULL DEFAULT 1,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
  // Last health per stream (config streams too): what `vigil status` knew before a restart.
  `CREATE TABLE stream_health (id TEXT PRIMARY KEY, health TEXT NOT NULL, updated_at INTEGER NOT NULL);`,
];

/** A stream config added through the CLI/API, as stored (credentials included: the daemon needs them to connect). */
export interface StoredStream<C = Record<string, unknown>> {
  id: string;
  config: C;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** Stream configs added at run time, kept in SQLite so they survive restarts. */
export class StreamStore<C extends { id: string } = { id: string } & Record<string, unknown>> {
  constructor(private readonly db: Db) {
    migrate(db, 'streams', MIGRATIONS);
  }

  /** All stored streams, oldest first. */
  list(): StoredStream<C>[] {
    const rows = this.db.prepare('SELECT id, config, enabled, created_at, updated_at FROM streams ORDER BY created_at, rowid').all() as Row[];
    return rows.map(toStream<C>);
  }

  get(id: string): StoredStream<C> | undefined {
    const row = this.db.prepare('SELECT id, config, enabled, created_at, updated_at FROM streams WHERE id = ?').get(id) as Row | undefined;
    return row ? toStream<C>(row) : undefined;
  }

  /** Inserts or replaces the config of `config.id`; `enabled` defaults to config.enabled, else true. */
  upsert(config: C, enabled?: boolean): StoredStream<C> {
    if (!config || typeof config.id !== 'string' || config.id.trim() === '') {
      throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'A stream config needs a non-empty string id');
    }
    const on = enabled ?? ((config as { enabled?: unknown }).enabled !== false);
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO streams (id, config, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET config = excluded.config, enabled = excluded.enabled, updated_at = excluded.updated_at`,
      )
      .run(config.id, JSON.stringify(config), on ? 1 : 0, now, now);
    return this.get(config.id)!;
  }

  /** Removes a stream; false when there was none. */
  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM streams WHERE id = ?').run(id).changes > 0;
  }

  /** Records a stream's health snapshot (called on state changes, so rarely). */
  saveHealth(id: string, health: object): void {
    this.db
      .prepare('INSERT INTO stream_health (id, health, updated_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET health = excluded.health, updated_at = excluded.updated_at')
      .run(id, JSON.stringify(health), Date.now());
  }

  /** Last recorded health of every stream, by id. */
  lastHealth(): Map<string, Record<string, unknown>> {
    const rows = this.db.prepare('SELECT id, health FROM stream_health').all() as { id: string; health: string }[];
    return new Map(rows.map((r) => [r.id, JSON.parse(r.health) as Record<string, unknown>]));
  }

  /** Turns a stream on or off; VIGIL_ERR_STREAM_UNKNOWN when there is none. */
  setEnabled(id: string, on: boolean): StoredStream<C> {
    const changes = this.db.prepare('UPDATE streams SET enabled = ?, updated_at = ? WHERE id = ?').run(on ? 1 : 0, Date.now(), id).changes;
    if (changes === 0) throw new VigilError('VIGIL_ERR_STREAM_UNKNOWN', `No stream with id "${id}"`);
    return this.get(id)!;
  }
}

interface Row {
  id: string;
  config: string;
  enabled: number;
  created_at: number;
  updated_at: number;
}

function toStream<C>(row: Row): StoredStream<C> {
  // The stored `enabled` wins over the copy inside the JSON, which setEnabled does not rewrite.
  const config = { ...(JSON.parse(row.config) as object), enabled: row.enabled === 1 } as C;
  return { id: row.id, config, enabled: row.enabled === 1, createdAt: row.created_at, updatedAt: row.updated_at };
}
