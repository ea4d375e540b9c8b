/**
 * The monthly re-segmentation as a Temporal Schedule: by default on day 1 at 02:00 UTC, overlapping runs
 * skipped, missed runs caught up within a configurable window. Input paths may hold `{YYYY-MM}`; each run
 * fills in the month it was scheduled for (a backfill of March reads March's files).
 */
import { Client, ScheduleDescription, ScheduleHandle, ScheduleOverlapPolicy } from '@temporalio/client';
import { TASK_QUEUE, WORKFLOW_ID_PREFIX } from '../common/constants';
import { parseConfig } from '../schemas/config';
import { RunInputOptions, runDetailsMarkdown, segmentationInput } from './run';

export const DEFAULT_SCHEDULE_ID = 'segments-monthly';

/** `--overlap` values: what happens when a run is due while another one of the schedule is still going. */
export const OVERLAP_POLICIES = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
} as const;
export type OverlapName = keyof typeof OVERLAP_POLICIES;

export interface CreateScheduleOptions extends RunInputOptions {
  client: Client;
  scheduleId?: string;
  /** Day of month and UTC hour of each run (defaults 1 and 2). */
  dayOfMonth?: number;
  hour?: number;
  /** How far back missed runs are caught up after an outage, e.g. '30 days'. */
  catchupWindow?: string;
  taskQueue?: string;
  paused?: boolean;
}

export async function createSchedule(options: CreateScheduleOptions): Promise<ScheduleHandle> {
  const config = parseConfig(options.config ?? {});
  // The store defaults to <out>/artifacts with the month filled in, the same folder `segments run --out` of
  // that month's folder uses: a hand-started run (or `segments retry`) of a scheduled month reuses its steps.
  const input = segmentationInput({ ...options, config });
  return options.client.schedule.create({
    scheduleId: options.scheduleId ?? DEFAULT_SCHEDULE_ID,
    spec: { calendars: [{ dayOfMonth: options.dayOfMonth ?? 1, hour: options.hour ?? 2, minute: 0 }] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: (options.catchupWindow ?? '30 days') as '30 days' },
    action: {
      type: 'startWorkflow',
      workflowType: 'segmentation',
      workflowId: `${WORKFLOW_ID_PREFIX}-${config.dataset}-monthly`,
      taskQueue: options.taskQueue ?? TASK_QUEUE,
      args: [input],
      staticSummary: `Monthly customer segments of ${config.dataset}`,
      staticDetails: runDetailsMarkdown(input),
    },
    state: { paused: options.paused ?? false, note: 'monthly re-segmentation (segments schedule create)' },
  });
}

/** First instant of each calendar month from `from` to `to` (inclusive), in UTC. */
export function monthsCovered(from: Date, to: Date): Date[] {
  const months: Date[] = [];
  for (let d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1)); d <= to; d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))) {
    months.push(d);
  }
  return months;
}

/**
 * Backfills [from, to]: one backfill request per calendar month, each covering that month only, all with the
 * given overlap policy (default BUFFER_ALL: the months run one after another, none skipped because the previous
 * one is still going — the schedule's own SKIP would drop all but the first).
 */
export async function backfillSchedule(
  client: Client,
  scheduleId: string,
  from: Date,
  to: Date,
  overlap: ScheduleOverlapPolicy = ScheduleOverlapPolicy.BUFFER_ALL,
): Promise<string[]> {
  const months = monthsCovered(from, to);
  const requests = months.map((start) => {
    const nextMonth = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    return { start: start < from ? from : start, end: new Date(Math.min(nextMonth.getTime() - 1, to.getTime())), overlap };
  });
  await client.schedule.getHandle(scheduleId).backfill(requests);
  return months.map((m) => m.toISOString().slice(0, 7));
}

type Range = { start: number | string; end?: number | string; step?: number };

function ranges(values: Range[] | undefined, pad = 0): string {
  if (!values?.length) return '*';
  return values
    .map(({ start, end, step }) => {
      const a = String(start).padStart(pad, '0');
      if (end === undefined || end === start) return a;
      return `${a}-${String(end).padStart(pad, '0')}${step && step !== 1 ? `/${step}` : ''}`;
    })
    .join(',');
}

/** "day 1 of every month at 02:00 UTC" for the project's calendars; a compact form for anything else. */
export function formatScheduleSpec(spec: ScheduleDescription['spec']): string {
  const parts: string[] = [];
  for (const calendar of (spec.calendars ?? []) as unknown as Array<Record<string, Range[] | undefined>>) {
    const month = ranges(calendar.month as Range[] | undefined);
    const dayOfWeek = ranges(calendar.dayOfWeek as Range[] | undefined);
    const time = `${ranges(calendar.hour, 2)}:${ranges(calendar.minute, 2)}`;
    // The SDK describes months and weekdays by name: JANUARY-DECEMBER, SUNDAY-SATURDAY.
    const months = ['*', '1-12', 'JANUARY-DECEMBER'].includes(month) ? 'every month' : `months ${month.toLowerCase()}`;
    const everyDay = ['*', '0-6', 'SUNDAY-SATURDAY'].includes(dayOfWeek);
    const days = everyDay ? `day ${ranges(calendar.dayOfMonth)} of ${months}` : `${dayOfWeek.toLowerCase()} in ${months}`;
    parts.push(`${days} at ${time} UTC`);
  }
  for (const interval of spec.intervals ?? []) parts.push(`every ${JSON.stringify(interval.every)} ms`);
  return parts.join('; ') || 'no calendar (trigger or backfill only)';
}

export interface ScheduleSummary {
  scheduleId: string;
  paused: boolean;
  note: string | undefined;
  spec: string;
  overlap: string;
  catchupWindowDays: number;
  workflowId: string | undefined;
  inputs: Record<string, unknown> | undefined;
  nextRuns: string[];
  runsSoFar: number;
  skippedForOverlap: number;
  recent: Array<{ scheduledAt: string; workflowId: string; runId: string }>;
}

export async function scheduleSummary(client: Client, scheduleId = DEFAULT_SCHEDULE_ID): Promise<ScheduleSummary> {
  const description = await client.schedule.getHandle(scheduleId).describe();
  const action = description.action as { workflowId?: string; args?: unknown[] };
  const input = action.args?.[0] as { inputs?: Record<string, unknown>; outDir?: string; storeDir?: string } | undefined;
  return {
    scheduleId: description.scheduleId,
    paused: description.state.paused,
    note: description.state.note,
    spec: formatScheduleSpec(description.spec),
    overlap: String(description.policies.overlap),
    catchupWindowDays: Math.round(description.policies.catchupWindow / 86_400_000),
    workflowId: action.workflowId,
    inputs: input ? { ...input.inputs, outDir: input.outDir, storeDir: input.storeDir } : undefined,
    nextRuns: description.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()),
    runsSoFar: description.info.numActionsTaken,
    skippedForOverlap: description.info.numActionsSkippedOverlap,
    recent: description.info.recentActions.slice(-5).map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
      runId: a.action.workflow.firstExecutionRunId,
    })),
  };
}

export function formatScheduleSummary(s: ScheduleSummary): string {
  const lines = [
    `schedule ${s.scheduleId}${s.paused ? ' (paused)' : ''}`,
    `  runs:           ${s.spec}`,
    `  overlap:        ${s.overlap.toLowerCase().replace(/_/g, '-')} (a run due while another is going), catch-up window ${s.catchupWindowDays} days`,
  ];
  for (const [name, value] of Object.entries(s.inputs ?? {})) lines.push(`  ${`${name}:`.padEnd(16)}${String(value)}`);
  lines.push(`  next runs:      ${s.nextRuns.join(', ') || 'none'}`);
  lines.push(`  runs so far: ${s.runsSoFar}, skipped for overlap: ${s.skippedForOverlap}`);
  for (const action of s.recent) lines.push(`  ran ${action.scheduledAt} → ${action.workflowId}`);
  return lines.join('\n');
}

/** Kept for callers of the earlier API: the readable description as one string. */
export async function describeSchedule(client: Client, scheduleId = DEFAULT_SCHEDULE_ID): Promise<string> {
  return formatScheduleSummary(await scheduleSummary(client, scheduleId));
}
