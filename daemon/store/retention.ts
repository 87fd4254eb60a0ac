import type { Logger } from '../log.js';
import type { Db } from './database.js';

/** A limit on stored events: by age, by size, or both. */
export interface RetentionRule {
  /** Events older than this many days are deleted. */
  maxAgeDays?: number;
  /** Global rule: the database file (all tables) is kept under this many bytes, deleting the oldest events
   *  first. Per-analytic rule: the events + crops of that analytic are kept under it. */
  maxBytes?: number;
}

/** Config `retention:`; all limits optional (none = keep everything, only checkpoint the WAL). */
export interface RetentionOptions extends RetentionRule {
  /** Overrides per analytic id (NFV4-FR, ...): its own age and/or size limit. */
  perAnalytic?: Record<string, RetentionRule>;
  /** Events deleted per transaction (default 500): short write locks, the hot path barely notices. */
  batch?: number;
  /** Seconds between full passes (age, per-analytic size, checkpoint) (default 60). */
  intervalS?: number;
  /** Seconds between cheap size checks (page count only) (default 2). */
  checkIntervalS?: number;
  /** Crops of events older than this many days are deleted; the events stay (without image). */
  cropsMaxAgeDays?: number;
  /** Called after each pass with the timestamp of the oldest event kept: tables that follow the
   *  events (face captures) drop what is older. Returns how many rows went. */
  pruneCompanions?: (oldestKeptMs: number) => number;
  /** Called with crops_max_age_days' cutoff: tables with crops of their own (face captures) drop
   *  images older than it, at most `limit` per call. Returns how many went. */
  pruneCompanionCrops?: (beforeMs: number, limit: number) => number;
  /** SQL boolean over the events row aliased `e`; matching events are never deleted (e.g. face enrolments). */
  protectedSql?: string;
  /** Largest WAL file kept after a checkpoint, bytes (default 64 MiB). */
  walLimitBytes?: number;
  /** With maxBytes, also make SQLite refuse to grow the file past it (PRAGMA max_page_count), so a burst
   *  between checks cannot overshoot; the event sink then calls trimNow() and retries. Default true. */
  hardCap?: boolean;
}

/** What one pass did. */
export interface RetentionResult {
  deleted: number;
  /** Crops (and face capture images) deleted by crops_max_age_days (their events kept). */
  cropsDeleted?: number;
  bytesBefore: number;
  bytesAfter: number;
  /** The cap could not be met: what remains is protected events or other tables. */
  capUnreachable?: boolean;
}

/** Size of the database when its free pages are released (what the file shrinks to). */
function usedBytes(db: Db): number {
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const size = db.pragma('page_size', { simple: true }) as number;
  return (pages - free) * size;
}

/** Current logical size of the database file (after the WAL is checkpointed). */
function fileBytes(db: Db): number {
  return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
}

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Deletes old events (and their crops) by age and by size, oldest first, in small batches off the
 * hot path; releases the freed pages (incremental vacuum) so the file shrinks; checkpoints the WAL
 * (TRUNCATE) so it stays bounded. Events matching `protectedSql` are kept.
 */
export class Retention {
  private readonly log: Logger;
  private readonly batch: number;
  private readonly protect: string;
  private readonly lowWater: number | undefined;
  private timer: NodeJS.Timeout | null = null;
  private checkTimer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionResult> | null = null;
  private warnedCap = false;

  constructor(private readonly db: Db, private readonly opts: RetentionOptions, log: Logger) {
    this.log = log.child({ component: 'retention' });
    this.batch = Math.max(1, opts.batch ?? 500);
    this.protect = opts.protectedSql ? ` AND NOT (${opts.protectedSql})` : '';
    // Trim to 93 % of the cap so a pass frees room for a while, not for one event, and the
    // store stays within 10 % of its cap (page slack takes a little more than the rows' bytes).
    this.lowWater = opts.maxBytes !== undefined ? Math.floor(opts.maxBytes * 0.93) : undefined;
    this.ensureIncrementalVacuum();
    db.pragma(`journal_size_limit = ${Math.trunc(opts.walLimitBytes ?? 64 * 1024 * 1024)}`);
    this.applyCap();
  }

  /** Starts the timers (a first pass right away); they never keep the process alive. */
  start(): void {
    if (this.timer) return;
    const every = Math.max(0.05, this.opts.intervalS ?? 60) * 1000;
    this.timer = setInterval(() => void this.runSafe(), every);
    this.timer.unref();
    if (this.opts.maxBytes !== undefined) {
      const check = Math.max(0.05, this.opts.checkIntervalS ?? 2) * 1000;
      this.checkTimer = setInterval(() => {
        if (!this.running && usedBytes(this.db) > this.opts.maxBytes! * 0.95) void this.runSafe();
      }, check);
      this.checkTimer.unref();
    }
    setImmediate(() => void this.runSafe());
  }

  /** Stops the timers; a pass in progress finishes its current batch. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.timer = this.checkTimer = null;
    await this.running?.catch(() => undefined);
  }

  /** One full pass: age, per-analytic limits, the global size cap, vacuum, checkpoint. Yields between batches. */
  runOnce(): Promise<RetentionResult> {
    this.running ??= this.pass(true).finally(() => (this.running = null));
    return this.running;
  }

  /** Emergency trim for a full database (the event sink calls it on VIGIL_ERR_DISK_FULL): size cap only, no yielding. */
  async trimNow(): Promise<RetentionResult> {
    if (this.running) await this.running.catch(() => undefined);
    return this.pass(false);
  }

  private async runSafe(): Promise<void> {
    try {
      const r = await this.runOnce();
      if (r.deleted > 0) this.log.info(r, 'retention pass');
    } catch (err) {
      this.log.error({ err }, 'retention pass failed');
    }
  }

  private async pass(full: boolean): Promise<RetentionResult> {
    const bytesBefore = fileBytes(this.db);
    let deleted = 0;
    const pause = full ? yieldLoop : async () => undefined;
    if (full) {
      for (const { where, args } of this.ageRules()) {
        deleted += await this.deleteWhile(`e.timestamp < ?${where}`, args, 'e.timestamp', () => true, pause);
      }
      for (const [analytic, rule] of Object.entries(this.opts.perAnalytic ?? {})) {
        if (rule.maxBytes === undefined) continue;
        let bytes = this.analyticBytes(analytic);
        deleted += await this.deleteWhile('e.analytic_id = ?', [analytic], 'e.seq', () => bytes > rule.maxBytes!, pause, (freed) => (bytes -= freed), () => bytes - rule.maxBytes!);
      }
    }
    let cropsDeleted = 0;
    if (full && this.opts.cropsMaxAgeDays !== undefined) {
      const cutoff = Date.now() - this.opts.cropsMaxAgeDays * 86_400_000;
      cropsDeleted = await this.deleteOldCrops(cutoff, pause) + await this.pruneCompanionCrops(cutoff, pause);
    }
    let capUnreachable = false;
    if (this.lowWater !== undefined && usedBytes(this.db) > this.lowWater) {
      const excess = () => usedBytes(this.db) - this.lowWater!;
      deleted += await this.deleteWhile('1', [], 'e.seq', () => excess() > 0, pause, undefined, excess);
      capUnreachable = usedBytes(this.db) > this.opts.maxBytes!;
      if (capUnreachable && !this.warnedCap) {
        this.warnedCap = true;
        this.log.warn({ maxBytes: this.opts.maxBytes, usedBytes: usedBytes(this.db) }, 'retention cannot meet retention.max_bytes: the rest is protected events or other tables');
      }
    }
    let companions = 0;
    if ((deleted > 0 || full) && this.opts.pruneCompanions) {
      const row = this.db.prepare('SELECT min(timestamp) AS t FROM events').get() as { t: number | null };
      try {
        // No events at all: nothing to follow (a capture may be waiting for its event to be stored).
        if (row.t !== null) companions = this.opts.pruneCompanions(row.t);
      } catch (err) {
        this.log.warn({ err }, 'pruning rows that follow the events failed');
      }
    }
    if (deleted > 0 || cropsDeleted > 0 || companions > 0) {
      this.db.pragma('incremental_vacuum');
      this.applyCap();
    }
    if (full || deleted > 0) this.checkpoint();
    return { deleted, ...(cropsDeleted ? { cropsDeleted } : {}), bytesBefore, bytesAfter: fileBytes(this.db), ...(capUnreachable ? { capUnreachable } : {}) };
  }

  /** Age conditions: the global age for analytics without their own, and each analytic's own. */
  private ageRules(): { where: string; args: unknown[] }[] {
    const now = Date.now();
    const day = 86_400_000;
    const per = Object.entries(this.opts.perAnalytic ?? {}).filter(([, r]) => r.maxAgeDays !== undefined);
    const rules = per.map(([a, r]) => ({ where: ' AND e.analytic_id = ?', args: [now - r.maxAgeDays! * day, a] as unknown[] }));
    if (this.opts.maxAgeDays !== undefined) {
      const others = per.length ? ` AND e.analytic_id NOT IN (${per.map(() => '?').join(',')})` : '';
      rules.push({ where: others, args: [now - this.opts.maxAgeDays * day, ...per.map(([a]) => a)] });
    }
    return rules;
  }

  /** Deletes batches of the oldest matching unprotected events while `more()` holds; returns how many. */
  private async deleteWhile(
    cond: string,
    args: unknown[],
    order: string,
    more: () => boolean,
    pause: () => Promise<void>,
    onFreed?: (bytes: number) => void,
    /** Bytes still to free: a batch stops at the row that frees enough (large crops: no over-deleting). */
    excess?: () => number,
  ): Promise<number> {
    const pick = this.db.prepare(
      `SELECT e.seq, length(e.json) + coalesce((SELECT length(c.jpeg) FROM crops c WHERE c.seq = e.seq), 0) AS bytes
       FROM events e WHERE ${cond}${this.protect} ORDER BY ${order} LIMIT ${this.batch}`,
    );
    const del = this.db.prepare('DELETE FROM events WHERE seq = ?');
    const delCrop = this.db.prepare('DELETE FROM crops WHERE seq = ?');
    const deleteBatch = this.db.transaction((seqs: number[]) => {
      for (const s of seqs) {
        delCrop.run(s); // explicit: works whether or not foreign keys are on
        del.run(s);
      }
    });
    let total = 0;
    while (more()) {
      let rows = pick.all(...args) as { seq: number; bytes: number }[];
      if (rows.length === 0) break;
      if (excess) {
        let need = excess();
        const upTo = rows.findIndex((r) => (need -= r.bytes) <= 0);
        if (upTo >= 0) rows = rows.slice(0, upTo + 1);
      }
      deleteBatch(rows.map((r) => r.seq));
      total += rows.length;
      onFreed?.(rows.reduce((n, r) => n + r.bytes, 0));
      await pause();
    }
    return total;
  }

  /** Deletes, oldest first and in batches, the crops of unprotected events older than `beforeMs`. */
  private async deleteOldCrops(beforeMs: number, pause: () => Promise<void>): Promise<number> {
    const pick = this.db.prepare(
      `SELECT c.seq FROM crops c JOIN events e ON e.seq = c.seq WHERE e.timestamp < ?${this.protect} ORDER BY c.seq LIMIT ${this.batch}`,
    );
    const del = this.db.prepare('DELETE FROM crops WHERE seq = ?');
    const deleteBatch = this.db.transaction((seqs: number[]) => {
      for (const s of seqs) del.run(s);
    });
    let total = 0;
    for (;;) {
      const seqs = (pick.all(beforeMs) as { seq: number }[]).map((r) => r.seq);
      if (seqs.length === 0) break;
      deleteBatch(seqs);
      total += seqs.length;
      await pause();
    }
    return total;
  }

  /** Companion crops (face capture images) older than `beforeMs`, in batches; a failure is logged, not fatal. */
  private async pruneCompanionCrops(beforeMs: number, pause: () => Promise<void>): Promise<number> {
    const prune = this.opts.pruneCompanionCrops;
    if (!prune) return 0;
    let total = 0;
    try {
      for (;;) {
        const n = prune(beforeMs, this.batch);
        total += n;
        if (n < this.batch) break;
        await pause();
      }
    } catch (err) {
      this.log.warn({ err }, 'dropping old face capture images failed');
    }
    return total;
  }

  private analyticBytes(analytic: string): number {
    const row = this.db
      .prepare('SELECT coalesce(sum(length(e.json) + coalesce(length(c.jpeg), 0)), 0) AS n FROM events e LEFT JOIN crops c ON c.seq = e.seq WHERE e.analytic_id = ?')
      .get(analytic) as { n: number };
    return row.n;
  }

  /** SQLite keeps max_page_count ≥ the current page count, so it is re-applied once the file has shrunk. */
  private applyCap(): void {
    if (this.opts.maxBytes === undefined || this.opts.hardCap === false) return;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    this.db.pragma(`max_page_count = ${Math.max(16, Math.floor(this.opts.maxBytes / pageSize))}`);
  }

  private checkpoint(): void {
    const [r] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    if (r?.busy) this.log.debug(r, 'WAL checkpoint could not finish (a reader is active); next pass retries');
  }

  /** Incremental vacuum needs auto_vacuum set before the first table; convert an older file once (a VACUUM). */
  private ensureIncrementalVacuum(): void {
    if ((this.db.pragma('auto_vacuum', { simple: true }) as number) === 2) return;
    const started = Date.now();
    this.db.pragma('auto_vacuum = INCREMENTAL');
    this.db.exec('VACUUM');
    this.log.info({ ms: Date.now() - started }, 'database converted to incremental auto-vacuum (once)');
  }
}
