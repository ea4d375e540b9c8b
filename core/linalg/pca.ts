/**
 * PCA from a covariance matrix (symmetric eigendecomposition with ml-matrix's EVD), projection of rows onto
 * the leading components, inverse projection (for centroids) and component interpretation.
 *
 * Conventions: `components` is a q × cols row-major Float64Array, component i = row i, unit length, ordered by
 * descending eigenvalue; its sign is fixed so that its largest-|weight| entry is positive (first such entry on
 * an exact tie). Scores are (x − mean) · componentᵢ.
 */
import { EVD, Matrix } from 'ml-matrix';
import { pcaKernelEnabled, projectRangeInKernel } from '../wasm/linalg';
import { checkMatrix, checkNumericArray, NumericArray, throwIfAborted } from './types';

export {
  columnMeansAndCovariance,
  columnMeans,
  CovarianceAccumulator,
  COVARIANCE_CHUNK_ROWS,
} from './covariance';
export type { CovarianceResult, CovarianceOptions, CovarianceAccumulatorJSON } from './covariance';

export interface PcaModel {
  cols: number;
  /** All cols eigenvalues, descending (variances along the components). */
  eigenvalues: Float64Array;
  /** cols × cols, component i = row i. */
  components: Float64Array;
  /** eigenvalueᵢ / Σ eigenvalues (negative round-off eigenvalues count as 0). */
  explainedVarianceRatio: Float64Array;
  cumulativeVarianceRatio: Float64Array;
  totalVariance: number;
}

export function pcaFromCovariance(cov: ArrayLike<number>, cols: number): PcaModel {
  checkMatrix('pcaFromCovariance', cov, cols, cols);
  const rows2d: number[][] = [];
  for (let i = 0; i < cols; i++) {
    const row = new Array<number>(cols);
    for (let j = 0; j < cols; j++) {
      const v = 0.5 * (cov[i * cols + j] + cov[j * cols + i]);
      if (!Number.isFinite(v)) throw new RangeError(`pcaFromCovariance: non-finite covariance at (${i}, ${j})`);
      row[j] = v;
    }
    rows2d.push(row);
  }
  const evd = new EVD(new Matrix(rows2d), { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix; // columns are eigenvectors
  const order = Array.from({ length: cols }, (_, i) => i).sort((a, b) => values[b] - values[a] || a - b);

  const eigenvalues = new Float64Array(cols);
  const components = new Float64Array(cols * cols);
  for (let r = 0; r < cols; r++) {
    const src = order[r];
    eigenvalues[r] = values[src];
    let norm = 0;
    let big = 0;
    let bigAbs = -1;
    for (let j = 0; j < cols; j++) {
      const w = vectors.get(j, src);
      norm += w * w;
      if (Math.abs(w) > bigAbs) {
        bigAbs = Math.abs(w);
        big = w;
      }
    }
    const scale = (big < 0 ? -1 : 1) / Math.sqrt(norm);
    for (let j = 0; j < cols; j++) components[r * cols + j] = vectors.get(j, src) * scale;
  }
  let total = 0;
  for (let i = 0; i < cols; i++) total += Math.max(0, eigenvalues[i]);
  const ratio = new Float64Array(cols);
  const cumulative = new Float64Array(cols);
  let acc = 0;
  for (let i = 0; i < cols; i++) {
    ratio[i] = total > 0 ? Math.max(0, eigenvalues[i]) / total : 0;
    acc += ratio[i];
    cumulative[i] = Math.min(1, acc);
  }
  if (total > 0) cumulative[cols - 1] = 1;
  return { cols, eigenvalues, components, explainedVarianceRatio: ratio, cumulativeVarianceRatio: cumulative, totalVariance: total };
}

export interface ComponentCountOptions {
  /** Smallest q whose cumulative explained variance reaches this fraction (0, 1]. */
  varianceTarget?: number;
  /** Fixed q; takes precedence over varianceTarget. */
  components?: number;
}

/**
 * Number of components to keep: `components` if given (capped at the number available), else the smallest q
 * with cumulative[q − 1] ≥ varianceTarget (a 1e-12 slack absorbs round-off; if never reached, all).
 */
export function chooseComponentCount(cumulative: ArrayLike<number>, opts: ComponentCountOptions): number {
  const n = cumulative.length;
  if (n < 1) throw new RangeError('chooseComponentCount: empty cumulative curve');
  if (opts.components !== undefined) {
    if (!Number.isInteger(opts.components) || opts.components < 1) {
      throw new RangeError(`chooseComponentCount: components must be a positive integer, got ${opts.components}`);
    }
    return Math.min(opts.components, n);
  }
  const target = opts.varianceTarget;
  if (target === undefined || !(target > 0 && target <= 1)) {
    throw new RangeError(`chooseComponentCount: varianceTarget must be in (0, 1], got ${String(target)}`);
  }
  for (let i = 0; i < n; i++) if (cumulative[i] >= target - 1e-12) return i + 1;
  return n;
}

/**
 * Scores of rows [rowStart, rowEnd) on the first q components, written to out (row-major rows × q, indexed by
 * absolute row). The value of a row does not depend on the range it is computed in (bit-identical across
 * thread splits).
 */
export function projectRowsRange(
  data: NumericArray,
  cols: number,
  mean: ArrayLike<number>,
  components: ArrayLike<number>,
  q: number,
  rowStart: number,
  rowEnd: number,
  /** Float32 output rounds each score once, when it is stored (the sums are Float64). */
  out: Float64Array | Float32Array,
): void {
  const W = components instanceof Float64Array ? components : Float64Array.from(components);
  const mu = mean instanceof Float64Array ? mean : Float64Array.from(mean);
  if (pcaKernelEnabled()) {
    // The same sums in the SIMD kernel (core/wasm/linalg.ts): bit-identical, faster.
    projectRangeInKernel(data, cols, mu, W, q, rowStart, rowEnd, out);
    return;
  }
  const x = new Float64Array(2 * cols);
  const q4 = q - (q % 4);
  let r = rowStart;
  for (; r + 2 <= rowEnd; r += 2) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) {
      x[j] = data[o + j] - mu[j];
      x[cols + j] = data[o + cols + j] - mu[j];
    }
    const oo = r * q;
    let c = 0;
    for (; c < q4; c += 4) {
      const w0 = c * cols, w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
      for (let j = 0; j < cols; j++) {
        const v = x[j], u = x[cols + j];
        const a = W[w0 + j], b = W[w1 + j], cc = W[w2 + j], d = W[w3 + j];
        s0 += a * v; s1 += b * v; s2 += cc * v; s3 += d * v;
        t0 += a * u; t1 += b * u; t2 += cc * u; t3 += d * u;
      }
      out[oo + c] = s0; out[oo + c + 1] = s1; out[oo + c + 2] = s2; out[oo + c + 3] = s3;
      out[oo + q + c] = t0; out[oo + q + c + 1] = t1; out[oo + q + c + 2] = t2; out[oo + q + c + 3] = t3;
    }
    for (; c < q; c++) {
      const w0 = c * cols;
      let s0 = 0, t0 = 0;
      for (let j = 0; j < cols; j++) {
        s0 += W[w0 + j] * x[j];
        t0 += W[w0 + j] * x[cols + j];
      }
      out[oo + c] = s0;
      out[oo + q + c] = t0;
    }
  }
  if (r < rowEnd) {
    // Same arithmetic (same order of terms) as the paired loop, so a row's scores never depend on its pairing.
    const o = r * cols;
    for (let j = 0; j < cols; j++) x[j] = data[o + j] - mu[j];
    const oo = r * q;
    let c = 0;
    for (; c < q4; c += 4) {
      const w0 = c * cols, w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < cols; j++) {
        const v = x[j];
        s0 += W[w0 + j] * v; s1 += W[w1 + j] * v; s2 += W[w2 + j] * v; s3 += W[w3 + j] * v;
      }
      out[oo + c] = s0; out[oo + c + 1] = s1; out[oo + c + 2] = s2; out[oo + c + 3] = s3;
    }
    for (; c < q; c++) {
      const w0 = c * cols;
      let s0 = 0;
      for (let j = 0; j < cols; j++) s0 += W[w0 + j] * x[j];
      out[oo + c] = s0;
    }
  }
}

export const PROJECT_BLOCK_ROWS = 65536;

/**
 * Scores of every row on the first q components (rows × q Float64Array, written to `out` when given — e.g. a
 * SharedArrayBuffer-backed array).
 */
export function projectRows(
  data: NumericArray,
  rows: number,
  cols: number,
  mean: ArrayLike<number>,
  components: ArrayLike<number>,
  q: number,
  out?: Float64Array,
  opts: { signal?: AbortSignal; onProgress?: (rowsDone: number, rows: number) => void } = {},
): Float64Array {
  checkNumericArray('projectRows', data);
  checkMatrix('projectRows', data, rows, cols);
  checkProjection(mean, components, q, cols);
  const res = out ?? new Float64Array(rows * q);
  if (res.length !== rows * q) throw new RangeError(`projectRows: out must have ${rows * q} elements`);
  for (let r0 = 0; r0 < rows; r0 += PROJECT_BLOCK_ROWS) {
    throwIfAborted(opts.signal);
    const r1 = Math.min(rows, r0 + PROJECT_BLOCK_ROWS);
    projectRowsRange(data, cols, mean, components, q, r0, r1, res);
    opts.onProgress?.(r1, rows);
  }
  return res;
}

export function checkProjection(mean: ArrayLike<number>, components: ArrayLike<number>, q: number, cols: number): void {
  if (mean.length !== cols) throw new RangeError(`mean must have ${cols} elements, got ${mean.length}`);
  if (!Number.isInteger(q) || q < 1 || q > cols) throw new RangeError(`q must be an integer in [1, ${cols}], got ${q}`);
  if (components.length < q * cols) throw new RangeError(`components must hold at least ${q} × ${cols} weights`);
}

/** Back to the original space: xᵢ = mean + Σ_c scores[i, c] · component_c (for centroids; n = scores.length / q). */
export function inverseProject(
  scores: ArrayLike<number>,
  q: number,
  mean: ArrayLike<number>,
  components: ArrayLike<number>,
  cols: number,
): Float64Array {
  checkProjection(mean, components, q, cols);
  if (scores.length % q !== 0) throw new RangeError(`inverseProject: scores length ${scores.length} is not a multiple of q=${q}`);
  const n = scores.length / q;
  const out = new Float64Array(n * cols);
  for (let i = 0; i < n; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) out[o + j] = mean[j];
    for (let c = 0; c < q; c++) {
      const s = scores[i * q + c];
      const w = c * cols;
      for (let j = 0; j < cols; j++) out[o + j] += s * components[w + j];
    }
  }
  return out;
}

export interface FeatureWeight {
  feature: string;
  weight: number;
}

/**
 * The n largest positive weights (`top`, largest first) and the n most negative weights (`bottom`, most
 * negative first) of a component. Zero weights appear in neither; ties keep feature order.
 */
export function interpretComponent(
  component: ArrayLike<number>,
  featureNames: readonly string[],
  n: number,
): { top: FeatureWeight[]; bottom: FeatureWeight[] } {
  if (featureNames.length !== component.length) {
    throw new RangeError(`interpretComponent: ${component.length} weights but ${featureNames.length} feature names`);
  }
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`interpretComponent: n must be a non-negative integer`);
  const all = Array.from({ length: component.length }, (_, i) => ({ feature: featureNames[i], weight: component[i], i }));
  const top = all.filter((f) => f.weight > 0).sort((a, b) => b.weight - a.weight || a.i - b.i);
  const bottom = all.filter((f) => f.weight < 0).sort((a, b) => a.weight - b.weight || a.i - b.i);
  const strip = (f: { feature: string; weight: number }): FeatureWeight => ({ feature: f.feature, weight: f.weight });
  return { top: top.slice(0, n).map(strip), bottom: bottom.slice(0, n).map(strip) };
}
