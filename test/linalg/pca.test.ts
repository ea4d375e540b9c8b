import { Matrix } from 'ml-matrix';
import { PCA } from 'ml-pca';
import {
  chooseComponentCount,
  columnMeansAndCovariance,
  CovarianceAccumulator,
  COVARIANCE_CHUNK_ROWS,
  interpretComponent,
  inverseProject,
  pcaFromCovariance,
  projectRows,
} from '../../core/linalg/pca';
import { Prng } from '../../core/linalg/prng';
import { maxAbsDiff } from './helpers';

/** Correlated data: X = Z · M + offset, with very different column scales and a large offset. */
function correlated(rows: number, cols: number, seed: number, offset = 1000): Float64Array {
  const rng = new Prng(seed);
  const M = new Float64Array(cols * cols);
  for (let i = 0; i < M.length; i++) M[i] = rng.nextFloat() * 2 - 1;
  const X = new Float64Array(rows * cols);
  const z = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < cols; i++) z[i] = (rng.nextFloat() - 0.5) * (i + 1);
    for (let j = 0; j < cols; j++) {
      let s = offset * (j + 1);
      for (let i = 0; i < cols; i++) s += z[i] * M[i * cols + j];
      X[r * cols + j] = s;
    }
  }
  return X;
}

function naiveCovariance(X: Float64Array, rows: number, cols: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) mean[j] += X[r * cols + j];
  for (let j = 0; j < cols; j++) mean[j] /= rows;
  const cov = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += (X[r * cols + i] - mean[i]) * (X[r * cols + j] - mean[j]);
      cov[i * cols + j] = s / (rows - 1);
    }
  }
  return { mean, cov };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  return maxAbsDiff(a, b) / scale;
}

describe('columnMeansAndCovariance', () => {
  it.each([
    [300, 7],
    [257, 1],
    [1000, 13],
  ])('matches a direct computation (%i × %i)', (rows, cols) => {
    const X = correlated(rows, cols, rows + cols);
    const { mean, covariance, n } = columnMeansAndCovariance(X, rows, cols, { blockRows: 64 });
    const ref = naiveCovariance(X, rows, cols);
    expect(n).toBe(rows);
    expect(relErr(mean, ref.mean)).toBeLessThan(1e-13);
    expect(relErr(covariance, ref.cov)).toBeLessThan(1e-12);
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) expect(covariance[i * cols + j]).toBe(covariance[j * cols + i]);
  });

  it('handles several fixed chunks and Float32 input', () => {
    const rows = COVARIANCE_CHUNK_ROWS + 4321, cols = 5;
    const X64 = correlated(rows, cols, 3, 10);
    const X32 = Float32Array.from(X64);
    const res = columnMeansAndCovariance(X32, rows, cols);
    const ref = naiveCovariance(Float64Array.from(X32), rows, cols);
    expect(relErr(res.covariance, ref.cov)).toBeLessThan(1e-11);
    expect(relErr(res.mean, ref.mean)).toBeLessThan(1e-13);
  });

  it('rejects bad shapes', () => {
    expect(() => columnMeansAndCovariance(new Float64Array(10), 3, 3)).toThrow(RangeError);
    expect(() => columnMeansAndCovariance(new Float64Array(3), 1, 3)).toThrow(/at least 2 rows/);
  });
});

describe('CovarianceAccumulator', () => {
  const rows = 900, cols = 6;
  const X = correlated(rows, cols, 11);
  const ref = naiveCovariance(X, rows, cols);

  it('accumulates blocks of any size, with or without a centre', () => {
    const a = new CovarianceAccumulator(cols, { blockRows: 32 });
    let r = 0;
    for (const size of [1, 99, 300, 500]) {
      a.add(X.subarray(r * cols, (r + size) * cols));
      r += size;
    }
    expect(a.n).toBe(rows);
    const res = a.result();
    expect(relErr(res.covariance, ref.cov)).toBeLessThan(1e-12);
    expect(relErr(res.mean, ref.mean)).toBeLessThan(1e-13);
  });

  it('merges accumulators with different centres (split across "threads")', () => {
    const a = new CovarianceAccumulator(cols).add(X.subarray(0, 400 * cols));
    // any centre inside the data cloud works (here: the first row); a centre far outside it loses precision
    const b = new CovarianceAccumulator(cols, { center: X.subarray(0, cols) }).add(X.subarray(400 * cols));
    const res = a.merge(b).result();
    expect(relErr(res.covariance, ref.cov)).toBeLessThan(1e-12);
    expect(relErr(res.mean, ref.mean)).toBeLessThan(1e-13);
    // merging into an empty accumulator and merging an empty one are no-ops
    const c = new CovarianceAccumulator(cols).merge(new CovarianceAccumulator(cols).add(X)).merge(new CovarianceAccumulator(cols));
    expect(relErr(c.result().covariance, ref.cov)).toBeLessThan(1e-12);
  });

  it('serialises to JSON and ArrayBuffer and resumes from rows done', () => {
    const a = new CovarianceAccumulator(cols).add(X.subarray(0, 123 * cols));
    const viaJson = CovarianceAccumulator.fromJSON(JSON.parse(JSON.stringify(a)));
    const viaBuf = CovarianceAccumulator.fromArrayBuffer(a.toArrayBuffer());
    expect(viaJson.n).toBe(123);
    for (const resumed of [viaJson, viaBuf]) {
      resumed.addRange(X, resumed.n, rows);
      const straight = new CovarianceAccumulator(cols).add(X.subarray(0, 123 * cols)).addRange(X, 123, rows);
      expect(Array.from(resumed.result().covariance)).toEqual(Array.from(straight.result().covariance));
    }
    expect(() => CovarianceAccumulator.fromJSON({ ...a.toJSON(), s1: [1] })).toThrow(RangeError);
  });
});

describe('pcaFromCovariance', () => {
  const rows = 120, cols = 6;
  const X = correlated(rows, cols, 5, 3);
  const { mean, covariance } = columnMeansAndCovariance(X, rows, cols);
  const model = pcaFromCovariance(covariance, cols);
  const rows2d = Array.from({ length: rows }, (_, r) => Array.from(X.subarray(r * cols, (r + 1) * cols)));
  const ref = new PCA(rows2d, { method: 'SVD', center: true, scale: false });

  it('eigenvalues equal ml-pca (SVD) within 1e-9 and are descending', () => {
    const ev = ref.getEigenvalues();
    for (let i = 0; i < cols; i++) expect(Math.abs(model.eigenvalues[i] - ev[i])).toBeLessThan(1e-9 * Math.max(1, ev[0]));
    for (let i = 1; i < cols; i++) expect(model.eigenvalues[i]).toBeLessThanOrEqual(model.eigenvalues[i - 1]);
  });

  it('components equal ml-pca up to sign, with the deterministic sign rule', () => {
    const V = ref.getEigenvectors(); // columns
    for (let c = 0; c < cols; c++) {
      let dot = 0, bigAbs = -1, big = 0;
      for (let j = 0; j < cols; j++) {
        const w = model.components[c * cols + j];
        dot += w * V.get(j, c);
        if (Math.abs(w) > bigAbs) { bigAbs = Math.abs(w); big = w; }
      }
      expect(Math.abs(Math.abs(dot) - 1)).toBeLessThan(1e-9);
      expect(big).toBeGreaterThan(0);
    }
  });

  it('projections equal ml-pca predict up to the sign of each component', () => {
    const scores = projectRows(X, rows, cols, mean, model.components, cols);
    const P = ref.predict(new Matrix(rows2d));
    for (let c = 0; c < cols; c++) {
      const sign = Math.sign(scores[c] * P.get(0, c)) || 1;
      for (let r = 0; r < rows; r++) expect(Math.abs(scores[r * cols + c] - sign * P.get(r, c))).toBeLessThan(1e-9);
    }
  });

  it('explained variance ratios match and the cumulative curve ends at 1', () => {
    const ratio = ref.getExplainedVariance();
    for (let i = 0; i < cols; i++) expect(Math.abs(model.explainedVarianceRatio[i] - ratio[i])).toBeLessThan(1e-12);
    expect(model.cumulativeVarianceRatio[cols - 1]).toBe(1);
  });

  it('projection with q < cols keeps the leading scores; inverseProject of all scores reconstructs rows', () => {
    const full = projectRows(X, rows, cols, mean, model.components, cols);
    const two = projectRows(X, rows, cols, mean, model.components, 2);
    for (let r = 0; r < rows; r++) for (let c = 0; c < 2; c++) expect(two[r * 2 + c]).toBe(full[r * cols + c]);
    const back = inverseProject(full, cols, mean, model.components, cols);
    expect(maxAbsDiff(back, X)).toBeLessThan(1e-9);
    // odd row counts use the unpaired tail path with the same arithmetic
    const odd = projectRows(X.subarray(cols), rows - 1, cols, mean, model.components, 3);
    for (let r = 0; r < rows - 1; r++) for (let c = 0; c < 3; c++) expect(odd[r * 3 + c]).toBe(full[(r + 1) * cols + c]);
  });
});

describe('chooseComponentCount', () => {
  const cum = [0.5, 0.7, 0.85, 0.95, 1];
  it('takes the smallest q reaching the target', () => {
    expect(chooseComponentCount(cum, { varianceTarget: 0.85 })).toBe(3);
    expect(chooseComponentCount(cum, { varianceTarget: 0.86 })).toBe(4);
    expect(chooseComponentCount(cum, { varianceTarget: 0.1 })).toBe(1);
    expect(chooseComponentCount(cum, { varianceTarget: 1 })).toBe(5);
  });
  it('a fixed count wins and is capped', () => {
    expect(chooseComponentCount(cum, { varianceTarget: 0.5, components: 4 })).toBe(4);
    expect(chooseComponentCount(cum, { components: 40 })).toBe(5);
  });
  it('rejects bad options', () => {
    expect(() => chooseComponentCount(cum, {})).toThrow(RangeError);
    expect(() => chooseComponentCount(cum, { varianceTarget: 1.5 })).toThrow(RangeError);
    expect(() => chooseComponentCount(cum, { components: 0 })).toThrow(RangeError);
  });
});

describe('interpretComponent', () => {
  it('returns the largest positive and most negative weights in order', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const res = interpretComponent([0.1, -0.5, 0.7, 0, -0.2], names, 2);
    expect(res.top).toEqual([{ feature: 'c', weight: 0.7 }, { feature: 'a', weight: 0.1 }]);
    expect(res.bottom).toEqual([{ feature: 'b', weight: -0.5 }, { feature: 'e', weight: -0.2 }]);
    expect(interpretComponent([0.1, -0.5, 0.7, 0, -0.2], names, 10).top).toHaveLength(2);
    expect(() => interpretComponent([1], names, 1)).toThrow(RangeError);
  });
});
