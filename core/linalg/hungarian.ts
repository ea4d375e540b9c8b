/**
 * Minimum-cost assignment (Hungarian algorithm, shortest augmenting paths with potentials, O(n² m)) for a
 * rows × cols cost matrix given row-major. Rectangular matrices are fine: every row is assigned when
 * rows ≤ cols, every column when rows > cols (the others get −1).
 */
export interface AssignmentResult {
  /** rowToCol[r] = column of row r, or −1. */
  rowToCol: Int32Array;
  /** colToRow[c] = row of column c, or −1. */
  colToRow: Int32Array;
  /** Σ cost of the chosen pairs (of the original matrix, also when maximising). */
  totalCost: number;
}

export function hungarian(cost: ArrayLike<number>, rows: number, cols: number, opts: { maximize?: boolean } = {}): AssignmentResult {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) throw new RangeError('hungarian: bad shape');
  if (cost.length !== rows * cols) throw new RangeError(`hungarian: expected ${rows * cols} costs, got ${cost.length}`);
  for (let i = 0; i < cost.length; i++) if (!Number.isFinite(cost[i])) throw new RangeError(`hungarian: non-finite cost at ${i}`);
  const sign = opts.maximize ? -1 : 1;
  const rowToCol = new Int32Array(rows).fill(-1);
  const colToRow = new Int32Array(cols).fill(-1);
  if (rows === 0 || cols === 0) return { rowToCol, colToRow, totalCost: 0 };
  const transpose = rows > cols;
  const n = transpose ? cols : rows; // n ≤ m
  const m = transpose ? rows : cols;
  const a = (i: number, j: number): number => sign * (transpose ? cost[j * cols + i] : cost[i * cols + j]);

  // 1-based arrays as in the classic formulation; p[j] = row matched to column j (0 = none).
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = -1;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = a(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  let total = 0;
  for (let j = 1; j <= m; j++) {
    if (p[j] === 0) continue;
    const i = p[j] - 1, jj = j - 1;
    const r = transpose ? jj : i;
    const c = transpose ? i : jj;
    rowToCol[r] = c;
    colToRow[c] = r;
    total += cost[r * cols + c];
  }
  return { rowToCol, colToRow, totalCost: total };
}
