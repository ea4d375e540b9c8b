/**
 * Choosing k with evidence: the SSE elbow (kneedle) and the stability of the partition under resampling, in one
 * rule.
 *
 *   1. knee = kneedle on the sweep's SSE curve (convex, decreasing, sensitivity S); none → the smallest k.
 *   2. A k is *eligible* when its stability (the lowest resample ARI, core/linalg/stability.ts) is at least
 *      `minStability` and the sweep's fit at k leaves no cluster below the minimum cluster size.
 *   3. Eligible k form runs of consecutive values. The chosen run is the one containing the knee, else the one
 *      nearest to it (ties: the run above — the elbow marks where the SSE gains flatten, so structure beyond it is
 *      preferred to structure before it). k = the largest k of that run: the finest partition the data reproduce
 *      that is continuous with the elbow.
 *   4. No eligible k at all: k = the knee, flagged `stable: false` (the report says the partition is not
 *      reproducible).
 * Why this shape: kneedle alone lands anywhere along a gradual curve (its knee moves with the k range), and small k
 * (2, 3) are always stable because they cut along the largest axes of variation; stability says which partitions
 * are real, the knee says which of those real partitions is the elbow's.
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
  if (runs.length === 0) {
    return {
      k: anchor,
      knee,
      eligible,
      run: [],
      stable: false,
      reason: `no k reaches stability ${minStability} with every cluster ≥ ${minClusterSize} rows; k = ${knee === null ? `the smallest k (no knee)` : `the knee`} ${anchor}`,
    };
  }
  const distance = (run: number[]) => (anchor < run[0] ? run[0] - anchor : anchor > run[run.length - 1] ? anchor - run[run.length - 1] : 0);
  let best = runs[0];
  for (const run of runs.slice(1)) {
    const d = distance(run), b = distance(best);
    if (d < b || (d === b && run[0] > best[0])) best = run;
  }
  const k = best[best.length - 1];
  const where = distance(best) === 0 ? 'contains' : 'is the nearest to';
  return {
    k,
    knee,
    eligible,
    run: best,
    stable: true,
    reason: `the stable run ${best[0]}..${k} (stability ≥ ${minStability}, every cluster ≥ ${minClusterSize} rows) ${where} the ${knee === null ? 'smallest k (no knee)' : `knee at ${knee}`}; its largest k`,
  };
}
