/**
 * Minimum-cost assignment with a cost limit (what ByteTrack gets from lapjv):
 * Hungarian algorithm with potentials, O(n²m), on a reused typed-array workspace,
 * so a frame with 50 tracks and 50 detections costs well under a millisecond and
 * allocates nothing once the workspace has grown.
 */
export class Assignment {
  private u = new Float64Array(0);
  private v = new Float64Array(0);
  private p = new Int32Array(0);
  private way = new Int32Array(0);
  private minv = new Float64Array(0);
  private used = new Uint8Array(0);
  private t = new Float64Array(0);
  /** rowMatch[i] = column matched to row i, or -1 (valid after solve, length >= rows). */
  rowMatch = new Int32Array(0);
  /** colMatch[j] = row matched to column j, or -1. */
  colMatch = new Int32Array(0);

  /**
   * Solves rows×cols `cost` (row-major). Pairs costing more than `limit` are never
   * matched; among the rest, the most pairs, then the least total cost.
   */
  solve(cost: Float64Array, rows: number, cols: number, limit: number): void {
    this.grow(rows, cols);
    this.rowMatch.fill(-1, 0, rows);
    this.colMatch.fill(-1, 0, cols);
    if (rows === 0 || cols === 0) return;
    // The algorithm wants n <= m: transpose into the workspace when needed.
    const transpose = rows > cols;
    const n = transpose ? cols : rows;
    const m = transpose ? rows : cols;
    const c = this.t;
    const BIG = 1e6; // infeasible pairs: costlier than any sum of feasible ones
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        const x = transpose ? cost[j * cols + i]! : cost[i * cols + j]!;
        c[i * m + j] = x > limit ? BIG : x;
      }
    }
    const u = this.u, v = this.v, p = this.p, way = this.way, minv = this.minv, used = this.used;
    u.fill(0, 0, n + 1);
    v.fill(0, 0, m + 1);
    p.fill(0, 0, m + 1);
    way.fill(0, 0, m + 1);
    for (let i = 1; i <= n; i++) {
      p[0] = i;
      let j0 = 0;
      minv.fill(Infinity, 0, m + 1);
      used.fill(0, 0, m + 1);
      do {
        used[j0] = 1;
        const i0 = p[j0]!;
        let delta = Infinity;
        let j1 = 0;
        const row = (i0 - 1) * m;
        const ui0 = u[i0]!;
        for (let j = 1; j <= m; j++) {
          if (used[j]) continue;
          const cur = c[row + j - 1]! - ui0 - v[j]!;
          if (cur < minv[j]!) { minv[j] = cur; way[j] = j0; }
          if (minv[j]! < delta) { delta = minv[j]!; j1 = j; }
        }
        for (let j = 0; j <= m; j++) {
          if (used[j]) { u[p[j]!] = u[p[j]!]! + delta; v[j] = v[j]! - delta; }
          else minv[j] = minv[j]! - delta;
        }
        j0 = j1;
      } while (p[j0] !== 0);
      do {
        const j1 = way[j0]!;
        p[j0] = p[j1]!;
        j0 = j1;
      } while (j0);
    }
    for (let j = 1; j <= m; j++) {
      const i = p[j]!;
      if (i === 0) continue;
      if (c[(i - 1) * m + j - 1]! >= BIG) continue;
      const r = transpose ? j - 1 : i - 1;
      const col = transpose ? i - 1 : j - 1;
      this.rowMatch[r] = col;
      this.colMatch[col] = r;
    }
  }

  private grow(rows: number, cols: number): void {
    const k = Math.max(rows, cols) + 1;
    if (this.u.length < k) {
      const size = Math.max(k, this.u.length * 2, 16);
      this.u = new Float64Array(size);
      this.v = new Float64Array(size);
      this.p = new Int32Array(size);
      this.way = new Int32Array(size);
      this.minv = new Float64Array(size);
      this.used = new Uint8Array(size);
    }
    if (this.t.length < rows * cols) this.t = new Float64Array(Math.max(rows * cols, this.t.length * 2, 256));
    if (this.rowMatch.length < rows) this.rowMatch = new Int32Array(Math.max(rows, this.rowMatch.length * 2, 16));
    if (this.colMatch.length < cols) this.colMatch = new Int32Array(Math.max(cols, this.colMatch.length * 2, 16));
  }
}
