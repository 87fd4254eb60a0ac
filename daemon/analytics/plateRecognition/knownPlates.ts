import { VigilError } from '../../errors.js';

/** A watch-list entry: a plate or wildcard pattern (`*` any run, `?` one character) with what to tag. */
export interface KnownPlate {
  plate: string;
  /** e.g. `allowed`, `blocked`, `watch`; default `known`. */
  status?: string;
  tags?: string[];
  name?: string;
}

/** What a matched entry adds to the event's pipeline_data. */
export interface KnownPlateMatch {
  status: string;
  tags: string[];
  known_plate: string | null;
  name?: string;
}

/** Matches plate numbers against a known-plates list; first matching entry wins. */
export class KnownPlates {
  private readonly entries: { entry: KnownPlate; re: RegExp }[];

  constructor(list: readonly KnownPlate[] = []) {
    this.entries = list.map((entry) => {
      if (!entry || typeof entry.plate !== 'string' || !entry.plate.trim()) throw new VigilError('VIGIL_ERR_CONFIG', 'A known_plates entry needs a non-empty `plate`');
      return { entry, re: globToRegExp(entry.plate) };
    });
  }

  /** The entry's status/tags, or status `unknown` when nothing matches. */
  match(plate: string): KnownPlateMatch {
    const p = compact(plate);
    for (const { entry, re } of this.entries) {
      if (re.test(p)) return { status: entry.status ?? 'known', tags: entry.tags ?? [], known_plate: entry.plate, ...(entry.name ? { name: entry.name } : {}) };
    }
    return { status: 'unknown', tags: [], known_plate: null };
  }
}

/** Separators do not count: `B 12-34` matches `B1234`. */
function compact(s: string): string {
  return s.toUpperCase().replace(/[\s\-.·]/gu, '');
}

/** `B12*` → /^B12.*$/ over the compacted plate; regex metacharacters are escaped. */
export function globToRegExp(glob: string): RegExp {
  const body = Array.from(compact(glob)).map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$+.()|[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'u');
}

/** Remembers when each plate was announced, so a plate is not re-announced within `windowMs`. */
export class DedupWindow {
  private readonly last = new Map<string, number>();
  constructor(readonly windowMs: number) {}

  /** True when `plate` was announced less than windowMs before `nowMs`. */
  isDuplicate(plate: string, nowMs: number): boolean {
    const t = this.last.get(plate);
    return t !== undefined && nowMs - t < this.windowMs;
  }

  /**
   * A plate announced less than `withinMs` before `nowMs` that `plate` could be a misread of:
   * same stream, a few characters apart (at most 3, and under half of them). Undefined if none.
   */
  nearMiss(plate: string, nowMs: number, withinMs: number): string | undefined {
    const a = Array.from(plate);
    const limit = Math.min(3, Math.floor(a.length * 0.45));
    for (const [other, t] of this.last) {
      if (other !== plate && nowMs - t < withinMs && editDistance(a, Array.from(other), limit) <= limit) return other;
    }
    return undefined;
  }

  /** Records an announcement and forgets entries older than the window. */
  mark(plate: string, nowMs: number): void {
    this.last.set(plate, nowMs);
    if (this.last.size > 256) for (const [k, t] of this.last) if (nowMs - t >= this.windowMs) this.last.delete(k);
  }
}

/** Levenshtein distance of two character lists, or limit + 1 once it exceeds `limit`. */
export function editDistance(a: readonly string[], b: readonly string[], limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]!);
    }
    if (rowMin > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length]!;
}
