/**
 * Damaged checkpoints end to end (real worker, real Temporal dev server, real files): after a clean run, one file
 * of one step's checkpoint is truncated, emptied or deleted, and the run is repeated with the same store and
 * output. It must complete, recompute the damaged step (directly, or through the workflow's recovery when a
 * downstream step loads it), move the damaged folder aside, and publish results identical to the clean run's.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset } from '../tools/generator';
import type { SegmentationInput, SegmentationOutcome } from '../workflows/segmentation';
import { TestTemporal, connectTestTemporal } from './support/temporal';

jest.setTimeout(20 * 60_000);

const CONFIG = { kMin: 2, kMax: 3, k: 3, finalInits: 1, silhouetteSample: 200 };
let temporal: TestTemporal;
let stopWorker: (() => void) | undefined;
let workerDone: Promise<unknown> | undefined;
let root: string;
let files: SegmentationInput['inputs'];
let outDir: string;
let storeDir: string;
let clean: string;

async function run(): Promise<SegmentationOutcome> {
  const input: SegmentationInput = { inputs: files, storeDir, outDir, config: CONFIG };
  const handle = await temporal.client.workflow.start('segmentation', { taskQueue: temporal.taskQueue, workflowId: `faults-${randomUUID()}`, args: [input] });
  return handle.result();
}

/** results.json without what differs between runs of the same data (creation time, step timings and reuse). */
function comparable(): unknown {
  const results = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8'));
  delete results.createdAt;
  delete results.steps;
  delete results.lineage;
  return results;
}

/** The largest file of a step's (only) checkpoint folder; its manifest when the step writes no other file. */
function largestFile(step: string): string {
  const [key] = readdirSync(join(storeDir, step)).filter((name) => !name.startsWith('.'));
  const dir = join(storeDir, step, key);
  const names = readdirSync(dir).filter((name) => name !== 'manifest.json' && statSync(join(dir, name)).isFile());
  names.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size);
  return join(dir, names[0] ?? 'manifest.json');
}

beforeAll(async () => {
  temporal = await connectTestTemporal();
  workerDone = temporal.withWorker(() => new Promise<void>((resolve) => (stopWorker = resolve)));
  workerDone.catch(() => undefined);
  root = mkdtempSync(join(tmpdir(), 'segments-faults-'));
  const generated = await generateDataset({ outDir: join(root, 'data'), populationRows: 600, customerRows: 200, seed: 3 });
  files = { population: generated.files.population, customers: generated.files.customers, featureSummary: generated.files.featureSummary };
  outDir = join(root, 'out');
  storeDir = join(outDir, 'artifacts');
  await run();
  clean = JSON.stringify(comparable());
});

afterAll(async () => {
  stopWorker?.();
  await workerDone?.catch(() => undefined);
  await temporal?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const STEPS = ['ingest', 'recode', 'missingness', 'split', 'encode', 'scale', 'pca', 'kmeans-k02', 'kmeans-k03', 'kmeans-final', 'map', 'compare'];
const DAMAGES: [string, (path: string) => void][] = [
  ['truncated', (path) => truncateSync(path, Math.floor(statSync(path).size / 2))],
  ['emptied', (path) => truncateSync(path, 0)],
  ['deleted', (path) => rmSync(path)],
];

describe.each(DAMAGES)('a %s checkpoint file', (_name, damage) => {
  test.each(STEPS)('of step %s is detected, recomputed and the results equal the clean run', async (step) => {
    const target = largestFile(step);
    damage(target);
    const outcome = await run();
    expect(outcome.steps.every((s) => s.status === 'done')).toBe(true);
    expect(JSON.stringify(comparable())).toBe(clean);
    // Recomputed: the file is back, and the damaged folder was kept aside.
    expect(statSync(target).size).toBeGreaterThan(0);
    expect(readdirSync(join(storeDir, step)).some((name) => name.startsWith('.damaged-'))).toBe(true);
    // The published assignments open (the map checkpoint's copies).
    expect(readFileSync(join(outDir, 'assignments', 'population.parquet')).subarray(-4).toString('latin1')).toBe('PAR1');
  });
});
