/**
 * Step 4a, the k sweep: one point of the elbow curve per call (the workflow runs one per k, in parallel):
 * the best of the sweep's seeded inits at this k on one thread, its SSE, and the silhouette on a sample.
 * A refined point continues an earlier fit at the same k with more inits; a point whose SSE rose above the
 * k − 1 point's also starts one fit from that point's centroids plus one (the split start, below).
 */
import type { KFitOutput, PcaOutput } from '../../schemas/steps';
import { assignNearestInWorkers, runKmeansInWorker, silhouetteInWorker } from '../parallel';
import type { BestInit, BestOfResult } from '../parallel/kmeans-best-of';
import { matrixView, WasmMatrix } from '../wasm/kernel';
import { fitOnPopulationScores, fitOutput, KMeansSettings } from './kmeans';
import type { Loaded, StepRuntime } from './runtime';

/** bestRun of a point whose best fit is the split start, not one of its seeded inits. */
export const SPLIT_START_RUN = -1;

export interface SweepPointSettings extends KMeansSettings {
  silhouetteSample: number;
  /** Seeded inits run before (a refined point continues its sweep fit). */
  done?: { runs: number; best: BestInit };
  /** The k − 1 point's centroids: one more fit starts from them plus the row farthest from its centroid. */
  splitFrom?: ArrayLike<number>;
}

export async function fitSweepPoint(pca: Loaded<PcaOutput>, settings: SweepPointSettings, workDir: string, runtime: StepRuntime): Promise<KFitOutput> {
  const rows = pca.output.population.rows;
  const q = pca.output.keptComponents;
  let splitStart: 'kept' | 'not-kept' | undefined;
  // Several k run at once (one thread each), so each fit takes one thread.
  const { result, more: silhouette } = await fitOnPopulationScores(pca, { ...settings, threads: 1 }, workDir, runtime, async (fit, scores) => {
    if (settings.splitFrom) {
      const split = await fitFromSplit(scores, rows, q, settings, runtime);
      splitStart = split.sse < fit.sse ? 'kept' : 'not-kept';
      // Kept: it replaces the seeded result in place (fitOnPopulationScores writes centroids.json after this callback).
      if (splitStart === 'kept') {
        Object.assign(fit, { centroids: split.centroids, assignments: split.assignments, sse: split.sse, converged: split.converged, iterations: fit.iterations + split.iterations, bestRun: SPLIT_START_RUN, bestRunSse: split.sse });
      }
    }
    const options = { sampleSize: settings.silhouetteSample, seed: settings.seed, signal: runtime.signal };
    return (await silhouetteInWorker(matrixView(scores), rows, q, fit.assignments, settings.k, options)).score;
  });
  return {
    ...fitOutput(result, settings.k, silhouette),
    inits: settings.inits,
    bestRun: result.bestRun,
    bestRunSse: result.bestRunSse,
    ...(settings.done ? { initsFromSweep: settings.done.runs } : {}),
    ...(splitStart ? { splitStart } : {}),
    ...(result.resumedFrom ? { resumedFrom: result.resumedFrom } : {}),
  };
}

/**
 * The split start: the k − 1 point's centroids plus the row farthest from its nearest one. Its first assignment
 * already has an SSE no larger than the k − 1 fit's (one more centroid only shortens distances), and Lloyd
 * iterations never raise it, so the fit's SSE is at most the k − 1 point's: the curve cannot rise at k.
 */
async function fitFromSplit(scores: WasmMatrix, rows: number, q: number, settings: SweepPointSettings, runtime: StepRuntime): Promise<BestOfResult> {
  const lower = settings.splitFrom!;
  const data = matrixView(scores);
  const { distances } = await assignNearestInWorkers(data, rows, q, lower, settings.k - 1, { signal: runtime.signal, threads: 1 });
  let farthest = 0;
  for (let i = 1; i < rows; i++) if (distances[i] > distances[farthest]) farthest = i;
  const initialCentroids = new Float64Array(settings.k * q);
  initialCentroids.set(lower);
  for (let d = 0; d < q; d++) initialCentroids[(settings.k - 1) * q + d] = data[farthest * q + d];
  const fit = await runKmeansInWorker(scores, rows, q, {
    k: settings.k,
    seed: settings.seed,
    maxIterations: settings.maxIterations,
    relativeTolerance: settings.relativeTolerance,
    initialCentroids,
    threads: 1,
    signal: runtime.signal,
  });
  return { ...fit, bestRun: SPLIT_START_RUN, bestRunSse: fit.sse };
}
