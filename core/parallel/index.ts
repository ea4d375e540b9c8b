/**
 * Worker-thread versions of the CPU-bound loops, so a Temporal activity's event loop stays free for
 * heartbeats and cancellation. Every function returns a Promise, reports progress through callbacks run in the
 * calling thread, and stops (terminating its workers) when `signal` aborts, rejecting with the signal's reason.
 *
 * Data travels in SharedArrayBuffer-backed typed arrays (see shared.ts): pass arrays allocated with
 * sharedFloat64 / sharedFloat32 to avoid a copy; an ordinary array is copied into shared memory once.
 *
 * Results are bit-identical to the in-thread functions of core/linalg (fixed chunking, merges in chunk order).
 */
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import {
  chunkCount,
  COVARIANCE_CHUNK_ROWS,
  CovarianceAccumulator,
  CovarianceResult,
  meansFromChunkSums,
} from '../linalg/covariance';
import { KMeansCheckpoint, KMeansOptions, KMeansResult } from '../linalg/kmeans';
import { checkProjection } from '../linalg/pca';
import { SilhouetteOptions, SilhouetteResult } from '../linalg/silhouette';
import { checkMatrix, checkNumericArray, NumericArray } from '../linalg/types';
import { deserializeError, PlainKMeansOptions, Task, WorkerMessage } from './protocol';
import { isShared, sharedFloat64, sharedInt32, toShared } from './shared';
import { cpuBudget } from './machine';
import { spawnWorker } from './spawn';
import { checkMatrixFile, isMatrixFile, MatrixSource, OutputFile } from './matrix-source';
import type { WasmMatrix } from '../wasm/kernel';

export * from './shared';
export { workerEntryPath, spawnWorker } from './spawn';
export { cpuBudget, memoryBudget, duckDbMachineSettings } from './machine';
export type { MatrixFile, MatrixSource, OutputFile } from './matrix-source';

/**
 * The form a worker task takes its matrix in: a file as is (checked for its size; the workers read it), an
 * array checked and shared (copied once unless it already is).
 */
export function sharedSource(name: string, source: MatrixSource, rows: number, cols: number): MatrixSource {
  if (isMatrixFile(source)) {
    if (source.rows !== rows || source.cols !== cols) throw new RangeError(`${name}: ${source.path} is ${source.rows} x ${source.cols}, not ${rows} x ${cols}`);
    checkMatrixFile(name, source);
    return source;
  }
  checkNumericArray(name, source);
  checkMatrix(name, source, rows, cols);
  return toShared(source);
}

/** Threads to use by default: the cores this process may use (machine.ts), never more. */
export function defaultThreads(): number {
  return cpuBudget();
}

function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error(typeof r === 'string' ? r : 'The operation was aborted');
  e.name = 'AbortError';
  return e;
}

export interface TaskControl {
  signal?: AbortSignal;
  onMessage?: (msg: WorkerMessage) => void;
}

/** Runs one task in a fresh worker. Rejects on error, early exit or abort (the worker is terminated). */
export function runTask<T>(task: Task, ctl: TaskControl = {}): Promise<T> {
  const { signal } = ctl;
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    let worker: Worker;
    try {
      worker = spawnWorker({ task });
    } catch (e) {
      reject(e as Error);
      return;
    }
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      finish(() => reject(abortError(signal!)));
      void worker.terminate();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (msg: WorkerMessage) => {
      if (settled) return;
      if (msg.type === 'result') {
        finish(() => resolve(msg.result as T));
      } else if (msg.type === 'error') {
        finish(() => reject(deserializeError(msg.error)));
      } else {
        try {
          ctl.onMessage?.(msg);
        } catch (e) {
          finish(() => reject(e as Error));
          void worker.terminate();
        }
      }
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`numeric worker exited (code ${code}) before returning a result`))));
  });
}

/** Runs tasks in parallel; the first failure (or an abort) terminates the others. */
async function runAll<T>(tasks: Task[], signal: AbortSignal | undefined, onMessage?: (msg: WorkerMessage) => void): Promise<T[]> {
  const inner = new AbortController();
  const forward = (): void => inner.abort(signal!.reason);
  if (signal?.aborted) throw abortError(signal);
  signal?.addEventListener('abort', forward, { once: true });
  try {
    return await Promise.all(tasks.map((t) => runTask<T>(t, { signal: inner.signal, onMessage }).catch((e: unknown) => {
      inner.abort(e);
      throw e;
    })));
  } finally {
    signal?.removeEventListener('abort', forward);
  }
}

/** Contiguous, near-equal split of [0, n) into at most `parts` non-empty ranges. */
function splitRange(n: number, parts: number): [number, number][] {
  const p = Math.max(1, Math.min(parts, n));
  const out: [number, number][] = [];
  for (let i = 0; i < p; i++) {
    const a = Math.floor((i * n) / p), b = Math.floor(((i + 1) * n) / p);
    if (b > a) out.push([a, b]);
  }
  return out;
}

function threadCount(threads: number | undefined): number {
  const t = threads ?? defaultThreads();
  if (!Number.isInteger(t) || t < 1) throw new RangeError(`threads must be a positive integer, got ${t}`);
  return t;
}

export interface ParallelOptions {
  /** Worker threads (default: available cores). */
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (rowsDone: number, rows: number) => void;
}

// ---------------------------------------------------------------------------------------------------------

/**
 * columnMeansAndCovariance on worker threads: pass 1 (column sums) and pass 2 (co-moments about the means)
 * each split by fixed chunks over `threads` workers; merged here in chunk order → identical result.
 * onProgress counts pass-2 rows.
 */
export async function covarianceInWorkers(
  data: MatrixSource,
  rows: number,
  cols: number,
  opts: ParallelOptions & { mean?: ArrayLike<number>; blockRows?: number } = {},
): Promise<CovarianceResult> {
  if (rows < 2) throw new RangeError(`covarianceInWorkers: need at least 2 rows, have ${rows}`);
  const shared = sharedSource('covarianceInWorkers', data, rows, cols);
  const threads = threadCount(opts.threads);
  const chunks = chunkCount(rows);
  const groups = splitRange(chunks, threads).map(([a, b]) => Array.from({ length: b - a }, (_, i) => a + i));

  let mean: Float64Array;
  if (opts.mean) {
    mean = Float64Array.from(opts.mean);
    if (mean.length !== cols) throw new RangeError(`covarianceInWorkers: mean must have ${cols} elements`);
  } else {
    const parts = await runAll<Float64Array[]>(
      groups.map((g) => ({ kind: 'columnSums', data: shared, rows, cols, chunks: g })),
      opts.signal,
    );
    mean = meansFromChunkSums(parts.flat(), rows, cols);
  }
  let done = 0;
  const states = await runAll<ArrayBuffer[]>(
    groups.map((g) => ({ kind: 'covarianceChunks', data: shared, rows, cols, chunks: g, center: mean, blockRows: opts.blockRows })),
    opts.signal,
    (msg) => {
      if (msg.type === 'progress') {
        done += msg.rowsDone;
        opts.onProgress?.(done, rows);
      }
    },
  );
  const total = new CovarianceAccumulator(cols, { center: mean });
  for (const buf of states.flat()) total.merge(CovarianceAccumulator.fromArrayBuffer(buf));
  if (total.n !== rows) throw new Error(`covarianceInWorkers: merged ${total.n} rows, expected ${rows}`);
  return total.result();
}

export { COVARIANCE_CHUNK_ROWS };

/**
 * columnMeans on worker threads (pass 1 of the covariance): chunk sums split over `threads` workers, merged
 * here in chunk order, so the means are bit-identical to columnMeans — and the calling thread's event loop
 * stays free (in this thread it is a full pass over the matrix, ~1 s at full size on a busy machine).
 */
export async function columnMeansInWorkers(data: MatrixSource, rows: number, cols: number, opts: ParallelOptions = {}): Promise<Float64Array> {
  if (rows < 1) throw new RangeError('columnMeansInWorkers: no rows');
  const shared = sharedSource('columnMeansInWorkers', data, rows, cols);
  const groups = splitRange(chunkCount(rows), threadCount(opts.threads)).map(([a, b]) => Array.from({ length: b - a }, (_, i) => a + i));
  const parts = await runAll<Float64Array[]>(
    groups.map((g) => ({ kind: 'columnSums', data: shared, rows, cols, chunks: g })),
    opts.signal,
  );
  return meansFromChunkSums(parts.flat(), rows, cols);
}

/**
 * projectRows on worker threads. Returns `out` (or a new shared rows × q Float64Array); a Float32Array `out`
 * stores each score rounded once.
 */
export async function projectRowsInWorkers<Out extends Float64Array | Float32Array = Float64Array>(
  data: MatrixSource,
  rows: number,
  cols: number,
  mean: ArrayLike<number>,
  components: ArrayLike<number>,
  q: number,
  opts: ParallelOptions & { out?: Out } = {},
): Promise<Out> {
  if (opts.out && opts.out.length !== rows * q) throw new RangeError(`projectRowsInWorkers: out must have ${rows * q} elements`);
  // Without `out`, Out is its default, Float64Array.
  const source = sharedSource('projectRowsInWorkers', data, rows, cols);
  checkProjection(mean, components, q, cols);
  const target = (opts.out && isShared(opts.out) ? opts.out : sharedFloat64(rows * q)) as Out;
  await projectInWorkers(source, rows, cols, mean, components, q, target, opts);
  if (opts.out && opts.out !== target) {
    opts.out.set(target);
    return opts.out;
  }
  return target;
}

/**
 * projectRowsInWorkers writing the scores into a rows × q file instead of memory (each worker writes its rows
 * at their offsets, a slab at a time), so no thread ever holds all the scores: the same values, bit for bit.
 */
export async function projectRowsToFile(
  data: MatrixSource,
  rows: number,
  cols: number,
  mean: ArrayLike<number>,
  components: ArrayLike<number>,
  q: number,
  out: OutputFile,
  opts: ParallelOptions = {},
): Promise<void> {
  const source = sharedSource('projectRowsToFile', data, rows, cols);
  checkProjection(mean, components, q, cols);
  const fd = openSync(out.path, 'w');
  try {
    ftruncateSync(fd, rows * q * (out.dtype === 'float32' ? 4 : 8));
  } finally {
    closeSync(fd);
  }
  await projectInWorkers(source, rows, cols, mean, components, q, out, opts);
}

/** The projection's worker tasks over a checked source (see sharedSource): a near-equal row range each. */
async function projectInWorkers(
  shared: MatrixSource,
  rows: number,
  cols: number,
  mean: ArrayLike<number>,
  components: ArrayLike<number>,
  q: number,
  out: Float64Array | Float32Array | OutputFile,
  opts: ParallelOptions,
): Promise<void> {
  const W = Float64Array.from({ length: q * cols }, (_, i) => components[i]);
  let done = 0;
  await runAll<null>(
    splitRange(rows, threadCount(opts.threads)).map(([a, b]) => ({
      kind: 'project', data: shared, cols, mean: Float64Array.from(mean), components: W, q, rowStart: a, rowEnd: b, out,
    })),
    opts.signal,
    (msg) => {
      if (msg.type === 'progress') {
        done += msg.rowsDone;
        opts.onProgress?.(done, rows);
      }
    },
  );
}

/** assignNearest on worker threads (shared output arrays). */
export async function assignNearestInWorkers(
  data: NumericArray,
  rows: number,
  dims: number,
  centroids: ArrayLike<number>,
  k: number,
  opts: ParallelOptions = {},
): Promise<{ assignments: Int32Array; distances: Float64Array }> {
  checkNumericArray('assignNearestInWorkers', data);
  checkMatrix('assignNearestInWorkers', data, rows, dims);
  checkMatrix('assignNearestInWorkers centroids', centroids, k, dims);
  const shared = toShared(data);
  const assignments = sharedInt32(rows);
  const distances = sharedFloat64(rows);
  const C = Float64Array.from(centroids);
  let done = 0;
  await runAll<null>(
    splitRange(rows, threadCount(opts.threads)).map(([a, b]) => ({
      kind: 'assignNearest', data: shared, dims, centroids: C, k, rowStart: a, rowEnd: b, assignments, distances,
    })),
    opts.signal,
    (msg) => {
      if (msg.type === 'progress') {
        done += msg.rowsDone;
        opts.onProgress?.(done, rows);
      }
    },
  );
  return { assignments, distances };
}

export interface KMeansWorkerOptions extends KMeansOptions {
  /**
   * Threads for the assignment steps inside the worker (1 = the worker alone, the default; 2 = one helper).
   * The result does not depend on it.
   */
  threads?: number;
}

function plainKMeansOptions(opts: KMeansWorkerOptions): PlainKMeansOptions {
  const { onIteration: _cb, signal: _s, threads: _t, ...plain } = opts;
  void _cb;
  void _s;
  void _t;
  return {
    ...plain,
    initialCentroids: plain.initialCentroids ? Float64Array.from(plain.initialCentroids) : undefined,
  };
}

function kmeansTaskControl(opts: KMeansWorkerOptions): TaskControl {
  return {
    signal: opts.signal,
    onMessage: (msg) => {
      if (msg.type === 'iteration') opts.onIteration?.(msg.state as KMeansCheckpoint);
    },
  };
}

/**
 * kmeans() in a worker thread. onIteration runs in the calling thread with each checkpoint (its return value
 * is ignored: abort `signal` to stop — the worker is terminated — and resume later from the last checkpoint).
 */
export function runKmeansInWorker(data: NumericArray | WasmMatrix, rows: number, dims: number, opts: KMeansWorkerOptions): Promise<KMeansResult> {
  return runTask<KMeansResult>(
    { kind: 'kmeans', ...kmeansData('runKmeansInWorker', data, rows, dims), rows, dims, opts: plainKMeansOptions(opts), threads: threadCount(opts.threads ?? 1) },
    kmeansTaskControl(opts),
  );
}

/** A matrix in a WebAssembly arena goes to the worker as is (shared memory); a typed array as a shared copy. */
function kmeansData(name: string, data: NumericArray | WasmMatrix, rows: number, dims: number): { data: NumericArray | null; matrix?: WasmMatrix } {
  if (!ArrayBuffer.isView(data)) {
    if (data.rows !== rows || data.dims !== dims) throw new RangeError(`${name}: the matrix is ${data.rows} × ${data.dims}, not ${rows} × ${dims}`);
    return { data: null, matrix: data };
  }
  checkNumericArray(name, data);
  checkMatrix(name, data, rows, dims);
  return { data: toShared(data) };
}

/** silhouetteSample() in a worker thread. */
export function silhouetteInWorker(
  data: NumericArray,
  rows: number,
  dims: number,
  labels: Int32Array,
  k: number,
  opts: SilhouetteOptions = {},
): Promise<SilhouetteResult> {
  checkNumericArray('silhouetteInWorker', data);
  checkMatrix('silhouetteInWorker', data, rows, dims);
  const { signal, ...plain } = opts;
  return runTask<SilhouetteResult>(
    { kind: 'silhouette', data: toShared(data), rows, dims, labels: toShared(labels), k, opts: plain },
    { signal },
  );
}

/** Starts a worker and waits for it to answer: checks the worker entry resolves in this layout (src or dist). */
export function workerSelfTest(): Promise<{ ok: boolean; entry: string }> {
  return runTask({ kind: 'selfTest' });
}
