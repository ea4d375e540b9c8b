/**
 * Mean silhouette on a seeded sample: m rows drawn without replacement (sampleIndices), then the exact
 * silhouette of each sampled row *within the sample* (O(m² · dims), Euclidean distances):
 *   a(i) = mean distance to the other sampled rows of its cluster,
 *   b(i) = min over the other clusters present in the sample of the mean distance to their sampled rows,
 *   s(i) = (b − a) / max(a, b), and s(i) = 0 when i is alone in its cluster (scikit-learn's convention).
 * The score is the mean of s(i) over the sample.
 */
import { kernelFor, WASM_PAGE, WasmArena } from '../wasm/kernel';
import { sampleIndices } from './prng';
import { checkMatrix, checkNumericArray, NumericArray, throwIfAborted } from './types';

export const DEFAULT_SILHOUETTE_SAMPLE = 5000;

export interface SilhouetteOptions {
  /** Default 5000; all rows when rows ≤ sampleSize. */
  sampleSize?: number;
  /** Default 0. */
  seed?: number;
  signal?: AbortSignal;
}

export interface SilhouetteResult {
  score: number;
  sampleSize: number;
  /** Mean s(i) per cluster over its sampled rows (NaN for clusters absent from the sample). */
  perCluster: Float64Array;
  /** Sampled rows per cluster. */
  sampleCounts: Int32Array;
}

export function silhouetteSample(
  data: NumericArray,
  rows: number,
  dims: number,
  labels: ArrayLike<number>,
  k: number,
  opts: SilhouetteOptions = {},
): SilhouetteResult {
  checkNumericArray('silhouetteSample', data);
  checkMatrix('silhouetteSample', data, rows, dims);
  if (labels.length !== rows) throw new RangeError(`silhouetteSample: ${labels.length} labels for ${rows} rows`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError('silhouetteSample: k must be a positive integer');
  const m0 = opts.sampleSize ?? DEFAULT_SILHOUETTE_SAMPLE;
  if (!Number.isInteger(m0) || m0 < 2) throw new RangeError('silhouetteSample: sampleSize must be an integer ≥ 2');
  const idx = sampleIndices(rows, m0, opts.seed ?? 0);
  const m = idx.length;
  // The sample goes into the WebAssembly kernel's memory: its pairwise pass is the whole cost (m² / 2 distances).
  const arena = WasmArena.create(m * dims * 8 + m * 4 + m * k * 8 + 4 * WASM_PAGE);
  const xAt = arena.alloc(m * dims * 8), labAt = arena.alloc(m * 4), sumsAt = arena.alloc(m * k * 8);
  const X = new Float64Array(arena.memory.buffer, xAt, m * dims);
  const lab = new Int32Array(arena.memory.buffer, labAt, m);
  const counts = new Int32Array(k);
  for (let s = 0; s < m; s++) {
    const r = idx[s];
    const l = labels[r];
    if (!Number.isInteger(l) || l < 0 || l >= k) throw new RangeError(`silhouetteSample: label ${l} of row ${r} is outside [0, ${k})`);
    lab[s] = l;
    counts[l]++;
    for (let d = 0; d < dims; d++) X[s * dims + d] = data[r * dims + d];
  }
  let present = 0;
  for (let j = 0; j < k; j++) if (counts[j] > 0) present++;
  if (present < 2) throw new RangeError('silhouetteSample: the sample holds fewer than 2 clusters; the silhouette is undefined');

  // sums[i * k + c] = Σ distance from sampled row i to the sampled rows of cluster c (canonical distances)
  throwIfAborted(opts.signal);
  const sums = new Float64Array(arena.memory.buffer, sumsAt, m * k).fill(0);
  kernelFor(arena.memory).silhouetteSums(xAt, m, dims, labAt, k, sumsAt);
  const perSum = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < m; i++) {
    const li = lab[i];
    let si = 0;
    if (counts[li] > 1) {
      const a = sums[i * k + li] / (counts[li] - 1);
      let b = Infinity;
      for (let c = 0; c < k; c++) {
        if (c === li || counts[c] === 0) continue;
        const v = sums[i * k + c] / counts[c];
        if (v < b) b = v;
      }
      const den = Math.max(a, b);
      si = den > 0 ? (b - a) / den : 0;
    }
    perSum[li] += si;
    total += si;
  }
  const perCluster = new Float64Array(k);
  for (let c = 0; c < k; c++) perCluster[c] = counts[c] > 0 ? perSum[c] / counts[c] : NaN;
  return { score: total / m, sampleSize: m, perCluster, sampleCounts: counts };
}
