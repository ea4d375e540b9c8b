/** The CLI's pure parts: date checks, the months a backfill covers, the readable schedule spec, failure lines. */
import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState } from '@temporalio/common';
import { InvalidArgumentError } from 'commander';
import { formatFailure, summariseFailure } from '../cli/failure';
import { parseDate } from '../cli/main';
import { formatScheduleSpec, monthsCovered } from '../cli/schedule';

test('dates: real calendar days only, with a message naming the format', () => {
  expect(parseDate('2026-02-28').toISOString()).toBe('2026-02-28T00:00:00.000Z');
  for (const bad of ['2026-13-01', '2026-02-30', '2026-00-10', '26-01-01', 'yesterday']) expect(() => parseDate(bad)).toThrow(InvalidArgumentError);
  expect(() => parseDate('2026-13-01')).toThrow(/YYYY-MM-DD/);
});

test('a backfill covers every calendar month between its dates', () => {
  const months = (from: string, to: string) => monthsCovered(new Date(from), new Date(to)).map((d) => d.toISOString().slice(0, 7));
  expect(months('2026-01-01', '2026-03-31T23:59:59Z')).toEqual(['2026-01', '2026-02', '2026-03']);
  expect(months('2026-01-15', '2026-02-01')).toEqual(['2026-01', '2026-02']);
  expect(months('2025-12-01', '2026-01-31')).toEqual(['2025-12', '2026-01']);
});

test('the schedule spec reads as a sentence', () => {
  const calendar = { dayOfMonth: [{ start: 1, end: 1, step: 1 }], hour: [{ start: 2, end: 2, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }], month: [{ start: 'JANUARY', end: 'DECEMBER', step: 1 }], dayOfWeek: [{ start: 'SUNDAY', end: 'SATURDAY', step: 1 }] };
  expect(formatScheduleSpec({ calendars: [calendar] } as never)).toBe('day 1 of every month at 02:00 UTC');
});

test('the failure line names the step and the root cause, not the wrappers', () => {
  const root = ApplicationFailure.create({ message: 'results.json in /x has no version', type: 'ValidationError', nonRetryable: true });
  const activity = new ActivityFailure('Activity task failed', 'compareWithPreviousRun', '14', RetryState.NON_RETRYABLE_FAILURE, 'worker', root);
  const workflow = new Error('Workflow execution failed', { cause: activity });
  expect(formatFailure(summariseFailure(workflow))).toBe('✗ drift failed — ValidationError: results.json in /x has no version');
  const cancelled = new ActivityFailure('Activity task cancelled', 'sweepK', '9', RetryState.CANCEL_REQUESTED, 'worker', new CancelledFailure('Workflow canceled'));
  expect(formatFailure(summariseFailure(new Error('Workflow execution cancelled', { cause: cancelled })))).toMatch(/^✗ sweep cancelled/);
});
