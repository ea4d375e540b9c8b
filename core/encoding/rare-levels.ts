/**
 * Features fit to cluster.
 *
 * Rare one-hot levels. A level held by a handful of rows becomes, once standardised, a column in which those rows
 * sit hundreds of standard deviations out (1 row of 268,449: std 0.002, z ≈ 518), and k-means then spends a
 * cluster on them. A level of a one-hot column is *rare* when its population count is below `minCount` or its
 * share of the population's clean rows below `minShare`. Rare levels are folded together into one "(other)" level
 * (action "other"), which is kept when it is itself not rare and dropped otherwise; with action "drop" they are
 * dropped. A dropped level's rows get 0 in every column of the group. Every decision is recorded with its reason.
 *
 * Concentration. After that rule, a feature is still unfit when a handful of rows dominate its standardised
 * values: the `rows` rows farthest from its mean carry more than `maxShare` of its sum of squared deviations (over
 * the population's observed values). For a 0/1 feature with c ones (c ≥ rows) that share is ≈ rows / c, so the
 * rule also removes near-constant binaries; for a numeric feature it catches a few extreme outliers that would
 * otherwise dominate the feature's scale. Such a feature is dropped, with its share as the reason.
 */
export interface RareLevelRule {
  minShare: number;
  minCount: number;
  action: 'other' | 'drop';
}

export interface ConcentrationRule {
  /** The "handful": how many of the most extreme rows are weighed. */
  rows: number;
  /** Largest share of the sum of squared deviations those rows may hold. */
  maxShare: number;
}

export const DEFAULT_RARE_LEVEL_RULE: RareLevelRule = { minShare: 0.001, minCount: 30, action: 'other' };
export const DEFAULT_CONCENTRATION_RULE: ConcentrationRule = { rows: 25, maxShare: 0.5 };

/** The name of the folded level's feature: parentheses keep it apart from any real level text. */
export const OTHER_LEVEL = '(other)';

export interface LevelDecision {
  column: string;
  level: string;
  count: number;
  share: number;
  /** folded: into the column's "(other)" level; dropped: the level's rows get 0 in the whole group. */
  action: 'folded' | 'dropped';
  reason: string;
}

export interface LevelSplit {
  /** Levels kept as their own feature (input order). */
  kept: { level: string; count: number }[];
  /** Rare levels folded into "(other)" when `otherKept`, else dropped. */
  rare: { level: string; count: number }[];
  otherKept: boolean;
  otherCount: number;
  decisions: LevelDecision[];
}

export function isRare(count: number, total: number, rule: RareLevelRule): boolean {
  return count < rule.minCount || (total > 0 && count / total < rule.minShare);
}

/** Applies the rare-level rule to one one-hot column's level counts (`total` = population rows fitted on). */
export function splitRareLevels(column: string, levels: readonly { level: string; count: number }[], total: number, rule: RareLevelRule): LevelSplit {
  const kept = levels.filter((l) => !isRare(l.count, total, rule));
  const rare = levels.filter((l) => isRare(l.count, total, rule));
  const otherCount = rare.reduce((sum, l) => sum + l.count, 0);
  const otherKept = rule.action === 'other' && rare.length > 0 && !isRare(otherCount, total, rule);
  const threshold = `below the minimum of ${rule.minCount} rows or ${formatShare(rule.minShare)} of the population`;
  const decisions = rare.map((l): LevelDecision => {
    const share = total > 0 ? l.count / total : 0;
    const what = `${l.count} row(s), ${formatShare(share)}: ${threshold}`;
    if (otherKept) return { column, level: l.level, count: l.count, share, action: 'folded', reason: `${what}; folded into ${column}=${OTHER_LEVEL}` };
    const why = rule.action === 'drop' ? 'the rule drops rare levels' : `the folded levels together (${otherCount} rows) are rare too`;
    return { column, level: l.level, count: l.count, share, action: 'dropped', reason: `${what}; dropped (${why}): its rows get 0 in every ${column} column` };
  });
  return { kept, rare, otherKept, otherCount, decisions };
}

/**
 * Share of the sum of squared deviations held by the `rows` largest ones, given the feature's observed count,
 * variance (population, ddof 0) and the sum of those largest squared deviations. 0 for a constant feature.
 */
export function concentrationShare(count: number, variance: number, topSquares: number): number {
  const total = count * variance;
  if (!(total > 0)) return 0;
  return Math.min(1, topSquares / total);
}

function formatShare(share: number): string {
  return `${(share * 100).toPrecision(2)} %`;
}
