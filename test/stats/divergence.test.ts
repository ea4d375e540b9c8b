import { alignCounts, divergenceFromCounts, jensenShannon, totalVariation } from '../../core/stats/divergence';

describe('jensenShannon', () => {
  it('is 0 for identical distributions, also when given as counts of different sizes', () => {
    expect(jensenShannon([0.2, 0.3, 0.5], [0.2, 0.3, 0.5])).toBe(0);
    expect(jensenShannon([2, 3, 5], [200, 300, 500])).toBeCloseTo(0, 15);
  });

  it('is 1 bit for disjoint supports', () => {
    expect(jensenShannon([1, 0], [0, 1])).toBe(1);
    expect(jensenShannon([5, 5, 0, 0], [0, 0, 3, 7])).toBeCloseTo(1, 15);
  });

  it('matches a hand computation: P = (1, 0), Q = (1/2, 1/2) gives 0.311278 bits', () => {
    // M = (3/4, 1/4); KL(P||M) = log2(4/3); KL(Q||M) = 1/2 log2(2/3) + 1/2 log2(2); JS = mean of the two.
    const expected = (Math.log2(4 / 3) + 0.5 * Math.log2(2 / 3) + 0.5) / 2;
    expect(expected).toBeCloseTo(0.3112781244591328, 12);
    expect(jensenShannon([1, 0], [0.5, 0.5])).toBeCloseTo(expected, 14);
  });

  it('is symmetric and bounded', () => {
    const p = [3, 1, 4, 1, 5];
    const q = [9, 2, 6, 5, 3];
    expect(jensenShannon(p, q)).toBeCloseTo(jensenShannon(q, p), 15);
    expect(jensenShannon(p, q)).toBeGreaterThan(0);
    expect(jensenShannon(p, q)).toBeLessThan(1);
  });

  it('rejects mismatched, empty, negative or all-zero inputs', () => {
    expect(() => jensenShannon([1, 2], [1, 2, 3])).toThrow(RangeError);
    expect(() => jensenShannon([], [])).toThrow(RangeError);
    expect(() => jensenShannon([1, -1], [1, 1])).toThrow(RangeError);
    expect(() => jensenShannon([0, 0], [1, 1])).toThrow(/empty/);
    expect(() => jensenShannon([NaN, 1], [1, 1])).toThrow(RangeError);
  });
});

describe('totalVariation', () => {
  it('is half the L1 distance of the normalised vectors', () => {
    expect(totalVariation([1, 0], [0.5, 0.5])).toBeCloseTo(0.5, 15);
    expect(totalVariation([2, 2, 6], [1, 3, 1])).toBeCloseTo(0.5 * (Math.abs(0.2 - 0.2) + Math.abs(0.2 - 0.6) + Math.abs(0.6 - 0.2)), 15);
    expect(totalVariation([1, 1], [7, 7])).toBe(0);
    expect(totalVariation([1, 0, 0], [0, 1, 1])).toBe(1);
  });
});

describe('value-count maps', () => {
  it('aligns categories: union in first-seen order, missing ones count 0', () => {
    const a = new Map([
      ['1', 10],
      ['2', 10],
    ]);
    const b = new Map([
      ['3', 5],
      ['2', 5],
    ]);
    expect(alignCounts(a, b)).toEqual({ categories: ['1', '2', '3'], p: [10, 10, 0], q: [0, 5, 5] });
  });

  it('computes both divergences from GROUP BY style counts', () => {
    // FACTS §4: FINANZ_VORSORGER in heavy rows (> 12 missing) vs the rest of the population.
    const heavy = new Map([
      ['3', 80_015],
      ['5', 9_500],
      ['4', 9_226],
      ['2', 6_797],
      ['1', 3_637],
    ]);
    const clean = new Map([
      ['5', 232_762],
      ['4', 188_992],
      ['3', 149_827],
      ['2', 109_733],
      ['1', 100_732],
    ]);
    const d = divergenceFromCounts(heavy, clean)!;
    const keys = ['1', '2', '3', '4', '5'];
    const p = keys.map((k) => heavy.get(k)!);
    const q = keys.map((k) => clean.get(k)!);
    expect(d.categories).toBe(5);
    expect(d.jensenShannon).toBeCloseTo(jensenShannon(p, q), 15);
    expect(d.totalVariation).toBeCloseTo(totalVariation(p, q), 15);
    // 73 % at code 3 vs 19 %: a large difference.
    expect(d.totalVariation).toBeGreaterThan(0.5);
  });

  it('returns null when one side has no observations', () => {
    expect(divergenceFromCounts(new Map<string, number>(), new Map([['1', 3]]))).toBeNull();
    expect(divergenceFromCounts(new Map([['1', 0]]), new Map([['1', 3]]))).toBeNull();
  });

  it('works with numeric keys', () => {
    const d = divergenceFromCounts(new Map([[1, 5]]), new Map([[2, 5]]));
    expect(d).toEqual({ jensenShannon: 1, totalVariation: 1, categories: 2 });
  });
});
