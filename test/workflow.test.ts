/**
 * The whole segmentation workflow on generated data, through a real Temporal dev server, real DuckDB and real
 * files: every step runs as an activity, results and targeting lists are published, planted segments are found.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followRun, startRun } from '../cli/run';
import { queryRows, toNumber, withDuckDb } from '../core/duckdb';
import { datasetInputs, generateDataset } from '../tools/generator';
import { scoreFile } from '../core/scoring';
import { findTemporalCli } from '../temporal/cli-binary';
import { adjustedRandIndex } from '../core/stats/agreement';
import { Results, ResultsSchema } from '../schemas/results';
import { STEP_NAMES, SegmentationOutcome } from '../workflows/segmentation';
import { TestTemporal, connectTestTemporal } from './support/temporal';

jest.setTimeout(15 * 60_000);

const PUBLISHED_SPARSE_COLUMNS = ['AGER_TYP', 'GEBURTSJAHR', 'TITEL_KZ', 'ALTER_HH', 'KK_KUNDENTYP', 'KBA05_BAUMAX'];

let temporal: TestTemporal;
let dataDir: string;
let truth: { segments: { id: number }[]; overRepresented: number[]; underRepresented: number[] };

beforeAll(async () => {
  temporal = await connectTestTemporal();
  dataDir = mkdtempSync(join(tmpdir(), 'segments-wf-data-'));
  await generateDataset({ outDir: dataDir, populationRows: 24_000, customerRows: 6_000, seed: 11 });
  truth = JSON.parse(readFileSync(join(dataDir, 'truth.json'), 'utf8'));
});

afterAll(async () => {
  await temporal?.close();
});

async function run(
  outDir: string,
  config: Record<string, unknown>,
  storeDir?: string,
  previousOutDir?: string,
): Promise<{ outcome: SegmentationOutcome; workflowId: string }> {
  const handle = await startRun({
    client: temporal.client,
    taskQueue: temporal.taskQueue,
    ...datasetInputs(dataDir),
    outDir,
    config,
    storeDir,
    previousOutDir,
  });
  const outcome = await temporal.withWorker(() => followRun(handle, () => undefined, 200));
  return { outcome, workflowId: handle.workflowId };
}

async function readAssignments(path: string): Promise<Map<number, number>> {
  const rows = await withDuckDb({}, (conn) => queryRows(conn, `SELECT "row", cluster FROM read_parquet('${path}') ORDER BY "row"`));
  return new Map(rows.map((r) => [toNumber(r.row), toNumber(r.cluster)]));
}

function readTruth(file: string): { segment: number; heavy: boolean }[] {
  return readFileSync(join(dataDir, file), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [, segment, heavy] = line.split(';');
      return { segment: Number(segment), heavy: heavy === '1' };
    });
}

describe('segmentation workflow', () => {
  let outDir: string;
  let results: Results;
  let workflowId: string;
  let CONFIG: Record<string, unknown>;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'segments-wf-out-'));
    CONFIG = { kMin: 2, kMax: 12, k: truth.segments.length, finalInits: 3, silhouetteSample: 1000 };
    const { outcome, workflowId: id } = await run(outDir, CONFIG);
    workflowId = id;
    expect(outcome.steps.map((s) => [s.name, s.status])).toEqual(STEP_NAMES.map((name) => [name, 'done']));
    results = ResultsSchema.parse(JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')));
  });

  test('cleaning reproduces the published shape: six sparse columns dropped, heavy-missing ~10 % vs ~26 %', () => {
    expect([...results.droppedColumns].sort()).toEqual([...PUBLISHED_SPARSE_COLUMNS].sort());
    expect(results.heavyMissing.populationShare).toBeGreaterThan(0.08);
    expect(results.heavyMissing.populationShare).toBeLessThan(0.13);
    expect(results.heavyMissing.customerShare).toBeGreaterThan(0.22);
    expect(results.heavyMissing.customerShare).toBeLessThan(0.3);
    expect(results.heavyMissing.divergence.length).toBeGreaterThan(10);
  });

  test('PCA keeps the components reaching the variance target; the sweep covers the k range', () => {
    const kept = results.pca.keptComponents;
    expect(results.pca.cumulativeVarianceRatio[kept - 1]).toBeGreaterThanOrEqual(0.9);
    expect(results.pca.cumulativeVarianceRatio[kept - 2]).toBeLessThan(0.9);
    expect(results.kSweep.map((p) => p.k)).toEqual(Array.from({ length: 11 }, (_, i) => i + 2));
    // SSE falls with k (each k is its own k-means++ run, so allow tiny non-monotonic wiggles).
    const sse = results.kSweep.map((p) => p.sse);
    expect(sse[sse.length - 1]).toBeLessThan(sse[0]);
    expect(results.k).toBe(truth.segments.length);
    expect(results.kChosenBy).toBe('fixed');
  });

  test('the final fit takes over the sweep\'s fit at its k as its first init instead of running it again', () => {
    const manifestOf = (step: string) => {
      const dir = join(outDir, 'artifacts', step);
      const [key] = readdirSync(dir).filter((name) => !name.startsWith('.'));
      return JSON.parse(readFileSync(join(dir, key, 'manifest.json'), 'utf8')) as { output: Record<string, unknown> };
    };
    const k = truth.segments.length;
    const final = manifestOf('kmeans-final').output;
    const sweep = manifestOf(`kmeans-k${String(k).padStart(2, '0')}`).output;
    expect(final.initsFromSweep).toBe(1);
    expect(final.inits).toBe(3);
    // the final SSE is the best of the three inits, the sweep's among them
    expect(final.bestRunSse as number).toBeLessThanOrEqual(sweep.bestRunSse as number);
    if (final.bestRun === 0) expect(final.bestRunSse).toBe(sweep.bestRunSse);
  });

  test('assignments cover every input row once; heavy-missing rows are cluster -1', async () => {
    for (const [role, truthFile] of [['population', 'truth_population.csv'], ['customers', 'truth_customers.csv']] as const) {
      const assignments = await readAssignments(join(outDir, 'assignments', `${role}.parquet`));
      const expected = readTruth(truthFile);
      expect(assignments.size).toBe(expected.length);
      expect([...assignments.keys()]).toEqual(expected.map((_, i) => i));
      const heavyShare = [...assignments.values()].filter((c) => c === -1).length / expected.length;
      expect(heavyShare).toBeCloseTo(role === 'population' ? results.heavyMissing.populationShare : results.heavyMissing.customerShare, 10);
    }
  });

  test('the planted segments are recovered (adjusted Rand index) and the planted over/under segments are named', async () => {
    const assignments = await readAssignments(join(outDir, 'assignments', 'population.parquet'));
    const expected = readTruth('truth_population.csv');
    const clean = expected.map((t, row) => ({ ...t, cluster: assignments.get(row)! })).filter((t) => t.cluster >= 0);
    const ari = adjustedRandIndex(clean.map((t) => t.cluster), clean.map((t) => t.segment));
    expect(ari).toBeGreaterThan(0.5);

    // Each cluster stands for the planted segment most of its rows come from.
    const majority = new Map<number, number>();
    for (let cluster = 0; cluster < results.k; cluster++) {
      const counts = new Map<number, number>();
      for (const t of clean) if (t.cluster === cluster) counts.set(t.segment, (counts.get(t.segment) ?? 0) + 1);
      majority.set(cluster, [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0]);
    }
    const clusters = results.clusters.filter((c) => c.id >= 0).sort((a, b) => b.lift - a.lift);
    expect(truth.overRepresented).toContain(majority.get(clusters[0].id));
    expect(truth.underRepresented).toContain(majority.get(clusters[clusters.length - 1].id));
    expect(results.overRepresented).toContain(clusters[0].id);
    expect(results.underRepresented).toContain(clusters[clusters.length - 1].id);
    const heavy = results.clusters.find((c) => c.id === -1)!;
    expect(heavy.representation).toBe('over');
    expect(clusters[0].profile.length).toBeGreaterThan(0);
  });

  test('score assigns a file through the run\'s stored transforms exactly as the run did', async () => {
    const scoredPath = join(outDir, 'rescored-customers.parquet');
    const summary = await scoreFile({ modelDir: join(outDir, 'model'), input: join(dataDir, 'Udacity_CUSTOMERS_Subset.csv'), outPath: scoredPath });
    const scored = await readAssignments(scoredPath);
    const original = await readAssignments(join(outDir, 'assignments', 'customers.parquet'));
    expect(summary.rows).toBe(original.size);
    expect([...scored.entries()]).toEqual([...original.entries()]);
  });

  test('the report is published next to results.json', () => {
    const html = readFileSync(join(outDir, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain(`k = ${results.k}`);
  });

  test('the run is auditable: search attributes, memo and summaries are set', async () => {
    const description = await temporal.client.workflow.getHandle(workflowId).describe();
    const attributes = description.searchAttributes as Record<string, unknown[]>;
    expect(attributes.SegmentsDataset).toEqual(['arvato']);
    expect(attributes.SegmentsOutcome).toEqual(['succeeded']);
    expect(attributes.SegmentsStage).toEqual(['done']);
    expect(attributes.SegmentsK).toEqual([results.k]);
    expect(attributes.SegmentsRunMonth?.[0]).toMatch(/^\d{4}-\d{2}$/);
    expect(description.memo?.results).toMatchObject({ k: results.k });
    expect(await description.staticSummary()).toContain('Customer segments of arvato');
    const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
    const summaries = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.userMetadata?.summary);
    expect(summaries.every((s) => s?.data && Buffer.from(s.data).toString().length > 10)).toBe(true);
  });

  test('no input row reaches the workflow history: payloads are paths and aggregates', async () => {
    const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
    if (process.env.RECORD_HISTORIES) {
      // Fixtures for test/replay.test.ts: re-record only when a workflow change is meant to be incompatible.
      const json = execFileSync(findTemporalCli()!, ['workflow', 'show', '--address', process.env.TEMPORAL_TEST_ADDRESS!, '-w', workflowId, '--output', 'json']);
      writeFileSync(join(__dirname, 'fixtures', 'histories', 'segmentation-fixed-k.json'), json);
    }
    const text = JSON.stringify(history);
    expect(text.length).toBeLessThan(400_000);
    const firstDataLine = readFileSync(join(dataDir, 'Udacity_AZDIAS_Subset.csv'), 'utf8').split('\n')[1];
    for (const event of history.events ?? []) {
      for (const payload of [
        ...(event.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
        ...(event.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
      ]) {
        const data = Buffer.from(payload.data ?? new Uint8Array()).toString('utf8');
        expect(data.length).toBeLessThan(64_000);
        expect(data).not.toContain(firstDataLine);
      }
    }
  });

  test('a second run over the same inputs and store reuses every finished step and publishes the same results', async () => {
    const again = mkdtempSync(join(tmpdir(), 'segments-wf-again-'));
    const { outcome } = await run(again, CONFIG, join(outDir, 'artifacts'), outDir);
    const reused = outcome.steps.filter((s) => s.reused).map((s) => s.name);
    // The drift step is new (it compares with the first run), the report is always published.
    expect(reused).toEqual(STEP_NAMES.filter((name) => name !== 'report' && name !== 'drift'));
    const second = ResultsSchema.parse(JSON.parse(readFileSync(join(again, 'results.json'), 'utf8')));
    expect(second.clusters).toEqual(results.clusters);
    expect(second.kSweep).toEqual(results.kSweep);
    expect(results.continuity).toBeNull();
    expect(results.segmentIds).toEqual({ byCentroid: Array.from({ length: results.k }, (_, c) => c), nextId: results.k });
    // Matched with the identical first run: every segment continues itself with its ID, nothing drifted or went.
    expect(second.continuity?.previousOutDir).toBe(outDir);
    expect(readFileSync(join(again, 'report.html'), 'utf8')).toContain('Compared with the previous run');
    expect(readFileSync(join(outDir, 'report.html'), 'utf8')).not.toContain('Compared with the previous run');
    expect(second.continuity!.gone).toEqual([]);
    expect(second.segmentIds).toEqual(results.segmentIds);
    for (const segment of second.continuity!.segments) {
      expect(segment.status).toBe('continued');
      expect(segment.previousId).toBe(segment.id);
      expect(segment.distance ?? 0).toBeLessThan(1e-9);
      expect(segment.customerShareChange).toBeCloseTo(0, 12);
    }
  });
});
