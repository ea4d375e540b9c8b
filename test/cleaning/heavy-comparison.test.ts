import { planHeavyComparison } from '../../core/cleaning/heavy-comparison';

const options = { maxMissingShare: 0.05, fallbackColumns: 2 };
const rows = { clean: 90, heavy: 10 };

describe('planHeavyComparison', () => {
  it('compares the kept columns under the threshold, silently', () => {
    const plan = planHeavyComparison(
      [
        { column: 'A', populationShare: 0.01, dropped: false },
        { column: 'B', populationShare: 0.2, dropped: false },
        { column: 'C', populationShare: 0.0, dropped: true },
      ],
      rows,
      options,
    );
    expect(plan).toEqual({ columns: ['A'], selection: 'threshold', skipMissing: false, note: null });
  });

  it('falls back to the least-missing kept columns when every column misses more, and says so', () => {
    const plan = planHeavyComparison(
      [
        { column: 'A', populationShare: 0.3, dropped: false },
        { column: 'B', populationShare: 0.12, dropped: false },
        { column: 'C', populationShare: 0.01, dropped: true },
        { column: 'D', populationShare: 0.12, dropped: false },
      ],
      rows,
      options,
    );
    expect(plan.columns).toEqual(['B', 'D']);
    expect(plan.selection).toBe('least-missing');
    expect(plan.skipMissing).toBe(true);
    expect(plan.note).toBe(
      'no kept column misses at most 5.0 % of the population (heavyComparison.maxMissingShare; the least-missing misses 12 %): ' +
        'compared the 2 least-missing column(s) instead, over their non-missing values',
    );
  });

  it('follows the configured threshold', () => {
    const columns = [{ column: 'A', populationShare: 0.3, dropped: false }];
    expect(planHeavyComparison(columns, rows, { ...options, maxMissingShare: 0.5 }).selection).toBe('threshold');
  });

  it('says why nothing can be compared', () => {
    const columns = [{ column: 'A', populationShare: 0, dropped: false }];
    expect(planHeavyComparison(columns, { clean: 10, heavy: 0 }, options)).toMatchObject({ columns: [], selection: 'none', note: expect.stringContaining('no population row is heavy-missing') });
    expect(planHeavyComparison(columns, { clean: 0, heavy: 10 }, options).note).toContain('no clean rows');
    expect(planHeavyComparison([{ ...columns[0], dropped: true }], rows, options).note).toContain('every column was dropped');
  });
});
