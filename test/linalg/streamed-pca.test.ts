/**
 * The PCA step streams its matrices from their files (core/parallel/matrix-source.ts): worker threads read a
 * chunk at a time for the covariance and a slab at a time for the projection, which they write straight into
 * the scores file. The results must be the whole-matrix ones bit for bit — here on a row count that is no
 * multiple of the covariance chunk (65,536), of the projection slab (16,384) or of the thread split.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { columnMeans, columnMeansAndCovariance, COVARIANCE_CHUNK_ROWS, pcaFromCovariance, projectRows } from '../../core/linalg/pca';
import { Prng } from '../../core/linalg/prng';
import { columnMeansInWorkers, covarianceInWorkers, MatrixFile, projectRowsInWorkers, projectRowsToFile } from '../../core/parallel';
import { RowReader } from '../../core/parallel/matrix-source';
import { resumableCovariance } from '../../core/parallel/resumable-covariance';
import { setPcaKernelEnabled } from '../../core/wasm/linalg';

const ROWS = 2 * COVARIANCE_CHUNK_ROWS + 4321; // three chunks, the last one partial; odd
const COLS = 13;
const Q = 5;

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length).toBe(b.length);
  let first = -1;
  for (let i = 0; i < a.length && first < 0; i++) if (!Object.is(a[i], b[i])) first = i;
  if (first >= 0) throw new Error(`differ at ${first}: ${a[first]} vs ${b[first]}`);
}

const dir = mkdtempSync(join(tmpdir(), 'streamed-pca-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rng = new Prng(42);
const matrix = new Float32Array(ROWS * COLS);
for (let r = 0; r < ROWS; r++) {
  const z = rng.nextFloat() - 0.5;
  for (let c = 0; c < COLS; c++) matrix[r * COLS + c] = z * (c + 1) + (rng.nextFloat() - 0.5) + 2 * c;
}
const file: MatrixFile = { path: join(dir, 'population.matrix'), dtype: 'float32', rows: ROWS, cols: COLS };
writeFileSync(file.path, Buffer.from(matrix.buffer));

const whole = columnMeansAndCovariance(matrix, ROWS, COLS);
const model = pcaFromCovariance(whole.covariance, COLS);
const components = model.components.subarray(0, Q * COLS);

test('the row reader gives the same rows from the file as from memory, for any range', () => {
  const reader = new RowReader(file, COLS);
  try {
    for (const [a, b] of [[0, 1], [7, 16391], [ROWS - 3, ROWS], [65535, 65537]]) sameBits(reader.rows(a, b), matrix.subarray(a * COLS, b * COLS));
  } finally {
    reader.close();
  }
});

test('covariance streamed from the file equals the whole-matrix covariance (kernel and plain JS), any thread count', async () => {
  setPcaKernelEnabled(false);
  let plain;
  try {
    plain = columnMeansAndCovariance(matrix, ROWS, COLS);
  } finally {
    setPcaKernelEnabled(true);
  }
  sameBits(plain.covariance, whole.covariance);
  // Pass 1 alone (the means the co-moments are centred on).
  sameBits(await columnMeansInWorkers(file, ROWS, COLS, { threads: 2 }), columnMeans(matrix, ROWS, COLS));
  for (const threads of [1, 2, 3]) {
    const streamed = await covarianceInWorkers(file, ROWS, COLS, { threads });
    sameBits(streamed.mean, whole.mean);
    sameBits(streamed.covariance, whole.covariance);
  }
  const batched = await resumableCovariance(file, ROWS, COLS, { batchChunks: 1, threads: 2 });
  sameBits(batched.mean, whole.mean);
  sameBits(batched.covariance, whole.covariance);
});

test('projection streamed from file to file equals the whole-matrix projection, float32 and float64', async () => {
  const reference = projectRows(matrix, ROWS, COLS, whole.mean, components, Q);
  for (const threads of [1, 3]) {
    const out64 = join(dir, `scores64-${threads}`);
    await projectRowsToFile(file, ROWS, COLS, whole.mean, components, Q, { path: out64, dtype: 'float64' }, { threads });
    sameBits(new Float64Array(new Uint8Array(readFileSync(out64)).buffer), reference);
    const out32 = join(dir, `scores32-${threads}`);
    let done = 0;
    await projectRowsToFile(file, ROWS, COLS, whole.mean, components, Q, { path: out32, dtype: 'float32' }, { threads, onProgress: (d) => (done = d) });
    expect(done).toBe(ROWS);
    sameBits(new Float32Array(new Uint8Array(readFileSync(out32)).buffer), Float32Array.from(reference));
  }
  // Reading from the file into memory: the same again.
  sameBits(await projectRowsInWorkers(file, ROWS, COLS, whole.mean, components, Q, { threads: 2 }), reference);
});

test('a matrix file of the wrong size fails naming the file, before any work', async () => {
  await expect(covarianceInWorkers({ ...file, rows: ROWS + 1 }, ROWS + 1, COLS)).rejects.toThrow(/population\.matrix has \d+ bytes, expected/);
  await expect(columnMeansInWorkers(file, ROWS, COLS + 1)).rejects.toThrow(/is 135393 x 13, not 135393 x 14/);
});

test('an aborted streamed projection rejects', async () => {
  await expect(
    projectRowsToFile(file, ROWS, COLS, whole.mean, components, Q, { path: join(dir, 'aborted'), dtype: 'float32' }, { signal: AbortSignal.abort() }),
  ).rejects.toThrow();
});
