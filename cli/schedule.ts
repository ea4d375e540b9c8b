/**
 * The monthly re-segmentation as a Temporal Schedule: by default on day 1 at 02:00 UTC, overlapping runs
 * skipped, missed runs caught up within a configurable window. Input paths may hold `{YYYY-MM}`; each run
 * fills in the month it was scheduled for (a backfill of March reads March's files).
 */
import { Client, ScheduleHandle, ScheduleOverlapPolicy } from '@temporalio/client';
import { resolve } from 'node:path';
import { TASK_QUEUE, WORKFLOW_ID_PREFIX } from '../common/constants';
import { parseConfig } from '../schemas/config';
import { RunInputOptions, runDetailsMarkdown, segmentationInput } from './run';

export const DEFAULT_SCHEDULE_ID = 'segments-monthly';

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
  // One store for all months: steps whose inputs did not change keep their checkpoints.
  const input = segmentationInput({ ...options, storeDir: options.storeDir ?? resolve(options.outDir, '..', 'artifacts') });
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

export async function describeSchedule(client: Client, scheduleId = DEFAULT_SCHEDULE_ID): Promise<string> {
  const description = await client.schedule.getHandle(scheduleId).describe();
  const lines = [
    `schedule ${description.scheduleId}${description.state.paused ? ' (paused)' : ''}`,
    `  spec: ${JSON.stringify(description.spec.calendars ?? description.spec)}`,
    `  overlap: ${description.policies.overlap}, catch-up window: ${Math.round(description.policies.catchupWindow / 86_400_000)} days`,
    `  next runs: ${description.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()).join(', ') || 'none'}`,
    `  runs so far: ${description.info.numActionsTaken}, skipped for overlap: ${description.info.numActionsSkippedOverlap}`,
  ];
  for (const action of description.info.recentActions.slice(-5)) {
    lines.push(`  ran ${action.scheduledAt.toISOString()} → ${action.action.workflow.workflowId}`);
  }
  return lines.join('\n');
}
