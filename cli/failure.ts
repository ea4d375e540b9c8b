/**
 * One line for a failed run: the step that failed and the root cause, not the wrappers around it
 * ("Workflow execution failed" → "Activity task failed" → the step's own error).
 */
import { ActivityFailure, ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { ACTIVITY_STEPS } from './steps';

export interface FailureSummary {
  /** The step whose activity failed, when an activity failed. */
  step?: string;
  /** The innermost cause's message. */
  message: string;
  /** The innermost cause's type (ApplicationFailure type or error class), e.g. InputError. */
  type?: string;
  kind: 'failed' | 'cancelled' | 'terminated' | 'timed out';
}

export function summariseFailure(error: unknown): FailureSummary {
  let step: string | undefined;
  let kind: FailureSummary['kind'] = 'failed';
  let deepest = error as Error;
  for (let cause: Error | undefined = error as Error; cause; cause = (cause as Error & { cause?: Error }).cause) {
    if (cause instanceof ActivityFailure) step ??= ACTIVITY_STEPS[cause.activityType] ?? cause.activityType;
    if (cause instanceof CancelledFailure) kind = 'cancelled';
    if (cause instanceof TerminatedFailure) kind = 'terminated';
    if (cause instanceof TimeoutFailure && kind === 'failed') kind = 'timed out';
    deepest = cause;
  }
  const type = deepest instanceof ApplicationFailure ? (deepest.type ?? undefined) : deepest?.name && deepest.name !== 'Error' ? deepest.name : undefined;
  return { step, message: deepest?.message ?? String(error), type, kind };
}

/** "✗ drift failed — ValidationError: results.json in /x: …" */
export function formatFailure(summary: FailureSummary): string {
  const where = summary.step ? `${summary.step} ` : 'run ';
  if (summary.kind !== 'failed' && (!summary.step || summary.kind === 'terminated')) return `✗ ${where}${summary.kind}${summary.message ? ` — ${summary.message}` : ''}`;
  return `✗ ${where}${summary.kind} — ${summary.type && summary.type !== 'ApplicationFailure' ? `${summary.type}: ` : ''}${summary.message}`;
}
