/**
 * The segmentation workflow: one durable activity per analysis step. Activities exchange checkpoint
 * references (folders + keys) and figures, never rows, so histories stay small whatever the data size.
 */
import { ApplicationFailure, defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type * as activities from '../activities';
import { kneeOfCurve } from '../core/linalg/knee';
import type { StepReport } from '../schemas/steps';
import { RunProgress, StepProgress, summariseProgress } from './progress';

export interface SegmentationInput {
  inputs: { population: string; customers: string; featureSummary: string };
  /** Where checkpoints live (content-addressed, shared by runs over the same inputs). */
  storeDir: string;
  /** Where results.json, the assignments and report.html are published. */
  outDir: string;
  /** Raw config; validated by every activity that reads it. */
  config: Record<string, unknown>;
}

export interface SegmentationOutcome {
  outDir: string;
  steps: StepProgress[];
  k: number;
  summaryTable: string;
}

/** The k values to sweep: config kMin..kMax (defaults 2..20), capped by the rows available. */
function kRange(config: Record<string, unknown>, rows: number): number[] {
  const kMin = typeof config.kMin === 'number' ? config.kMin : 2;
  const kMax = Math.min(typeof config.kMax === 'number' ? config.kMax : 20, rows);
  if (kMax < kMin) throw ApplicationFailure.nonRetryable(`cannot sweep k from ${kMin} to ${kMax} with ${rows} clean rows`, 'ConfigError');
  return Array.from({ length: kMax - kMin + 1 }, (_, i) => kMin + i);
}

/** Errors no retry can fix: bad files, bad config, lost checkpoints. */
const NON_RETRYABLE = ['InputError', 'ConfigError', 'ValidationError', 'MissingCheckpoint'];

/** I/O-bound steps (DuckDB over files): quick retries. */
const io = proxyActivities<typeof activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** CPU-bound steps (PCA, k-means): longer timeouts, fewer attempts; they heartbeat while they compute. */
const compute = proxyActivities<typeof activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

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
  'report',
] as const;
type StepName = (typeof STEP_NAMES)[number];

export const progressQuery = defineQuery<RunProgress>('progress');

export async function segmentation(input: SegmentationInput): Promise<SegmentationOutcome> {
  if (!input?.inputs || !input.storeDir || !input.outDir) {
    throw ApplicationFailure.nonRetryable('segmentation needs inputs, storeDir and outDir', 'ValidationError');
  }
  const steps: StepProgress[] = STEP_NAMES.map((name) => ({ name, status: 'pending' }));
  setHandler(progressQuery, () => summariseProgress(steps));

  async function step<R extends StepReport>(name: StepName, run: () => Promise<R>): Promise<R> {
    const entry = steps.find((s) => s.name === name)!;
    entry.status = 'running';
    try {
      const report = await run();
      Object.assign(entry, { status: 'done', seconds: report.ref.seconds, reused: report.ref.reused, figures: report.figures });
      return report;
    } catch (error) {
      entry.status = 'failed';
      entry.error = (error as Error).message;
      throw error;
    }
  }

  const context = { storeDir: input.storeDir, config: input.config };
  const ingest = await step('ingest', () => io.ingestData({ ...context, inputs: input.inputs }));
  const recode = await step('recode', () => io.recodeMissingCodes({ ...context, ingest: ingest.ref }));
  const missingness = await step('missingness', () => io.assessColumnMissingness({ ...context, recode: recode.ref }));
  const split = await step('split', () => io.splitByRowMissingness({ ...context, recode: recode.ref, missingness: missingness.ref }));
  const encode = await step('encode', () => io.encodeFeatures({ ...context, ingest: ingest.ref, split: split.ref }));
  const scale = await step('scale', () => io.imputeAndScale({ ...context, split: split.ref, encode: encode.ref }));
  const pca = await step('pca', () => compute.fitPca({ ...context, scale: scale.ref }));

  // The elbow: one activity per k, all scheduled at once so every worker (and core) takes a share.
  const ks = kRange(input.config, Number(pca.figures.populationRows ?? Number.MAX_SAFE_INTEGER));
  const sweep = await step('sweep', async () => {
    const points = await Promise.all(ks.map((k) => compute.sweepK({ ...context, pca: pca.ref, k })));
    const seconds = points.reduce((sum, p) => sum + p.ref.seconds, 0);
    return {
      ref: { step: 'sweep', dir: '', key: points.map((p) => p.ref.key).join(','), reused: points.every((p) => p.ref.reused), seconds },
      figures: { ks: `${ks[0]}..${ks[ks.length - 1]}` },
      points,
    };
  });
  const fixedK = typeof input.config.k === 'number' ? input.config.k : undefined;
  const k = fixedK ?? kneeOfCurve(ks, sweep.points.map((p) => Number(p.figures.sse))).k;
  const final = await step('kmeans', () => compute.fitFinalKMeans({ ...context, pca: pca.ref, k }));
  const map = await step('map', () => io.mapCustomers({ ...context, split: split.ref, scale: scale.ref, pca: pca.ref, final: final.ref }));
  const compare = await step('compare', () => io.compareSegments({ ...context, scale: scale.ref, pca: pca.ref, final: final.ref, map: map.ref }));
  const report = await step('report', () =>
    io.publishResults({
      ...context,
      outDir: input.outDir,
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
      steps: steps.filter((s) => s.status === 'done').map((s) => ({ name: s.name, seconds: s.seconds ?? 0, reused: s.reused ?? false })),
    }),
  );

  return { outDir: input.outDir, steps, k, summaryTable: report.summaryTable };
}
