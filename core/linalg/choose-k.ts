/**
 * Choosing k with evidence: the SSE elbow (kneedle) and the stability of the partition under resampling, in one
 * rule.
 *
 *   1. knee = kneedle on the sweep's SSE curve (convex, decreasing, sensitivity S); none → the smallest k.
 *   2. A k is *eligible* when its stability (core/linalg/stability.ts) is at least `minStability` and the sweep's
 *      fit at k leaves no cluster below the minimum cluster size.
 *   3. k = the knee when it is eligible; otherwise the eligible k nearest to it (ties: the larger — the elbow marks
 *      where the SSE gains flatten, so structure just beyond it is preferred to structure before it).
 *   4. No eligible k at all: k = the knee, flagged `stable: false` (the report says the partition is not
 *      reproducible).
 * Stability need not be measured at every k: the rule reads it in order of distance from the knee (ties: the
 * larger k first) and stops at the first eligible k, so only the k up to that one matter. `unmeasured` names those
 * it still needs (null stability, cluster sizes passing), in that order; while it is not empty the choice is
 * provisional, and measuring them in order gives the k the rule would choose with every k measured.
 * Why this shape. The knee is where the evidence for k is: on the optimum's SSE curve (every sweep point the best
 * of several sample-fit starts) it is a function of the data, not of the seed. Stability guards it: a knee whose
 * partition fits on subsamples do not reproduce, or that leaves a tiny cluster, is moved to the nearest k that
 * passes. Measured on the planted data (bench/quality.ts), stability alone does not single out the planted k —
 * k = 2..4 cut along the largest axes and are always stable, and above the planted k a consistent split of a
 * segment is as stable as the planted partition — so "the largest stable k" or "the most stable k" would choose
 * by noise; as a guard around the knee it only acts where the partition is clearly not reproducible.
 */
import { kneeOfCurve } from './knee';

export interface KChoiceInput {
  ks: readonly number[];
  sse: readonly number[];
  /** Stability per k (same order as ks); null where it was not measured. */
  stability: readonly (number | null)[];
  /** Smallest cluster of the sweep's fit per k (same order). */
  smallestCluster: readonly number[];
  minClusterSize: number;
  minStability: number;
  sensitivity?: number;
}

export interface KChoice {
  k: number;
  knee: number | null;
  eligible: number[];
  /** The run of eligible k the choice came from (empty when none). */
  run: number[];
  /** The k whose stability the rule still needs, nearest the knee first (empty: the choice is final). */
  unmeasured: number[];
  stable: boolean;
  reason: string;
}

export function chooseK(input: KChoiceInput): KChoice {
  const { ks, sse, stability, smallestCluster, minClusterSize, minStability } = input;
  const n = ks.length;
  if (n === 0) throw new RangeError('chooseK: no k');
  if (sse.length !== n || stability.length !== n || smallestCluster.length !== n) throw new RangeError('chooseK: ks, sse, stability and smallestCluster differ in length');
  const order = ks.map((_, i) => i).sort((a, b) => ks[a] - ks[b]);
  const sortedKs = order.map((i) => ks[i]);
  const knee = n >= 3 ? kneeOfCurve(ks, sse, { sensitivity: input.sensitivity }).k : null;
  const anchor = knee ?? sortedKs[0];
  const eligibleAt = order.map((i) => stability[i] !== null && stability[i]! >= minStability && smallestCluster[i] >= minClusterSize);
  const eligible = sortedKs.filter((_, j) => eligibleAt[j]);
  const runs: number[][] = [];
  sortedKs.forEach((k, j) => {
    if (!eligibleAt[j]) return;
    const last = runs[runs.length - 1];
    if (last && j > 0 && eligibleAt[j - 1]) last.push(k);
    else runs.push([k]);
  });
  const unmeasured = stabilityStillNeeded(sortedKs, anchor, order.map((i) => stability[i]), eligibleAt, order.map((i) => smallestCluster[i] >= minClusterSize));
  const kneeWhat = knee === null ? 'the smallest k (no knee)' : `the knee ${knee}`;
  if (eligible.length === 0) {
    return { k: anchor, knee, eligible, run: [], unmeasured, stable: false, reason: `no k reaches stability ${minStability} with every cluster ≥ ${minClusterSize} rows; k = ${kneeWhat}` };
  }
  let k = eligible[0];
  for (const candidate of eligible.slice(1)) {
    const d = Math.abs(candidate - anchor), b = Math.abs(k - anchor);
    if (d < b || (d === b && candidate > k)) k = candidate;
  }
  const run = runs.find((r) => r.includes(k))!;
  const reason =
    k === anchor
      ? `${kneeWhat} is stable (stability ≥ ${minStability}) with every cluster ≥ ${minClusterSize} rows`
      : `${kneeWhat} is not stable (stability ≥ ${minStability}) with every cluster ≥ ${minClusterSize} rows; ${k} is the nearest k that is`;
  return { k, knee, eligible, run, unmeasured, stable: true, reason };
}

/**
 * The k whose stability decides the rule but is not measured: walking the k from the anchor outward (at each
 * distance the larger first, as the rule breaks ties), those with null stability and no too-small cluster, up to
 * the first eligible k (beyond it nothing can change the choice).
 */
function stabilityStillNeeded(sortedKs: number[], anchor: number, stability: (number | null)[], eligibleAt: boolean[], sizedAt: boolean[]): number[] {
  const walk = sortedKs.map((k, j) => ({ k, j })).sort((a, b) => Math.abs(a.k - anchor) - Math.abs(b.k - anchor) || b.k - a.k);
  const needed: number[] = [];
  for (const { k, j } of walk) {
    if (eligibleAt[j]) break;
    if (sizedAt[j] && stability[j] === null) needed.push(k);
  }
  return needed;
}
