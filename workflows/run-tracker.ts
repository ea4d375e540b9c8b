/**
 * Everything a segmentation run shows about itself while the workflow runs its steps: the step table (the
 * `progress` query), the search attributes (dataset, month, stage, k, outcome), the live details in the UI and
 * the memo at the end. Workflow code: deterministic, no Node APIs.
 */
import { defineQuery, isCancellation, setCurrentDetails, setHandler, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { StepReport } from '../schemas/steps';
import { RunProgress, StepProgress, progressMarkdown, summariseProgress } from './progress';
import { SEARCH_KEYS } from './search-attributes';

export const progressQuery = defineQuery<RunProgress>('progress');

/** The innermost cause's message ("ValidationError: …"), not the "Activity task failed" wrapper around it. */
function rootCause(error: unknown): string {
  let deepest = error as Error & { cause?: Error; type?: string | null };
  while (deepest.cause) deepest = deepest.cause as Error & { cause?: Error; type?: string | null };
  return deepest.type && deepest.type !== 'Error' ? `${deepest.type}: ${deepest.message}` : deepest.message;
}

export class RunTracker<Name extends string> {
  readonly steps: StepProgress[];

  /** Registers the progress query and sets the run's first search attributes (stage: the first step). */
  constructor(names: readonly Name[], run: { dataset: string; runMonth: string }) {
    this.steps = names.map((name) => ({ name, status: 'pending' }));
    setHandler(progressQuery, () => summariseProgress(this.steps));
    upsertSearchAttributes([
      { key: SEARCH_KEYS.dataset, value: run.dataset },
      { key: SEARCH_KEYS.runMonth, value: run.runMonth },
      { key: SEARCH_KEYS.stage, value: names[0] },
      { key: SEARCH_KEYS.outcome, value: 'running' },
    ]);
  }

  /** Runs one step: marks it running (stage attribute, details), then done with its figures, or failed (outcome). */
  async step<R extends StepReport>(name: Name, run: () => Promise<R>): Promise<R> {
    const entry = this.steps.find((s) => s.name === name)!;
    entry.status = 'running';
    upsertSearchAttributes([{ key: SEARCH_KEYS.stage, value: name }]);
    setCurrentDetails(progressMarkdown(this.steps));
    try {
      const report = await run();
      Object.assign(entry, { status: 'done', seconds: report.ref.seconds, reused: report.ref.reused, figures: report.figures });
      setCurrentDetails(progressMarkdown(this.steps));
      return report;
    } catch (error) {
      entry.status = isCancellation(error) ? 'cancelled' : 'failed';
      entry.error = rootCause(error);
      upsertSearchAttributes([{ key: SEARCH_KEYS.outcome, value: isCancellation(error) ? 'cancelled' : `failed:${name}` }]);
      setCurrentDetails(progressMarkdown(this.steps));
      throw error;
    }
  }

  /** The k the run settled on, as a search attribute. */
  chose(k: number): void {
    upsertSearchAttributes([{ key: SEARCH_KEYS.k, value: k }]);
  }

  /** Name, time and reuse of every finished step (what results.json records). */
  finishedSteps(): { name: string; seconds: number; reused: boolean }[] {
    return this.steps.filter((s) => s.status === 'done').map((s) => ({ name: s.name, seconds: s.seconds ?? 0, reused: s.reused ?? false }));
  }

  /** The run succeeded: outcome and stage attributes, and the key results in the memo. */
  succeeded(memo: Record<string, unknown>): void {
    upsertSearchAttributes([{ key: SEARCH_KEYS.outcome, value: 'succeeded' }, { key: SEARCH_KEYS.stage, value: 'done' }]);
    upsertMemo(memo);
  }
}
