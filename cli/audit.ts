/** Watching and auditing runs from the command line: status with a progress bar, past runs, cancel. */
import { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPE } from '../common/constants';
import type { RunProgress } from '../workflows/progress';

function bar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

/** Shows a progress bar until the run ends; returns its final status name. */
export async function watchStatus(client: Client, workflowId: string, write: (line: string) => void, pollMs = 1000): Promise<string> {
  const handle = client.workflow.getHandle(workflowId);
  for (;;) {
    const description = await handle.describe();
    let progress: RunProgress | undefined;
    try {
      progress = await handle.query<RunProgress>('progress');
    } catch {
      // No worker to answer right now: show what visibility knows.
    }
    const status = description.status.name;
    const stage = progress?.stage ?? String((description.searchAttributes as Record<string, unknown[]>)[SEARCH_ATTRIBUTES.stage.name]?.[0] ?? '?');
    write(`${bar(progress?.stepsDone ?? 0, progress?.stepsTotal ?? 0)} ${stage.padEnd(12)} ${status}`);
    if (status !== 'RUNNING') return status;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function attribute(info: WorkflowExecutionInfo, name: string): string {
  const value = (info.searchAttributes as Record<string, unknown[]> | undefined)?.[name]?.[0];
  return value === undefined ? '' : String(value);
}

/** Past runs from Temporal visibility, newest first, with their key figures (from search attributes and memo). */
export async function listRuns(client: Client, limit = 20): Promise<string> {
  const rows: string[][] = [['workflow id', 'status', 'month', 'k', 'outcome', 'heavy pop/cust', 'over', 'started']];
  for await (const info of client.workflow.list({ query: `WorkflowType = '${WORKFLOW_TYPE}' ORDER BY StartTime DESC` })) {
    const memo = (info.memo ?? {}) as { heavyMissing?: { population?: number; customers?: number }; overRepresented?: string };
    const heavy = memo.heavyMissing ? `${pct(memo.heavyMissing.population)} / ${pct(memo.heavyMissing.customers)}` : '';
    rows.push([
      info.workflowId,
      info.status.name,
      attribute(info, SEARCH_ATTRIBUTES.runMonth.name),
      attribute(info, SEARCH_ATTRIBUTES.k.name),
      attribute(info, SEARCH_ATTRIBUTES.outcome.name),
      heavy,
      memo.overRepresented ?? '',
      info.startTime.toISOString().slice(0, 19).replace('T', ' '),
    ]);
    if (rows.length > limit) break;
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

function pct(value: number | undefined): string {
  return value === undefined ? '?' : `${(value * 100).toFixed(1)} %`;
}
