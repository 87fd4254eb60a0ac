import type { Anchor } from '../tracker/track.js';
import type { CountingGeometry, Direction } from './geometryConfig.js';

/** A track crossed a line or entered/left a zone. */
export interface GeometryEvent {
  kind: 'line' | 'zone-enter' | 'zone-exit';
  /** Line or zone name. */
  name: string;
  trackId: number;
  inOut: 'in' | 'out';
  /** Dominant image direction of the motion that caused it. */
  direction: Direction;
  /** False for zones configured without events: the counters still move. */
  emit: boolean;
}

interface CompiledLine {
  name: string;
  ax: number; ay: number; bx: number; by: number;
  /** Unit normal pointing to the "in" side. */
  nx: number; ny: number;
  band: number;
  anchor: Anchor;
}

interface CompiledZone {
  name: string;
  /** x0,y0,x1,y1,... in pixels. */
  poly: Float64Array;
  band: number;
  anchor: Anchor;
  events: boolean;
}

/** Per-track state: which side of each line / zone edge it was last seen clearly on. */
interface TrackGeo {
  /** -1 outside/"out" side, +1 "in" side, 0 not yet known. */
  side: Int8Array;
  /** Anchor where the track last stood clearly on its side of each line: x,y pairs. */
  ref: Float64Array;
  zone: Int8Array;
  zref: Float64Array;
}

/** Dominant direction of a motion vector in image coordinates (y down). */
export function directionOf(dx: number, dy: number): Direction {
  if (Math.abs(dx) >= Math.abs(dy)) return dx >= 0 ? 'Right' : 'Left';
  return dy >= 0 ? 'Down' : 'Up';
}

/** Ray-casting point-in-polygon over x,y pairs. */
export function pointInPolygon(x: number, y: number, poly: Float64Array): boolean {
  let inside = false;
  const n = poly.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = poly[2 * i]!, yi = poly[2 * i + 1]!, xj = poly[2 * j]!, yj = poly[2 * j + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Distance from a point to the nearest polygon edge. */
export function distanceToEdges(x: number, y: number, poly: Float64Array): number {
  let best = Infinity;
  const n = poly.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const ax = poly[2 * j]!, ay = poly[2 * j + 1]!, bx = poly[2 * i]!, by = poly[2 * i + 1]!;
    const ex = bx - ax, ey = by - ay;
    const l2 = ex * ex + ey * ey;
    let t = l2 > 0 ? ((x - ax) * ex + (y - ay) * ey) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const dx = x - ax - t * ex, dy = y - ay - t * ey;
    const d = dx * dx + dy * dy;
    if (d < best) best = d;
  }
  return Math.sqrt(best);
}

/**
 * Turns track positions into line crossings and zone entries/exits, with a dead
 * band (hysteresis) around each line and zone edge: a track must leave the band on
 * the far side to count, so jitter on the line or a stop on it never counts twice.
 * Only real observations are fed (never Kalman predictions of lost tracks).
 */
export class GeometryCounter {
  private lines: CompiledLine[] = [];
  private zones: CompiledZone[] = [];
  private readonly states = new Map<number, TrackGeo>();
  private width = 0;
  private height = 0;
  private readonly pt = new Float64Array(2);
  /** Live number of tracks inside each zone (index as in the geometry's zones). */
  occupancy = new Int32Array(0);

  constructor(private geometry: CountingGeometry) {}

  get lineNames(): string[] { return this.geometry.lines.map((l) => l.name); }
  get zoneNames(): string[] { return this.geometry.zones.map((z) => z.name); }
  get empty(): boolean { return this.geometry.lines.length === 0 && this.geometry.zones.length === 0; }

  /** Replaces the geometry (live edit); every track starts over on the new lines. */
  setGeometry(g: CountingGeometry): void {
    this.geometry = g;
    this.states.clear();
    this.width = this.height = 0;
  }

  /** Compiles normalised geometry to pixels of this frame size (cheap no-op when unchanged). */
  setFrameSize(width: number, height: number): void {
    if (width === this.width && height === this.height) return;
    this.width = width;
    this.height = height;
    const diag = Math.hypot(width, height);
    this.lines = this.geometry.lines.map((l) => {
      const ax = l.points[0][0] * width, ay = l.points[0][1] * height;
      const bx = l.points[1][0] * width, by = l.points[1][1] * height;
      const len = Math.hypot(bx - ax, by - ay) || 1;
      let nx = -(by - ay) / len, ny = (bx - ax) / len; // one of the two normals
      const inDir = l.in ?? (Math.abs(bx - ax) >= Math.abs(by - ay) ? 'Down' : 'Right');
      // nx,ny is the right-hand side walking from point 1 to 2 on screen (y down).
      if (inDir === 'left') { nx = -nx; ny = -ny; }
      else if (inDir !== 'right') {
        const [dx, dy] = inDir === 'Up' ? [0, -1] : inDir === 'Down' ? [0, 1] : inDir === 'Left' ? [-1, 0] : [1, 0];
        if (nx * dx + ny * dy < 0) { nx = -nx; ny = -ny; }
      }
      return { name: l.name, ax, ay, bx, by, nx, ny, band: (l.hysteresis ?? 0.02) * diag, anchor: l.anchor ?? 'bottom-center' };
    });
    this.zones = this.geometry.zones.map((z) => {
      const poly = new Float64Array(z.polygon.length * 2);
      z.polygon.forEach((p, i) => { poly[2 * i] = p[0] * width; poly[2 * i + 1] = p[1] * height; });
      return { name: z.name, poly, band: (z.hysteresis ?? 0.01) * diag, anchor: z.anchor ?? 'bottom-center', events: z.events ?? true };
    });
    this.occupancy = new Int32Array(this.zones.length);
    this.states.clear();
  }

  /**
   * Feeds one observed box of a track; appends any crossings to `out`.
   * Allocates only for a track's first observation and for events.
   */
  observe(trackId: number, x1: number, y1: number, x2: number, y2: number, out: GeometryEvent[]): void {
    let st = this.states.get(trackId);
    if (!st) {
      st = {
        side: new Int8Array(this.lines.length), ref: new Float64Array(this.lines.length * 2),
        zone: new Int8Array(this.zones.length), zref: new Float64Array(this.zones.length * 2),
      };
      this.states.set(trackId, st);
    }
    const p = this.pt;
    for (let i = 0; i < this.lines.length; i++) {
      const l = this.lines[i]!;
      p[0] = (x1 + x2) / 2;
      p[1] = l.anchor === 'bottom-center' ? y2 : l.anchor === 'top-center' ? y1 : (y1 + y2) / 2;
      const px = p[0]!, py = p[1]!;
      const d = (px - l.ax) * l.nx + (py - l.ay) * l.ny;
      const now = d > l.band ? 1 : d < -l.band ? -1 : 0;
      if (now === 0) continue; // inside the dead band: no decision
      const was = st.side[i]!;
      if (was === -now) {
        const rx = st.ref[2 * i]!, ry = st.ref[2 * i + 1]!;
        // Where the path crosses the infinite line; count only within the segment.
        const dr = (rx - l.ax) * l.nx + (ry - l.ay) * l.ny;
        const t = dr / (dr - d);
        const qx = rx + t * (px - rx), qy = ry + t * (py - ry);
        const ex = l.bx - l.ax, ey = l.by - l.ay;
        const u = ((qx - l.ax) * ex + (qy - l.ay) * ey) / (ex * ex + ey * ey);
        if (u >= 0 && u <= 1) {
          out.push({ kind: 'line', name: l.name, trackId, inOut: now > 0 ? 'in' : 'out', direction: directionOf(px - rx, py - ry), emit: true });
        }
      }
      st.side[i] = now;
      st.ref[2 * i] = px;
      st.ref[2 * i + 1] = py;
    }
    for (let i = 0; i < this.zones.length; i++) {
      const z = this.zones[i]!;
      const px = (x1 + x2) / 2;
      const py = z.anchor === 'bottom-center' ? y2 : z.anchor === 'top-center' ? y1 : (y1 + y2) / 2;
      if (distanceToEdges(px, py, z.poly) <= z.band) continue;
      const now = pointInPolygon(px, py, z.poly) ? 1 : -1;
      const was = st.zone[i]!;
      if (now !== was) {
        if (now === 1) this.occupancy[i]!++;
        else if (was === 1) this.occupancy[i]!--;
        // A track first seen inside is occupancy, not an entry: we did not see it come in.
        if (was !== 0) {
          out.push({
            kind: now === 1 ? 'zone-enter' : 'zone-exit', name: z.name, trackId, inOut: now === 1 ? 'in' : 'out',
            direction: directionOf(px - st.zref[2 * i]!, py - st.zref[2 * i + 1]!), emit: z.events,
          });
        }
        st.zone[i] = now;
      }
      st.zref[2 * i] = px;
      st.zref[2 * i + 1] = py;
    }
  }

  /** Drops a finished track; it no longer counts towards zone occupancy. */
  forget(trackId: number): void {
    const st = this.states.get(trackId);
    if (!st) return;
    for (let i = 0; i < st.zone.length; i++) if (st.zone[i] === 1) this.occupancy[i]!--;
    this.states.delete(trackId);
  }

  /** Whether a track has been seen (and so is counted already). */
  has(trackId: number): boolean {
    return this.states.has(trackId);
  }
}
