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
  /** Bytes the store gains per day: events of the last day (or since the oldest, if younger) times what an event costs on disk. */
  bytes_per_day: number;
  /** Days until the cap is reached at this rate; 0 once it is (retention then deletes the oldest); null without a cap. */
  days_to_cap: number | null;
  /** Days of events the cap holds at this rate; null without a cap. */
  days_at_cap: number | null;
}

const DAY_MS = 86_400_000;
/** A window shorter than this gives a rate too noisy to show. */
const MIN_WINDOW_MS = 60_000;

/**
 * Measures the store's growth: events per day (from the last day of rows) times the bytes the
 * store holds per event. The latter counts everything an event brings along (crop, indexes,
 * page slack, face captures and embeddings), which a sum of JSON and crop sizes misses by 2-3x.
 * Both are index counts; the result is kept for `cacheMs` (default 5 min).
 */
export class StorageMeter {
  private cached: { at: number; perDay: number } | null = null;

  constructor(private readonly db: Db, private readonly maxBytes: number | undefined, private readonly cacheMs = 300_000) {}

  rate(usedBytes: number, now = Date.now()): StorageRate {
    if (!this.cached || now - this.cached.at >= this.cacheMs) {
      const total = (this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
      const recent = this.db.prepare('SELECT count(*) AS n, min(timestamp) AS t0 FROM events WHERE timestamp >= ?').get(now - DAY_MS) as { n: number; t0: number | null };
      const span = recent.t0 === null ? 0 : Math.max(MIN_WINDOW_MS, now - recent.t0);
      const perDay = span > 0 && total > 0 ? ((recent.n * DAY_MS) / span) * (usedBytes / total) : 0;
      // A young store's rate is still settling (and may be 0): look again soon.
      this.cached = { at: span >= 3_600_000 ? now : now - this.cacheMs + Math.min(this.cacheMs, 30_000), perDay: Math.round(perDay) };
    }
    return this.withUsed(this.cached.perDay, usedBytes);
  }

  private withUsed(perDay: number, used: number): StorageRate {
    const cap = this.maxBytes;
    if (cap === undefined) return { bytes_per_day: perDay, days_to_cap: null, days_at_cap: null };
    const round = (v: number) => Math.round(v * 10) / 10;
    if (perDay <= 0) return { bytes_per_day: 0, days_to_cap: null, days_at_cap: null };
    return { bytes_per_day: perDay, days_to_cap: round(Math.max(0, cap - used) / perDay), days_at_cap: round(cap / perDay) };
  }
}
