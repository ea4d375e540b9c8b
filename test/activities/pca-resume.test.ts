/** The PCA covariance pass resumes from its persisted state after a crash, with an identical result. */
import { covarianceInWorkers } from '../../core/parallel';
import { CovarianceProgress, resumableCovariance } from '../../core/parallel/resumable-covariance';
import { Prng } from '../../core/linalg';

const ROWS = 300_000; // 5 chunks of 65,536 rows
const COLS = 7;

function data(): Float64Array {
  const rng = new Prng(9);
  const out = new Float64Array(new SharedArrayBuffer(ROWS * COLS * 8));
  for (let i = 0; i < out.length; i++) out[i] = rng.nextFloat() * (1 + (i % COLS)) + (i % 3);
  return out;
}

const matrix = data();

test('batches merged in chunk order equal the one-shot parallel covariance', async () => {
  const reference = await covarianceInWorkers(matrix, ROWS, COLS);
  const batched = await resumableCovariance(matrix, ROWS, COLS, { batchChunks: 2 });
  expect(Array.from(batched.mean)).toEqual(Array.from(reference.mean));
  expect(Array.from(batched.covariance)).toEqual(Array.from(reference.covariance));
});

test('an interrupted accumulation continues from its last saved batch', async () => {
  const reference = await resumableCovariance(matrix, ROWS, COLS, { batchChunks: 2 });
  const saved: CovarianceProgress[] = [];
  const controller = new AbortController();
  await expect(
    resumableCovariance(matrix, ROWS, COLS, {
      batchChunks: 2,
      signal: controller.signal,
      onBatch: (progress) => {
        saved.push(progress);
        controller.abort(); // the "crash" right after the first batch was persisted
      },
    }),
  ).rejects.toThrow();
  expect(saved.map((p) => p.chunksDone)).toEqual([2]);

  const resumed = await resumableCovariance(matrix, ROWS, COLS, { batchChunks: 2, resume: saved[0] });
  expect(resumed.resumedAtChunk).toBe(2);
  expect(Array.from(resumed.covariance)).toEqual(Array.from(reference.covariance));
  expect(Array.from(resumed.mean)).toEqual(Array.from(reference.mean));
});
