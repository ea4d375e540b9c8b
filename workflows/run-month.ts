/** The month a run is for, and `{YYYY-MM}` path templates filled with it (monthly schedules; workflow-safe). */

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
