/**
 * The segmentation workflow: one durable activity per analysis step. Activities exchange checkpoint
 * references (folders + keys) and figures, never rows, so histories stay small whatever the data size.
 */
import {
  ActivityOptions,
  ApplicationFailure,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import { kneeOfCurve } from '../core/linalg/knee';
import type { PipelineConfigInput } from '../schemas/config';
import { CONFIG_DEFAULTS } from '../schemas/config-defaults';
import type { StepReport } from '../schemas/steps';
import { SEARCH_KEYS, fillMonth, monthOf, previousMonth, progressMarkdown } from './audit';
import { RunProgress, StepProgress, summariseProgress } from './progress';

export interface SegmentationInput {
  inputs: { population: string; customers: string; featureSummary: string };
  /** Where checkpoints live (content-addressed, shared by runs over the same inputs). */
  storeDir: string;
  /** Where results.json, the assignments and report.html are published. */
  outDir: string;
  /** The config as given (defaults not applied): the first step validates it, every activity reads it with its defaults. */
  config: PipelineConfigInput;
  /** The run to match clusters with; default: the same outDir template filled with the previous month. */
  previousOutDir?: string;
  /** The month this run is for (YYYY-MM); default: the scheduled time, else the start time. Fills `{YYYY-MM}` in paths. */
  runMonth?: string;
}

export interface SegmentationOutcome {
  outDir: string;
  steps: StepProgress[];
  k: number;
  summaryTable: string;
}

/** When a schedule started this run, the time it was scheduled for (backfills get their own month). */
function scheduledTime(): Date | undefined {
  const value = workflowInfo().searchAttributes?.TemporalScheduledStartTime?.[0];
  return value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
}

/** The k values to sweep: config kMin..kMax (the ingest step has validated them; defaults from schemas/config-defaults.ts). */
function kRange(config: PipelineConfigInput): number[] {
  const kMin = typeof config.kMin === 'number' ? config.kMin : CONFIG_DEFAULTS.kMin;
  const kMax = typeof config.kMax === 'number' ? config.kMax : CONFIG_DEFAULTS.kMax;
  return Array.from({ length: Math.max(0, kMax - kMin + 1) }, (_, i) => kMin + i);
}

/** Errors no retry can fix: bad files, bad config, lost checkpoints. */
const NON_RETRYABLE = ['InputError', 'ConfigError', 'ValidationError', 'MissingCheckpoint'];

/** I/O-bound steps (DuckDB over files): quick retries. */
/**
 * Heartbeat timeouts are short because every step heartbeats from a free event loop (DuckDB and the numeric
 * loops run on other threads): a crashed worker's step is retried elsewhere within seconds.
 */
const IO: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** CPU-bound steps (PCA, k-means): longer timeouts, fewer attempts; they heartbeat while they compute. */
const COMPUTE: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Activities with a one-line summary each, shown next to the activity in the Temporal UI. */
function activitiesFor(options: ActivityOptions, summary: string) {
  return proxyActivities<typeof activities>({ ...options, summary });
}

export const STEP_NAMES = [
  'ingest',
  'recode',
  'missingness',
  'split',
  'encode',
  'scale',
  'pca',
  'sweep',
  'kmeans',
  'map',
  'compare',
  'drift',
  'report',
] as const;
type StepName = (typeof STEP_NAMES)[number];

/** The innermost cause's message ("ValidationError: …"), not the "Activity task failed" wrapper around it. */
function rootCause(error: unknown): string {
  let deepest = error as Error & { cause?: Error; type?: string | null };
  while (deepest.cause) deepest = deepest.cause as Error & { cause?: Error; type?: string | null };
  return deepest.type && deepest.type !== 'Error' ? `${deepest.type}: ${deepest.message}` : deepest.message;
}

export const progressQuery = defineQuery<RunProgress>('progress');

export async function segmentation(input: SegmentationInput): Promise<SegmentationOutcome> {
  if (!input?.inputs || !input.storeDir || !input.outDir) {
    throw ApplicationFailure.nonRetryable('segmentation needs inputs, storeDir and outDir', 'ValidationError');
  }
  const runMonth = input.runMonth ?? monthOf(scheduledTime() ?? workflowInfo().startTime);
  const fill = (path: string) => fillMonth(path, runMonth);
  const dataset = typeof input.config?.dataset === 'string' ? input.config.dataset : CONFIG_DEFAULTS.dataset;
  const outDir = fill(input.outDir);
  const steps: StepProgress[] = STEP_NAMES.map((name) => ({ name, status: 'pending' }));
  setHandler(progressQuery, () => summariseProgress(steps));
  upsertSearchAttributes([
    { key: SEARCH_KEYS.dataset, value: dataset },
    { key: SEARCH_KEYS.runMonth, value: runMonth },
    { key: SEARCH_KEYS.stage, value: STEP_NAMES[0] },
    { key: SEARCH_KEYS.outcome, value: 'running' },
  ]);

  async function step<R extends StepReport>(name: StepName, run: () => Promise<R>): Promise<R> {
    const entry = steps.find((s) => s.name === name)!;
    entry.status = 'running';
    upsertSearchAttributes([{ key: SEARCH_KEYS.stage, value: name }]);
    setCurrentDetails(progressMarkdown(steps));
    try {
      const report = await run();
      Object.assign(entry, { status: 'done', seconds: report.ref.seconds, reused: report.ref.reused, figures: report.figures });
      setCurrentDetails(progressMarkdown(steps));
      return report;
    } catch (error) {
      entry.status = isCancellation(error) ? 'cancelled' : 'failed';
      entry.error = rootCause(error);
      upsertSearchAttributes([{ key: SEARCH_KEYS.outcome, value: isCancellation(error) ? 'cancelled' : `failed:${name}` }]);
      setCurrentDetails(progressMarkdown(steps));
      throw error;
    }
  }

  const context = { storeDir: fill(input.storeDir), config: input.config };
  const inputs = { population: fill(input.inputs.population), customers: fill(input.inputs.customers), featureSummary: fill(input.inputs.featureSummary) };
  const ingest = await step('ingest', () =>
    activitiesFor(IO, 'Validate the feature summary and both files; load them typed').ingestData({ ...context, inputs }),
  );
  const recode = await step('recode', () =>
    activitiesFor(IO, 'Missing and unknown codes → NULL').recodeMissingCodes({ ...context, ingest: ingest.ref }),
  );
  const missingness = await step('missingness', () =>
    activitiesFor(IO, 'Missing share per column; drop the outlier columns').assessColumnMissingness({
      ...context,
      ingest: ingest.ref,
      recode: recode.ref,
    }),
  );
  const split = await step('split', () =>
    activitiesFor(IO, 'Heavy-missing rows aside; compare them with the clean rows').splitByRowMissingness({
      ...context,
      ingest: ingest.ref,
      recode: recode.ref,
      missingness: missingness.ref,
    }),
  );
  const encode = await step('encode', () =>
    activitiesFor(IO, 'Binary, one-hot and engineered features (levels fitted on the population)').encodeFeatures({
      ...context,
      ingest: ingest.ref,
      split: split.ref,
    }),
  );
  const scale = await step('scale', () =>
    activitiesFor(IO, 'Impute and standardise (fitted on the population); export float matrices').imputeAndScale({
      ...context,
      split: split.ref,
      encode: encode.ref,
    }),
  );
  const pca = await step('pca', () => activitiesFor(COMPUTE, 'PCA: covariance, eigen decomposition, projection').fitPca({ ...context, scale: scale.ref }));

  // The elbow: one activity per k, all scheduled at once so every worker (and core) takes a share.
  const ks = kRange(input.config);
  const sweep = await step('sweep', async () => {
    const started = Date.now(); // the workflow clock: deterministic on replay
    // Largest k first: they take longest, so the small ones fill the cores at the end instead of one big fit
    // running alone (longest-processing-time-first). Patched so that histories recorded before still replay.
    const order = patched('sweep-largest-k-first') ? [...ks].sort((a, b) => b - a) : ks;
    const byK = new Map(
      await Promise.all(
        order.map(async (k) => [k, await activitiesFor(COMPUTE, `k-means with k = ${k} (elbow point)`).sweepK({ ...context, pca: pca.ref, k })] as const),
      ),
    );
    const points = ks.map((k) => byK.get(k)!);
    const reused = points.every((p) => p.ref.reused);
    const activitySeconds = points.reduce((sum, p) => sum + p.ref.seconds, 0);
    // Wall time of the fan-out (the k activities overlap); a fully reused sweep reports its original compute time.
    const seconds = reused ? activitySeconds : (Date.now() - started) / 1000;
    return {
      ref: { step: 'sweep', dir: '', key: points.map((p) => p.ref.key).join(','), reused, seconds },
      figures: { ks: `${ks[0]}..${ks[ks.length - 1]}`, activitySeconds },
      points,
    };
  });
  const fixedK = typeof input.config.k === 'number' ? input.config.k : undefined;
  const k = fixedK ?? kneeOfCurve(ks, sweep.points.map((p) => Number(p.figures.sse))).k;
  upsertSearchAttributes([{ key: SEARCH_KEYS.k, value: k }]);
  // The sweep's fit at this k already ran the first seeded inits: the final fit continues after them.
  const sweepAtK = ks.includes(k) ? sweep.points[ks.indexOf(k)].ref : undefined;
  const final = await step('kmeans', () =>
    activitiesFor(COMPUTE, `Final k-means, k = ${k}, best of several seeded inits`).fitFinalKMeans({ ...context, pca: pca.ref, k, sweep: sweepAtK }),
  );
  const map = await step('map', () =>
    activitiesFor(IO, 'Customers through the same fitted pipeline to the nearest centroid').mapCustomers({
      ...context,
      split: split.ref,
      scale: scale.ref,
      pca: pca.ref,
      final: final.ref,
    }),
  );
  const compare = await step('compare', () =>
    activitiesFor(IO, 'Cluster shares: customers vs population, lift, CI, test; profiles').compareSegments({
      ...context,
      scale: scale.ref,
      pca: pca.ref,
      final: final.ref,
      map: map.ref,
    }),
  );
  const previousOutDir = input.previousOutDir ?? (input.outDir.includes('{YYYY-MM}') ? fillMonth(input.outDir, previousMonth(runMonth)) : undefined);
  const drift = await step('drift', () =>
    activitiesFor(IO, 'Match clusters to the previous run; drift in shares').compareWithPreviousRun({
      ...context,
      previousOutDir,
      scale: scale.ref,
      pca: pca.ref,
      final: final.ref,
      compare: compare.ref,
    }),
  );
  const report = await step('report', () =>
    activitiesFor(IO, 'Publish results.json, assignments and report.html').publishResults({
      ...context,
      outDir,
      ingest: ingest.ref,
      missingness: missingness.ref,
      split: split.ref,
      encode: encode.ref,
      scale: scale.ref,
      pca: pca.ref,
      sweep: sweep.points.map((p) => p.ref),
      final: final.ref,
      kChosenBy: fixedK === undefined ? 'knee' : 'fixed',
      map: map.ref,
      compare: compare.ref,
      drift: drift.ref,
      steps: steps.filter((s) => s.status === 'done').map((s) => ({ name: s.name, seconds: s.seconds ?? 0, reused: s.reused ?? false })),
    }),
  );

  upsertSearchAttributes([{ key: SEARCH_KEYS.outcome, value: 'succeeded' }, { key: SEARCH_KEYS.stage, value: 'done' }]);
  upsertMemo({
    results: { outDir, k, ...report.figures },
    heavyMissing: { population: split.figures.populationHeavyShare, customers: split.figures.customerHeavyShare },
    droppedColumns: missingness.figures.droppedColumns,
    overRepresented: compare.figures.overRepresented,
    underRepresented: compare.figures.underRepresented,
  });
  return { outDir, steps, k, summaryTable: report.summaryTable };
}
