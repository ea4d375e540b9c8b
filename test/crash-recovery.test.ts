/**
 * Durability against a real dev server: a worker process SIGKILLed in the middle of a long step, and the
 * Temporal server itself restarted mid-run. Both runs complete with the results of an uninterrupted run,
 * and no finished activity runs twice.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followRun, startRun } from '../cli/run';
import { generateDataset } from '../tools/generator';
import { ResultsSchema } from '../schemas/results';
import { startDevServer } from '../temporal/dev-server';
import { createWorker } from '../worker/create-worker';
import type { RunProgress } from '../workflows/progress';
import { TestTemporal, connectTestTemporal, testServerAddress } from './support/temporal';
import { spawnWorkerProcess, waitForOutput } from './support/worker-process';

jest.setTimeout(15 * 60_000);

// Long enough final fit to be caught mid-way: several inits, no early stop.
const CONFIG = { kMin: 2, kMax: 4, k: 9, finalInits: 4, relativeTolerance: 1e-12, maxIterations: 400, silhouetteSample: 300 };

let temporal: TestTemporal;
let dataDir: string;

beforeAll(async () => {
  temporal = await connectTestTemporal();
  dataDir = mkdtempSync(join(tmpdir(), 'segments-crash-data-'));
  await generateDataset({ outDir: dataDir, populationRows: 60_000, customerRows: 13_000, seed: 21 });
});

afterAll(async () => {
  await temporal?.close();
});

function inputs(outDir: string) {
  return {
    population: join(dataDir, 'Udacity_AZDIAS_Subset.csv'),
    customers: join(dataDir, 'Udacity_CUSTOMERS_Subset.csv'),
    featureSummary: join(dataDir, 'AZDIAS_Feature_Summary.csv'),
    outDir,
    config: CONFIG,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('SIGKILL of the worker in the middle of the final k-means: a new worker resumes it, nothing finished reruns', async () => {
  const reference = mkdtempSync(join(tmpdir(), 'segments-crash-ref-'));
  await temporal.withWorker(async () => followRun(await startRun({ client: temporal.client, taskQueue: temporal.taskQueue, ...inputs(reference) }), () => undefined));
  const expected = ResultsSchema.parse(JSON.parse(readFileSync(join(reference, 'results.json'), 'utf8')));

  const { address, namespace } = testServerAddress();
  const taskQueue = `crash-${randomUUID()}`;
  const outDir = mkdtempSync(join(tmpdir(), 'segments-crash-out-'));
  const victim = spawnWorkerProcess({ address, namespace, taskQueue });
  await waitForOutput(victim, 'worker ready');
  const handle = await startRun({ client: temporal.client, taskQueue, ...inputs(outDir) });

  // Wait until the final k-means has heartbeated a resumable state, then kill the worker outright.
  let killedAt = 0;
  for (let i = 0; i < 600 && !killedAt; i++) {
    await sleep(250);
    const progress = await handle.query<RunProgress>('progress').catch(() => undefined);
    if (progress?.stage !== 'kmeans') continue;
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    if (pending.some((a) => a.heartbeatDetails?.payloads?.length)) {
      victim.kill('SIGKILL');
      killedAt = Date.now();
    }
  }
  expect(killedAt).toBeGreaterThan(0);

  const rescuer = await createWorker({ connection: await NativeConnection.connect({ address }), namespace, taskQueue });
  const outcome = await rescuer.runUntil(followRun(handle, () => undefined));
  const resumptionSeconds = (Date.now() - killedAt) / 1000;
  console.log(`crash test: run completed ${resumptionSeconds.toFixed(1)} s after the kill; kmeans ${JSON.stringify(outcome.steps.find((s) => s.name === 'kmeans')?.figures)}`);

  const kmeans = outcome.steps.find((s) => s.name === 'kmeans')!;
  expect(String(kmeans.figures?.resumedFrom)).toMatch(/^init \d+, iteration \d+$/);
  const results = ResultsSchema.parse(JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')));
  expect(results.finalSse).toBeCloseTo(expected.finalSse, 3);
  expect(results.clusters.map((c) => [c.id, c.populationCount, c.customerCount])).toEqual(
    expected.clusters.map((c) => [c.id, c.populationCount, c.customerCount]),
  );

  // Every activity was scheduled once; only the killed one needed a second attempt.
  const history = await handle.fetchHistory();
  const scheduled = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
  const completed = (history.events ?? []).filter((e) => e.activityTaskCompletedEventAttributes);
  expect(completed.length).toBe(scheduled.length);
  const attempts = (history.events ?? [])
    .filter((e) => e.activityTaskStartedEventAttributes)
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
  expect(attempts.filter((a) => a > 1)).toEqual([2]);
});

test('the Temporal server restarts mid-run on the same database: the run completes', async () => {
  const dbDir = mkdtempSync(join(tmpdir(), 'segments-restart-db-'));
  const dbFilename = join(dbDir, 'temporal.db');
  let server = await startDevServer({ dbFilename, port: 0, ui: false, stopOnProcessExit: true });
  const address = server.address;
  const port = Number(address.split(':').pop());
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: server.namespace });
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueue = `restart-${randomUUID()}`;
  const worker = await createWorker({ connection: nativeConnection, namespace: server.namespace, taskQueue });
  const outDir = mkdtempSync(join(tmpdir(), 'segments-restart-out-'));
  try {
    const outcome = await worker.runUntil(async () => {
      const handle = await startRun({ client, taskQueue, ...inputs(outDir) });
      for (let i = 0; i < 600; i++) {
        await sleep(250);
        const progress = await handle.query<RunProgress>('progress').catch(() => undefined);
        if (progress && progress.stepsDone >= 3) break;
      }
      await server.stop();
      await sleep(2000);
      server = await startDevServer({ dbFilename, port, ui: false, stopOnProcessExit: true });
      return followRun(handle, () => undefined);
    });
    expect(outcome.steps.every((s) => s.status === 'done')).toBe(true);
    expect(ResultsSchema.parse(JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8'))).k).toBe(CONFIG.k);
  } finally {
    await nativeConnection.close();
    await connection.close();
    await server.stop();
  }
});
