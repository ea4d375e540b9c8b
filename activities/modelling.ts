/**
 * The modelling steps: encode → impute + scale → PCA → k sweep → final k-means → map customers → compare.
 * Each reads its inputs from upstream checkpoints and writes its own; the CPU-heavy loops live in
 * core/linalg (run off the event loop in worker threads where they are long).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeAssignmentsParquet } from '../core/assignments';
import { withDuckDb } from '../core/duckdb';
import {
  EncodingModel,
  FittedTransform,
  countUnseenLevels,
  encodeSelectSql,
  exportMatrix,
  fitEncoding,
  fitImputeScale,
  inverseScale,
  parquetRelation,
  readMatrix,
  readRowIndex,
} from '../core/encoding';
import { chooseComponentCount, DEFAULT_INIT_SAMPLE, interpretComponent, inverseProject, KMEANS_CHUNK_ROWS, pcaFromCovariance, runSeed } from '../core/linalg';
import type { KMeansCheckpoint } from '../core/linalg';
import { CovarianceProgress, resumableCovariance } from '../core/parallel/resumable-covariance';
import { stepKey } from '../core/store/step-store';
import type { NumericArray } from '../core/linalg/types';
import {
  assignNearestInWorkers,
  defaultThreads,
  projectRowsInWorkers,
  runKmeansInWorker,
  sharedFloat32,
  silhouetteInWorker,
} from '../core/parallel';
import { activityContext } from './step';
import { describeDeviation } from '../core/stats/describe';
import { compareGroups, rankRepresentation } from '../core/stats/representation';
import { acquireScoresMatrix, readInt32Array, writeTypedArray } from '../core/store/arrays';
import { matrixView, WasmMatrix } from '../core/wasm/kernel';
import { loadEncodingRules } from '../schemas/encoding-rules';
import { readFeatureSummary } from '../schemas/feature-summary';
import { RunContextSchema, SplitOutput, StepRefSchema, StepReport } from '../schemas/steps';
import type { ClusterResult } from '../schemas/results';
import { FEATURE_SUMMARY_COPY, parse, parseConfigSafe } from './cleaning';
import { checkpointedStep, loadStep, toActivityFailure } from './step';
import { z } from 'zod';
import { ConfigError } from '../common/errors';

const FILES = ['population', 'customers'] as const;
const MATRIX_DTYPE = 'float32';
/**
 * PCA scores are stored as float32: half the memory and disk of float64 (0.28 GB at full size), and the
 * 7 significant digits are far more than clustering needs; the k-means kernel promotes them to float64 exactly.
 */
const SCORES_DTYPE = 'float32';

export interface EncodeOutput {
  model: string;
  features: number;
  unseenCustomerLevels: { column: string; rows: number; values: string[] }[];
}

export interface ScaleOutput {
  transform: string;
  features: string[];
  population: { rows: number; matrix: string; rowIndex: string };
  customers: { rows: number; matrix: string; rowIndex: string };
}

export interface PcaOutput {
  model: string;
  keptComponents: number;
  explainedVarianceRatio: number[];
  cumulativeVarianceRatio: number[];
  components: { index: number; explainedVarianceRatio: number; top: { feature: string; weight: number }[]; bottom: { feature: string; weight: number }[] }[];
  population: { rows: number; scores: string };
  customers: { rows: number; scores: string };
}

export interface PcaModelFile {
  features: string[];
  mean: number[];
  /** keptComponents x features, row-major. */
  components: number[];
  keptComponents: number;
}

export interface KFitOutput {
  k: number;
  sse: number;
  silhouette: number | null;
  iterations: number;
  converged: boolean;
  centroids: string;
  assignments?: string;
  /** Seeded inits run (runs 0..inits−1), the best one's index and its SSE as k-means computed it. */
  inits?: number;
  bestRun?: number;
  bestRunSse?: number;
  /** Final fit only: inits taken over from the sweep's fit at the same k instead of being run again. */
  initsFromSweep?: number;
  /** Set when this result continued a crashed attempt's heartbeat state. */
  resumedFrom?: { run: number; iteration: number };
}

export interface MapOutput {
  k: number;
  population: string;
  customers: string;
  counts: { id: number; populationCount: number; customerCount: number }[];
}

export interface CompareOutput {
  clusters: ClusterResult[];
  overRepresented: number[];
  underRepresented: number[];
}

const EncodeInputSchema = RunContextSchema.extend({ ingest: StepRefSchema, split: StepRefSchema });
const ScaleInputSchema = RunContextSchema.extend({ split: StepRefSchema, encode: StepRefSchema });
const PcaInputSchema = RunContextSchema.extend({ scale: StepRefSchema });
const SweepInputSchema = RunContextSchema.extend({ pca: StepRefSchema, k: z.number().int().min(1) });
/** The final fit may name the sweep's fit at its k: that one ran the same first seeded inits, so they are not run twice. */
const FinalInputSchema = SweepInputSchema.extend({ sweep: StepRefSchema.optional() });
const MapInputSchema = RunContextSchema.extend({ split: StepRefSchema, scale: StepRefSchema, pca: StepRefSchema, final: StepRefSchema });
const CompareInputSchema = RunContextSchema.extend({ scale: StepRefSchema, pca: StepRefSchema, final: StepRefSchema, map: StepRefSchema });

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** Step 2: categoricals and mixed features re-encoded by the rules (data, not code); levels fitted on the population. */
export async function encodeFeatures(rawInput: unknown): Promise<StepReport> {
  const input = parse(EncodeInputSchema, rawInput);
  const config = parseConfigSafe(input.config);
  const ingest = await loadStep<unknown>(input.ingest);
  const split = await loadStep<SplitOutput>(input.split);
  const summary = readFeatureSummary(join(ingest.dir, FEATURE_SUMMARY_COPY));
  // The rules themselves (built-in or from a file) are part of the key: editing them re-encodes.
  let rules: ReturnType<typeof loadEncodingRules>;
  try {
    rules = loadEncodingRules(config.encodingRules, summary);
  } catch (error) {
    throw toActivityFailure(error);
  }
  const { ref, output } = await checkpointedStep<EncodeOutput>(
    input.storeDir,
    'encode',
    { ingest: input.ingest.key, split: input.split.key, rules },
    async (workDir) => {
      return withDuckDb({}, async (conn) => {
        const model = await fitEncoding(conn, {
          populationParquet: join(split.dir, split.output.population.clean),
          keptColumns: split.output.keptColumns,
          rules,
        });
        await writeFile(join(workDir, 'encoding.json'), JSON.stringify(model, null, 1));
        const unseen = await countUnseenLevels(conn, model, parquetRelation(join(split.dir, split.output.customers.clean)));
        return { model: 'encoding.json', features: model.features.length, unseenCustomerLevels: unseen };
      });
    },
  );
  return { ref, figures: { features: output.features, unseenCustomerLevelColumns: output.unseenCustomerLevels.length } };
}

/** Step 3a: impute and standardise, fitted on the population's clean rows; both files exported as float matrices. */
export async function imputeAndScale(rawInput: unknown): Promise<StepReport> {
  const input = parse(ScaleInputSchema, rawInput);
  const split = await loadStep<SplitOutput>(input.split);
  const encode = await loadStep<EncodeOutput>(input.encode);
  const { ref, output } = await checkpointedStep<ScaleOutput>(
    input.storeDir,
    'scale',
    { split: input.split.key, encode: input.encode.key, dtype: MATRIX_DTYPE },
    async (workDir) => {
      const model = await readJson<EncodingModel>(join(encode.dir, encode.output.model));
      return withDuckDb({}, async (conn) => {
        const populationSource = parquetRelation(join(split.dir, split.output.population.clean));
        const transform = await fitImputeScale(conn, { model, encodedRelationSql: `(${encodeSelectSql(model, populationSource)})` });
        await writeFile(join(workDir, 'transform.json'), JSON.stringify(transform, null, 1));
        const exported = {} as Record<(typeof FILES)[number], ScaleOutput['population']>;
        let features: string[] = [];
        for (const role of FILES) {
          const result = await exportMatrix(conn, {
            model,
            transform,
            sourceParquet: join(split.dir, split.output[role].clean),
            outPrefix: join(workDir, role),
            dtype: MATRIX_DTYPE,
          });
          features = result.features;
          exported[role] = { rows: result.rows, matrix: `${role}.matrix`, rowIndex: `${role}.rows` };
        }
        return { transform: 'transform.json', features, population: exported.population, customers: exported.customers };
      });
    },
  );
  return { ref, figures: { features: output.features.length, populationRows: output.population.rows, customerRows: output.customers.rows } };
}

/** Step 3b: PCA by covariance + eigen decomposition; both files projected onto the kept components. */
export async function fitPca(rawInput: unknown): Promise<StepReport> {
  const input = parse(PcaInputSchema, rawInput);
  const config = parseConfigSafe(input.config);
  const scale = await loadStep<ScaleOutput>(input.scale);
  const keyInputs = {
    scale: input.scale.key,
    varianceTarget: config.pca.varianceTarget,
    components: config.pca.components,
    interpret: config.pca.interpret,
    scoresDtype: SCORES_DTYPE,
  };
  // Outside the attempt's temporary folder, so the next attempt finds it after a crash.
  const resumeFile = join(input.storeDir, 'pca', `.resume-${stepKey('pca', keyInputs)}.cov`);
  const { ref, output } = await checkpointedStep<PcaOutput>(
    input.storeDir,
    'pca',
    keyInputs,
    async (workDir) => {
      const cols = scale.output.features.length;
      const population = readMatrix(join(scale.dir, scale.output.population.matrix), scale.output.population.rows, cols, MATRIX_DTYPE);
      const { signal, progress, resumeDetails } = activityContext();
      const { mean, covariance } = await covarianceWithCheckpoints(population, scale.output.population.rows, cols, resumeFile, resumeDetails);
      const model = pcaFromCovariance(covariance, cols);
      const q = chooseComponentCount(model.cumulativeVarianceRatio, { varianceTarget: config.pca.varianceTarget, components: config.pca.components });
      const components = model.components.subarray(0, q * cols);
      const file: PcaModelFile = { features: scale.output.features, mean: Array.from(mean), components: Array.from(components), keptComponents: q };
      await writeFile(join(workDir, 'pca.json'), JSON.stringify(file));
      const projected = {} as Record<(typeof FILES)[number], PcaOutput['population']>;
      for (const role of FILES) {
        const rows = scale.output[role].rows;
        const data = role === 'population' ? population : readMatrix(join(scale.dir, scale.output[role].matrix), rows, cols, MATRIX_DTYPE);
        // Written straight into float32 (SCORES_DTYPE): no full-size float64 copy in between.
        const scores = await projectRowsInWorkers(data, rows, cols, mean, components, q, {
          signal,
          out: sharedFloat32(rows * q),
          onProgress: (done) => progress({ phase: `project ${role}`, done, rows }),
        });
        await writeTypedArray(join(workDir, `${role}.scores`), scores);
        projected[role] = { rows, scores: `${role}.scores` };
      }
      const interpreted = Array.from({ length: Math.min(config.pca.interpret, q) }, (_, index) => ({
        index,
        explainedVarianceRatio: model.explainedVarianceRatio[index],
        ...interpretComponent(components.subarray(index * cols, (index + 1) * cols), scale.output.features, 8),
      }));
      return {
        model: 'pca.json',
        keptComponents: q,
        explainedVarianceRatio: Array.from(model.explainedVarianceRatio),
        cumulativeVarianceRatio: Array.from(model.cumulativeVarianceRatio),
        components: interpreted,
        population: projected.population,
        customers: projected.customers,
      };
    },
  );
  return {
    ref,
    figures: {
      keptComponents: output.keptComponents,
      explainedVariance: output.cumulativeVarianceRatio[output.keptComponents - 1],
      pc1: output.explainedVarianceRatio[0],
    },
  };
}

interface PcaResumeState {
  kind: 'pca';
  chunksDone: number;
  chunks: number;
  mean: number[];
}

/**
 * The covariance pass, persisted after every batch of chunks (state file + heartbeat with the position), so a
 * retry after a crash continues where the accumulation stopped. The file goes once the step is done.
 */
async function covarianceWithCheckpoints(data: NumericArray, rows: number, cols: number, resumeFile: string, resumeDetails: unknown) {
  const { signal, progress } = activityContext();
  const details = resumeDetails as PcaResumeState | undefined;
  let resume: CovarianceProgress | undefined;
  if (details?.kind === 'pca' && existsSync(resumeFile)) {
    const bytes = await readFile(resumeFile);
    resume = { ...details, state: new Uint8Array(bytes).buffer };
  }
  await mkdir(dirname(resumeFile), { recursive: true });
  const result = await resumableCovariance(data, rows, cols, {
    resume,
    signal,
    onBatch: async ({ chunksDone, chunks, mean, state }) => {
      await writeFile(`${resumeFile}.tmp`, Buffer.from(state));
      await rename(`${resumeFile}.tmp`, resumeFile);
      progress({ kind: 'pca', chunksDone, chunks, mean } satisfies PcaResumeState);
    },
  });
  await rm(resumeFile, { force: true });
  return result;
}

async function fitKMeans(rawInput: unknown, final: boolean): Promise<StepReport> {
  const input = parse(final ? FinalInputSchema : SweepInputSchema, rawInput);
  const config = parseConfigSafe(input.config);
  const pca = await loadStep<PcaOutput>(input.pca);
  const rows = pca.output.population.rows;
  if (input.k > rows) throw new ConfigError(`k = ${input.k} is larger than the ${rows} clean population rows`);
  const inits = final ? config.finalInits : config.sweepInits;
  const step = final ? 'kmeans-final' : `kmeans-k${String(input.k).padStart(2, '0')}`;
  const fromSweep = final ? await sweepInitsToReuse(input, config, inits) : undefined;
  const { ref, output } = await checkpointedStep<KFitOutput>(
    input.storeDir,
    step,
    { ...fitKeyInputs(input.pca.key, input.k, config), inits, silhouette: config.silhouetteSample },
    async (workDir) => {
      const q = pca.output.keptComponents;
      const lease = acquireScoresMatrix(join(pca.dir, pca.output.population.scores), rows, q);
      try {
        return await fitOnScores(lease.matrix, q, workDir);
      } finally {
        lease.release();
      }
    },
  );
  /** The fit on the scores held for this activity: best of the seeded inits, silhouette for a sweep point. */
  async function fitOnScores(scores: WasmMatrix, q: number, workDir: string): Promise<KFitOutput> {
    const result = await resumableBestOf(scores, rows, q, {
      k: input.k,
      seed: config.seed,
      maxIterations: config.maxIterations,
      relativeTolerance: config.relativeTolerance,
      inits,
      done: fromSweep,
      // The sweep runs several k at once (one thread each); the final fit runs alone and takes every core.
      threads: final ? defaultThreads() : 1,
    });
    const silhouette = final
      ? null
      : (await silhouetteInWorker(matrixView(scores), rows, q, result.assignments, input.k, { sampleSize: config.silhouetteSample, seed: config.seed, signal: activityContext().signal })).score;
    await writeFile(join(workDir, 'centroids.json'), JSON.stringify({ k: input.k, dims: q, centroids: Array.from(result.centroids) }));
    if (final) await writeTypedArray(join(workDir, 'population.assignments'), result.assignments);
    return {
      k: input.k,
      sse: result.sse,
      silhouette: silhouette !== null && Number.isFinite(silhouette) ? silhouette : null,
      iterations: result.iterations,
      converged: result.converged,
      centroids: 'centroids.json',
      ...(final ? { assignments: 'population.assignments' } : {}),
      inits,
      bestRun: result.bestRun,
      bestRunSse: result.bestRunSse,
      ...(fromSweep ? { initsFromSweep: fromSweep.runs } : {}),
      ...(result.resumedFrom ? { resumedFrom: result.resumedFrom } : {}),
    };
  }
  return {
    ref,
    figures: {
      k: output.k,
      sse: output.sse,
      ...(output.silhouette !== null ? { silhouette: output.silhouette } : {}),
      iterations: output.iterations,
      ...(output.initsFromSweep ? { initsFromSweep: output.initsFromSweep } : {}),
      ...(output.resumedFrom ? { resumedFrom: `init ${output.resumedFrom.run}, iteration ${output.resumedFrom.iteration}` } : {}),
    },
  };
}

/** What a k-means activity heartbeats: enough to continue after a worker crash without starting over. */
export interface KMeansResumeState {
  kind: 'kmeans';
  k: number;
  /** The init in progress and its latest iteration. */
  run: number;
  checkpoint?: KMeansCheckpoint;
  /** The best finished init so far. */
  best?: { run: number; sse: number; centroids: number[] };
}

function resumeStateFrom(details: unknown, k: number): KMeansResumeState | undefined {
  const state = details as KMeansResumeState | undefined;
  return state?.kind === 'kmeans' && state.k === k ? state : undefined;
}

/**
 * Several seeded k-means++ inits, best SSE kept — each in a worker thread, heartbeating its iteration state.
 * A retry (after a worker crash) skips the inits that finished and continues the interrupted one from its
 * last iteration. The returned assignments are the nearest centroids of the best run.
 */
export async function resumableBestOf(
  scores: WasmMatrix | NumericArray,
  rows: number,
  dims: number,
  options: {
    k: number;
    seed: number;
    maxIterations: number;
    relativeTolerance: number;
    inits: number;
    threads?: number;
    /** Runs 0..runs−1 already done elsewhere (the sweep), with their best. */
    done?: { runs: number; best: { run: number; sse: number; centroids: number[] } };
  },
): Promise<{
  centroids: Float64Array;
  assignments: Int32Array;
  sse: number;
  iterations: number;
  converged: boolean;
  bestRun: number;
  bestRunSse: number;
  resumedFrom?: { run: number; iteration: number };
}> {
  const { signal, progress, resumeDetails } = activityContext();
  const resumed = resumeStateFrom(resumeDetails, options.k);
  let best = resumed?.best ?? options.done?.best;
  // The labels and SSE of the best run, when it ran here (k-means returns them: no extra pass needed).
  let bestLabels: { run: number; assignments: Int32Array; sse: number } | undefined;
  let iterations = 0;
  let converged = true;
  for (let run = resumed?.run ?? options.done?.runs ?? 0; run < options.inits; run++) {
    const resumeFrom = resumed && resumed.run === run ? resumed.checkpoint : undefined;
    const result = await runKmeansInWorker(scores, rows, dims, {
      k: options.k,
      seed: runSeed(options.seed, run),
      maxIterations: options.maxIterations,
      relativeTolerance: options.relativeTolerance,
      resumeFrom,
      threads: options.threads ?? 1,
      signal,
      onIteration: (checkpoint) => progress({ kind: 'kmeans', k: options.k, run, checkpoint, best } satisfies KMeansResumeState),
    });
    iterations += result.iterations;
    if (!best || result.sse < best.sse) {
      best = { run, sse: result.sse, centroids: Array.from(result.centroids) };
      bestLabels = { run, assignments: result.assignments, sse: result.sse };
      converged = result.converged;
    }
    progress({ kind: 'kmeans', k: options.k, run: run + 1, best } satisfies KMeansResumeState);
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

/** What a k-means fit's result depends on, besides the number of inits (and, for a sweep point, the silhouette). */
function fitKeyInputs(pca: string, k: number, config: ReturnType<typeof parseConfigSafe>) {
  return {
    pca,
    k,
    seed: config.seed,
    maxIterations: config.maxIterations,
    tol: config.relativeTolerance,
    // How each init starts: a checkpoint made with another start is another result, not a reusable one.
    init: `k-means++ and k-means on ${DEFAULT_INIT_SAMPLE} sampled rows`,
  };
}

/**
 * The sweep's fit at the final k ran the final fit's first seeded inits already (same seeds, data, tolerance
 * and iteration cap; the kernel's result does not depend on the thread count), so the final fit starts after
 * them with their best. Only when every one of those settings matches; otherwise nothing is reused.
 */
async function sweepInitsToReuse(
  input: z.infer<typeof FinalInputSchema>,
  config: ReturnType<typeof parseConfigSafe>,
  finalInits: number,
): Promise<{ runs: number; best: { run: number; sse: number; centroids: number[] } } | undefined> {
  if (!input.sweep) return undefined;
  const sweep = await loadStep<KFitOutput>(input.sweep);
  const keyInputs = (sweep.keyInputs ?? {}) as Record<string, unknown>;
  const same = Object.entries(fitKeyInputs(input.pca.key, input.k, config)).every(([name, value]) => keyInputs[name] === value);
  const { inits, bestRun, bestRunSse } = sweep.output;
  if (!same || inits === undefined || bestRun === undefined || bestRunSse === undefined || inits > finalInits) return undefined;
  const { centroids } = await readJson<{ centroids: number[] }>(join(sweep.dir, sweep.output.centroids));
  return { runs: inits, best: { run: bestRun, sse: bestRunSse, centroids } };
}

/** Step 4: one point of the elbow curve (the workflow runs one of these per k, in parallel). */
export async function sweepK(rawInput: unknown): Promise<StepReport> {
  return fitKMeans(rawInput, false);
}

/** Step 4b: the final k-means on the full clean population: k-means++, several seeded inits, best SSE kept. */
export async function fitFinalKMeans(rawInput: unknown): Promise<StepReport> {
  return fitKMeans(rawInput, true);
}

/** Step 5a: customers through the same fitted pipeline to the nearest centroid; both targeting lists written. */
export async function mapCustomers(rawInput: unknown): Promise<StepReport> {
  const input = parse(MapInputSchema, rawInput);
  const split = await loadStep<SplitOutput>(input.split);
  const scale = await loadStep<ScaleOutput>(input.scale);
  const pca = await loadStep<PcaOutput>(input.pca);
  const final = await loadStep<KFitOutput>(input.final);
  const { ref, output } = await checkpointedStep<MapOutput>(
    input.storeDir,
    'map',
    { split: input.split.key, scale: input.scale.key, pca: input.pca.key, final: input.final.key },
    async (workDir) => {
      const { k, centroids } = await readJson<{ k: number; centroids: number[] }>(join(final.dir, final.output.centroids));
      const q = pca.output.keptComponents;
      const customerRows = pca.output.customers.rows;
      const customerScores = readMatrix(join(pca.dir, pca.output.customers.scores), customerRows, q, SCORES_DTYPE, { shared: true });
      const clusters = {
        population: await readInt32Array(join(final.dir, final.output.assignments!), pca.output.population.rows),
        customers:
          customerRows > 0 ? (await assignNearestInWorkers(customerScores, customerRows, q, centroids, k, { signal: activityContext().signal })).assignments : new Int32Array(0),
      };
      await withDuckDb({}, async (conn) => {
        for (const role of FILES) {
          await writeAssignmentsParquet(conn, {
            rows: readRowIndex(join(scale.dir, scale.output[role].rowIndex), scale.output[role].rows),
            clusters: clusters[role],
            heavyParquet: join(split.dir, split.output[role].heavy),
            outPath: join(workDir, `${role}.parquet`),
          });
        }
      });
      const counts = [-1, ...Array.from({ length: k }, (_, i) => i)].map((id) => ({
        id,
        populationCount: id === -1 ? split.output.population.heavyRows : countOf(clusters.population, id),
        customerCount: id === -1 ? split.output.customers.heavyRows : countOf(clusters.customers, id),
      }));
      return { k, population: 'population.parquet', customers: 'customers.parquet', counts };
    },
  );
  return { ref, figures: { k: output.k, customersMapped: output.counts.reduce((sum, c) => sum + c.customerCount, 0) } };
}

function countOf(assignments: Int32Array, id: number): number {
  let n = 0;
  for (let i = 0; i < assignments.length; i++) if (assignments[i] === id) n++;
  return n;
}

const PROFILE_FEATURES = 12;

/** Step 5b: each cluster's share among customers vs the population, lift with CI and test; centroids described in original features. */
export async function compareSegments(rawInput: unknown): Promise<StepReport> {
  const input = parse(CompareInputSchema, rawInput);
  const config = parseConfigSafe(input.config);
  const scale = await loadStep<ScaleOutput>(input.scale);
  const pca = await loadStep<PcaOutput>(input.pca);
  const final = await loadStep<KFitOutput>(input.final);
  const map = await loadStep<MapOutput>(input.map);
  const { ref, output } = await checkpointedStep<CompareOutput>(
    input.storeDir,
    'compare',
    { scale: input.scale.key, pca: input.pca.key, final: input.final.key, map: input.map.key, alpha: config.alpha },
    async () => {
      const transform = await readJson<FittedTransform>(join(scale.dir, scale.output.transform));
      const model = await readJson<PcaModelFile>(join(pca.dir, pca.output.model));
      const { k, centroids } = await readJson<{ k: number; centroids: number[] }>(join(final.dir, final.output.centroids));
      const cols = model.features.length;
      const standardised = inverseProject(centroids, model.keptComponents, model.mean, model.components, cols);
      const comparisons = compareGroups(map.output.counts, config.alpha);
      const clusters: ClusterResult[] = comparisons.map((c) => ({
        id: c.id,
        populationCount: c.populationCount,
        customerCount: c.customerCount,
        populationShare: c.populationShare,
        customerShare: c.customerShare,
        lift: c.lift,
        liftCi: c.liftCi,
        pValue: c.pValue,
        representation: c.representation,
        profile: c.id < 0 || c.id >= k ? [] : profileOf(standardised.subarray(c.id * cols, (c.id + 1) * cols), model.features, transform),
      }));
      const ranking = rankRepresentation(comparisons);
      return { clusters, overRepresented: ranking.over, underRepresented: ranking.under };
    },
  );
  return {
    ref,
    figures: {
      overRepresented: output.overRepresented.join(',') || 'none',
      underRepresented: output.underRepresented.join(',') || 'none',
    },
  };
}

/** The features where a centroid sits furthest from the population mean, in original units. */
function profileOf(standardised: ArrayLike<number>, features: string[], transform: FittedTransform): ClusterResult['profile'] {
  const original = inverseScale(standardised, transform);
  return features
    .map((feature, j) => ({ feature, value: original[j], populationMean: transform.features[j].mean, zScore: standardised[j] }))
    .sort((a, b) => Math.abs(b.zScore) - Math.abs(a.zScore))
    .slice(0, PROFILE_FEATURES)
    .map((p) => ({ ...p, description: describeDeviation(p.feature, p.value, p.populationMean, p.zScore) }));
}
