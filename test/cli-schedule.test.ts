/**
 * `segments schedule …` as a user runs it, against the real dev server: create with {YYYY-MM} paths,
 * describe (readable and --json), pause / unpause, backfill of three months (every month runs, one after
 * another, each on its own files), trigger, retry of a scheduled month that failed, delete; a hint when there
 * is no schedule.
 */
import { Client, Connection } from '@temporalio/client';
import { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDataset } from '../tools/generator';
import { cliTestSetup, connectTestClient, segments, spawnSegments, waitForText } from './support/cli';

jest.setTimeout(15 * 60_000);

const { root, env, dataset, configFile } = cliTestSetup('cli-schedule');
const scheduleId = `cli-test-${Date.now()}`;
/** Population rows per month: each run's results name the rows it read, so each month's own files are checked. */
const MONTHS: Record<string, number> = { '2026-01': 5_000, '2026-02': 5_500, '2026-03': 6_000 };
const currentMonth = new Date().toISOString().slice(0, 7);

let client: Client;
let connection: Connection;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  ({ client, connection } = await connectTestClient());
  let seed = 21;
  for (const [month, rows] of Object.entries({ ...MONTHS, [currentMonth]: 4_500, '2025-11': 4_000 })) {
    await generateDataset({ outDir: join(root, 'data', month), populationRows: rows, customerRows: 1_200, seed: seed++ });
  }
  copyFileSync(join(root, 'data', '2026-01', 'AZDIAS_Feature_Summary.csv'), join(root, 'features.csv'));
});

afterAll(async () => {
  worker?.kill('SIGKILL');
  await client?.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await connection?.close();
});

async function completedRuns(expected: number, timeoutMs = 8 * 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs = [];
    for await (const info of client.workflow.list({ query: `SegmentsDataset = '${dataset}'` })) runs.push(info);
    const done = runs.filter((r) => r.status.name !== 'RUNNING');
    if (done.length >= expected) return runs;
    if (Date.now() > deadline) throw new Error(`only ${done.length} of ${expected} runs finished: ${runs.map((r) => `${r.workflowId} ${r.status.name}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

test('describe without a schedule gives a hint (exit 3)', async () => {
  const result = await segments(['schedule', 'describe', '--id', scheduleId], env);
  expect(result.code).toBe(3);
  expect(result.stderr.trim()).toBe(`segments: no schedule "${scheduleId}" — create it with \`segments schedule create …\``);
});

test('create, describe, pause, unpause; backfill of three months runs all three, each on its own files; trigger; retry of a scheduled month; delete', async () => {
  const outTemplate = join(root, 'out', '{YYYY-MM}');
  const created = await segments(
    [
      'schedule', 'create', '--id', scheduleId,
      '--population', join(root, 'data', '{YYYY-MM}', 'Udacity_AZDIAS_Subset.csv'),
      '--customers', join(root, 'data', '{YYYY-MM}', 'Udacity_CUSTOMERS_Subset.csv'),
      '--features', join(root, 'features.csv'),
      '--out', outTemplate,
      '--config', configFile,
      '--day-of-month', '28', '--hour', '23',
    ],
    env,
  );
  expect(created.stderr).not.toMatch(/error/i);
  expect(created.code).toBe(0);
  expect(created.stdout).toContain(`schedule ${scheduleId}`);
  expect(created.stdout).toContain('runs:           day 28 of every month at 23:00 UTC');
  expect(created.stdout).toContain(`storeDir:       ${join(outTemplate, 'artifacts')}`);

  const described = await segments(['schedule', 'describe', '--id', scheduleId, '--json'], env);
  expect(described.code).toBe(0);
  const summary = JSON.parse(described.stdout) as { spec: string; overlap: string; paused: boolean; nextRuns: string[] };
  expect(summary).toMatchObject({ spec: 'day 28 of every month at 23:00 UTC', overlap: 'SKIP', paused: false });
  expect(new Date(summary.nextRuns[0]).getUTCDate()).toBe(28);

  expect((await segments(['schedule', 'pause', '--id', scheduleId], env)).stdout.trim()).toBe(`schedule ${scheduleId} paused`);
  expect((await segments(['schedule', 'describe', '--id', scheduleId], env)).stdout).toContain(`schedule ${scheduleId} (paused)`);
  expect((await segments(['schedule', 'unpause', '--id', scheduleId], env)).stdout.trim()).toBe(`schedule ${scheduleId} unpaused`);

  // No worker yet: the backfilled runs must wait for each other, not be skipped for overlap.
  const backfill = await segments(['schedule', 'backfill', '--id', scheduleId, '--from', '2026-01-01', '--to', '2026-03-31'], env);
  expect(backfill.code).toBe(0);
  expect(backfill.stdout).toContain('backfill of 2026-01, 2026-02, 2026-03 requested (overlap buffer-all)');
  worker = spawnSegments(['worker'], env);
  await waitForText(worker, 'polling');
  const runs = await completedRuns(3);
  expect(runs.map((r) => r.status.name)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
  const months = runs.map((r) => String((r.searchAttributes as Record<string, unknown[]>).SegmentsRunMonth[0])).sort();
  expect(months).toEqual(Object.keys(MONTHS));
  for (const month of months) {
    const results = JSON.parse(readFileSync(join(root, 'out', month, 'results.json'), 'utf8')) as { inputs: { population: { path: string; rows: number } } };
    expect(results.inputs.population.path).toBe(join(root, 'data', month, 'Udacity_AZDIAS_Subset.csv'));
    expect(results.inputs.population.rows).toBe(MONTHS[month]);
    expect(existsSync(join(root, 'out', month, 'artifacts', 'ingest'))).toBe(true);
  }
  // One after another: each month started after the previous one closed.
  const ordered = [...runs].sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  for (let i = 1; i < ordered.length; i++) expect(ordered[i].startTime.getTime()).toBeGreaterThanOrEqual(ordered[i - 1].closeTime!.getTime());
  const listed = JSON.parse((await segments(['runs', '--dataset', dataset, '--month', '2026-02', '--json'], env)).stdout) as { runs: Array<{ outcome: string; month: string }> };
  expect(listed.runs).toEqual([expect.objectContaining({ outcome: 'succeeded', month: '2026-02' })]);

  const triggered = await segments(['schedule', 'trigger', '--id', scheduleId, '--overlap', 'allow-all'], env);
  expect(triggered.code).toBe(0);
  expect(triggered.stdout.trim()).toBe(`schedule ${scheduleId} triggered (overlap allow-all)`);
  const afterTrigger = await completedRuns(4);
  const current = afterTrigger.find((r) => (r.searchAttributes as Record<string, unknown[]>).SegmentsRunMonth[0] === currentMonth);
  expect(current?.status.name).toBe('COMPLETED');
  expect(existsSync(join(root, 'out', currentMonth, 'results.json'))).toBe(true);

  const describedAfter = await segments(['schedule', 'describe', '--id', scheduleId], env);
  expect(describedAfter.stdout).toMatch(/runs so far: 4, skipped for overlap: 0/);

  // A scheduled month that fails at drift (last month's output folder holds a broken results.json) resumes through
  // retry: same month (pinned; a new run has no scheduled time), same store, every step before drift reused.
  const broken = join(root, 'out', '2025-10');
  mkdirSync(broken, { recursive: true });
  writeFileSync(join(broken, 'results.json'), '{"broken": true}');
  const november = await segments(['schedule', 'backfill', '--id', scheduleId, '--from', '2025-11-01', '--to', '2025-11-30'], env);
  expect(november.code).toBe(0);
  const withNovember = await completedRuns(5);
  const failed = withNovember.find((r) => (r.searchAttributes as Record<string, unknown[]>).SegmentsRunMonth[0] === '2025-11')!;
  expect(failed.status.name).toBe('FAILED');
  expect((failed.searchAttributes as Record<string, unknown[]>).SegmentsOutcome).toEqual(['failed:drift']);
  rmSync(join(broken, 'results.json'));
  const retry = await segments(['retry', failed.workflowId, '--no-worker'], env);
  expect(retry.code).toBe(0);
  expect(retry.stdout).toContain('failed at drift');
  expect(retry.stdout).toContain(`checkpoints in ${join(outTemplate, 'artifacts')}`);
  for (const step of ['ingest', 'recode', 'missingness', 'split', 'encode', 'scale', 'pca', 'sweep', 'kmeans', 'map', 'compare']) {
    expect(retry.stdout).toMatch(new RegExp(`✓ ${step} .*\\(reused checkpoint\\)`));
  }
  expect(retry.stdout).toContain(`results: ${join(root, 'out', '2025-11')}/results.json`);
  const retried = await client.workflow.getHandle(failed.workflowId).describe();
  expect((retried.searchAttributes as Record<string, unknown[]>).SegmentsRunMonth).toEqual(['2025-11']);
  const november11 = JSON.parse(readFileSync(join(root, 'out', '2025-11', 'results.json'), 'utf8')) as { inputs: { population: { rows: number } } };
  expect(november11.inputs.population.rows).toBe(4_000);

  expect((await segments(['schedule', 'delete', '--id', scheduleId], env)).stdout.trim()).toBe(`schedule ${scheduleId} deleted`);
  expect((await segments(['schedule', 'describe', '--id', scheduleId], env)).code).toBe(3);
});
