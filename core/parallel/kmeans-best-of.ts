/**
 * The one best-of-inits k-means driver: several seeded inits (run i seeded with runSeed(seed, i)), best SSE
 * kept (the earliest run on ties), each run in a worker thread reporting its iteration state through
 * `runtime.progress`. A retry (after a worker crash) passes that state back as `runtime.resumeDetails`: the
 * inits that finished are skipped and the interrupted one continues from its last iteration.
 */
import { KMEANS_CHUNK_ROWS, runSeed } from '../linalg/kmeans';
import type { KMeansCheckpoint } from '../linalg/kmeans';
import type { NumericArray } from '../linalg/types';
import type { StepRuntime } from '../steps/runtime';
import { matrixView, WasmMatrix } from '../wasm/kernel';
import { assignNearestInWorkers, runKmeansInWorker } from './index';

/** A finished init: its index, SSE and centroids. */
export interface BestInit {
  run: number;
  sse: number;
  centroids: number[];
}

/** What the driver reports as progress: enough to continue after a worker crash without starting over. */
export interface KMeansResumeState {
  kind: 'kmeans';
  k: number;
  /** The init in progress and its latest iteration. */
  run: number;
  checkpoint?: KMeansCheckpoint;
  /** The best finished init so far. */
  best?: BestInit;
}

export interface BestOfOptions {
  k: number;
  seed: number;
  maxIterations: number;
  relativeTolerance: number;
  inits: number;
  /** Sample fits per init, the best carried to the full data (core/linalg/kmeans.ts; default 1). */
  initCandidates?: number;
  /** Rows of the init sample (core/linalg/kmeans.ts; default DEFAULT_INIT_SAMPLE). */
  initSample?: number;
  threads?: number;
  /**
   * Inits run at once (default 1), the threads shared among them. An init's sample fits run on one thread, so
   * with one init at a time the other threads wait through them; inits side by side keep every thread busy.
   * The result is the same (runs are compared in run order).
   */
  concurrentInits?: number;
  /** Runs 0..runs−1 already done elsewhere (the sweep), with their best. */
  done?: { runs: number; best: BestInit };
}

export interface BestOfResult {
  centroids: Float64Array;
  /** The nearest centroid of every row, for the best run. */
  assignments: Int32Array;
  sse: number;
  /** Iterations run here (all inits of this attempt). */
  iterations: number;
  converged: boolean;
  bestRun: number;
  bestRunSse: number;
  resumedFrom?: { run: number; iteration: number };
}

function resumeStateFrom(details: unknown, k: number): KMeansResumeState | undefined {
  const state = details as KMeansResumeState | undefined;
  return state?.kind === 'kmeans' && state.k === k ? state : undefined;
}

export async function kmeansBestOf(
  scores: WasmMatrix | NumericArray,
  rows: number,
  dims: number,
  options: BestOfOptions,
  runtime: StepRuntime,
): Promise<BestOfResult> {
  const { signal, progress } = runtime;
  const resumed = resumeStateFrom(runtime.resumeDetails, options.k);
  let best = resumed?.best ?? options.done?.best;
  // The labels and SSE of the best run, when it ran here (k-means returns them: no extra pass needed).
  let bestLabels: { run: number; assignments: Int32Array; sse: number } | undefined;
  let iterations = 0;
  let converged = true;
  const threads = options.threads ?? 1;
  const lanes = Math.max(1, Math.min(options.concurrentInits ?? 1, threads));
  for (let first = resumed?.run ?? options.done?.runs ?? 0; first < options.inits; first += lanes) {
    // A group of runs side by side. The heartbeat carries the first one's iteration state (a retry resumes it and
    // reruns the others of the group: each run is seeded, so it ends the same).
    const group = Array.from({ length: Math.min(lanes, options.inits - first) }, (_, i) => first + i);
    let firstCheckpoint = resumed && resumed.run === first ? resumed.checkpoint : undefined;
    const results = await Promise.all(
      group.map((run) =>
        runKmeansInWorker(scores, rows, dims, {
          k: options.k,
          seed: runSeed(options.seed, run),
          maxIterations: options.maxIterations,
          relativeTolerance: options.relativeTolerance,
          ...(options.initCandidates && options.initCandidates > 1 ? { initCandidates: options.initCandidates } : {}),
          ...(options.initSample ? { initSample: options.initSample } : {}),
          resumeFrom: run === first ? firstCheckpoint : undefined,
          threads: Math.max(1, Math.floor(threads / group.length)),
          signal,
          onIteration: (checkpoint) => {
            if (run === first) firstCheckpoint = checkpoint;
            progress({ kind: 'kmeans', k: options.k, run: first, checkpoint: firstCheckpoint, best } satisfies KMeansResumeState);
          },
        }),
      ),
    );
    group.forEach((run, i) => {
      const result = results[i];
      iterations += result.iterations;
      if (!best || result.sse < best.sse) {
        best = { run, sse: result.sse, centroids: Array.from(result.centroids) };
        bestLabels = { run, assignments: result.assignments, sse: result.sse };
        converged = result.converged;
      }
    });
    progress({ kind: 'kmeans', k: options.k, run: first + group.length, best } satisfies KMeansResumeState);
  }
  let labels = bestLabels && bestLabels.run === best!.run ? bestLabels : undefined;
  if (!labels) {
    // The best run finished in an earlier attempt or in the sweep: label the rows by its centroids. The SSE is
    // summed exactly as k-means sums it (per chunk, chunks in order), so it is the same number either way.
    const data = ArrayBuffer.isView(scores) ? scores : matrixView(scores);
    const { assignments, distances } = await assignNearestInWorkers(data, rows, dims, best!.centroids, options.k, { signal });
    labels = { run: best!.run, assignments, sse: chunkedSum(distances) };
  }
  return {
    centroids: Float64Array.from(best!.centroids),
    assignments: labels.assignments,
    sse: labels.sse,
    iterations,
    converged,
    bestRun: best!.run,
    bestRunSse: best!.sse,
    ...(resumed ? { resumedFrom: { run: resumed.run, iteration: resumed.checkpoint?.iteration ?? 0 } } : {}),
  };
}

/** Σ values summed per KMEANS_CHUNK_ROWS chunk, chunk sums in order: how k-means sums its final SSE. */
function chunkedSum(values: Float64Array): number {
  let total = 0;
  for (let start = 0; start < values.length; start += KMEANS_CHUNK_ROWS) {
    const end = Math.min(values.length, start + KMEANS_CHUNK_ROWS);
    let part = 0;
    for (let i = start; i < end; i++) part += values[i];
    total += part;
  }
  return total;
}
