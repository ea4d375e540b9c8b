import { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { validateConfig } from '../core/config/validate';
import { ensureWritableDir } from '../core/store/paths';
import { basename, resolve } from 'node:path';
import { TASK_QUEUE, WORKFLOW_ID_PREFIX } from '../common/constants';
import { PipelineConfigInput, parseConfig } from '../schemas/config';
import { SEARCH_KEYS } from '../workflows/search-attributes';
import type { RunProgress, StepProgress } from '../workflows/progress';
import type { SegmentationInput, SegmentationOutcome } from '../workflows/segmentation';

export interface RunInputOptions {
  population: string;
  customers: string;
  featureSummary: string;
  outDir: string;
  /**
   * Checkpoint store; defaults to <outDir>/artifacts — for `run`, `retry` and the schedule alike (a schedule's
   * `{YYYY-MM}` is filled per month), so every run that writes one output folder shares one store.
   */
  storeDir?: string;
  config?: PipelineConfigInput;
  /** A finished run to match clusters with (default: the previous month's, when outDir holds {YYYY-MM}). */
  previousOutDir?: string;
}

export interface StartRunOptions extends RunInputOptions {
  client: Client;
  workflowId?: string;
  taskQueue?: string;
  /** The month the run is for (retries of scheduled runs keep theirs). */
  runMonth?: string;
  staticSummary?: string;
  memo?: Record<string, unknown>;
}

/** The workflow's input: absolute paths (the worker may run elsewhere in the same file system) and the config as given. */
export function segmentationInput(options: RunInputOptions): SegmentationInput {
  const outDir = resolve(options.outDir);
  return {
    inputs: {
      population: resolve(options.population),
      customers: resolve(options.customers),
      featureSummary: resolve(options.featureSummary),
    },
    outDir,
    storeDir: resolve(options.storeDir ?? resolve(outDir, 'artifacts')),
    config: options.config ?? {},
    ...(options.previousOutDir ? { previousOutDir: resolve(options.previousOutDir) } : {}),
  };
}

/** Starts the workflow on an input already built (by segmentationInput, or a retry's copy of a run's input). */
export async function startSegmentation(
  client: Client,
  input: SegmentationInput,
  options: { workflowId: string; taskQueue?: string; staticSummary: string; memo?: Record<string, unknown> },
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const dataset = typeof input.config.dataset === 'string' ? input.config.dataset : 'arvato';
  return client.workflow.start('segmentation', {
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowId: options.workflowId,
    args: [input],
    // Set at start too, so `segments runs --dataset/--month` finds a run that no worker has picked up yet.
    typedSearchAttributes: [
      { key: SEARCH_KEYS.dataset, value: dataset },
      { key: SEARCH_KEYS.outcome, value: 'running' },
      ...(input.runMonth ? [{ key: SEARCH_KEYS.runMonth, value: input.runMonth }] : []),
    ],
    staticSummary: options.staticSummary,
    staticDetails: runDetailsMarkdown(input),
    ...(options.memo ? { memo: options.memo } : {}),
  });
}

/**
 * The config is parsed once, here: a typo fails before a workflow exists, and the workflow gets it with its
 * defaults applied (schemas/config.ts), so every activity and the run's history see the values it ran with.
 */
export async function startRun(options: StartRunOptions): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const config = validateConfig(options.config ?? {}, 'config');
  const input: SegmentationInput = { ...segmentationInput({ ...options, config }), ...(options.runMonth ? { runMonth: options.runMonth } : {}) };
  // Not mkdir({ recursive: true }): it never returns under /proc. Fails at once naming the folder.
  await ensureWritableDir(input.outDir, 'output folder');
  if (!/\{(YYYY-MM|YYYY|MM)\}/.test(input.storeDir)) await ensureWritableDir(input.storeDir, 'checkpoint folder');
  const workflowId = options.workflowId ?? `${WORKFLOW_ID_PREFIX}-${config.dataset}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  return startSegmentation(options.client, input, {
    workflowId,
    taskQueue: options.taskQueue,
    staticSummary: options.staticSummary ?? `Customer segments of ${config.dataset}: ${basename(input.inputs.customers)} vs ${basename(input.inputs.population)}`,
    memo: options.memo,
  });
}

/**
 * What the Temporal UI shows as the run's details: where its inputs and outputs are, with which settings. A
 * markdown list, one item per line (lines joined by a single newline would render as one paragraph).
 */
export function runDetailsMarkdown(input: SegmentationInput): string {
  return [
    `**population** \`${input.inputs.population}\``,
    `**customers** \`${input.inputs.customers}\``,
    `**feature summary** \`${input.inputs.featureSummary}\``,
    `**output** \`${input.outDir}\` (checkpoints in \`${input.storeDir}\`)`,
    `**config** \`${JSON.stringify(input.config)}\``,
  ]
    .map((line) => `- ${line}`)
    .join('\n');
}

/** Polls the progress query and reports each step once as it finishes; resolves with the workflow's result. */
export async function followRun(
  handle: WorkflowHandle,
  onStep: (step: StepProgress) => void,
  pollMs = 500,
): Promise<SegmentationOutcome> {
  const reported = new Set<string>();
  const report = (steps: StepProgress[]) => {
    for (const step of steps) {
      if ((step.status === 'done' || step.status === 'failed' || step.status === 'cancelled') && !reported.has(step.name)) {
        reported.add(step.name);
        onStep(step);
      }
    }
  };
  let finished = false;
  const result = handle.result().finally(() => {
    finished = true;
  }) as Promise<SegmentationOutcome>;
  while (!finished) {
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
    if (finished) break;
    try {
      report((await handle.query<RunProgress>('progress')).steps);
    } catch {
      // The query fails while the workflow has no worker yet or is finishing; the next poll catches up.
    }
  }
  const outcome = await result;
  report(outcome.steps);
  return outcome;
}

function formatFigure(value: number | string | boolean): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    return Math.abs(value) < 1 ? value.toFixed(4) : value.toFixed(2);
  }
  return String(value);
}

export function formatStepLine(step: StepProgress): string {
  const mark = step.status === 'done' ? '✓' : step.status === 'cancelled' ? '⊘' : '✗';
  const time = step.seconds !== undefined ? `${step.seconds.toFixed(1)}s` : '';
  const reused = step.reused ? ' (reused checkpoint)' : '';
  const figures = Object.entries(step.figures ?? {})
    .map(([key, value]) => `${key}=${formatFigure(value)}`)
    .join('  ');
  return `${mark} ${step.name.padEnd(12)} ${time.padStart(7)}${reused}  ${step.error ?? figures}`;
}
