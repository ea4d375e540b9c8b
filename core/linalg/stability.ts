/**
 * Stability of a k-means partition under resampling (Ben-Hur, Elisseeff & Guyon 2002; Lange et al. 2004): do two
 * fits on independent subsamples of the data partition the same rows the same way?
 *
 * One replicate r at k:
 *   1. draw two uniform subsamples A and B of `sampleRows` rows each (without replacement within a subsample,
 *      independently of each other), seeds derived from (seed, k, r);
 *   2. fit k-means on each — the best of `inits` seeded inits, so a replicate measures the data, not one unlucky
 *      start;
 *   3. label a fixed evaluation sample (`evaluationRows` rows, the same for every k and replicate) with each fit's
 *      nearest centroid, and score the agreement of the two labelings with the adjusted Rand index.
 * stability(k) = the median of the replicates' ARIs (`stabilityScore`; robust to one replicate whose fits landed
 * in different optima). Measured on the planted data (bench/quality.ts): weak fits (best of 4 k-means++) scatter
 * the replicates 0.75–0.995 at every k, so the fits must be strong (core/steps/stability.ts); and even with strong
 * fits the planted k is not always reproduced by every replicate (near-equal-SSE optima that merge two segments
 * and split another), so the worst replicate is no usable statistic. Stability is the k rule's guard, not its
 * anchor (core/linalg/choose-k.ts). *
 * The subsample size is fixed, not a fraction of the data, so a replicate costs the same at any data size and the
 * measure means the same on a 40k-row test file and on the full 891k rows.
 */
import { assignNearest } from './kmeans';
import { deriveSeed, sampleIndices } from './prng';
import type { NumericArray } from './types';

export interface StabilityOptions {
  k: number;
  seed: number;
  replicate: number;
  /** Rows per subsample (capped at the data's rows). */
  sampleRows: number;
  /** Seeded inits per subsample fit (best SSE kept). */
  inits: number;
  /** Rows of the evaluation sample both fits label. */
  evaluationRows: number;
}

/** Fits k-means (best of `inits`) on a subsample: the caller decides where (a worker thread in an activity). */
export type SubsampleFit = (data: Float32Array, rows: number, dims: number, k: number, seed: number, inits: number) => Promise<{ centroids: ArrayLike<number> }>;

export interface ReplicateAgreement {
  k: number;
  replicate: number;
  ari: number;
  sampleRows: number;
  evaluationRows: number;
}

/** Rows of `data` at `indices`, as float32 (PCA scores are float32; the kernel promotes them exactly). */
export function gatherRows(data: NumericArray, dims: number, indices: ArrayLike<number>, out = new Float32Array(indices.length * dims)): Float32Array {
  for (let r = 0; r < indices.length; r++) {
    const o = indices[r] * dims;
    for (let d = 0; d < dims; d++) out[r * dims + d] = data[o + d];
  }
  return out;
}

/** The seeded evaluation sample: the same rows for every k and replicate of a run. */
export function evaluationIndices(rows: number, evaluationRows: number, seed: number): Int32Array {
  return sampleIndices(rows, Math.min(rows, evaluationRows), deriveSeed(seed, 0x57ab));
}

/** One replicate: two subsample fits, their labelings of the evaluation sample, and the ARI between them. */
export async function replicateAgreement(data: NumericArray, rows: number, dims: number, options: StabilityOptions, fit: SubsampleFit): Promise<ReplicateAgreement> {
  const { k, seed, replicate } = options;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`stability: k must be a positive integer, got ${k}`);
  const m = Math.min(rows, options.sampleRows);
  const evaluation = gatherRows(data, dims, evaluationIndices(rows, options.evaluationRows, seed));
  const evalRows = evaluation.length / dims;
  const kSeed = deriveSeed(deriveSeed(seed, 0x5ab1), k);
  const labelings: Int32Array[] = [];
  for (const side of [0, 1]) {
    const drawSeed = deriveSeed(kSeed, 2 * replicate + side);
    const subsample = gatherRows(data, dims, sampleIndices(rows, m, drawSeed));
    const { centroids } = await fit(subsample, m, dims, k, deriveSeed(drawSeed, 1), options.inits);
    labelings.push(assignNearest(evaluation, evalRows, dims, centroids, k).assignments);
  }
  return { k, replicate, ari: adjustedRandIndexOfLabels(labelings[0], labelings[1], k, k), sampleRows: m, evaluationRows: evalRows };
}

/** ARI of two labelings with labels in [0, ka) and [0, kb) (contingency table as an array: fast for any n). */
export function adjustedRandIndexOfLabels(a: ArrayLike<number>, b: ArrayLike<number>, ka: number, kb: number): number {
  if (a.length !== b.length) throw new RangeError(`labelings differ in length: ${a.length} vs ${b.length}`);
  const n = a.length;
  if (n < 2) return 1;
  const table = new Float64Array(ka * kb);
  const rowsSum = new Float64Array(ka);
  const colsSum = new Float64Array(kb);
  for (let i = 0; i < n; i++) {
    const x = a[i], y = b[i];
    if (!(x >= 0 && x < ka && y >= 0 && y < kb)) throw new RangeError(`label out of range at ${i}: ${x}, ${y}`);
    table[x * kb + y]++;
    rowsSum[x]++;
    colsSum[y]++;
  }
  const pairs = (m: number) => (m * (m - 1)) / 2;
  let index = 0;
  for (const c of table) index += pairs(c);
  let sumRows = 0;
  for (const c of rowsSum) sumRows += pairs(c);
  let sumCols = 0;
  for (const c of colsSum) sumCols += pairs(c);
  const expected = (sumRows * sumCols) / pairs(n);
  const maximum = (sumRows + sumCols) / 2;
  if (maximum === expected) return 1;
  return (index - expected) / (maximum - expected);
}

/** The stability at k: the median of the replicates' ARIs (mean of the middle two for an even count). */
export function stabilityScore(aris: readonly number[]): number {
  return medianAgreement(aris);
}

/** The median of the replicates' ARIs (mean of the middle two for an even count). */
export function medianAgreement(aris: readonly number[]): number {
  if (aris.length === 0) throw new RangeError('stability: no replicate');
  const s = [...aris].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** The worst replicate's ARI, reported beside the median. */
export function worstAgreement(aris: readonly number[]): number {
  if (aris.length === 0) throw new RangeError('stability: no replicate');
  return Math.min(...aris);
}
