/** Search attributes and UI details of a segmentation run (workflow-safe: no Node APIs). */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../common/constants';
import type { StepProgress } from './progress';

export const SEARCH_KEYS = {
  dataset: defineSearchAttributeKey(SEARCH_ATTRIBUTES.dataset.name, SearchAttributeType.KEYWORD),
  runMonth: defineSearchAttributeKey(SEARCH_ATTRIBUTES.runMonth.name, SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey(SEARCH_ATTRIBUTES.stage.name, SearchAttributeType.KEYWORD),
  k: defineSearchAttributeKey(SEARCH_ATTRIBUTES.k.name, SearchAttributeType.INT),
  outcome: defineSearchAttributeKey(SEARCH_ATTRIBUTES.outcome.name, SearchAttributeType.KEYWORD),
};

/** "2026-11" for a date, in UTC. */
export function monthOf(date: Date): string {
  return date.toISOString().slice(0, 7);
}

/** "2026-10" for "2026-11"; "2025-12" for "2026-01". */
export function previousMonth(month: string): string {
  const [year, mm] = month.split('-').map(Number);
  return mm === 1 ? `${year - 1}-12` : `${year}-${String(mm - 1).padStart(2, '0')}`;
}

/** Paths may hold the run month: `{YYYY-MM}` (also `{YYYY}` and `{MM}`), filled in per run (monthly schedules). */
export function fillMonth(template: string, month: string): string {
  const [year, mm] = month.split('-');
  return template.replace(/\{YYYY-MM\}/g, month).replace(/\{YYYY\}/g, year).replace(/\{MM\}/g, mm);
}

/** The live progress as Temporal markdown, shown as the run's current details in the UI. */
export function progressMarkdown(steps: StepProgress[]): string {
  return steps
    .map((s) => {
      const mark = s.status === 'done' ? '✅' : s.status === 'running' ? '⏳' : s.status === 'failed' ? '❌' : s.status === 'cancelled' ? '⊘' : '▫️';
      const time = s.seconds !== undefined ? ` ${s.seconds.toFixed(1)} s${s.reused ? ' (reused)' : ''}` : '';
      return `${mark} **${s.name}**${time}`;
    })
    .join('\n');
}
