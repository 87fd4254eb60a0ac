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

  /** Records an announcement and forgets entries older than the window. */
  mark(plate: string, nowMs: number): void {
    this.last.set(plate, nowMs);
    if (this.last.size > 256) for (const [k, t] of this.last) if (nowMs - t >= this.windowMs) this.last.delete(k);
  }
}
