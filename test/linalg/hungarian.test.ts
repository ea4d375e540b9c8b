import { hungarian } from '../../core/linalg/hungarian';
import { Prng } from '../../core/linalg/prng';

/** Minimum total cost by brute force over all injections of the smaller side into the larger. */
function bruteForce(cost: number[], rows: number, cols: number): number {
  let best = Infinity;
  const usedCols = new Array<boolean>(cols).fill(false);
  const usedRows = new Array<boolean>(rows).fill(false);
  const byRow = rows <= cols;
  const n = byRow ? rows : cols, m = byRow ? cols : rows;
  const used = byRow ? usedCols : usedRows;
  const rec = (i: number, acc: number): void => {
    if (i === n) { best = Math.min(best, acc); return; }
    for (let j = 0; j < m; j++) {
      if (used[j]) continue;
      used[j] = true;
      rec(i + 1, acc + (byRow ? cost[i * cols + j] : cost[j * cols + i]));
      used[j] = false;
    }
  };
  rec(0, 0);
  return best;
}

describe('hungarian', () => {
  const rng = new Prng(2024);
  const shapes: [number, number][] = [];
  for (let n = 1; n <= 6; n++) shapes.push([n, n]);
  shapes.push([2, 5], [5, 2], [3, 6], [6, 4], [4, 1], [1, 4]);

  it.each(shapes)('%i × %i equals brute force over permutations (20 random matrices)', (rows, cols) => {
    for (let t = 0; t < 20; t++) {
      const integer = t % 2 === 0; // integer costs produce many ties
      const cost = Array.from({ length: rows * cols }, () => (integer ? rng.nextInt(5) : rng.nextFloat() * 100 - 50));
      const res = hungarian(cost, rows, cols);
      const expected = bruteForce(cost, rows, cols);
      expect(Math.abs(res.totalCost - expected)).toBeLessThan(1e-9);
      // a consistent, injective assignment whose cost is the reported total
      let sum = 0, assigned = 0;
      for (let r = 0; r < rows; r++) {
        const c = res.rowToCol[r];
        if (c < 0) continue;
        assigned++;
        expect(res.colToRow[c]).toBe(r);
        sum += cost[r * cols + c];
      }
      expect(assigned).toBe(Math.min(rows, cols));
      expect(new Set(Array.from(res.rowToCol).filter((c) => c >= 0)).size).toBe(assigned);
      expect(Math.abs(sum - res.totalCost)).toBeLessThan(1e-9);
    }
  });

  it('maximises when asked', () => {
    const cost = [1, 9, 3, 4, 2, 8, 7, 6, 5];
    const res = hungarian(cost, 3, 3, { maximize: true });
    expect(res.totalCost).toBe(-bruteForce(cost.map((c) => -c), 3, 3));
    expect(res.totalCost).toBe(9 + 8 + 7);
  });

  it('handles empty matrices and rejects bad input', () => {
    expect(hungarian([], 0, 3).totalCost).toBe(0);
    expect(() => hungarian([1, 2, 3], 2, 2)).toThrow(RangeError);
    expect(() => hungarian([1, NaN, 3, 4], 2, 2)).toThrow(RangeError);
  });
});
