/**
 * Step 4b, final k-means: the best of several seeded inits on the full clean population (every core), the
 * sweep's fit at the same k counting as its first inits. Also the fit both k-means steps share.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../common/errors';
import type { PipelineConfig } from '../../schemas/config';
import { CentroidsFile, CentroidsFileSchema, MODEL_FILES } from '../../schemas/model-files';
import type { KFitOutput, PcaOutput } from '../../schemas/steps';
import { DEFAULT_INIT_SAMPLE } from '../linalg/kmeans';
import { defaultThreads, runKmeansInWorker } from '../parallel';
import { BestInit, BestOfResult, kmeansBestOf } from '../parallel/kmeans-best-of';
import { acquireScoresMatrixAsync, writeTypedArray } from '../store/arrays';
import { readJsonFile } from '../store/json';
import type { WasmMatrix } from '../wasm/kernel';
import type { Loaded, StepRuntime } from './runtime';

export interface KMeansSettings {
  k: number;
  seed: number;
  maxIterations: number;
  relativeTolerance: number;
  inits: number;
  /** Sample fits per init (the best carried to the full data). */
  initCandidates: number;
  /** Rows of each init's sample (default DEFAULT_INIT_SAMPLE). */
  initSample?: number;
}

/** A k-means step's settings from the run's config: the final fit takes `finalInits`, a sweep point `sweepInits`. */
export function kmeansSettings(config: PipelineConfig, k: number, inits: number): KMeansSettings {
  return { k, seed: config.seed, maxIterations: config.maxIterations, relativeTolerance: config.relativeTolerance, inits, initCandidates: config.initCandidates, initSample: config.initSample };
}

/** What a k-means fit's result depends on, besides the number of inits (and, for a sweep point, the silhouette). */
export function fitKeyInputs(pcaKey: string, settings: Omit<KMeansSettings, 'inits'>) {
  return {
    pca: pcaKey,
    k: settings.k,
    seed: settings.seed,
    maxIterations: settings.maxIterations,
    tol: settings.relativeTolerance,
    // How each init starts: a checkpoint made with another start is another result, not a reusable one.
    init:
      settings.initCandidates > 1
        ? `best of ${settings.initCandidates} k-means++ and k-means fits on ${settings.initSample ?? DEFAULT_INIT_SAMPLE} sampled rows`
        : `k-means++ and k-means on ${settings.initSample ?? DEFAULT_INIT_SAMPLE} sampled rows`,
  };
}

/**
 * The population's PCA scores held for one fit (loaded once per worker process, shared by its threads), the
 * best of the seeded inits on them, its centroids written to centroids.json; `more` runs on the held scores.
 */
export async function fitOnPopulationScores<T>(
  pca: Loaded<PcaOutput>,
  settings: KMeansSettings & { threads: number; concurrentInits?: number; done?: { runs: number; best: BestInit } },
  workDir: string,
  runtime: StepRuntime,
  more: (result: BestOfResult, scores: WasmMatrix) => Promise<T>,
): Promise<{ result: BestOfResult; more: T }> {
  const rows = pca.output.population.rows;
  const q = pca.output.keptComponents;
  const lease = await acquireScoresMatrixAsync(join(pca.dir, pca.output.population.scores), rows, q);
  try {
    const { k, seed, maxIterations, relativeTolerance, inits, initCandidates, initSample, threads, concurrentInits, done } = settings;
    const result = await kmeansBestOf(lease.matrix, rows, q, { k, seed, maxIterations, relativeTolerance, inits, initCandidates, initSample, done, threads, concurrentInits }, runtime);
    const extra = await more(result, lease.matrix);
    const centroids: CentroidsFile = { k, dims: q, centroids: Array.from(result.centroids) };
    await writeFile(join(workDir, MODEL_FILES.centroids), JSON.stringify(centroids));
    return { result, more: extra };
  } finally {
    lease.release();
  }
}

/** Rows per cluster of a labelling. */
export function clusterSizes(assignments: Int32Array, k: number): number[] {
  const sizes = new Array<number>(k).fill(0);
  for (const a of assignments) sizes[a]++;
  return sizes;
}

/** The fields both k-means steps report. */
export function fitOutput(result: BestOfResult, k: number, silhouette: number | null) {
  return {
    k,
    clusterSizes: clusterSizes(result.assignments, k),
    sse: result.sse,
    silhouette: silhouette !== null && Number.isFinite(silhouette) ? silhouette : null,
    iterations: result.iterations,
    converged: result.converged,
    centroids: MODEL_FILES.centroids,
  };
}

/**
 * The sweep's fit at the final k ran the final fit's first seeded inits already (same seeds, data, tolerance
 * and iteration cap; the kernel's result does not depend on the thread count), so the final fit starts after
 * them with their best. Only when every one of those settings matches; otherwise nothing is reused.
 */
export async function sweepInitsToReuse(
  sweep: Loaded<KFitOutput> & { keyInputs: unknown },
  expectedKeyInputs: Record<string, unknown>,
  finalInits: number,
): Promise<{ runs: number; best: BestInit } | undefined> {
  const keyInputs = (sweep.keyInputs ?? {}) as Record<string, unknown>;
  const same = Object.entries(expectedKeyInputs).every(([name, value]) => keyInputs[name] === value);
  const { inits, bestRun, bestRunSse } = sweep.output;
  if (!same || inits === undefined || bestRun === undefined || bestRunSse === undefined || inits > finalInits) return undefined;
  const { centroids } = await readJsonFile(join(sweep.dir, sweep.output.centroids), CentroidsFileSchema);
  return { runs: inits, best: { run: bestRun, sse: bestRunSse, centroids } };
}

/** A k-means step's centroids (row-major k × dims), from its centroids.json. */
export async function centroidsOf(fit: Loaded<KFitOutput>): Promise<number[]> {
  return (await readJsonFile(join(fit.dir, fit.output.centroids), CentroidsFileSchema)).centroids;
}

/**
 * A warm start for the final fit (config continuity.keepPreviousK): the previous run's centroids carried into
 * this run's PCA space (core/drift.ts warmStartCentroids), or null when the data changed shape.
 */
export interface WarmStart {
  centroids: Float64Array | null;
  /** The warm fit is kept unless the best seeded init's SSE is lower by more than this fraction. */
  tolerance: number;
}

/** The final fit (every core): centroids.json and the population's cluster per clean row. */
export async function fitFinalKMeans(
  pca: Loaded<PcaOutput>,
  settings: KMeansSettings,
  fromSweep: { runs: number; best: BestInit } | undefined,
  workDir: string,
  runtime: StepRuntime,
  warm?: WarmStart,
): Promise<KFitOutput> {
  let warmStart: KFitOutput['warmStart'];
  // Every core, one init on each at a time (an init's sample fits use one thread: side by side none waits).
  const threads = defaultThreads();
  const { result } = await fitOnPopulationScores(pca, { ...settings, threads, concurrentInits: threads, done: fromSweep }, workDir, runtime, async (seeded, scores) => {
    if (!warm) return;
    if (!warm.centroids) {
      warmStart = 'unavailable';
      return;
    }
    // One more k-means run, from last month's segments instead of a seeded init: kept when it is about as good,
    // so segments that did not move keep their shape (and their IDs) rather than whatever the seeds found.
    const fit = await runKmeansInWorker(scores, pca.output.population.rows, pca.output.keptComponents, {
      k: settings.k,
      seed: settings.seed,
      maxIterations: settings.maxIterations,
      relativeTolerance: settings.relativeTolerance,
      initialCentroids: warm.centroids,
      threads: defaultThreads(),
      signal: runtime.signal,
    });
    warmStart = fit.sse <= seeded.sse * (1 + warm.tolerance) ? 'kept' : 'not-kept';
    // Kept: it replaces the seeded result in place (fitOnPopulationScores writes centroids.json after this callback).
    if (warmStart === 'kept') {
      Object.assign(seeded, { centroids: fit.centroids, assignments: fit.assignments, sse: fit.sse, converged: fit.converged, iterations: seeded.iterations + fit.iterations });
    }
  });
  await writeTypedArray(join(workDir, 'population.assignments'), result.assignments);
  return {
    ...fitOutput(result, settings.k, null),
    assignments: 'population.assignments',
    inits: settings.inits,
    bestRun: result.bestRun,
    bestRunSse: result.bestRunSse,
    ...(fromSweep ? { initsFromSweep: fromSweep.runs } : {}),
    ...(result.resumedFrom ? { resumedFrom: result.resumedFrom } : {}),
    ...(warmStart ? { warmStart } : {}),
  };
}

/** k cannot exceed the rows it clusters: a config the user must fix (ConfigError). */
export function checkKFitsRows(k: number, rows: number): void {
  if (k > rows) throw new ConfigError(`k = ${k} is larger than the ${rows} clean population rows`);
}

/** A k-means step's figures for its progress line and the UI. */
export function kFitFigures(output: KFitOutput): Record<string, number | string> {
  return {
    k: output.k,
    sse: output.sse,
    ...(output.silhouette !== null ? { silhouette: output.silhouette } : {}),
    iterations: output.iterations,
    ...(output.initsFromSweep ? { initsFromSweep: output.initsFromSweep } : {}),
    ...(output.resumedFrom ? { resumedFrom: `init ${output.resumedFrom.run}, iteration ${output.resumedFrom.iteration}` } : {}),
  };
}
