import { compareSegmentViews, compareShares, HEAVY_MISSING_ID } from '../../core/stats/representation';

describe('compareSegmentViews (clean-row verdicts)', () => {
  // Population: 100,000 rows, 10 % heavy-missing; customers: 50,000 rows, 25 % heavy-missing (2.5×).
  // Among the clean rows cluster 0 holds 30 % of the population and 33.6 % of customers (ratio 1.12).
  const groups = [
    { id: HEAVY_MISSING_ID, populationCount: 10_000, customerCount: 12_500 },
    { id: 0, populationCount: 27_000, customerCount: 12_600 },
    { id: 1, populationCount: 36_000, customerCount: 15_000 },
    { id: 2, populationCount: 27_000, customerCount: 9_900 },
  ];
  const views = compareSegmentViews(groups, 0.05);
  const clean = new Map(views.clean.map((g) => [g.id, g]));
  const all = new Map(views.allRows.map((g) => [g.id, g]));

  it('a cluster over-represented among clean rows is "over", although its all-row lift is below 1', () => {
    expect(clean.get(0)!.lift).toBeCloseTo(12_600 / 37_500 / (27_000 / 90_000), 12);
    expect(clean.get(0)!.lift).toBeCloseTo(1.12, 2);
    expect(clean.get(0)!.representation).toBe('over');
    expect(all.get(0)!.lift).toBeLessThan(1);
    expect(all.get(0)!.representation).toBe('under');
  });

  it('clean shares sum to 1 over the clusters; the heavy-missing group keeps its all-row share and lift', () => {
    const sum = (key: 'populationShare' | 'customerShare') => views.clean.filter((g) => g.id >= 0).reduce((s, g) => s + g[key], 0);
    expect(sum('populationShare')).toBeCloseTo(1, 12);
    expect(sum('customerShare')).toBeCloseTo(1, 12);
    const heavy = clean.get(HEAVY_MISSING_ID)!;
    expect(heavy.populationShare).toBeCloseTo(0.1, 12);
    expect(heavy.customerShare).toBeCloseTo(0.25, 12);
    expect(heavy.lift).toBeCloseTo(2.5, 12);
    expect(heavy.representation).toBe('over');
  });

  it('uses one Bonferroni family over clusters and the heavy-missing group (interval at alpha / groups)', () => {
    const expected = compareShares({ populationCount: 27_000, populationTotal: 90_000, customerCount: 12_600, customerTotal: 37_500 }, 0.05 / 4);
    expect(clean.get(0)!.liftCi[0]).toBeCloseTo(expected.liftCi[0], 12);
    expect(clean.get(0)!.liftCi[1]).toBeCloseTo(expected.liftCi[1], 12);
    expect(clean.get(0)!.pValue).toBeCloseTo(expected.pValue, 12);
  });

  it('a cluster with no real difference stays neutral', () => {
    const even = compareSegmentViews(
      [
        { id: -1, populationCount: 100, customerCount: 100 },
        { id: 0, populationCount: 5_000, customerCount: 5_010 },
        { id: 1, populationCount: 5_000, customerCount: 4_990 },
      ],
      0.05,
    );
    expect(even.clean.map((g) => g.representation)).toEqual(['neutral', 'neutral', 'neutral']);
  });
});
