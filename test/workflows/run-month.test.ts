import { fillMonth, monthOf, previousMonth } from '../../workflows/run-month';
import { summariseProgress } from '../../workflows/progress';

test('run months and {YYYY-MM} path templates', () => {
  expect(monthOf(new Date('2026-03-01T02:00:00Z'))).toBe('2026-03');
  expect(previousMonth('2026-03')).toBe('2026-02');
  expect(previousMonth('2026-01')).toBe('2025-12');
  expect(fillMonth('/data/{YYYY-MM}/azdias.csv', '2026-03')).toBe('/data/2026-03/azdias.csv');
  expect(fillMonth('/data/{YYYY}/{MM}/x-{YYYY-MM}.csv', '2026-03')).toBe('/data/2026/03/x-2026-03.csv');
  expect(fillMonth('/data/plain.csv', '2026-03')).toBe('/data/plain.csv');
});

test('progress names the running or failed stage', () => {
  expect(summariseProgress([{ name: 'a', status: 'done' }, { name: 'b', status: 'running' }]).stage).toBe('b');
  expect(summariseProgress([{ name: 'a', status: 'done' }, { name: 'b', status: 'failed' }]).stage).toBe('failed:b');
  expect(summariseProgress([{ name: 'a', status: 'done' }]).stage).toBe('done');
  // A cancelled run's stage agrees with its outcome (cancelled), never failed:<step>.
  expect(summariseProgress([{ name: 'a', status: 'done' }, { name: 'sweep', status: 'cancelled' }]).stage).toBe('cancelled:sweep');
});
