import {
  classifyRepresentation,
  compareGroups,
  compareShares,
  rankRepresentation,
  type ShareComparison,
} from '../../core/stats/representation';

const Z975 = 1.959963984540054; // textbook constant, not from the code under test
const Z995 = 2.5758293035489004;

/** Katz interval computed independently of the implementation. */
function katz(a: number, n1: number, c: number, n2: number, z: number): [number, number, number] {
  const ratio = a / n1 / (c / n2);
  const se = Math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2);
  return [ratio, ratio * Math.exp(-z * se), ratio * Math.exp(z * se)];
}

describe('compareShares', () => {
  // 30 of 100 customers vs 20 of 200 in the population.
  const counts = { customerCount: 30, customerTotal: 100, populationCount: 20, populationTotal: 200 };

  it('computes shares and lift', () => {
    const r = compareShares(counts, 0.05);
    expect(r.customerShare).toBeCloseTo(0.3, 15);
    expect(r.populationShare).toBeCloseTo(0.1, 15);
    expect(r.lift).toBeCloseTo(3, 12);
  });

  it('gives the Katz log interval (hand values 1.79726, 5.00761 at 95 %)', () => {
    const r = compareShares(counts, 0.05);
    const [, lo, hi] = katz(30, 100, 20, 200, Z975);
    expect(r.liftCi[0]).toBeCloseTo(lo, 10);
    expect(r.liftCi[1]).toBeCloseTo(hi, 10);
    expect(r.liftCi[0]).toBeCloseTo(1.797263187985246, 6);
    expect(r.liftCi[1]).toBeCloseTo(5.007613832056008, 6);
  });

  it('widens the interval for a smaller alpha (99 %: 1.53001, 5.88232)', () => {
    const r = compareShares(counts, 0.01);
    const [, lo, hi] = katz(30, 100, 20, 200, Z995);
    expect(r.liftCi[0]).toBeCloseTo(lo, 10);
    expect(r.liftCi[1]).toBeCloseTo(hi, 10);
    expect(r.liftCi[0]).toBeCloseTo(1.5300094143461713, 6);
  });

  it('gives the pooled two-proportion z-test p-value (z = 4.38178, p = 1.17713e-5)', () => {
    const r = compareShares(counts, 0.05);
    const pooled = 50 / 300;
    const z = (0.3 - 0.1) / Math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 200));
    expect(r.z).toBeCloseTo(z, 10);
    expect(r.z).toBeCloseTo(4.381780460041329, 10);
    expect(r.pValue / 1.177133909761504e-5).toBeCloseTo(1, 9);
  });

  it('has p ≈ 0.05 when the z statistic is ≈ 1.96', () => {
    // 1,086 vs 1,000 of 10,000 each: z = 1.98957, two-sided p = 0.0466379 (Python math.erfc(z / sqrt 2)).
    const n = 10_000;
    const r = compareShares({ customerCount: 1_086, customerTotal: n, populationCount: 1_000, populationTotal: n }, 0.05);
    expect(r.z).toBeCloseTo(1.9895736115463154, 10);
    expect(r.pValue).toBeCloseTo(0.04663792544799825, 12);
    // 1,084: z = 1.943, just below 1.96, so p just above 0.05.
    const below = compareShares({ customerCount: 1_084, customerTotal: n, populationCount: 1_000, populationTotal: n }, 0.05);
    expect(below.z).toBeLessThan(1.96);
    expect(below.pValue).toBeGreaterThan(0.05);
    expect(below.pValue).toBeLessThan(0.055);
  });

  it('is symmetric: swapping the files inverts the lift and its interval, same p', () => {
    const a = compareShares(counts, 0.05);
    const b = compareShares({ customerCount: 20, customerTotal: 200, populationCount: 30, populationTotal: 100 }, 0.05);
    expect(b.lift).toBeCloseTo(1 / a.lift, 12);
    expect(b.liftCi[0]).toBeCloseTo(1 / a.liftCi[1], 12);
    expect(b.liftCi[1]).toBeCloseTo(1 / a.liftCi[0], 12);
    expect(b.pValue).toBeCloseTo(a.pValue, 15);
  });

  it('equal shares give lift 1, p = 1 and an interval around 1', () => {
    const r = compareShares({ customerCount: 50, customerTotal: 500, populationCount: 100, populationTotal: 1000 }, 0.05);
    expect(r.lift).toBeCloseTo(1, 15);
    expect(r.pValue).toBeCloseTo(1, 12);
    expect(r.liftCi[0]).toBeLessThan(1);
    expect(r.liftCi[1]).toBeGreaterThan(1);
  });

  it('with no customers in the group: lift 0, lower bound 0, upper bound from the 0.5-corrected table', () => {
    const r = compareShares({ customerCount: 0, customerTotal: 1000, populationCount: 100, populationTotal: 1000 }, 0.05);
    expect(r.lift).toBe(0);
    expect(r.liftCi[0]).toBe(0);
    // corrected: (0.5/1001)/(100.5/1001), se = sqrt(1/0.5 - 1/1001 + 1/100.5 - 1/1001)
    expect(r.liftCi[1]).toBeCloseTo(0.07997891820042746, 8);
    expect(r.pValue).toBeLessThan(1e-10);
  });

  it('with no population rows in the group: finite corrected lift and interval', () => {
    const r = compareShares({ customerCount: 10, customerTotal: 1000, populationCount: 0, populationTotal: 1000 }, 0.05);
    expect(r.lift).toBeCloseTo(21, 10);
    expect(r.liftCi[0]).toBeCloseTo(1.2322476639736404, 8);
    expect(r.liftCi[1]).toBeCloseTo(357.8826017635962, 6);
    expect(Number.isFinite(r.pValue)).toBe(true);
  });

  it('an empty group gives lift 1 and p = 1', () => {
    const r = compareShares({ customerCount: 0, customerTotal: 10, populationCount: 0, populationTotal: 10 }, 0.05);
    expect(r.lift).toBe(1);
    expect(r.pValue).toBe(1);
  });

  it('tiny p-values do not become NaN on huge samples', () => {
    // CHA's cluster 9: 6.55 % of 891,221 vs 24.87 % of 191,652.
    const r = compareShares({ populationCount: 58_375, populationTotal: 891_221, customerCount: 47_664, customerTotal: 191_652 }, 0.05);
    expect(r.lift).toBeCloseTo(0.2487 / 0.0655, 1);
    expect(r.pValue).toBeGreaterThanOrEqual(0);
    expect(r.pValue).toBeLessThan(1e-300);
  });

  it('rejects impossible counts and alphas', () => {
    expect(() => compareShares({ customerCount: 11, customerTotal: 10, populationCount: 1, populationTotal: 10 })).toThrow(/exceeds/);
    expect(() => compareShares({ customerCount: 1, customerTotal: 10, populationCount: 1, populationTotal: 0 })).toThrow(RangeError);
    expect(() => compareShares({ customerCount: -1, customerTotal: 10, populationCount: 1, populationTotal: 10 })).toThrow(RangeError);
    expect(() => compareShares({ customerCount: 1, customerTotal: 10, populationCount: 1, populationTotal: 10 }, 0)).toThrow(/alpha/);
    expect(() => compareShares({ customerCount: 1, customerTotal: 10, populationCount: 1, populationTotal: 10 }, 1)).toThrow(/alpha/);
  });
});

describe('classifyRepresentation', () => {
  const result = (pValue: number, lo: number, hi: number): Pick<ShareComparison, 'pValue' | 'liftCi'> => ({ pValue, liftCi: [lo, hi] });

  it('uses alpha / number of groups (Bonferroni)', () => {
    const one = classifyRepresentation([result(0.02, 1.1, 2)], 0.05);
    expect(one[0]).toEqual({ representation: 'over', threshold: 0.05, significant: true });
    // The same group among five: the threshold becomes 0.01 and p = 0.02 is no longer significant.
    const five = classifyRepresentation([result(0.02, 1.1, 2), result(0.5, 0.8, 1.2), result(0.5, 0.8, 1.2), result(0.5, 0.8, 1.2), result(0.005, 0.3, 0.9)], 0.05);
    expect(five[0].threshold).toBeCloseTo(0.01, 15);
    expect(five[0].representation).toBe('neutral');
    expect(five[0].significant).toBe(false);
    expect(five[4].representation).toBe('under');
    expect(five[1].representation).toBe('neutral');
  });

  it('needs the interval to exclude 1 as well as a significant p-value', () => {
    const r = classifyRepresentation([result(1e-6, 0.95, 1.5), result(1e-6, 0.5, 1.01), result(1e-6, 1.01, 2), result(1e-6, 0.2, 0.99)], 0.05);
    expect(r.map((x) => x.representation)).toEqual(['neutral', 'neutral', 'over', 'under']);
  });

  it('is strict at the threshold', () => {
    expect(classifyRepresentation([result(0.025, 1.5, 2), result(0.9, 0.9, 1.1)], 0.05)[0].representation).toBe('neutral');
    expect(classifyRepresentation([result(0.0249, 1.5, 2), result(0.9, 0.9, 1.1)], 0.05)[0].representation).toBe('over');
  });
});

describe('compareGroups', () => {
  // CHA's table (FACTS §11), counts from the shares of all rows.
  const shares: Array<[number, number, number]> = [
    [9, 6.55, 24.87],
    [-1, 10.45, 26.05],
    [6, 8.23, 12.69],
    [7, 6.57, 8.76],
    [4, 7.95, 6.13],
    [1, 7.42, 5.0],
    [5, 7.9, 5.16],
    [11, 6.2, 3.89],
    [2, 6.18, 3.74],
    [10, 6.56, 1.38],
    [8, 9.42, 1.03],
    [3, 7.21, 0.58],
    [0, 9.36, 0.73],
  ];
  const groups = shares.map(([id, g, c]) => ({ id, populationCount: Math.round(g * 8912.21), customerCount: Math.round(c * 1916.52) }));

  it('uses the group sums as totals, so shares add up to 1', () => {
    const r = compareGroups(groups, 0.05);
    expect(r.reduce((s, g) => s + g.populationShare, 0)).toBeCloseTo(1, 12);
    expect(r.reduce((s, g) => s + g.customerShare, 0)).toBeCloseTo(1, 12);
    expect(r.find((g) => g.id === 9)!.lift).toBeCloseTo(24.87 / 6.55, 2);
  });

  it('reports simultaneous intervals at alpha / groups', () => {
    const r = compareGroups(groups, 0.05);
    const g = r.find((x) => x.id === 7)!;
    const populationTotal = groups.reduce((s, x) => s + x.populationCount, 0);
    const customerTotal = groups.reduce((s, x) => s + x.customerCount, 0);
    const single = compareShares({ populationCount: g.populationCount, populationTotal, customerCount: g.customerCount, customerTotal }, 0.05);
    expect(g.liftCi[0]).toBeLessThan(single.liftCi[0]);
    expect(g.liftCi[1]).toBeGreaterThan(single.liftCi[1]);
    const adjusted = compareShares({ populationCount: g.populationCount, populationTotal, customerCount: g.customerCount, customerTotal }, 0.05 / groups.length);
    expect(g.liftCi).toEqual(adjusted.liftCi);
  });

  it('reproduces the study: 9, heavy-missing, 6, 7 over; 0, 3, 8 under', () => {
    const r = compareGroups(groups, 0.05);
    const verdict = new Map(r.map((g) => [g.id, g.representation]));
    for (const id of [9, -1, 6, 7]) expect(verdict.get(id)).toBe('over');
    for (const id of [0, 3, 8, 10]) expect(verdict.get(id)).toBe('under');
  });

  it('calls a small difference on small samples neutral', () => {
    const r = compareGroups(
      [
        { id: 0, populationCount: 100, customerCount: 11 },
        { id: 1, populationCount: 100, customerCount: 9 },
      ],
      0.05,
    );
    expect(r.map((g) => g.representation)).toEqual(['neutral', 'neutral']);
  });

  it('returns nothing for no groups', () => {
    expect(compareGroups([], 0.05)).toEqual([]);
  });
});

describe('rankRepresentation', () => {
  it('orders over by decreasing and under by increasing lift', () => {
    const ranking = rankRepresentation([
      { id: 1, lift: 1.5, representation: 'over' },
      { id: 2, lift: 3.8, representation: 'over' },
      { id: 3, lift: 0.1, representation: 'under' },
      { id: 4, lift: 0.5, representation: 'under' },
      { id: 5, lift: 0.05, representation: 'under' },
      { id: 6, lift: 9, representation: 'neutral' },
      { id: -1, lift: 2.5, representation: 'over' },
    ]);
    expect(ranking.over).toEqual([2, -1, 1]);
    expect(ranking.under).toEqual([5, 3, 4]);
    expect(ranking.mostOver).toBe(2);
    expect(ranking.mostUnder).toBe(5);
  });

  it('gives null when nothing is over or under', () => {
    expect(rankRepresentation([{ id: 0, lift: 1, representation: 'neutral' }])).toEqual({ over: [], under: [], mostOver: null, mostUnder: null });
  });
});
