/**
 * Upstream recomputation end to end (real worker, real Temporal dev server, real files). After a clean run, one
 * step's checkpoint is damaged between runs and the run is reset (as from the Temporal UI's Reset) to the moment
 * after that step finished: the step itself is not run again, so a LATER step is the first to load the damaged
 * checkpoint. That step must fail once as DamagedCheckpoint, the workflow must re-run the step that made the
 * checkpoint (it recomputes: the damaged folder was moved aside), then the later step again, and the run must
 * complete and publish results equal to the clean run's.
 *
 * The third case damages the map step's assignments, which only the report step reads: the report's load finds
 * them damaged, the map step recomputes, and what is published (verified copy by copy) equals the clean run.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetProblem, sha256File } from '../core/store/integrity';
import { generateDataset } from '../tools/generator';
import type { SegmentationInput, SegmentationOutcome } from '../workflows/segmentation';
import { TestTemporal, connectTestTemporal } from './support/temporal';

jest.setTimeout(10 * 60_000);

const CONFIG = { kMin: 2, kMax: 3, k: 3, finalInits: 1, silhouetteSample: 200 };
let temporal: TestTemporal;
let stopWorker: (() => void) | undefined;
let workerDone: Promise<unknown> | undefined;
let root: string;
let files: SegmentationInput['inputs'];
let outDir: string;
let storeDir: string;
let clean: { results: string; assignments: Record<string, string> };

async function run(): Promise<{ workflowId: string; runId: string; outcome: SegmentationOutcome }> {
  const input: SegmentationInput = { inputs: files, storeDir, outDir, config: CONFIG };
  const handle = await temporal.client.workflow.start('segmentation', { taskQueue: temporal.taskQueue, workflowId: `upstream-${randomUUID()}`, args: [input] });
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, outcome: await handle.result() };
}

/** results.json without what differs between runs of the same data (creation time, step timings and reuse). */
function comparableResults(): string {
  const results = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8'));
  delete results.createdAt;
  delete results.steps;
  delete results.lineage;
  return JSON.stringify(results);
}

async function publishedAssignments(): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const name of readdirSync(join(outDir, 'assignments')).sort()) hashes[name] = await sha256File(join(outDir, 'assignments', name));
  return hashes;
}

/** The step's (only) checkpoint folder. */
function checkpointDir(step: string): string {
  const keys = readdirSync(join(storeDir, step)).filter((name) => !name.startsWith('.'));
  expect(keys).toHaveLength(1);
  return join(storeDir, step, keys[0]);
}

function largestFile(dir: string): string {
  const names = readdirSync(dir).filter((name) => name !== 'manifest.json' && statSync(join(dir, name)).isFile());
  names.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size);
  return join(dir, names[0]);
}

async function historyOf(workflowId: string, runId: string) {
  return (await temporal.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
}

/** Resets a finished run to the workflow task that scheduled `activity` (what the UI's Reset does); returns the new run. */
async function resetBefore(workflowId: string, runId: string, activity: string): Promise<string> {
  const events = await historyOf(workflowId, runId);
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity);
  expect(scheduled).toBeDefined();
  const { runId: newRunId } = await temporal.client.workflowService.resetWorkflowExecution({
    namespace: temporal.client.options.namespace,
    workflowExecution: { workflowId, runId },
    reason: `test: ${activity} finds its upstream checkpoint damaged`,
    workflowTaskFinishEventId: scheduled!.activityTaskScheduledEventAttributes!.workflowTaskCompletedEventId,
    requestId: randomUUID(),
  });
  return newRunId!;
}

beforeAll(async () => {
  temporal = await connectTestTemporal();
  workerDone = temporal.withWorker(() => new Promise<void>((resolve) => (stopWorker = resolve)));
  workerDone.catch(() => undefined);
  root = mkdtempSync(join(tmpdir(), 'segments-upstream-'));
  const generated = await generateDataset({ outDir: join(root, 'data'), populationRows: 600, customerRows: 200, seed: 5 });
  files = { population: generated.files.population, customers: generated.files.customers, featureSummary: generated.files.featureSummary };
  outDir = join(root, 'out');
  storeDir = join(outDir, 'artifacts');
  await run();
  clean = { results: comparableResults(), assignments: await publishedAssignments() };
});

afterAll(async () => {
  stopWorker?.();
  await workerDone?.catch(() => undefined);
  await temporal?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** [damaged step's folder, the activity that made it, the later activity that first loads it after the reset] */
const CASES: [string, string, string][] = [
  ['recode', 'recodeMissingCodes', 'assessColumnMissingness'],
  ['pca', 'fitPca', 'fitFinalKMeans'],
  ['map', 'mapCustomers', 'publishResults'],
];

test.each(CASES)('a damaged %s checkpoint found by a later step (%s → %s): the producing step re-runs, the run completes, published results equal the clean run', async (step, producer, consumer) => {
  // A run over the same store (every step reused), then the damage, then the reset to just before the consumer.
  const original = await run();
  expect(original.outcome.steps.every((s) => s.status === 'done')).toBe(true);
  const dir = checkpointDir(step);
  const target = largestFile(dir);
  truncateSync(target, Math.floor(statSync(target).size / 2));
  // What is published must come from this run: the previous run's published files are removed.
  for (const name of ['results.json', 'report.html', 'assignments']) rmSync(join(outDir, name), { recursive: true, force: true });

  const runId = await resetBefore(original.workflowId, original.runId, consumer);
  const outcome: SegmentationOutcome = await temporal.client.workflow.getHandle(original.workflowId, runId).result();
  expect(outcome.steps.every((s) => s.status === 'done')).toBe(true);

  // History of the reset run: the consumer failed once, as DamagedCheckpoint naming the folder; then the producer
  // was scheduled (again, after the failure) and completed, then the consumer again, and it completed.
  const events = await historyOf(original.workflowId, runId);
  const typeOf = (scheduledId: unknown) =>
    events.find((e) => String(e.eventId) === String(scheduledId))?.activityTaskScheduledEventAttributes?.activityType?.name;
  const failures = events.filter((e) => e.activityTaskFailedEventAttributes).map((e) => e.activityTaskFailedEventAttributes!);
  expect(failures.map((f) => typeOf(f.scheduledEventId))).toEqual([consumer]);
  expect(failures[0].failure?.applicationFailureInfo?.type).toBe('DamagedCheckpoint');
  expect(failures[0].failure?.message).toContain(dir);
  const failedAt = events.findIndex((e) => e.activityTaskFailedEventAttributes);
  const after = events.slice(failedAt + 1).filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
  expect(after.slice(0, 2)).toEqual([producer, consumer]);
  const completedAfter = events.slice(failedAt + 1).filter((e) => e.activityTaskCompletedEventAttributes).map((e) => typeOf(e.activityTaskCompletedEventAttributes!.scheduledEventId));
  expect(completedAfter.slice(0, 2)).toEqual([producer, consumer]);
  // The producer really recomputed (its report after the failure says: not reused, into the same folder).
  const recomputed = events.slice(failedAt + 1).find((e) => typeOf(e.activityTaskCompletedEventAttributes?.scheduledEventId) === producer);
  const report = defaultPayloadConverter.fromPayload<{ ref: { dir: string; reused: boolean } }>(recomputed!.activityTaskCompletedEventAttributes!.result!.payloads![0]);
  expect(report.ref).toMatchObject({ dir, reused: false });

  // The damaged folder was kept aside; the recomputed checkpoint is whole; what was published equals the clean run.
  expect(readdirSync(join(storeDir, step)).some((name) => name.startsWith('.damaged-'))).toBe(true);
  expect(statSync(target).size).toBeGreaterThan(0);
  if (target.endsWith('.parquet')) expect(await parquetProblem(target)).toBeUndefined();
  expect(existsSync(join(outDir, 'results.json'))).toBe(true);
  expect(comparableResults()).toBe(clean.results);
  expect(await publishedAssignments()).toEqual(clean.assignments);
  for (const name of Object.keys(clean.assignments)) expect(await parquetProblem(join(outDir, 'assignments', name))).toBeUndefined();
});
