import { normalQuantile, twoSidedP } from './normal';

/**
 * Is a group (cluster, or the heavy-missing rows) over- or under-represented among customers compared with
 * the general population?
 *
 * Two independent samples: `customerCount` of `customerTotal` customer rows and `populationCount` of
 * `populationTotal` population rows fall in the group.
 *
 * - lift = customer share / population share.
 * - Confidence interval: Katz' log method for the ratio of two independent proportions,
 *     log(lift) +- z_{1-alpha/2} * sqrt(1/a - 1/n1 + 1/c - 1/n2)   (a, n1 customers; c, n2 population).
 *   Zero counts make the log undefined: when either count is 0, every cell of the 2x2 table gets 0.5
 *   (a + 0.5 of n1 + 1, c + 0.5 of n2 + 1; Haldane-Anscombe correction) for the interval. The point estimate
 *   stays the raw ratio, except when the population count is 0 (raw ratio undefined), where the corrected
 *   ratio is reported. With a customer count of 0 the lift is 0 and the lower bound is set to 0 so the interval
 *   contains it. A group empty in both files gets lift 1 (no information) and p = 1.
 * - p-value: pooled two-proportion z-test, two-sided. When the pooled share is 0 or 1 the shares cannot differ
 *   and p = 1.
 */
export interface ShareCounts {
  populationCount: number;
  populationTotal: number;
  customerCount: number;
  customerTotal: number;
}

export interface ShareComparison {
  populationShare: number;
  customerShare: number;
  lift: number;
  /** (1 - alpha) confidence interval of the lift. */
  liftCi: [number, number];
  /** Two-sided p-value of the pooled two-proportion z-test. */
  pValue: number;
  /** The z statistic (customer share minus population share over its pooled standard error); 0 when undefined. */
  z: number;
}

export type Representation = 'over' | 'under' | 'neutral';

function checkCount(name: string, count: number, total: number, totalName: string): void {
  if (!Number.isFinite(count) || count < 0) throw new RangeError(`${name} must be a finite count >= 0, got ${count}`);
  if (!Number.isFinite(total) || total <= 0) throw new RangeError(`${totalName} must be a finite count > 0, got ${total}`);
  if (count > total) throw new RangeError(`${name} (${count}) exceeds ${totalName} (${total})`);
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
}

/** Compares a group's share among customers with its share in the population; see the module comment. */
export function compareShares(counts: ShareCounts, alpha = 0.05): ShareComparison {
  const { populationCount: c, populationTotal: n2, customerCount: a, customerTotal: n1 } = counts;
  checkCount('populationCount', c, n2, 'populationTotal');
  checkCount('customerCount', a, n1, 'customerTotal');
  checkAlpha(alpha);

  const populationShare = c / n2;
  const customerShare = a / n1;
  const zCrit = normalQuantile(1 - alpha / 2);

  // Katz log interval, with the 0.5 correction when a count is 0.
  const corrected = a === 0 || c === 0;
  const ca = corrected ? a + 0.5 : a;
  const cn1 = corrected ? n1 + 1 : n1;
  const cc = corrected ? c + 0.5 : c;
  const cn2 = corrected ? n2 + 1 : n2;
  const logRatio = Math.log(ca / cn1) - Math.log(cc / cn2);
  const se = Math.sqrt(Math.max(0, 1 / ca - 1 / cn1 + 1 / cc - 1 / cn2));
  let lo = Math.exp(logRatio - zCrit * se);
  const hi = Math.exp(logRatio + zCrit * se);

  let lift: number;
  if (a === 0 && c === 0) lift = 1; // an empty group: no information either way
  else if (c === 0) lift = Math.exp(logRatio);
  else lift = customerShare / populationShare;
  if (a === 0) lo = 0;

  // Pooled two-proportion z-test.
  const pooled = (a + c) / (n1 + n2);
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  let z = 0;
  let pValue = 1;
  if (pooledSe > 0) {
    z = (customerShare - populationShare) / pooledSe;
    pValue = twoSidedP(z);
  }
  return { populationShare, customerShare, lift, liftCi: [lo, hi], pValue, z };
}

export interface Classified {
  representation: Representation;
  /** The p-value threshold actually used: alpha / number of groups. */
  threshold: number;
  significant: boolean;
}

/**
 * Bonferroni over the groups: a group is significant when p < alpha / groups. It is "over" when significant and
 * the lift interval lies above 1, "under" when significant and the interval lies below 1, else "neutral".
 * For the interval to match the test's level, compute it at alpha / groups (as `compareGroups` does).
 */
export function classifyRepresentation(
  results: ReadonlyArray<Pick<ShareComparison, 'pValue' | 'liftCi'>>,
  alpha = 0.05,
): Classified[] {
  checkAlpha(alpha);
  const threshold = alpha / Math.max(1, results.length);
  return results.map(({ pValue, liftCi }) => {
    const significant = pValue < threshold;
    let representation: Representation = 'neutral';
    if (significant && liftCi[0] > 1) representation = 'over';
    else if (significant && liftCi[1] < 1) representation = 'under';
    return { representation, threshold, significant };
  });
}

export interface GroupCounts {
  id: number;
  populationCount: number;
  customerCount: number;
}

export interface GroupComparison extends ShareComparison {
  id: number;
  populationCount: number;
  customerCount: number;
  representation: Representation;
}

/**
 * Compares every group at once: totals are the sums over the groups (so shares sum to 1), each lift interval is
 * at the Bonferroni-adjusted level 1 - alpha / groups (simultaneous intervals, consistent with the verdict), and
 * the verdict comes from `classifyRepresentation`.
 */
export function compareGroups(groups: ReadonlyArray<GroupCounts>, alpha = 0.05): GroupComparison[] {
  checkAlpha(alpha);
  if (groups.length === 0) return [];
  const populationTotal = groups.reduce((sum, g) => sum + g.populationCount, 0);
  const customerTotal = groups.reduce((sum, g) => sum + g.customerCount, 0);
  const adjusted = alpha / groups.length;
  const comparisons = groups.map((g) =>
    compareShares({ populationCount: g.populationCount, populationTotal, customerCount: g.customerCount, customerTotal }, adjusted),
  );
  const verdicts = classifyRepresentation(comparisons, alpha);
  return groups.map((g, i) => ({
    id: g.id,
    populationCount: g.populationCount,
    customerCount: g.customerCount,
    ...comparisons[i],
    representation: verdicts[i].representation,
  }));
}

export interface RepresentationRanking {
  /** Ids of the "over" groups, largest lift first. */
  over: number[];
  /** Ids of the "under" groups, smallest lift first. */
  under: number[];
  mostOver: number | null;
  mostUnder: number | null;
}

/** Names the over- and under-represented groups in order of their lift (ties: smaller id first). */
export function rankRepresentation(
  groups: ReadonlyArray<{ id: number; lift: number; representation: Representation }>,
): RepresentationRanking {
  const byLift = (direction: 1 | -1) => (x: { id: number; lift: number }, y: { id: number; lift: number }) =>
    direction * (y.lift - x.lift) || x.id - y.id;
  const over = groups.filter((g) => g.representation === 'over').sort(byLift(1)).map((g) => g.id);
  const under = groups.filter((g) => g.representation === 'under').sort(byLift(-1)).map((g) => g.id);
  return { over, under, mostOver: over[0] ?? null, mostUnder: under[0] ?? null };
}

/** The heavy-missing group's id in the group counts. */
export const HEAVY_MISSING_ID = -1;

export interface SegmentViews {
  /**
   * Clusters (id ≥ 0) among the clean (clusterable) rows only — the answer to "which segments do customers come
   * from", free of the heavy-missing group's different share in the two files — and the heavy-missing group
   * (id −1) as its share of all rows against the population's. This is the view verdicts come from.
   */
  clean: GroupComparison[];
  /** Every group's share of all rows of its file (the clusters' shares then scale with the heavy-missing share). */
  allRows: GroupComparison[];
}

/**
 * Both views of the representation, with one Bonferroni family: the k clusters' clean-row tests and the
 * heavy-missing group's all-row test, each at alpha / (groups). In the clean view a cluster's share is its count
 * over the clean rows of its file; the heavy-missing group's share is its count over all rows, its lift its own
 * customer/population ratio. The all-rows view is what a share of the whole file gives (reported, not used for
 * the verdict: when customers hold more heavy-missing rows than the population, every clean cluster's all-row
 * lift is scaled down by the same factor).
 */
export function compareSegmentViews(groups: ReadonlyArray<GroupCounts>, alpha = 0.05): SegmentViews {
  checkAlpha(alpha);
  const allRows = compareGroups(groups, alpha);
  const clusters = groups.filter((g) => g.id !== HEAVY_MISSING_ID);
  const heavy = groups.find((g) => g.id === HEAVY_MISSING_ID);
  const family = groups.length;
  const adjusted = alpha / Math.max(1, family);
  const cleanTotals = {
    populationTotal: clusters.reduce((sum, g) => sum + g.populationCount, 0),
    customerTotal: clusters.reduce((sum, g) => sum + g.customerCount, 0),
  };
  const allTotals = {
    populationTotal: groups.reduce((sum, g) => sum + g.populationCount, 0),
    customerTotal: groups.reduce((sum, g) => sum + g.customerCount, 0),
  };
  const compare = (g: GroupCounts): GroupComparison => {
    const totals = g.id === HEAVY_MISSING_ID ? allTotals : cleanTotals;
    const empty = totals.populationTotal === 0 || totals.customerTotal === 0;
    const comparison = empty
      ? { populationShare: 0, customerShare: 0, lift: 1, liftCi: [0, Number.MAX_VALUE] as [number, number], pValue: 1, z: 0 }
      : compareShares({ populationCount: g.populationCount, customerCount: g.customerCount, ...totals }, adjusted);
    // Same rule as classifyRepresentation, with the family's adjusted level (the interval is at that level too).
    const significant = comparison.pValue < adjusted;
    let representation: Representation = 'neutral';
    if (significant && comparison.liftCi[0] > 1) representation = 'over';
    else if (significant && comparison.liftCi[1] < 1) representation = 'under';
    return { id: g.id, populationCount: g.populationCount, customerCount: g.customerCount, ...comparison, representation };
  };
  return { clean: [...(heavy ? [compare(heavy)] : []), ...clusters.map(compare)].sort((a, b) => a.id - b.id), allRows };
}
