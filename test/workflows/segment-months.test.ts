/**
 * Segment identity month to month, through the real workflow (`--previous`): two monthly runs over new rows of
 * the same planted segments, one segment planted only in the second month and one dropped from it.
 * Done when: ≥ 95 % of the rows of persisting segments keep their segment ID; the planted segment gets a new ID
 * and is listed as new; the dropped one is listed as gone — in results.json, the report and the CLI table.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followRun, startRun } from '../../cli/run';
import { queryRows, toNumber, withDuckDb } from '../../core/duckdb';
import { kneeOfCurve } from '../../core/linalg/knee';
import { datasetInputs, generateDataset } from '../../tools/generator';
import { scoreFile } from '../../core/scoring';
import { Results, ResultsSchema } from '../../schemas/results';
import type { SegmentationOutcome } from '../../workflows/segmentation';
import { TestTemporal, connectTestTemporal } from '../support/temporal';

jest.setTimeout(20 * 60_000);

const ROWS = { population: 20_000, customers: 5_000 };
/**
 * Segment 8 (green avantgarde) is left out of both months: it differs from the others on a few columns only and
 * k-means at this size merges it into a neighbour (a clustering question, issue 9 items 1-3, not an identity one).
 * Segment 0 is planted only in month 2; segment 6 only in month 1.
 */
const CONFIG = { kMin: 7, kMax: 7, k: 7, finalInits: 5, silhouetteSample: 200 };
/**
 * Month 3: the same population as month 2 (new rows), k not fixed but swept over 4..10 with
 * continuity.keepPreviousK: k stays month 2's unless the evidence says otherwise, and the final fit warm-starts.
 */
const KEEP_K_CONFIG = { kMin: 4, kMax: 10, finalInits: 5, silhouetteSample: 200, continuity: { keepPreviousK: true } };
const MONTHS = [
  { seed: 31, dropSegments: [0, 8], config: CONFIG },
  { seed: 32, dropSegments: [6, 8], config: CONFIG },
  { seed: 33, dropSegments: [6, 8], config: KEEP_K_CONFIG },
];
const PLANTED_IN_MONTH_2 = 0;
const DROPPED_IN_MONTH_2 = 6;

let temporal: TestTemporal;
const dataDirs: string[] = [];
const outDirs: string[] = [];
const outcomes: SegmentationOutcome[] = [];
const results: Results[] = [];
const memos: Record<string, unknown>[] = [];

beforeAll(async () => {
  temporal = await connectTestTemporal();
  const root = mkdtempSync(join(tmpdir(), 'segments-months-'));
  for (const [i, { config, ...month }] of MONTHS.entries()) {
    const dataDir = join(root, `data-${i + 1}`);
    await generateDataset({ outDir: dataDir, populationRows: ROWS.population, customerRows: ROWS.customers, ...month });
    const outDir = join(root, `2026-0${i + 1}`);
    const handle = await startRun({
      client: temporal.client,
      taskQueue: temporal.taskQueue,
      ...datasetInputs(dataDir),
      outDir,
      config,
      ...(i > 0 ? { previousOutDir: outDirs[i - 1] } : {}),
    });
    outcomes.push(await temporal.withWorker(() => followRun(handle, () => undefined, 200)));
    memos.push((await handle.describe()).memo ?? {});
    dataDirs.push(dataDir);
    outDirs.push(outDir);
    results.push(ResultsSchema.parse(JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8'))));
  }
});

afterAll(async () => {
  await temporal?.close();
});

/** Planted segment → published segment ID → rows, for one month's population (heavy-missing rows left out). */
async function crossTable(month: number): Promise<Map<number, Map<number, number>>> {
  const truth = readFileSync(join(dataDirs[month], 'truth_population.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => Number(line.split(';')[1]));
  const path = join(outDirs[month], 'assignments', 'population.parquet');
  const rows = await withDuckDb({}, (conn) => queryRows(conn, `SELECT "row", cluster FROM read_parquet('${path}')`));
  const table = new Map<number, Map<number, number>>();
  for (const row of rows) {
    const planted = truth[toNumber(row.row)];
    if (planted < 0) continue;
    const byId = table.get(planted) ?? new Map<number, number>();
    byId.set(toNumber(row.cluster), (byId.get(toNumber(row.cluster)) ?? 0) + 1);
    table.set(planted, byId);
  }
  return table;
}

/** The segment ID most of a planted segment's rows got. */
function modalId(byId: Map<number, number>): number {
  return [...byId.entries()].sort((a, b) => b[1] - a[1])[0][0];
}

/** Rows of planted segments present in both months that got the ID their segment had (by its modal ID) the month before. */
async function keptIds(before: number, after: number): Promise<{ kept: number; total: number; persisting: number[]; worst: number }> {
  const [first, second] = [await crossTable(before), await crossTable(after)];
  const persisting = [...first.keys()].filter((s) => second.has(s)).sort((a, b) => a - b);
  let kept = 0;
  let total = 0;
  let worst = 1;
  for (const planted of persisting) {
    const id = modalId(first.get(planted)!);
    const rows = second.get(planted)!;
    const n = [...rows.values()].reduce((a, b) => a + b, 0);
    kept += rows.get(id) ?? 0;
    total += n;
    worst = Math.min(worst, (rows.get(id) ?? 0) / n);
  }
  return { kept, total, persisting, worst };
}

test('rows of persisting segments keep their segment ID from month to month (≥ 95 %)', async () => {
  const [first, second] = [await crossTable(0), await crossTable(1)];
  const persisting = [...first.keys()].filter((s) => second.has(s));
  expect(persisting.sort()).toEqual([1, 2, 3, 4, 5, 7]);
  let kept = 0;
  let total = 0;
  for (const planted of persisting) {
    const id = modalId(first.get(planted)!);
    const rows = second.get(planted)!;
    const n = [...rows.values()].reduce((a, b) => a + b, 0);
    kept += rows.get(id) ?? 0;
    total += n;
    // Each persisting segment on its own keeps most of its rows too.
    expect((rows.get(id) ?? 0) / n).toBeGreaterThan(0.9);
  }
  console.log(`segment IDs kept: ${kept} of ${total} rows of persisting segments (${((100 * kept) / total).toFixed(2)} %)`);
  expect(kept / total).toBeGreaterThanOrEqual(0.95);
});

test('a segment planted only in month 2 gets a new ID, never a previous one, and is listed as new', async () => {
  const [first, second] = [await crossTable(0), await crossTable(1)];
  const newId = modalId(second.get(PLANTED_IN_MONTH_2)!);
  const firstIds = new Set(results[0].clusters.map((c) => c.id));
  expect(firstIds.has(newId)).toBe(false);
  expect(newId).toBeGreaterThanOrEqual(results[0].segmentIds!.nextId);
  expect(results[1].segmentIds!.nextId).toBeGreaterThan(newId);
  const continuity = results[1].continuity!;
  expect(continuity.previousOutDir).toBe(outDirs[0]);
  const fresh = continuity.segments.filter((s) => s.status === 'new');
  const continuedDistances = continuity.segments.filter((s) => s.status === 'continued' && s.distance !== null).map((s) => s.distance!);
  console.log(
    `month 1 → 2 centroid distances (RMS sd): continued ${Math.min(...continuedDistances).toFixed(3)}–${Math.max(...continuedDistances).toFixed(3)}; ` +
      `new segment to its nearest ${fresh.map((s) => s.distance?.toFixed(3)).join(', ')}; gone to its nearest ${continuity.gone.map((g) => g.nearestDistance?.toFixed(3)).join(', ')}`,
  );
  expect(fresh.map((s) => s.id)).toEqual([newId]);
  expect(fresh[0].distance!).toBeGreaterThan(continuity.maxDistance);
  // Its share change is its whole share (nothing before).
  const cluster = results[1].clusters.find((c) => c.id === newId)!;
  expect(fresh[0].customerShareChange).toBeCloseTo(cluster.customerShare, 12);
  // Persisting segments continued under their month-1 IDs.
  for (const planted of [1, 2, 3, 4, 5, 7]) {
    const id = modalId(first.get(planted)!);
    expect(continuity.segments.find((s) => s.id === id)?.status).toBe('continued');
  }
});

test('a segment dropped in month 2 is listed as gone with the shares it had', async () => {
  const first = await crossTable(0);
  const goneId = modalId(first.get(DROPPED_IN_MONTH_2)!);
  const continuity = results[1].continuity!;
  expect(continuity.gone.map((g) => g.id)).toEqual([goneId]);
  const before = results[0].clusters.find((c) => c.id === goneId)!;
  expect(continuity.gone[0]).toMatchObject({ previousCustomerShare: before.customerShare, previousPersona: before.persona });
  expect(results[1].clusters.some((c) => c.id === goneId)).toBe(false);
});

test('the report\'s key findings and the CLI table use the stable IDs, with personas', async () => {
  const continuity = results[1].continuity!;
  const newId = continuity.segments.find((s) => s.status === 'new')!.id;
  const goneId = continuity.gone[0].id;
  const html = readFileSync(join(outDirs[1], 'report.html'), 'utf8');
  const findings = html.slice(html.indexOf('Key findings'), html.indexOf('</ul>', html.indexOf('Key findings')));
  expect(findings).toMatch(/segment\(s\) continued/);
  expect(findings).toContain(`New segment(s): <b>cluster ${newId}</b>`);
  expect(findings).toContain(`Gone: <b>cluster ${goneId}</b>`);
  for (const cluster of results[1].clusters) expect(cluster.persona.length).toBeGreaterThan(0);
  // The workflow memo (what the Temporal UI shows): every segment by its stable ID with its persona, and the drift figures.
  const memo = memos[1] as { segments: { id: number; persona: string }[]; continuity: Record<string, unknown>; overRepresented: string };
  expect(memo.segments.map((s) => [s.id, s.persona]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(results[1].clusters.map((c) => [c.id, c.persona]));
  expect(memo.continuity).toMatchObject({ new: String(newId), gone: String(goneId) });
  const table = outcomes[1].summaryTable.split('\n');
  expect(table[0]).toMatch(/^cluster +population +customers +lift +verdict +persona$/);
  for (const cluster of results[1].clusters) {
    expect(table.some((line) => line.startsWith(`${cluster.id === -1 ? 'heavy-missing' : cluster.id} `) && line.endsWith(cluster.persona))).toBe(true);
  }
});

test('scoring a file with the published model labels rows with the stable IDs', async () => {
  const scored = join(outDirs[1], 'scored.parquet');
  const summary = await scoreFile({ modelDir: join(outDirs[1], 'model'), input: join(dataDirs[1], 'Udacity_AZDIAS_Subset.csv'), outPath: scored });
  const published = await withDuckDb({}, (conn) =>
    queryRows(conn, `SELECT count(*) AS n FROM read_parquet('${scored}') s JOIN read_parquet('${join(outDirs[1], 'assignments', 'population.parquet')}') a USING ("row") WHERE s.cluster <> a.cluster`),
  );
  expect(toNumber(published[0].n)).toBe(0);
  expect(Object.keys(summary.clusterCounts).map(Number).sort((a, b) => a - b)).toEqual(results[1].clusters.map((c) => c.id).sort((a, b) => a - b));
});

test('continuity.keepPreviousK: month 3 (same population, k swept 4..10) keeps month 2\'s k, warm-starts, and every segment keeps its ID', async () => {
  const [second, third] = [results[1], results[2]];
  const knee = kneeOfCurve(third.kSweep.map((p) => p.k), third.kSweep.map((p) => p.sse)).k;
  console.log(`k by month: ${results.map((r) => r.k).join(' → ')} (month 3 kept by continuity.keepPreviousK; its SSE knee alone would pick k = ${knee}); warm start ${third.continuity?.warmStart}`);
  expect(third.k).toBe(second.k);
  expect(third.kChosenBy).toBe('previous');
  expect(third.kSweep.map((p) => p.k)).toEqual([4, 5, 6, 7, 8, 9, 10]);
  const continuity = third.continuity!;
  expect(continuity.kFromPrevious).toBe(true);
  expect(['kept', 'not-kept']).toContain(continuity.warmStart);
  expect(continuity.segments.filter((s) => s.status === 'new')).toEqual([]);
  expect(continuity.gone).toEqual([]);
  const { kept, total, persisting, worst } = await keptIds(1, 2);
  expect(persisting).toEqual([0, 1, 2, 3, 4, 5, 7]);
  console.log(`month 2 → 3: segment IDs kept by ${kept} of ${total} rows of persisting segments (${((100 * kept) / total).toFixed(2)} %; worst segment ${(100 * worst).toFixed(1)} %)`);
  expect(kept / total).toBeGreaterThanOrEqual(0.95);
  const html = readFileSync(join(outDirs[2], 'report.html'), 'utf8');
  expect(html).toContain('k kept from the previous run (warm start');
});
