/**
 * Which columns the heavy-missing rows are compared on with the clean rows. Well-filled columns compare the
 * values themselves rather than who misses them, so the usual choice is the kept columns missing at most
 * `maxMissingShare` of the population. Generic data may have none: then the `fallbackColumns` least-missing
 * kept columns are compared (their missing values left out), and the result says so. When nothing can be
 * compared (no heavy or no clean rows, no kept column) the result says why.
 */

export interface ComparisonOptions {
  /** Columns whose population missing share is at most this are compared. */
  maxMissingShare: number;
  /** When no column qualifies: compare this many least-missing kept columns instead. */
  fallbackColumns: number;
}

export interface ColumnMissingShare {
  column: string;
  populationShare: number;
  dropped: boolean;
}

export interface ComparisonPlan {
  columns: string[];
  selection: 'threshold' | 'least-missing' | 'none';
  /** Missing values are left out of the value distributions (the fallback's columns miss many). */
  skipMissing: boolean;
  /** Why the comparison is not the usual one (null when it is). */
  note: string | null;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)} %`;
}

export function planHeavyComparison(
  columns: ReadonlyArray<ColumnMissingShare>,
  rows: { clean: number; heavy: number },
  options: ComparisonOptions,
): ComparisonPlan {
  const none = (note: string): ComparisonPlan => ({ columns: [], selection: 'none', skipMissing: false, note });
  if (rows.heavy === 0) return none('no population row is heavy-missing: nothing to compare with the clean rows');
  if (rows.clean === 0) return none('every population row is heavy-missing: there are no clean rows to compare with');
  const kept = columns.filter((c) => !c.dropped);
  if (kept.length === 0) return none('every column was dropped: nothing to compare');

  const within = kept.filter((c) => c.populationShare <= options.maxMissingShare).map((c) => c.column);
  if (within.length > 0) return { columns: within, selection: 'threshold', skipMissing: false, note: null };

  const leastMissing = [...kept]
    .sort((a, b) => a.populationShare - b.populationShare || a.column.localeCompare(b.column))
    .slice(0, Math.max(1, options.fallbackColumns));
  const lowest = leastMissing[0].populationShare;
  return {
    columns: leastMissing.map((c) => c.column),
    selection: 'least-missing',
    skipMissing: true,
    note:
      `no kept column misses at most ${percent(options.maxMissingShare)} of the population (heavyComparison.maxMissingShare; ` +
      `the least-missing misses ${percent(lowest)}): compared the ${leastMissing.length} least-missing column(s) instead, over their non-missing values`,
  };
}
