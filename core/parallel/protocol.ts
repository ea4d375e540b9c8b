/** Messages between the caller and core/parallel/worker-entry (structured-clone friendly). */
import type { MessagePort } from 'node:worker_threads';
import type { KMeansCheckpoint, KMeansOptions } from '../linalg/kmeans';
import type { SilhouetteOptions } from '../linalg/silhouette';
import type { NumericArray } from '../linalg/types';
import type { WasmMatrix } from '../wasm/kernel';
import type { MatrixSource, OutputFile } from './matrix-source';

/** KMeansOptions without the callback and the signal (they stay in the calling thread). */
export type PlainKMeansOptions = Omit<KMeansOptions, 'onIteration' | 'signal'>;

export type Task =
  | { kind: 'columnSums'; data: MatrixSource; rows: number; cols: number; chunks: number[] }
  | { kind: 'covarianceChunks'; data: MatrixSource; rows: number; cols: number; chunks: number[]; center: Float64Array; blockRows?: number }
  | {
      kind: 'project';
      /** In shared memory, or a file the worker reads a slab at a time. */
      data: MatrixSource;
      cols: number;
      mean: Float64Array;
      components: Float64Array;
      q: number;
      rowStart: number;
      rowEnd: number;
      /** Shared memory (absolute row index), or a file the worker writes its rows into (at their offsets). */
      out: Float64Array | Float32Array | OutputFile;
    }
  | {
      kind: 'assignNearest';
      data: NumericArray;
      dims: number;
      centroids: Float64Array;
      k: number;
      rowStart: number;
      rowEnd: number;
      assignments: Int32Array;
      distances: Float64Array;
    }
  | {
      kind: 'kmeans';
      /** The data, or (matrix) where it already lives in a shared WebAssembly memory: then nothing is copied. */
      data: NumericArray | null;
      matrix?: WasmMatrix;
      rows: number;
      dims: number;
      opts: PlainKMeansOptions;
      threads: number;
    }
  | { kind: 'silhouette'; data: NumericArray; rows: number; dims: number; labels: Int32Array; k: number; opts: Omit<SilhouetteOptions, 'signal'> }
  | { kind: 'kmeansHelper'; port: MessagePort; control: Int32Array; slot: number }
  | { kind: 'selfTest' };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export type WorkerMessage =
  | { type: 'progress'; rowsDone: number }
  | { type: 'iteration'; state: KMeansCheckpoint }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: SerializedError };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

export function deserializeError(s: SerializedError): Error {
  const Ctor = s.name === 'RangeError' ? RangeError : s.name === 'TypeError' ? TypeError : Error;
  const err = new Ctor(s.message);
  if (err.name !== s.name) err.name = s.name;
  if (s.stack) err.stack = s.stack;
  return err;
}
