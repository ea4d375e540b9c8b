/**
 * The PCA loops in the SIMD kernel (core/wasm/linalg.ts) against the plain JS loops they replace: the same
 * sums in the same order, so bit-identical results, over shapes that exercise every edge (columns not a
 * multiple of 4, components not a multiple of 8, odd row counts, ranges that start mid-block, float32 and
 * float64 data, several block sizes) — and, through the kernel, still equal to ml-pca (test/linalg/pca.test.ts).
 */
import { PCA } from 'ml-pca';
import { columnMeans, columnMeansAndCovariance, CovarianceAccumulator, pcaFromCovariance, projectRows, projectRowsRange } from '../../core/linalg/pca';
import { Prng } from '../../core/linalg/prng';
import { columnMeansInWorkers, covarianceInWorkers, projectRowsInWorkers } from '../../core/parallel';
import { setPcaKernelEnabled } from '../../core/wasm/linalg';

function data(rows: number, cols: number, seed: number, f32: boolean): Float64Array | Float32Array {
  const rng = new Prng(seed);
  const a = f32 ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) a[r * cols + c] = (rng.nextFloat() - 0.5) * (c + 1) + 3 * c + (c % 3 === 0 ? a[r * cols] : 0);
  return a;
}

function withKernel<T>(on: boolean, work: () => T): T {
  setPcaKernelEnabled(on);
  try {
    return work();
  } finally {
    setPcaKernelEnabled(true);
  }
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length).toBe(b.length);
  let first = -1;
  for (let i = 0; i < a.length && first < 0; i++) if (!Object.is(a[i], b[i])) first = i;
  if (first >= 0) throw new Error(`differ at ${first}: ${a[first]} vs ${b[first]}`);
}

describe('covariance in the SIMD kernel', () => {
  const shapes: [rows: number, cols: number, f32: boolean, blockRows: number][] = [
    [1000, 1, false, 256],
    [1001, 3, true, 256],
    [777, 8, false, 64],
    [5000, 13, true, 256],
    [70_000, 37, true, 256],
    [2049, 87, false, 100],
  ];
  it.each(shapes)('%i rows × %i cols (float32 %s, blocks of %i): bit-identical to the JS loop', (rows, cols, f32, blockRows) => {
    const x = data(rows, cols, rows + cols, f32);
    const center = Array.from({ length: cols }, (_, c) => 3 * c + 0.25);
    const run = () => {
      // Ranges that start mid-block and a merge of two accumulators: every path of addRange.
      const a = new CovarianceAccumulator(cols, { center, blockRows }).addRange(x, 0, Math.floor(rows / 3)).addRange(x, Math.floor(rows / 3), rows - 5);
      const b = new CovarianceAccumulator(cols, { center, blockRows }).addRange(x, rows - 5, rows);
      return new Float64Array(a.merge(b).toArrayBuffer());
    };
    sameBits(withKernel(true, run), withKernel(false, run));
    const full = () => columnMeansAndCovariance(x, rows, cols, { blockRows });
    const k = withKernel(true, full);
    const j = withKernel(false, full);
    sameBits(k.mean, j.mean);
    sameBits(k.covariance, j.covariance);
  });

  it('worker threads give the same covariance as this thread, through the kernel', async () => {
    const rows = 140_000, cols = 29;
    const x = data(rows, cols, 5, true);
    const here = columnMeansAndCovariance(x, rows, cols);
    const threads = await covarianceInWorkers(x, rows, cols, { threads: 2 });
    sameBits(threads.covariance, here.covariance);
    sameBits(threads.mean, here.mean);
    // Pass 1 off the event loop (resumableCovariance): the same means as in this thread.
    sameBits(await columnMeansInWorkers(x, rows, cols, { threads: 2 }), columnMeans(x, rows, cols));
  });
});

describe('projection in the SIMD kernel', () => {
  const shapes: [rows: number, cols: number, q: number, f32In: boolean, f32Out: boolean][] = [
    [9, 1, 1, false, false],
    [101, 7, 3, true, true],
    [4097, 16, 8, false, true],
    [5001, 37, 13, true, false],
    [9000, 87, 41, true, true],
  ];
  it.each(shapes)('%i rows × %i cols onto %i components (float32 in %s, out %s): bit-identical to the JS loop', (rows, cols, q, f32In, f32Out) => {
    const x = data(rows, cols, 7 * rows + q, f32In);
    const rng = new Prng(q);
    const mean = Float64Array.from({ length: cols }, () => rng.nextFloat());
    const W = Float64Array.from({ length: q * cols }, () => rng.nextFloat() - 0.5);
    const project = () => {
      const out = f32Out ? new Float32Array(rows * q) : new Float64Array(rows * q);
      // Two ranges, the first ending on an odd row: pairing of rows must not matter.
      projectRowsRange(x, cols, mean, W, q, 0, 2 * Math.floor(rows / 4) + 1, out);
      projectRowsRange(x, cols, mean, W, q, 2 * Math.floor(rows / 4) + 1, rows, out);
      return out;
    };
    sameBits(withKernel(true, project), withKernel(false, project));
  });

  it('on worker threads, equal to ml-pca predict up to each component sign', async () => {
    const rows = 3000, cols = 12, q = 5;
    const x = data(rows, cols, 11, false) as Float64Array;
    const { mean, covariance } = columnMeansAndCovariance(x, rows, cols);
    const model = pcaFromCovariance(covariance, cols);
    const components = model.components.subarray(0, q * cols);
    const scores = await projectRowsInWorkers(x, rows, cols, mean, components, q, { threads: 2 });
    sameBits(scores, projectRows(x, rows, cols, mean, components, q));
    const rows2d = Array.from({ length: rows }, (_, r) => Array.from(x.subarray(r * cols, (r + 1) * cols)));
    const ref = new PCA(rows2d, { method: 'covarianceMatrix', center: true, scale: false }).predict(rows2d, { nComponents: q });
    for (let c = 0; c < q; c++) {
      const sign = Math.sign(ref.get(0, c)) === Math.sign(scores[c]) ? 1 : -1;
      let worst = 0;
      for (let r = 0; r < rows; r++) worst = Math.max(worst, Math.abs(sign * ref.get(r, c) - scores[r * q + c]));
      expect(worst).toBeLessThan(1e-8);
    }
  });
});
