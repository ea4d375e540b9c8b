import { CovarianceAccumulator, CovarianceResult, chunkCount } from '../linalg/covariance';
import { columnMeansInWorkers, defaultThreads, runTask, sharedSource } from './index';
import type { MatrixSource } from './matrix-source';

/** Where a covariance accumulation stands: enough to continue it after a crash. */
export interface CovarianceProgress {
  chunksDone: number;
  chunks: number;
  mean: number[];
  /** The co-moments of the chunks done (CovarianceAccumulator.toArrayBuffer). */
  state: ArrayBuffer;
}

/**
 * The two-pass covariance of covarianceInWorkers, in batches of chunks: after each batch `onBatch` receives
 * the accumulated state (to persist), and `resume` continues from such a state. Chunks are merged in chunk
 * order, so the result is identical to covarianceInWorkers' whether or not the run was interrupted.
 */
export async function resumableCovariance(
  /** In memory, or a matrix file the worker threads read chunk by chunk (then never held whole). */
  data: MatrixSource,
  rows: number,
  cols: number,
  options: {
    resume?: CovarianceProgress;
    onBatch?: (progress: CovarianceProgress) => Promise<void> | void;
    signal?: AbortSignal;
    threads?: number;
    /** Chunks per batch (default 2 per thread). */
    batchChunks?: number;
  } = {},
): Promise<CovarianceResult & { resumedAtChunk?: number }> {
  const shared = sharedSource('resumableCovariance', data, rows, cols);
  const threads = options.threads ?? defaultThreads();
  const chunks = chunkCount(rows);
  // Pass 1 on the worker threads too: in this thread it would block the activity's event loop for a full pass.
  const mean = options.resume ? Float64Array.from(options.resume.mean) : await columnMeansInWorkers(shared, rows, cols, { threads, signal: options.signal });
  const total = options.resume ? CovarianceAccumulator.fromArrayBuffer(options.resume.state) : new CovarianceAccumulator(cols, { center: mean });
  const batch = options.batchChunks ?? 2 * threads;
  for (let next = options.resume?.chunksDone ?? 0; next < chunks; ) {
    const end = Math.min(chunks, next + batch);
    const ids = Array.from({ length: end - next }, (_, i) => next + i);
    const groups = Array.from({ length: threads }, (_, t) => ids.filter((_, i) => Math.floor((i * threads) / ids.length) === t)).filter((g) => g.length);
    const parts = await Promise.all(
      groups.map((chunkIds) =>
        runTask<ArrayBuffer[]>({ kind: 'covarianceChunks', data: shared, rows, cols, chunks: chunkIds, center: mean }, { signal: options.signal }),
      ),
    );
    for (const buffer of parts.flat()) total.merge(CovarianceAccumulator.fromArrayBuffer(buffer));
    next = end;
    await options.onBatch?.({ chunksDone: next, chunks, mean: Array.from(mean), state: total.toArrayBuffer() });
  }
  if (total.n !== rows) throw new Error(`resumableCovariance: merged ${total.n} rows, expected ${rows}`);
  return { ...total.result(), ...(options.resume ? { resumedAtChunk: options.resume.chunksDone } : {}) };
}
