import { statfsSync } from 'node:fs';
import type { Db } from './database.js';

/** The retention keys that decide the size cap. */
export interface CapConfig {
  max_bytes: number | 'auto' | null;
  disk_share: number;
  auto_max_bytes: number;
}

/** The cap retention enforces and where it comes from. */
export interface ResolvedCap {
  maxBytes?: number;
  source: 'config' | 'auto' | 'none';
  /** Size of the data disk, when `auto` read it. */
  diskBytes?: number;
}

/** The smallest cap `auto` sets: below it a few hours of events would not fit. */
const AUTO_FLOOR = 64 * 1024 * 1024;

/**
 * Resolves `retention.max_bytes`. `auto`: `disk_share` of the data disk's size, at most
 * `auto_max_bytes`, and at most half of what the store could use now (free space plus its own
 * size), so that a disk shared with other data is never filled by events.
 */
export function resolveCap(cfg: CapConfig, dataDir: string, storeBytes: number): ResolvedCap {
  if (cfg.max_bytes === null) return { source: 'none' };
  if (cfg.max_bytes !== 'auto') return { maxBytes: cfg.max_bytes, source: 'config' };
  const fs = statfsSync(dataDir);
  const disk = fs.blocks * fs.bsize;
  const free = fs.bavail * fs.bsize;
  const cap = Math.min(disk * cfg.disk_share, cfg.auto_max_bytes, (free + storeBytes) / 2);
  return { maxBytes: Math.floor(Math.max(AUTO_FLOOR, cap)), source: 'auto', diskBytes: disk };
}

/** How fast the store fills and how long until (or how much history) the cap holds. */
export interface StorageRate {
  /** Bytes of events and crops stored per day, over the last day (or since the oldest event, if younger). */
  bytes_per_day: number;
  /** Days until the cap is reached at this rate; 0 once it is (retention then deletes the oldest); null without a cap. */
  days_to_cap: number | null;
  /** Days of events the cap holds at this rate; null without a cap. */
  days_at_cap: number | null;
}

/** Index entries and row headers an event costs beyond its JSON and crop (measured: ~150-250 B). */
const ROW_OVERHEAD = 200;
const DAY_MS = 86_400_000;
/** A window shorter than this gives a rate too noisy to show. */
const MIN_WINDOW_MS = 60_000;

/**
 * Measures the store's growth from the events of the last day. The query reads a day of rows
 * (index and record headers, not the crops), so its result is kept for `cacheMs` (default 5 min).
 */
export class StorageMeter {
  private cached: { at: number; rate: StorageRate } | null = null;

  constructor(private readonly db: Db, private readonly maxBytes: number | undefined, private readonly cacheMs = 300_000) {}

  rate(usedBytes: number, now = Date.now()): StorageRate {
    if (this.cached && now - this.cached.at < this.cacheMs) return this.withUsed(this.cached.rate.bytes_per_day, usedBytes);
    const row = this.db
      .prepare(
        `SELECT count(*) AS n, coalesce(sum(length(e.json)), 0) AS j, coalesce(sum(length(c.jpeg)), 0) AS c, min(e.timestamp) AS t0
         FROM events e LEFT JOIN crops c ON c.seq = e.seq WHERE e.timestamp >= ?`,
      )
      .get(now - DAY_MS) as { n: number; j: number; c: number; t0: number | null };
    const span = row.t0 === null ? 0 : Math.max(MIN_WINDOW_MS, now - row.t0);
    const perDay = span > 0 ? ((row.j + row.c + row.n * ROW_OVERHEAD) * DAY_MS) / span : 0;
    const rate = this.withUsed(Math.round(perDay), usedBytes);
    this.cached = { at: now, rate };
    return rate;
  }

  private withUsed(perDay: number, used: number): StorageRate {
    const cap = this.maxBytes;
    if (cap === undefined) return { bytes_per_day: perDay, days_to_cap: null, days_at_cap: null };
    const round = (v: number) => Math.round(v * 10) / 10;
    if (perDay <= 0) return { bytes_per_day: 0, days_to_cap: null, days_at_cap: null };
    return { bytes_per_day: perDay, days_to_cap: round(Math.max(0, cap - used) / perDay), days_at_cap: round(cap / perDay) };
  }
}
