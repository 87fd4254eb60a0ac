import { VigilError } from '../errors.js';
import { migrate, type Db } from './database.js';

/** What a counter counts: crossings of a line, or entries/exits of a zone. */
export type CounterKind = 'line' | 'zone';

/** One counter as the API and CLI show it. */
export interface CounterRow {
  streamId: string;
  /** Analytic config name, e.g. `people-counting`. */
  analytic: string;
  kind: CounterKind;
  name: string;
  in: number;
  out: number;
  /** Zones: tracks inside right now (live, not persisted); lines: null. */
  current: number | null;
  /** Unix ms of the last reset (or creation). */
  since: number;
  /** Unix ms of the last count. */
  updatedAt: number;
}

const MIGRATIONS = [
  `CREATE TABLE counters (
     stream_id TEXT NOT NULL,
     analytic TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('line','zone')),
     name TEXT NOT NULL,
     in_count INTEGER NOT NULL DEFAULT 0,
     out_count INTEGER NOT NULL DEFAULT 0,
     since INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (stream_id, analytic, kind, name)
   )`,
];

/**
 * Line and zone counters, kept in SQLite so they survive a restart; zone
 * occupancy ("current") is live state and lives in memory only.
 */
export class CounterStore {
  private readonly current = new Map<string, number>();
  private readonly stmts;

  constructor(private readonly db: Db) {
    migrate(db, 'counters', MIGRATIONS);
    this.stmts = {
      ensure: db.prepare(`INSERT INTO counters (stream_id, analytic, kind, name, since, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      addIn: db.prepare(`UPDATE counters SET in_count = in_count + 1, updated_at = ? WHERE stream_id = ? AND analytic = ? AND kind = ? AND name = ? RETURNING in_count, out_count`),
      addOut: db.prepare(`UPDATE counters SET out_count = out_count + 1, updated_at = ? WHERE stream_id = ? AND analytic = ? AND kind = ? AND name = ? RETURNING in_count, out_count`),
      all: db.prepare(`SELECT * FROM counters ORDER BY stream_id, analytic, kind, name`),
      byStream: db.prepare(`SELECT * FROM counters WHERE stream_id = ? ORDER BY analytic, kind, name`),
    };
  }

  /** Makes sure a counter exists (so a configured line shows 0 before its first crossing). */
  ensure(streamId: string, analytic: string, kind: CounterKind, name: string, nowMs = Date.now()): void {
    this.stmts.ensure.run(streamId, analytic, kind, name, nowMs, nowMs);
  }

  /** Counts one crossing/entry ("in") or exit ("out"); returns the counter's new totals. */
  add(streamId: string, analytic: string, kind: CounterKind, name: string, inOut: 'in' | 'out', nowMs = Date.now()): { in: number; out: number } {
    const stmt = inOut === 'in' ? this.stmts.addIn : this.stmts.addOut;
    let row = stmt.get(nowMs, streamId, analytic, kind, name) as { in_count: number; out_count: number } | undefined;
    if (!row) {
      this.ensure(streamId, analytic, kind, name, nowMs);
      row = stmt.get(nowMs, streamId, analytic, kind, name) as { in_count: number; out_count: number };
    }
    return { in: row.in_count, out: row.out_count };
  }

  /** Sets a zone's live occupancy. */
  setCurrent(streamId: string, analytic: string, name: string, n: number): void {
    this.current.set(key(streamId, analytic, 'zone', name), n);
  }

  /** Every counter, or a stream's. */
  list(streamId?: string): CounterRow[] {
    const rows = (streamId === undefined ? this.stmts.all.all() : this.stmts.byStream.all(streamId)) as DbRow[];
    return rows.map((r) => ({
      streamId: r.stream_id, analytic: r.analytic, kind: r.kind, name: r.name, in: r.in_count, out: r.out_count,
      current: r.kind === 'zone' ? (this.current.get(key(r.stream_id, r.analytic, r.kind, r.name)) ?? 0) : null,
      since: r.since, updatedAt: r.updated_at,
    }));
  }

  /**
   * Sets counters back to zero: all, a stream's, or one named line/zone of a stream.
   * Returns how many counters were reset. Occupancy is live and is not reset.
   */
  reset(filter: { streamId?: string; name?: string; analytic?: string } = {}, nowMs = Date.now()): number {
    if (filter.name !== undefined && filter.streamId === undefined) {
      throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'Resetting one counter by name needs its stream id too');
    }
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.streamId !== undefined) { where.push('stream_id = ?'); args.push(filter.streamId); }
    if (filter.analytic !== undefined) { where.push('analytic = ?'); args.push(filter.analytic); }
    if (filter.name !== undefined) { where.push('name = ?'); args.push(filter.name); }
    const sql = `UPDATE counters SET in_count = 0, out_count = 0, since = ?, updated_at = ?${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
    return this.db.prepare(sql).run(nowMs, nowMs, ...args).changes;
  }

  /** Deletes a stream's counters (when the stream itself is deleted). */
  remove(streamId: string): void {
    this.db.prepare('DELETE FROM counters WHERE stream_id = ?').run(streamId);
    for (const k of [...this.current.keys()]) if (k.startsWith(`${streamId}\u0000`)) this.current.delete(k);
  }
}

interface DbRow {
  stream_id: string; analytic: string; kind: CounterKind; name: string;
  in_count: number; out_count: number; since: number; updated_at: number;
}

function key(s: string, a: string, k: string, n: string): string {
  return `${s}\u0000${a}\u0000${k}\u0000${n}`;
}
