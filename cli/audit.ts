/** Watching and auditing runs from the command line: status (progress until the end), past runs. */
import { Client, WorkflowExecutionInfo, WorkflowFailedError } from '@temporalio/client';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPE } from '../common/constants';
import type { RunProgress } from '../workflows/progress';
import { FailureSummary, formatFailure, summariseFailure } from './failure';

function bar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

function attribute(searchAttributes: unknown, name: string): string | undefined {
  const value = (searchAttributes as Record<string, unknown[]> | undefined)?.[name]?.[0];
  return value === undefined ? undefined : String(value);
}

/** How many workers poll a task queue for workflow and activity tasks (DescribeTaskQueue). */
export async function taskQueuePollers(client: Client, taskQueue: string): Promise<number> {
  let pollers = 0;
  // TaskQueueType 1 = workflow tasks, 2 = activity tasks (temporal.api.enums.v1.TaskQueueType).
  for (const taskQueueType of [1, 2]) {
    const response = await client.workflowService.describeTaskQueue({ namespace: client.options.namespace, taskQueue: { name: taskQueue }, taskQueueType });
    // The server remembers a poller for minutes after it is gone; a live one polls at least once a minute.
    const recent = Date.now() - 90_000;
    pollers += (response.pollers ?? []).filter((p) => !p.lastAccessTime?.seconds || Number(p.lastAccessTime.seconds) * 1000 >= recent).length;
  }
  return pollers;
}

export interface StatusResult {
  workflowId: string;
  runId: string;
  status: string;
  stage: string;
  outcome: string | undefined;
  month: string | undefined;
  stepsDone: number;
  stepsTotal: number;
  /** Where results.json is, for a completed run. */
  results?: string;
  failure?: FailureSummary;
}

export interface WatchOptions {
  /** A progress line; `replace` is true when it overwrites the previous one (a TTY), false when a new line. */
  write: (line: string) => void;
  /** Warnings (no worker); default: nothing. */
  warn?: (line: string) => void;
  /** Follow until the run ends (default) or report once. */
  follow?: boolean;
  pollMs?: number;
  /** Re-check for workers every this many polls while nothing moves. */
  pollerCheckEvery?: number;
}

/** Follows a run until it ends (or once); calls write only when the line changes. */
export async function watchStatus(client: Client, workflowId: string, options: WatchOptions): Promise<StatusResult> {
  const handle = client.workflow.getHandle(workflowId);
  const pollMs = options.pollMs ?? 1000;
  let last = '';
  let warnedNoWorker = false;
  for (let poll = 0; ; poll++) {
    const description = await handle.describe();
    const status = description.status.name;
    let progress: RunProgress | undefined;
    try {
      // A query needs a worker; without one it would wait, so it gets a few seconds, then visibility answers.
      progress = await client.withDeadline(Date.now() + 5000, () => handle.query<RunProgress>('progress'));
    } catch {
      // No worker to answer right now: show what visibility knows.
    }
    const outcome = attribute(description.searchAttributes, SEARCH_ATTRIBUTES.outcome.name);
    const stage = progress?.stage ?? attribute(description.searchAttributes, SEARCH_ATTRIBUTES.stage.name) ?? 'pending';
    if (status === 'RUNNING' && !warnedNoWorker && poll % (options.pollerCheckEvery ?? 5) === 0) {
      if ((await taskQueuePollers(client, description.taskQueue)) === 0) {
        warnedNoWorker = true;
        options.warn?.(`warning: no worker polls task queue "${description.taskQueue}" — the run cannot advance; start one with \`segments worker\``);
      }
    }
    const line = `${bar(progress?.stepsDone ?? 0, progress?.stepsTotal ?? 0)} ${stage.padEnd(14)} ${status}`;
    if (line !== last) {
      options.write(line);
      last = line;
    }
    if (status !== 'RUNNING' || options.follow === false) {
      const result: StatusResult = {
        workflowId,
        runId: description.runId,
        status,
        stage,
        outcome,
        month: attribute(description.searchAttributes, SEARCH_ATTRIBUTES.runMonth.name),
        stepsDone: progress?.stepsDone ?? 0,
        stepsTotal: progress?.stepsTotal ?? 0,
      };
      if (status === 'COMPLETED') {
        const outDir = (description.memo?.results as { outDir?: string } | undefined)?.outDir;
        if (outDir) result.results = `${outDir}/results.json`;
      } else if (status !== 'RUNNING') {
        try {
          await handle.result();
        } catch (error) {
          result.failure = summariseFailure(error instanceof WorkflowFailedError ? error : error);
          if (!result.failure.step && stage !== 'pending') result.failure.step = stage.replace(/^(failed|cancelled):/, '');
        }
      }
      return result;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export function statusEndLine(result: StatusResult): string {
  if (result.results) return `results: ${result.results}`;
  if (result.failure) return formatFailure(result.failure);
  return `${result.workflowId}: ${result.status}`;
}

/** A run's outcome as the audit shows it: the workflow status when it is final, else the search attribute. */
export function effectiveOutcome(info: Pick<WorkflowExecutionInfo, 'status' | 'searchAttributes'>): string {
  const recorded = attribute(info.searchAttributes, SEARCH_ATTRIBUTES.outcome.name) ?? '';
  switch (info.status.name) {
    case 'COMPLETED':
      return 'succeeded';
    case 'CANCELLED':
      return 'cancelled';
    case 'TERMINATED':
      return 'terminated';
    case 'TIMED_OUT':
      return 'timed-out';
    case 'FAILED':
      return recorded.startsWith('failed') ? recorded : 'failed';
    default:
      return 'running';
  }
}

export interface RunSummary {
  workflowId: string;
  runId: string;
  status: string;
  month: string;
  dataset: string;
  k: number | null;
  outcome: string;
  heavyMissing: { population?: number; customers?: number } | null;
  overRepresented: string | null;
  startTime: string;
  closeTime: string | null;
}

export interface ListRunsOptions {
  month?: string;
  /** Matches the start of the outcome: `failed` matches failed:drift. */
  outcome?: string;
  dataset?: string;
  limit?: number;
  /** 1-based page of `limit` runs, newest first. */
  page?: number;
}

function quote(value: string): string {
  return `'${value.replace(/'/g, "\\'")}'`;
}

/**
 * Past runs from Temporal visibility, newest first. Visibility on SQLite (dev server) and on PostgreSQL/MySQL
 * (without Elasticsearch) rejects ORDER BY, so the query only filters (equality, which every store supports)
 * and the runs are sorted here.
 */
export async function listRuns(client: Client, options: ListRunsOptions = {}): Promise<{ runs: RunSummary[]; total: number; page: number; pages: number }> {
  const clauses = [`WorkflowType = ${quote(WORKFLOW_TYPE)}`];
  if (options.month) clauses.push(`${SEARCH_ATTRIBUTES.runMonth.name} = ${quote(options.month)}`);
  if (options.dataset) clauses.push(`${SEARCH_ATTRIBUTES.dataset.name} = ${quote(options.dataset)}`);
  const all: RunSummary[] = [];
  for await (const info of client.workflow.list({ query: clauses.join(' AND '), pageSize: 1000 })) {
    const memo = (info.memo ?? {}) as { heavyMissing?: { population?: number; customers?: number }; overRepresented?: string };
    const outcome = effectiveOutcome(info);
    if (options.outcome && !outcome.startsWith(options.outcome)) continue;
    const k = attribute(info.searchAttributes, SEARCH_ATTRIBUTES.k.name);
    all.push({
      workflowId: info.workflowId,
      runId: info.runId,
      status: info.status.name,
      month: attribute(info.searchAttributes, SEARCH_ATTRIBUTES.runMonth.name) ?? '',
      dataset: attribute(info.searchAttributes, SEARCH_ATTRIBUTES.dataset.name) ?? '',
      k: k === undefined ? null : Number(k),
      outcome,
      heavyMissing: memo.heavyMissing ?? null,
      overRepresented: memo.overRepresented ?? null,
      startTime: info.startTime.toISOString(),
      closeTime: info.closeTime?.toISOString() ?? null,
    });
  }
  all.sort((a, b) => b.startTime.localeCompare(a.startTime) || a.workflowId.localeCompare(b.workflowId));
  const limit = options.limit ?? 20;
  const pages = Math.max(1, Math.ceil(all.length / limit));
  const page = options.page ?? 1;
  return { runs: all.slice((page - 1) * limit, page * limit), total: all.length, page, pages };
}

export function formatRuns(listing: { runs: RunSummary[]; total: number; page: number; pages: number }): string {
  if (listing.total === 0) return 'no runs found';
  const rows: string[][] = [['workflow id', 'status', 'month', 'k', 'outcome', 'heavy pop/cust', 'over', 'started']];
  for (const run of listing.runs) {
    rows.push([
      run.workflowId,
      run.status,
      run.month,
      run.k === null ? '' : String(run.k),
      run.outcome,
      run.heavyMissing ? `${pct(run.heavyMissing.population)} / ${pct(run.heavyMissing.customers)}` : '',
      run.overRepresented ?? '',
      run.startTime.slice(0, 19).replace('T', ' '),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const table = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
  const footer = listing.pages > 1 ? `\npage ${listing.page} of ${listing.pages} (${listing.total} runs)${listing.page < listing.pages ? `; --page ${listing.page + 1} for older runs` : ''}` : '';
  return table + footer;
}

function pct(value: number | undefined): string {
  return value === undefined ? '?' : `${(value * 100).toFixed(1)} %`;
}
