/**
 * `segments retry <workflow-id>`: resumes a failed, cancelled, terminated or timed-out run from the step it
 * stopped at.
 *
 * How: a new run of the same workflow id over the same input — the same checkpoint store, the same output
 * folder, the month pinned to the original's — rather than a reset of the old history. Every step is
 * checkpointed under a key of its inputs, so each step that finished before returns its checkpoint in
 * milliseconds ("reused checkpoint") and the failed step is the first that computes. Unlike a reset, this works
 * whatever the history (a cancelled or terminated run, a run recorded by older workflow code), for hand-started
 * and scheduled runs alike, and it can take a corrected `--previous` folder. Reset (`temporal workflow reset`)
 * would need the same workflow code and replays a history whose last attempt failed with the same input.
 */
import { Client, WorkflowExecutionDescription, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { resolve } from 'node:path';
import { SEARCH_ATTRIBUTES } from '../common/constants';
import type { SegmentationInput } from '../workflows/segmentation';
import { startSegmentation } from './run';

export class RetryRefused extends Error {}

const RETRYABLE_STATUSES = ['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'];

export interface RetryPlan {
  original: WorkflowExecutionDescription;
  input: SegmentationInput;
  /** The step the original stopped at (from its search attributes). */
  fromStep: string;
}

/** Reads the original run's input from its first history event and checks that it can be retried. */
export async function planRetry(client: Client, workflowId: string, overrides: { previousOutDir?: string } = {}): Promise<RetryPlan> {
  const handle = client.workflow.getHandle(workflowId);
  const original = await handle.describe();
  const status = original.status.name;
  if (status === 'RUNNING') throw new RetryRefused(`${workflowId} is still running; wait for it or stop it first (segments cancel ${workflowId})`);
  if (status === 'COMPLETED') throw new RetryRefused(`${workflowId} completed; nothing to retry (segments run starts a new run)`);
  if (!RETRYABLE_STATUSES.includes(status)) throw new RetryRefused(`${workflowId} is ${status}; only failed, cancelled, terminated or timed-out runs can be retried`);
  if (original.type !== 'segmentation') throw new RetryRefused(`${workflowId} is a ${original.type} workflow, not a segmentation run`);
  const history = await handle.fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (!payload) throw new RetryRefused(`cannot read the input of ${workflowId} from its history`);
  const recorded = defaultPayloadConverter.fromPayload<SegmentationInput>(payload);
  const attributes = original.searchAttributes as Record<string, unknown[]>;
  const month = attributes[SEARCH_ATTRIBUTES.runMonth.name]?.[0];
  const outcome = String(attributes[SEARCH_ATTRIBUTES.outcome.name]?.[0] ?? '');
  const stage = String(attributes[SEARCH_ATTRIBUTES.stage.name]?.[0] ?? 'ingest');
  const input: SegmentationInput = {
    ...recorded,
    // A scheduled run's month came from its scheduled time, which a new run does not have: pin it.
    ...(typeof month === 'string' ? { runMonth: recorded.runMonth ?? month } : {}),
    ...(overrides.previousOutDir ? { previousOutDir: resolve(overrides.previousOutDir) } : {}),
  };
  return { original, input, fromStep: outcome.startsWith('failed:') ? outcome.slice('failed:'.length) : stage };
}

/** Starts the retry: the same workflow id (a new run of it), the same task queue. */
export async function startRetry(client: Client, plan: RetryPlan): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const { original } = plan;
  return startSegmentation(client, plan.input, {
    workflowId: original.workflowId,
    taskQueue: original.taskQueue,
    staticSummary: `Retry of run ${original.runId} (${original.status.name.toLowerCase()} at ${plan.fromStep}), reusing its finished steps`,
    memo: { retryOf: { workflowId: original.workflowId, runId: original.runId, status: original.status.name, fromStep: plan.fromStep } },
  });
}
