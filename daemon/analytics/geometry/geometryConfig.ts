import { VigilError } from '../../errors.js';
import type { Anchor } from '../tracker/track.js';

/** A compass direction of motion in the image (y grows downwards). */
export type Direction = 'Up' | 'Down' | 'Left' | 'Right';

/** A named counting line in normalised coordinates (0..1 of frame width/height). */
export interface LineConfig {
  name: string;
  /** Two end points [[x1,y1],[x2,y2]], normalised. */
  points: [[number, number], [number, number]];
  /**
   * Which crossing counts as "in": a direction of motion (Up/Down/Left/Right), or the
   * side of the line, seen walking from point 1 to point 2 on screen (left/right).
   * Default: Down for lines more horizontal than vertical, else Right.
   */
  in?: Direction | 'left' | 'right';
  /** Box point whose path is tested (default bottom-center). */
  anchor?: Anchor;
  /** Dead band either side of the line, as a fraction of the frame diagonal (default 0.02). */
  hysteresis?: number;
}

/** A named zone: a polygon in normalised coordinates. */
export interface ZoneConfig {
  name: string;
  /** At least three points [[x,y],...], normalised. */
  polygon: [number, number][];
  anchor?: Anchor;
  /** Dead band inside/outside the edge, fraction of the frame diagonal (default 0.01). */
  hysteresis?: number;
  /** Emit an event when a track enters or leaves the zone (default true). */
  events?: boolean;
  /** Seconds between occupancy events for this zone (default: the analytic's occupancyInterval; 0 = none). */
  interval_s?: number;
}

/** Lines and zones of one stream. */
export interface CountingGeometry {
  lines: LineConfig[];
  zones: ZoneConfig[];
}

const DIRECTIONS: Direction[] = ['Up', 'Down', 'Left', 'Right'];
const ANCHORS: Anchor[] = ['bottom-center', 'center', 'top-center'];

function isPoint(p: unknown): p is [number, number] {
  return Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1);
}

/**
 * Validates lines and zones from config, the API or the CLI; collects every
 * problem into one VIGIL_ERR_CONFIG error (or `code`, e.g. VIGIL_ERR_BAD_REQUEST for the API).
 */
export function parseGeometry(raw: unknown, code: 'VIGIL_ERR_CONFIG' | 'VIGIL_ERR_BAD_REQUEST' = 'VIGIL_ERR_CONFIG'): CountingGeometry {
  const errs: string[] = [];
  const obj = (raw ?? {}) as { lines?: unknown; zones?: unknown };
  if (typeof obj !== 'object' || Array.isArray(obj)) throw new VigilError(code, 'Geometry must be an object with `lines` and `zones`');
  const lines: LineConfig[] = [];
  const zones: ZoneConfig[] = [];
  const names = new Set<string>();
  const checkName = (n: unknown, where: string): n is string => {
    if (typeof n !== 'string' || !n.trim()) { errs.push(`${where}: name must be a non-empty string`); return false; }
    if (names.has(n)) { errs.push(`${where}: name "${n}" is used twice`); return false; }
    names.add(n);
    return true;
  };
  const checkCommon = (o: Record<string, unknown>, where: string): void => {
    if (o.anchor !== undefined && !ANCHORS.includes(o.anchor as Anchor)) errs.push(`${where}: anchor must be one of ${ANCHORS.join(', ')}`);
    if (o.hysteresis !== undefined && !(typeof o.hysteresis === 'number' && o.hysteresis >= 0 && o.hysteresis < 0.5)) errs.push(`${where}: hysteresis must be a number within 0..0.5`);
  };
  if (obj.lines !== undefined && !Array.isArray(obj.lines)) errs.push('lines must be a list');
  for (const [i, l] of ((Array.isArray(obj.lines) ? obj.lines : []) as Record<string, unknown>[]).entries()) {
    const where = `lines[${i}]`;
    if (!l || typeof l !== 'object') { errs.push(`${where}: must be an object`); continue; }
    checkName(l.name, where);
    const pts = l.points as unknown[];
    if (!Array.isArray(pts) || pts.length !== 2 || !pts.every(isPoint)) errs.push(`${where}: points must be two [x, y] pairs within 0..1`);
    else if (pts[0]![0] === pts[1]![0] && pts[0]![1] === pts[1]![1]) errs.push(`${where}: the two points are the same`);
    if (l.in !== undefined && !DIRECTIONS.includes(l.in as Direction) && l.in !== 'left' && l.in !== 'right') errs.push(`${where}: in must be one of ${DIRECTIONS.join(', ')}, left, right`);
    checkCommon(l, where);
    if (Array.isArray(pts) && pts.length === 2 && pts.every(isPoint) && DIRECTIONS.includes(l.in as Direction)) {
      const [a, b] = pts as [[number, number], [number, number]];
      const d = l.in as Direction;
      // "in" must cross the line: a direction parallel to it never does.
      const along = d === 'Up' || d === 'Down' ? b[0] - a[0] : b[1] - a[1];
      if (along === 0) errs.push(`${where}: in ${d} runs parallel to the line`);
    }
    lines.push(l as unknown as LineConfig);
  }
  if (obj.zones !== undefined && !Array.isArray(obj.zones)) errs.push('zones must be a list');
  for (const [i, z] of ((Array.isArray(obj.zones) ? obj.zones : []) as Record<string, unknown>[]).entries()) {
    const where = `zones[${i}]`;
    if (!z || typeof z !== 'object') { errs.push(`${where}: must be an object`); continue; }
    checkName(z.name, where);
    const poly = z.polygon as unknown[];
    if (!Array.isArray(poly) || poly.length < 3 || !poly.every(isPoint)) errs.push(`${where}: polygon must be at least three [x, y] pairs within 0..1`);
    if (z.events !== undefined && typeof z.events !== 'boolean') errs.push(`${where}: events must be true or false`);
    if (z.interval_s !== undefined && !(typeof z.interval_s === 'number' && z.interval_s >= 0)) errs.push(`${where}: interval_s must be a number >= 0`);
    checkCommon(z, where);
    zones.push(z as unknown as ZoneConfig);
  }
  if (errs.length) throw new VigilError(code, `Invalid counting geometry: ${errs.join('; ')}`, errs);
  return { lines, zones };
}
