/**
 * Segment identity across runs (the monthly re-segmentation): a cluster that continues one of the previous run's
 * segments keeps that segment's ID; any other cluster is a new segment with an ID never used before; a previous
 * segment no cluster continues is gone.
 *
 * "Continues" means: paired with it by a minimum-cost assignment (Hungarian) on centroid distances, *and* the
 * distance is at most `maxDistance`. The distance is the root-mean-square difference of the two centroids over the
 * standardised original (encoded) features both runs have, in population standard deviations — independent of
 * how many features there are. Costs are capped at `maxDistance` before the assignment, so a pair that could
 * never count as a continuation does not pull the other pairs away from their best partners.
 *
 * IDs: the first run numbers its clusters 0..k−1 in fit order. Each run records `nextId` (one above every ID
 * ever handed out, in this run or before), so an ID that went away is never given to a different segment later.
 */
import type { SegmentIdentity, SegmentMatch } from '../schemas/steps';
import { hungarian } from './linalg/hungarian';

export type { GoneSegment, SegmentIdentity, SegmentMatch } from '../schemas/steps';

/** A run with nothing to continue: clusters 0..k−1 in fit order, all new. */
export function firstRunIdentity(k: number): SegmentIdentity {
  return {
    segments: Array.from({ length: k }, (_, index) => ({ index, id: index, status: 'new' as const, previousId: null, distance: null })),
    gone: [],
    nextId: k,
    maxDistance: null,
  };
}

/**
 * Stable IDs for this run's k clusters from the distances to the previous run's segments.
 * `distances` is k × previousIds.length, row-major (row = this run's cluster in fit order, column = previous
 * segment in the order of `previousIds`).
 */
export function assignSegmentIds(options: {
  distances: ArrayLike<number>;
  k: number;
  previousIds: readonly number[];
  /** The previous run's `nextId`; IDs at or above the largest previous ID + 1 are used if it is missing or lower. */
  previousNextId?: number;
  maxDistance: number;
}): SegmentIdentity {
  const { distances, k, previousIds, maxDistance } = options;
  const m = previousIds.length;
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer, got ${k}`);
  if (distances.length !== k * m) throw new RangeError(`expected ${k} × ${m} distances, got ${distances.length}`);
  if (!(maxDistance >= 0)) throw new RangeError(`maxDistance must be >= 0, got ${maxDistance}`);
  if (new Set(previousIds).size !== m || previousIds.some((id) => !Number.isInteger(id) || id < 0)) {
    throw new RangeError(`previous segment IDs must be distinct non-negative integers, got ${previousIds.join(', ')}`);
  }
  for (let i = 0; i < distances.length; i++) {
    if (!(distances[i] >= 0)) throw new RangeError(`distance ${i} is not a non-negative number: ${distances[i]}`);
  }
  const capped = Float64Array.from(distances as ArrayLike<number>, (d) => Math.min(d, maxDistance));
  const { rowToCol } = hungarian(capped, k, m);
  let nextId = Math.max(options.previousNextId ?? 0, m ? Math.max(...previousIds) + 1 : 0);
  const nearestPrevious = (i: number): number | null => (m ? Math.min(...Array.from({ length: m }, (_, j) => distances[i * m + j])) : null);
  const continued = new Set<number>();
  const segments: SegmentMatch[] = [];
  for (let i = 0; i < k; i++) {
    const j = rowToCol[i];
    if (j >= 0 && distances[i * m + j] <= maxDistance) {
      continued.add(j);
      segments.push({ index: i, id: previousIds[j], status: 'continued', previousId: previousIds[j], distance: distances[i * m + j] });
    } else {
      segments.push({ index: i, id: nextId++, status: 'new', previousId: null, distance: nearestPrevious(i) });
    }
  }
  const gone = previousIds
    .map((id, j) => ({ id, j }))
    .filter(({ j }) => !continued.has(j))
    .map(({ id, j }) => ({ id, nearestDistance: k ? Math.min(...Array.from({ length: k }, (_, i) => distances[i * m + j])) : null }))
    .sort((a, b) => a.id - b.id);
  return { segments, gone, nextId, maxDistance };
}

/** Relabels fit-order cluster indices to stable IDs in place (−1, the heavy-missing group, stays −1). */
export function relabel(assignments: Int32Array, ids: readonly number[]): Int32Array {
  for (let r = 0; r < assignments.length; r++) {
    const c = assignments[r];
    if (c < 0) continue;
    if (c >= ids.length) throw new RangeError(`cluster index ${c} at row ${r} is outside the ${ids.length} clusters`);
    assignments[r] = ids[c];
  }
  return assignments;
}
