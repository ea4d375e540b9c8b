/** The monthly schedule against a real dev server: create, trigger, search attributes, pause/unpause, overlap skip. */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSchedule, describeSchedule } from '../cli/schedule';
import { generateDataset } from '../tools/generator';
import { TestTemporal, connectTestTemporal } from './support/temporal';

jest.setTimeout(10 * 60_000);

let temporal: TestTemporal;
let dataDir: string;

beforeAll(async () => {
  temporal = await connectTestTemporal();
  dataDir = mkdtempSync(join(tmpdir(), 'segments-schedule-data-'));
  await generateDataset({ outDir: dataDir, populationRows: 4_000, customerRows: 1_000, seed: 5 });
});

afterAll(async () => {
  await temporal?.close();
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('a monthly schedule: created, triggered, audited, paused, and overlapping triggers skipped', async () => {
  const scheduleId = `test-schedule-${Date.now()}`;
  const outRoot = mkdtempSync(join(tmpdir(), 'segments-schedule-out-'));
  const handle = await createSchedule({
    client: temporal.client,
    scheduleId,
    taskQueue: temporal.taskQueue,
    population: join(dataDir, 'Udacity_AZDIAS_Subset.csv'),
    customers: join(dataDir, 'Udacity_CUSTOMERS_Subset.csv'),
    featureSummary: join(dataDir, 'AZDIAS_Feature_Summary.csv'),
    outDir: join(outRoot, 'runs', '{YYYY-MM}'),
    config: { dataset: 'schedule-test', kMin: 2, kMax: 4, k: 3, finalInits: 1, silhouetteSample: 200 },
  });
  try {
    const described = await handle.describe();
    expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(described.spec.calendars?.[0]).toMatchObject({ dayOfMonth: [{ start: 1, end: 1, step: 1 }], hour: [{ start: 2, end: 2, step: 1 }] });
    expect(await describeSchedule(temporal.client, scheduleId)).toContain('next runs');

    // No worker polls yet, so the first run stays open and the second trigger overlaps it.
    await handle.trigger(ScheduleOverlapPolicy.SKIP);
    const first = await waitFor(async () => (await handle.describe()).info.recentActions[0]);
    await handle.trigger(ScheduleOverlapPolicy.SKIP);
    await waitFor(async () => ((await handle.describe()).info.numActionsSkippedOverlap >= 1 ? true : undefined));
    expect((await handle.describe()).info.numActionsTaken).toBe(1);

    const run = temporal.client.workflow.getHandle(first.action.workflow.workflowId);
    await temporal.withWorker(() => run.result());
    const description = await run.describe();
    const attributes = description.searchAttributes as Record<string, unknown[]>;
    expect(attributes.SegmentsDataset).toEqual(['schedule-test']);
    expect(attributes.SegmentsOutcome).toEqual(['succeeded']);
    const month = String(attributes.SegmentsRunMonth[0]);
    expect(month).toMatch(/^\d{4}-\d{2}$/);
    expect((description.memo?.results as { outDir: string }).outDir).toBe(join(outRoot, 'runs', month));

    await handle.pause('test');
    expect((await handle.describe()).state.paused).toBe(true);
    await handle.unpause('test');
    expect((await handle.describe()).state.paused).toBe(false);
  } finally {
    await handle.delete();
  }
});
