/**
 * The segmentation workflow: one durable activity per analysis step. Activities exchange checkpoint
 * references (folders + keys) and figures, never rows, so histories stay small whatever the data size.
 */
import { ApplicationFailure, defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type * as activities from '../activities';
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
}

/** Errors no retry can fix: bad files, bad config, lost checkpoints. */
const NON_RETRYABLE = ['InputError', 'ConfigError', 'ValidationError', 'MissingCheckpoint'];

/** I/O-bound steps (DuckDB over files): quick retries. */
const io = proxyActivities<typeof activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

export const STEP_NAMES = ['ingest', 'recode', 'missingness', 'split'] as const;

export const progressQuery = defineQuery<RunProgress>('progress');

export async function segmentation(input: SegmentationInput): Promise<SegmentationOutcome> {
  if (!input?.inputs || !input.storeDir || !input.outDir) {
    throw ApplicationFailure.nonRetryable('segmentation needs inputs, storeDir and outDir', 'ValidationError');
  }
  const steps: StepProgress[] = STEP_NAMES.map((name) => ({ name, status: 'pending' }));
  setHandler(progressQuery, () => summariseProgress(steps));

  async function step(name: (typeof STEP_NAMES)[number], run: () => Promise<StepReport>): Promise<StepReport> {
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
  await step('split', () => io.splitByRowMissingness({ ...context, recode: recode.ref, missingness: missingness.ref }));

  return { outDir: input.outDir, steps };
}
