/**
 * Step 4a, the k sweep: one point of the elbow curve per call (the workflow runs one per k, in parallel):
 * the best of the sweep's seeded inits at this k on one thread, its SSE, and the silhouette on a sample.
 */
import type { KFitOutput, PcaOutput } from '../../schemas/steps';
import { silhouetteInWorker } from '../parallel';
import type { BestInit } from '../parallel/kmeans-best-of';
import { matrixView } from '../wasm/kernel';
import { fitOnPopulationScores, fitOutput, KMeansSettings } from './kmeans';
import type { Loaded, StepRuntime } from './runtime';

export async function fitSweepPoint(
  pca: Loaded<PcaOutput>,
  settings: KMeansSettings & { silhouetteSample: number; done?: { runs: number; best: BestInit } },
  workDir: string,
  runtime: StepRuntime,
): Promise<KFitOutput> {
  const rows = pca.output.population.rows;
  const q = pca.output.keptComponents;
  // Several k run at once (one thread each), so each fit takes one thread.
  const { result, more: silhouette } = await fitOnPopulationScores(pca, { ...settings, threads: 1 }, workDir, runtime, async (fit, scores) => {
    const options = { sampleSize: settings.silhouetteSample, seed: settings.seed, signal: runtime.signal };
    return (await silhouetteInWorker(matrixView(scores), rows, q, fit.assignments, settings.k, options)).score;
  });
  return {
    ...fitOutput(result, settings.k, silhouette),
    inits: settings.inits,
    bestRun: result.bestRun,
    bestRunSse: result.bestRunSse,
    ...(settings.done ? { initsFromSweep: settings.done.runs } : {}),
    ...(result.resumedFrom ? { resumedFrom: result.resumedFrom } : {}),
  };
}
