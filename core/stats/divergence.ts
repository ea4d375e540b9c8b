/**
 * Distances between two discrete distributions over the same categories, given as counts or probabilities
 * (each vector is normalised by its own sum). Used to show how the heavy-missing rows differ from the clean rows
 * on the columns they do have.
 */

function normalise(values: ReadonlyArray<number>, name: string): number[] {
  let sum = 0;
  for (const v of values) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name}: counts must be finite and >= 0, got ${v}`);
    sum += v;
  }
  if (sum === 0) throw new RangeError(`${name}: the distribution is empty (all counts are 0)`);
  return values.map((v) => v / sum);
}

function checkSameLength(p: ReadonlyArray<number>, q: ReadonlyArray<number>): void {
  if (p.length !== q.length) throw new RangeError(`the two distributions have ${p.length} and ${q.length} categories`);
  if (p.length === 0) throw new RangeError('the distributions have no categories');
}

/**
 * Jensen-Shannon divergence in bits: JS = KL(P||M)/2 + KL(Q||M)/2 with M = (P+Q)/2. 0 for identical
 * distributions, 1 for disjoint supports. (Its square root is a metric.)
 */
export function jensenShannon(p: ReadonlyArray<number>, q: ReadonlyArray<number>): number {
  checkSameLength(p, q);
  const pn = normalise(p, 'p');
  const qn = normalise(q, 'q');
  let js = 0;
  for (let i = 0; i < pn.length; i++) {
    const pi = pn[i];
    const qi = qn[i];
    const m = pi + qi; // = 2 * M_i
    if (pi > 0) js += pi * Math.log2((2 * pi) / m);
    if (qi > 0) js += qi * Math.log2((2 * qi) / m);
  }
  return Math.min(1, Math.max(0, js / 2));
}

/** Total variation distance: half the L1 distance between the normalised vectors, in [0, 1]. */
export function totalVariation(p: ReadonlyArray<number>, q: ReadonlyArray<number>): number {
  checkSameLength(p, q);
  const pn = normalise(p, 'p');
  const qn = normalise(q, 'q');
  let sum = 0;
  for (let i = 0; i < pn.length; i++) sum += Math.abs(pn[i] - qn[i]);
  return Math.min(1, Math.max(0, sum / 2));
}

export interface AlignedCounts<K> {
  /** The union of both maps' categories: first map's order, then the second map's new ones. */
  categories: K[];
  p: number[];
  q: number[];
}

/** Aligns two value-count maps (e.g. from `SELECT v, count(*) ... GROUP BY v`); a missing category counts 0. */
export function alignCounts<K>(a: ReadonlyMap<K, number>, b: ReadonlyMap<K, number>): AlignedCounts<K> {
  const categories: K[] = [...a.keys()];
  for (const key of b.keys()) if (!a.has(key)) categories.push(key);
  return {
    categories,
    p: categories.map((key) => a.get(key) ?? 0),
    q: categories.map((key) => b.get(key) ?? 0),
  };
}

export interface CountDivergence {
  jensenShannon: number;
  totalVariation: number;
  /** How many categories the two maps cover together. */
  categories: number;
}

/**
 * Both divergences between two value-count maps. Returns null when either side has no observations (e.g. a
 * column that is missing in every heavy-missing row), where a divergence is undefined.
 */
export function divergenceFromCounts<K>(a: ReadonlyMap<K, number>, b: ReadonlyMap<K, number>): CountDivergence | null {
  const { categories, p, q } = alignCounts(a, b);
  const total = (v: number[]) => v.reduce((s, x) => s + x, 0);
  if (categories.length === 0 || total(p) === 0 || total(q) === 0) return null;
  return { jensenShannon: jensenShannon(p, q), totalVariation: totalVariation(p, q), categories: categories.length };
}
