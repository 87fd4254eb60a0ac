import type { Statement } from 'better-sqlite3';
import { VigilError } from '../errors.js';
import { cropKey, type VisionEvent } from '../events/schema.js';
import { withCrop, withoutCrop } from '../events/eventBuilder.js';
import { migrate, type Db } from './database.js';

const MIGRATIONS = [
  // AUTOINCREMENT: a seq is never reused, even after retention deletes the newest rows, so `since` resumes stay correct.
  `CREATE TABLE events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     event_id TEXT NOT NULL UNIQUE,
     stream_id TEXT NOT NULL,
     analytic_id TEXT NOT NULL,
     timestamp INTEGER NOT NULL,
     primary_text TEXT NOT NULL DEFAULT '',
     plate_number TEXT,
     json TEXT NOT NULL
   );
   CREATE INDEX events_stream_seq ON events(stream_id, seq);
   CREATE INDEX events_analytic_seq ON events(analytic_id, seq);
   CREATE INDEX events_plate ON events(plate_number);
   CREATE INDEX events_timestamp ON events(timestamp);
   -- Crops apart: listing and replay without crops never read the blobs.
   CREATE TABLE crops (seq INTEGER PRIMARY KEY REFERENCES events(seq) ON DELETE CASCADE, jpeg BLOB NOT NULL);`,
  // A camera's events in a time range are counted and bounded without walking its older ones.
  `CREATE INDEX events_stream_ts ON events(stream_id, timestamp);`,
];

/** Filters of a store query; `sinceSeq` (exclusive) switches the default order to ascending. */
export interface EventQuery {
  streamIds?: string[];
  analyticIds?: string[];
  /** Only events with seq > sinceSeq. */
  sinceSeq?: number;
  /** Only events with seq < beforeSeq. */
  beforeSeq?: number;
  /** Default 100, at most 10 000. */
  limit?: number;
  /** Plate number, normalised (upper case, letters and digits); `*` any run, `?` one character; no wildcard = exact. */
  plate?: string;
  /** Only events with timestamp >= fromTs / < toTs (Unix ms). */
  fromTs?: number;
  toTs?: number;
  /** Face events of a person: name or person_id, case-insensitive substring. */
  person?: string;
  withCrops?: boolean;
  /** Default: 'asc' when sinceSeq is given, else 'desc' (newest first). */
  order?: 'asc' | 'desc';
}

/** A stored event as raw JSON (without crop and seq), for paths that only forward it. */
export interface StoredRow {
  seq: number;
  stream_id: string;
  analytic_id: string;
  json: string;
  jpeg?: Buffer | null;
}

export interface EventStoreOptions {
  /** Largest number of events committed in one transaction by `write` (default 256). */
  batchMax?: number;
}

/**
 * Letters and digits, upper case: "b 1234-xy" and "B1234XY" are the same plate. Any script's
 * letters count (a CN plate's province character "皖K66666" must not shrink to "K66666", which
 * "沪K*" would also find); NFKC folds full-width "Ｋ６" to "K6".
 */
export function normalisePlate(plate: string, keepWildcards = false): string {
  return plate.normalize('NFKC').toUpperCase().replace(keepWildcards ? /[^\p{L}\p{N}*?]/gu : /[^\p{L}\p{N}]/gu, '');
}

/** The event as one JSON message: seq first, crop added when given (no parse/stringify round trip). */
export function rowMessage(row: StoredRow, crops: boolean): string {
  const body = row.json.slice(1); // stored JSON always starts with '{' and has at least one key
  const crop = crops && row.jpeg ? `"${cropKey(row.analytic_id as VisionEvent['analytic_id'])}":"${row.jpeg.toString('base64')}",` : '';
  return `{"seq":${row.seq},${crop}${body}`;
}

/** Events at most on the far side of a time range for its walk to be bounded by their seqs (see scan). */
const FEW_IN_RANGE = 2000;
/** Queries naming up to this many cameras walk each camera's events apart (see scan). */
const SPLIT_STREAMS = 8;
const clampLimit = (limit: number | undefined): number => Math.min(10_000, Math.max(1, Math.trunc(limit ?? 100)));

interface Pending {
  event: VisionEvent;
  crop: Buffer | null;
  resolve: (seq: number) => void;
  reject: (err: unknown) => void;
}

/**
 * Events and their crops in SQLite. The row id is the event's `seq`. Writes commit before
 * they return or resolve, so a caller that publishes afterwards never publishes an unstored event.
 */
export class EventStore {
  private readonly insertEvent: Statement;
  private readonly insertCrop: Statement;
  private readonly statements = new Map<string, Statement>();
  private readonly insertBatch: (items: { event: VisionEvent; crop: Buffer | null }[]) => number[];
  private last: number;
  private queue: Pending[] = [];
  private immediate: NodeJS.Immediate | null = null;
  private readonly batchMax: number;

  constructor(private readonly db: Db, opts: EventStoreOptions = {}) {
    migrate(db, 'events', MIGRATIONS);
    this.batchMax = Math.max(1, opts.batchMax ?? 256);
    this.insertEvent = db.prepare(
      'INSERT INTO events (event_id, stream_id, analytic_id, timestamp, primary_text, plate_number, json) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertCrop = db.prepare('INSERT INTO crops (seq, jpeg) VALUES (?, ?)');
    this.insertBatch = db.transaction((items: { event: VisionEvent; crop: Buffer | null }[]) => items.map((i) => this.insertOne(i.event, i.crop)));
    const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
    this.last = row?.seq ?? 0;
  }

  /** Stores one event (crop kept apart) in its own transaction; returns its seq. */
  append(event: VisionEvent, crop?: Buffer | null): number {
    return this.appendMany([{ event, crop: crop ?? null }])[0]!;
  }

  /** Stores several events in one transaction; returns their seqs in order. */
  appendMany(items: { event: VisionEvent; crop?: Buffer | null }[]): number[] {
    if (items.length === 0) return [];
    try {
      const seqs = this.insertBatch(items.map((i) => ({ event: i.event, crop: i.crop ?? null })));
      this.last = Math.max(this.last, seqs[seqs.length - 1]!);
      return seqs;
    } catch (err) {
      throw storeError(err);
    }
  }

  /**
   * Queues an event for the next micro-batch (one transaction per batch) and resolves with its
   * seq once committed: publish after the promise resolves.
   */
  write(event: VisionEvent, crop?: Buffer | null): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ event, crop: crop ?? null, resolve, reject });
      if (this.queue.length >= this.batchMax) this.flush();
      // At the end of this turn of the event loop: writes queued in it share one commit, and
      // none waits a timer (WAL at synchronous=NORMAL commits without fsync).
      else this.immediate ??= setImmediate(() => this.flush());
    });
  }

  /** Commits whatever `write` has queued. */
  flush(): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let seqs: number[];
    try {
      seqs = this.appendMany(batch);
    } catch {
      // One bad event must not lose its batch-mates: retry one by one.
      for (const p of batch) {
        try {
          p.resolve(this.append(p.event, p.crop));
        } catch (e) {
          p.reject(e);
        }
      }
      return;
    }
    batch.forEach((p, i) => p.resolve(seqs[i]!));
  }

  /** Events matching the filters, with `seq`; crops only when asked. */
  query(q: EventQuery = {}): VisionEvent[] {
    return this.scan(q).map((r) => rowToEvent(r));
  }

  /** Like query, but raw rows: for the event socket, which forwards JSON without re-encoding. */
  scan(q: EventQuery = {}): StoredRow[] {
    // A few cameras: one walk each, merged by seq. One walk over several stops early only once it
    // holds `limit` rows, so a camera quiet in the range was walked back to its first event first.
    const streams = [...new Set(q.streamIds ?? [])];
    if (streams.length < 2 || streams.length > SPLIT_STREAMS || q.plate !== undefined) return this.scanWalk(q);
    const asc = (q.order ?? (q.sinceSeq !== undefined ? 'asc' : 'desc')) === 'asc';
    const rows = streams.flatMap((s) => this.scanWalk({ ...q, streamIds: [s] }));
    return rows.sort((a, b) => (asc ? a.seq - b.seq : b.seq - a.seq)).slice(0, clampLimit(q.limit));
  }

  private scanWalk(q: EventQuery): StoredRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.streamIds?.length) {
      where.push(`e.stream_id IN (${q.streamIds.map(() => '?').join(',')})`);
      args.push(...q.streamIds);
    }
    if (q.analyticIds?.length) {
      where.push(`e.analytic_id IN (${q.analyticIds.map(() => '?').join(',')})`);
      args.push(...q.analyticIds);
    }
    if (q.sinceSeq !== undefined) {
      where.push('e.seq > ?');
      args.push(Math.trunc(q.sinceSeq));
    }
    if (q.beforeSeq !== undefined) {
      where.push('e.seq < ?');
      args.push(Math.trunc(q.beforeSeq));
    }
    if (q.plate !== undefined) {
      const pattern = normalisePlate(q.plate, true);
      if (pattern === '' || /^\*+$/.test(pattern)) where.push('e.plate_number IS NOT NULL');
      else {
        // The pattern holds only letters, digits, * and ? (no [ ]), so GLOB needs no escaping (and can use the index for a prefix).
        where.push(/[*?]/.test(pattern) ? 'e.plate_number GLOB ?' : 'e.plate_number = ?');
        args.push(pattern);
      }
    }
    if (q.person) {
      // Face events are few next to counting events: a scan of their JSON is cheap enough.
      where.push("e.analytic_id = 'NFV4-FR' AND (instr(lower(json_extract(e.json, '$.pipeline_data.name')), ?) > 0 OR json_extract(e.json, '$.pipeline_data.person_id') = ?)");
      args.push(q.person.toLowerCase(), q.person);
    }
    const order = q.order ?? (q.sinceSeq !== undefined ? 'asc' : 'desc');
    // Rows come in seq order, so SQLite walks the table from its newest (oldest) row and filters:
    // a range that ends before the newest row read every row in between (120 ms at 1M rows for
    // an hour of last week). Such a walk starts at the range's last (first) seq instead, found
    // through the timestamp index; `+` keeps SQLite from sorting the range through that index.
    const bounded = order === 'asc' ? q.fromTs !== undefined : q.toTs !== undefined;
    // The walk's far end: newest first with a `from` after all but a few events (a quiet last
    // hour) read every older row looking for more (60 ms at 300k rows). When the index holds
    // fewer than FEW_IN_RANGE entries on the range's side of `from` (`to`), counted through it,
    // the walk stops at their first (last) seq. A larger range fills the LIMIT on its way.
    // With cameras named, what counts is their events (events_stream_ts): a camera quiet for the
    // last hour of a busy box otherwise walked all its older events (70 ms at 1M rows).
    const farTs = order === 'asc' ? q.toTs : q.fromTs;
    const streams = q.streamIds?.length ? q.streamIds : [];
    const streamCond = streams.length ? `stream_id IN (${streams.map(() => '?').join(',')}) AND ` : '';
    const farBounded = farTs !== undefined && this.fewBeyond(Math.trunc(farTs), order, streamCond, streams);
    // `+` with cameras named too: else events_stream_ts wins over the plate index.
    const ts = bounded || farBounded || streams.length ? '+e.timestamp' : 'e.timestamp';
    if (q.fromTs !== undefined) {
      where.push(`${ts} >= ?`);
      args.push(Math.trunc(q.fromTs));
    }
    if (q.toTs !== undefined) {
      where.push(`${ts} < ?`);
      args.push(Math.trunc(q.toTs));
    }
    if (bounded) {
      where.push(`e.seq ${order === 'asc' ? '>=' : '<='} (SELECT ${order === 'asc' ? 'min' : 'max'}(+seq) FROM events WHERE ${streamCond}timestamp >= ? AND timestamp < ?)`);
      args.push(...streams, Math.trunc(q.fromTs ?? Number.MIN_SAFE_INTEGER), Math.trunc(q.toTs ?? Number.MAX_SAFE_INTEGER));
    }
    if (farBounded) {
      // `+seq`: min(seq) alone would walk the table in seq order to its first match, not use the
      // timestamp index. No event in the range: the bound is NULL and nothing matches, without a walk.
      where.push(order === 'asc'
        ? `e.seq <= (SELECT max(+seq) FROM events WHERE ${streamCond}timestamp < ?)`
        : `e.seq >= (SELECT min(+seq) FROM events WHERE ${streamCond}timestamp >= ?)`);
      args.push(...streams, Math.trunc(farTs!));
    }
    const limit = clampLimit(q.limit);
    const cols = q.withCrops ? 'e.seq, e.stream_id, e.analytic_id, e.json, c.jpeg' : 'e.seq, e.stream_id, e.analytic_id, e.json';
    // Cameras named (and no plate): their events in seq order, which also stops early for several
    // cameras; left to itself SQLite would take events_stream_ts and sort the whole range by seq.
    const events = streams.length && q.plate === undefined ? 'events e INDEXED BY events_stream_seq' : 'events e';
    const from = q.withCrops ? `${events} LEFT JOIN crops c ON c.seq = e.seq` : events;
    const sql = `SELECT ${cols} FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY e.seq ${order === 'asc' ? 'ASC' : 'DESC'} LIMIT ${limit}`;
    return this.statement(sql).all(...args) as StoredRow[];
  }

  /**
   * True when fewer than FEW_IN_RANGE events (of the cameras in `streamCond`) lie at or after `ts`
   * (desc) or before it (asc); reads at most that many index entries.
   */
  private fewBeyond(ts: number, order: 'asc' | 'desc', streamCond: string, streams: string[]): boolean {
    const side = order === 'asc' ? 'timestamp < ?' : 'timestamp >= ?';
    const row = this.statement(`SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE ${streamCond}${side} LIMIT ${FEW_IN_RANGE})`).get(...streams, ts) as { n: number };
    return row.n < FEW_IN_RANGE;
  }

  /** One event by its event_id, with its crop unless `withCrops` is false. */
  get(eventId: string, withCrops = true): VisionEvent | undefined {
    const sql = withCrops
      ? 'SELECT e.seq, e.stream_id, e.analytic_id, e.json, c.jpeg FROM events e LEFT JOIN crops c ON c.seq = e.seq WHERE e.event_id = ?'
      : 'SELECT e.seq, e.stream_id, e.analytic_id, e.json FROM events e WHERE e.event_id = ?';
    const row = this.statement(sql).get(eventId) as StoredRow | undefined;
    return row ? rowToEvent(row) : undefined;
  }

  /** The JPEG crop of an event, if stored. */
  crop(eventId: string): Buffer | undefined {
    const row = this.statement('SELECT c.jpeg FROM crops c JOIN events e ON e.seq = c.seq WHERE e.event_id = ?').get(eventId) as { jpeg: Buffer } | undefined;
    return row?.jpeg;
  }

  /** The highest seq ever assigned (0 on an empty store); survives deletes. */
  lastSeq(): number {
    return this.last;
  }

  /** Number of stored events. */
  count(): number {
    return (this.statement('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  }

  /** Deletes events (and crops) older than a Unix ms time; returns how many. For retention. */
  deleteOlderThan(timestampMs: number): number {
    return this.statement('DELETE FROM events WHERE timestamp < ?').run(Math.trunc(timestampMs)).changes;
  }

  /** Commits queued writes; the database itself belongs to whoever opened it. */
  close(): void {
    this.flush();
  }

  private insertOne(event: VisionEvent, crop: Buffer | null): number {
    const stored = withoutCrop(event);
    delete stored.seq;
    const pd = stored.pipeline_data ?? ({} as VisionEvent['pipeline_data']);
    const eventId = typeof pd.event_id === 'string' ? pd.event_id : '';
    if (!eventId) throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'Cannot store an event without pipeline_data.event_id');
    const ts = Number(stored.timestamp);
    const plate = event.analytic_id === 'NFV4-LPR' && typeof pd.plate_number === 'string' ? normalisePlate(pd.plate_number) || null : null;
    const info = this.insertEvent.run(
      eventId,
      String(stored.stream_id),
      String(stored.analytic_id),
      Number.isFinite(ts) ? Math.trunc(ts) : Date.now(),
      typeof pd.primary_text === 'string' ? pd.primary_text : '',
      plate,
      JSON.stringify(stored),
    );
    const seq = Number(info.lastInsertRowid);
    if (crop && crop.length > 0) this.insertCrop.run(seq, crop);
    return seq;
  }

  private statement(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      // Filter lists make many shapes; keep the cache from growing without bound.
      if (this.statements.size > 200) this.statements.clear();
      this.statements.set(sql, s);
    }
    return s;
  }
}

function rowToEvent(row: StoredRow): VisionEvent {
  const event = JSON.parse(row.json) as VisionEvent;
  return withCrop({ ...event, seq: row.seq }, row.jpeg);
}

function storeError(err: unknown): VigilError {
  if (err instanceof VigilError) return err;
  const code = (err as { code?: string }).code ?? '';
  const msg = (err as Error).message ?? String(err);
  if (code === 'SQLITE_FULL') return new VigilError('VIGIL_ERR_DISK_FULL', `The disk is full; the event was not stored: ${msg}`);
  if (code === 'SQLITE_CONSTRAINT_UNIQUE') return new VigilError('VIGIL_ERR_BAD_REQUEST', `An event with this event_id is already stored: ${msg}`);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return new VigilError('VIGIL_ERR_DB_LOCKED', `The event database is locked: ${msg}`);
  return new VigilError('VIGIL_ERR_DB_WRITE', `The event could not be stored: ${msg}`);
}
