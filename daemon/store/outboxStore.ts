import { migrate, type Db } from './database.js';

const MIGRATIONS = [
  // One row per sink: the events table is the queue, this is how far each sink got.
  `CREATE TABLE outbox_cursors (
     sink TEXT PRIMARY KEY,
     acked_seq INTEGER NOT NULL,
     dropped INTEGER NOT NULL DEFAULT 0,
     updated_at INTEGER NOT NULL
   );`,
];

/** Where a sink stands: every stored event with seq ≤ ackedSeq was acknowledged by its receiver. */
export interface OutboxCursor {
  ackedSeq: number;
  /** Events skipped because the backlog exceeded the outbox bound (lifetime count). */
  dropped: number;
}

/**
 * The store side of a store-backed outbox. The queue itself is the events table (an event is
 * stored once, in the same transaction that gives it its seq, so a crash can never leave an event
 * stored but not queued); this table keeps each sink's acknowledged position, so a restart or a
 * broker outage resumes from the first unacknowledged event, in seq order.
 */
export class OutboxStore {
  constructor(private readonly db: Db) {
    migrate(db, 'outbox', MIGRATIONS);
  }

  /** The sink's cursor; a new sink starts at `initialSeq` (usually the store's lastSeq: no history flood). */
  get(sink: string, initialSeq: number): OutboxCursor {
    const row = this.db.prepare('SELECT acked_seq, dropped FROM outbox_cursors WHERE sink = ?').get(sink) as { acked_seq: number; dropped: number } | undefined;
    if (row) return { ackedSeq: row.acked_seq, dropped: row.dropped };
    this.save(sink, { ackedSeq: initialSeq, dropped: 0 });
    return { ackedSeq: initialSeq, dropped: 0 };
  }

  /** Persists the cursor (one small row; callers debounce it). */
  save(sink: string, cursor: OutboxCursor): void {
    this.db
      .prepare(
        'INSERT INTO outbox_cursors (sink, acked_seq, dropped, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(sink) DO UPDATE SET acked_seq = excluded.acked_seq, dropped = excluded.dropped, updated_at = excluded.updated_at',
      )
      .run(sink, Math.trunc(cursor.ackedSeq), Math.trunc(cursor.dropped), Date.now());
  }

  /** Number of stored events after `seq` up to `toSeq` inclusive (backlog size). */
  countBetween(seq: number, toSeq: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM events WHERE seq > ? AND seq <= ?').get(Math.trunc(seq), Math.trunc(toSeq)) as { n: number }).n;
  }

  /** The seq below which exactly `keep` stored events remain after it (for trimming the backlog to its bound). */
  seqKeepingLast(keep: number): number | undefined {
    const row = this.db.prepare('SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?').get(Math.max(0, Math.trunc(keep))) as { seq: number } | undefined;
    return row?.seq;
  }
}
