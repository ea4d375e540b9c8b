/**
 * A worker killed in the middle of a checkpoint write (real worker process, real Temporal dev server, real files).
 *
 * The scale step writes its float matrices block by block into the step's temporary folder; the checkpoint exists
 * only once the folder is renamed into place with its manifest. The test single-steps the worker process (SIGSTOP,
 * look, SIGCONT for a few milliseconds, SIGSTOP again) from the moment the scale step's temporary folder appears,
 * and SIGKILLs it at a measured moment: the population matrix partly written (more than 0 bytes, fewer than the
 * finished file's). Then it checks that nothing partial was taken as a checkpoint, starts a new worker, and shows
 * that the run completes with results identical to an uninterrupted run's, the partial work cleared.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256File } from '../core/store/integrity';
import { inspectCheckpoint } from '../core/store/step-store';
import { generateDataset } from '../tools/generator';
import type { SegmentationInput, SegmentationOutcome } from '../workflows/segmentation';
import { TestTemporal, connectTestTemporal, testServerAddress } from './support/temporal';
import { spawnWorkerProcess, waitForOutput } from './support/worker-process';

jest.setTimeout(15 * 60_000);

const CONFIG = { kMin: 2, kMax: 3, k: 3, finalInits: 1, silhouetteSample: 300 };
const STEP = 'scale';
const PARTIAL_FILE = 'population.matrix';

let temporal: TestTemporal;
let root: string;
let inputs: SegmentationInput['inputs'];

beforeAll(async () => {
  temporal = await connectTestTemporal();
  root = mkdtempSync(join(tmpdir(), 'segments-kill-write-'));
  const generated = await generateDataset({ outDir: join(root, 'data'), populationRows: 40_000, customerRows: 8_000, seed: 13 });
  inputs = { population: generated.files.population, customers: generated.files.customers, featureSummary: generated.files.featureSummary };
});

afterAll(async () => {
  await temporal?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function start(outDir: string) {
  const input: SegmentationInput = { inputs, storeDir: join(outDir, 'artifacts'), outDir, config: CONFIG };
  return temporal.client.workflow.start('segmentation', { taskQueue: temporal.taskQueue, workflowId: `kill-write-${randomUUID()}`, args: [input] });
}

/** results.json without what differs between runs of the same data (creation time, step timings and reuse). */
function comparable(outDir: string): unknown {
  const results = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8'));
  delete results.createdAt;
  delete results.steps;
  delete results.lineage;
  return results;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Committed checkpoint folders of the step (temporary and moved-aside folders start with a dot). */
function committed(stepDir: string): string[] {
  return existsSync(stepDir) ? readdirSync(stepDir).filter((name) => !name.startsWith('.')) : [];
}

function temporaryFolders(stepDir: string): string[] {
  return existsSync(stepDir) ? readdirSync(stepDir).filter((name) => name.startsWith('.tmp-')) : [];
}

test('SIGKILL while the scale step writes its matrix: no partial file is taken as a checkpoint; after a restart the run completes with the clean results', async () => {
  // The uninterrupted run: the yardstick, and the finished size of the file to catch half-written.
  const referenceDir = join(root, 'reference');
  await temporal.withWorker(async () => (await start(referenceDir)).result());
  const [referenceKey] = committed(join(referenceDir, 'artifacts', STEP));
  const finishedSize = statSync(join(referenceDir, 'artifacts', STEP, referenceKey, PARTIAL_FILE)).size;
  expect(finishedSize).toBeGreaterThan(4 << 20);

  // The victim: a worker in its own process, the only one polling the task queue.
  const { address, namespace } = testServerAddress();
  const victim = spawnWorkerProcess({ address, namespace, taskQueue: temporal.taskQueue });
  await waitForOutput(victim, 'worker ready');
  const outDir = join(root, 'out');
  const stepDir = join(outDir, 'artifacts', STEP);
  const handle = await start(outDir);

  // Wait for the step's temporary folder, then single-step the worker until the matrix is partly written.
  let caught: { folder: string; file: string; size: number; names: string[] } | undefined;
  let stopped = false;
  try {
    for (let i = 0; i < 60_000 && temporaryFolders(stepDir).length === 0; i++) {
      expect(committed(stepDir)).toEqual([]);
      await sleep(2);
    }
    for (let i = 0; i < 20_000 && !caught; i++) {
      victim.kill('SIGSTOP');
      stopped = true;
      const [folder] = temporaryFolders(stepDir);
      expect(committed(stepDir)).toEqual([]); // the window was missed if the step committed already
      if (folder) {
        const names = readdirSync(join(stepDir, folder));
        const file = names.find((name) => name.startsWith(PARTIAL_FILE));
        const size = file ? statSync(join(stepDir, folder, file)).size : 0;
        if (file && size > 0 && size < finishedSize) {
          caught = { folder, file, size, names };
          break;
        }
      }
      victim.kill('SIGCONT');
      stopped = false;
      await sleep(3);
    }
  } finally {
    victim.kill('SIGKILL');
    if (stopped) victim.kill('SIGCONT');
  }
  await new Promise((resolve) => (victim.exitCode !== null || victim.signalCode !== null ? resolve(undefined) : victim.once('exit', resolve)));
  expect(caught).toBeDefined();
  console.log(`killed the worker with ${caught!.file} at ${caught!.size} of ${finishedSize} bytes; the temporary folder held ${caught!.names.join(', ')}`);

  // Nothing partial became a checkpoint: no committed folder, the temporary folder has no manifest.
  expect(caught!.names).not.toContain('manifest.json');
  expect(committed(stepDir)).toEqual([]);
  expect(temporaryFolders(stepDir)).toEqual([caught!.folder]);

  // A new worker: the step is retried after its heartbeat timeout and computes from scratch.
  const outcome: SegmentationOutcome = await temporal.withWorker(() => handle.result());
  expect(outcome.steps.every((s) => s.status === 'done')).toBe(true);
  expect(outcome.steps.find((s) => s.name === STEP)?.reused).toBe(false);
  expect(comparable(outDir)).toEqual(comparable(referenceDir));

  // The killed worker's partial folder was cleared; the committed checkpoint is sound and equals the clean one.
  expect(temporaryFolders(stepDir)).toEqual([]);
  const [key] = committed(stepDir);
  expect(key).toBe(referenceKey);
  expect(await inspectCheckpoint(join(stepDir, key), key)).toMatchObject({ state: 'sound' });
  expect(await sha256File(join(stepDir, key, PARTIAL_FILE))).toBe(await sha256File(join(referenceDir, 'artifacts', STEP, referenceKey, PARTIAL_FILE)));

  // History: every activity ran once except the killed one, which needed exactly a second attempt.
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes);
  expect(events.filter((e) => e.activityTaskCompletedEventAttributes)).toHaveLength(scheduled.length);
  const retried = events
    .filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1)
    .map((e) => [scheduled.find((s) => String(s.eventId) === String(e.activityTaskStartedEventAttributes!.scheduledEventId))?.activityTaskScheduledEventAttributes?.activityType?.name, e.activityTaskStartedEventAttributes!.attempt]);
  expect(retried).toEqual([['imputeAndScale', 2]]);
});
