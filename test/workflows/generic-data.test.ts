/**
 * The workflow on a small generic data set (not Arvato: its own feature summary, no encoding rules file), through
 * the real dev server, worker, DuckDB and files. It holds what generic data brings out:
 *   - a categorical column with two levels and no rule becomes one binary feature (the README's promise);
 *   - customer values the population does not have are listed in results.json and the report;
 *   - every column misses more than the default 5 %, yet the heavy-missing rows are compared with the clean rows
 *     (on the least-missing columns), and results.json and the report say how;
 *   - model/ carries the lineage: input hashes, row counts, config, code version, workflow and run ids;
 *   - a reused drift checkpoint names the previous-run folder it was given, not an earlier one with equal content;
 *   - the Temporal UI's markdown (Details, Current Details) renders one line per item, and each sweep activity
 *     has its own summary.
 */
import { Parser, HtmlRenderer } from 'commonmark';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDetailsMarkdown, segmentationInput } from '../../cli/run';
import { codeVersion } from '../../core/lineage';
import { LineageSchema } from '../../schemas/lineage';
import { ResultsSchema, type Results } from '../../schemas/results';
import type { SegmentationOutcome } from '../../workflows/segmentation';
import { TestTemporal, connectTestTemporal } from '../support/temporal';
import { mulberry32 as rng } from '../support/rng';

jest.setTimeout(10 * 60_000);

const POPULATION_ROWS = 3_000;
const CUSTOMER_ROWS = 800;
const CONFIG = { dataset: 'generic', kMin: 2, kMax: 5, finalInits: 1, silhouetteSample: 300, seed: 3 };
const SCALES = ['A', 'B', 'C', 'D', 'E', 'F'];

/**
 * Three planted segments over six 1..5 scales, a two-level SEX and a four-level REGION. Every column misses
 * 6-16 % of its values (scales coded -1 or empty, SEX and REGION empty); a tenth of the rows miss four scales
 * (heavy-missing). Customers come mostly from segment 0, and some of them live in REGION "Z", which no
 * population row has.
 */
function table(rows: number, seed: number, customers: boolean): string {
  const random = rng(seed);
  const lines = [[...SCALES, 'SEX', 'REGION'].join(';')];
  for (let i = 0; i < rows; i++) {
    const segment = customers ? (random() < 0.7 ? 0 : random() < 0.5 ? 1 : 2) : Math.floor(random() * 3);
    const heavy = random() < 0.1;
    const cells = SCALES.map((_, j) => {
      const missShare = 0.07 + 0.018 * j;
      if ((heavy && j < 4) || random() < missShare) return random() < 0.5 ? '-1' : '';
      const centre = [1.5, 3, 4.5][segment] + (j % 2 === 0 ? 0 : segment === 1 ? 1 : -0.5);
      return String(Math.min(5, Math.max(1, Math.round(centre + (random() - 0.5) * 1.6))));
    });
    const sex = random() < 0.06 ? '' : random() < (segment === 0 ? 0.7 : 0.4) ? '1' : '2';
    const region = random() < 0.07 ? '' : customers && random() < 0.05 ? 'Z' : ['N', 'S', 'E', 'W'][Math.floor(random() * 4)];
    lines.push([...cells, sex, region].join(';'));
  }
  return lines.join('\n') + '\n';
}

const SUMMARY = [
  'attribute;information_level;type;missing_or_unknown',
  ...SCALES.map((name) => `${name};person;ordinal;[-1]`),
  'SEX;person;categorical;[]',
  'REGION;region;categorical;[]',
].join('\n');

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function readResults(outDir: string): Results {
  return ResultsSchema.parse(JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')));
}

/** Markdown as a CommonMark renderer shows it (the Temporal UI renders Details and Current Details as markdown). */
function markdownHtml(markdown: string): string {
  return new HtmlRenderer().render(new Parser().parse(markdown));
}

/** The text of each block a person sees: list items and paragraphs. */
function markdownLines(markdown: string): string[] {
  const entities: Record<string, string> = { '&quot;': '"', '&amp;': '&', '&lt;': '<', '&gt;': '>', '&#39;': "'" };
  return [...markdownHtml(markdown).matchAll(/<(li|p)>([\s\S]*?)<\/\1>/g)].map((m) =>
    m[2]
      .replace(/<[^>]+>/g, '')
      .replace(/&(quot|amp|lt|gt|#39);/g, (e) => entities[e])
      .trim(),
  );
}

/** Customer rows holding REGION "Z" that are clustered (not heavy-missing: those are never encoded). */
function cleanRowsInRegionZ(customersCsv: string, maxRowMissing: number): number {
  const [, ...lines] = customersCsv.trim().split('\n');
  return lines
    .map((line) => line.split(';'))
    .filter((cells) => cells[cells.length - 1] === 'Z' && cells.filter((cell) => cell === '' || cell === '-1').length <= maxRowMissing).length;
}

let temporal: TestTemporal;
let dataDir: string;
let files: { population: string; customers: string; featureSummary: string };

beforeAll(async () => {
  temporal = await connectTestTemporal();
  dataDir = mkdtempSync(join(tmpdir(), 'segments-generic-'));
  files = {
    population: join(dataDir, 'population.csv'),
    customers: join(dataDir, 'customers.csv'),
    featureSummary: join(dataDir, 'summary.csv'),
  };
  writeFileSync(files.population, table(POPULATION_ROWS, 1, false));
  writeFileSync(files.customers, table(CUSTOMER_ROWS, 2, true));
  writeFileSync(files.featureSummary, SUMMARY + '\n');
});

afterAll(async () => {
  await temporal?.close();
});

async function run(outDir: string, storeDir: string, previousOutDir?: string) {
  const input = segmentationInput({ ...files, outDir, storeDir, config: CONFIG, previousOutDir });
  const handle = await temporal.client.workflow.start('segmentation', {
    taskQueue: temporal.taskQueue,
    workflowId: `generic-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
    args: [input],
    staticSummary: 'generic data test',
    staticDetails: runDetailsMarkdown(input),
  });
  const outcome = (await temporal.withWorker(() => handle.result())) as SegmentationOutcome;
  return { handle, outcome, input };
}

describe('the workflow on generic data', () => {
  let first: Awaited<ReturnType<typeof run>>;
  let outDir: string;
  let storeDir: string;
  let results: Results;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'segments-generic-out-'));
    storeDir = join(outDir, 'artifacts');
    first = await run(outDir, storeDir);
    results = readResults(outDir);
  });

  test('a two-level categorical without a rule becomes one binary feature; more levels become one-hot', () => {
    expect(results.features).toContain('SEX');
    expect(results.features.filter((f) => f.startsWith('SEX='))).toEqual([]);
    expect(results.features.filter((f) => f.startsWith('REGION=')).sort()).toEqual(['REGION=E', 'REGION=N', 'REGION=S', 'REGION=W']);
  });

  test('customer values the population has not seen are in results.json and the report', () => {
    const zRows = cleanRowsInRegionZ(readFileSync(files.customers, 'utf8'), results.missingness.maxRowMissing);
    expect(zRows).toBeGreaterThan(10);
    expect(results.unseenCustomerLevels).toEqual([{ column: 'REGION', rows: zRows, values: ['Z'] }]);
    const report = readFileSync(join(outDir, 'report.html'), 'utf8');
    expect(report).toContain('Customer values the population has not seen');
    expect(report).toContain('<td><code>REGION</code></td>');
    expect(report).toContain(`${zRows} customer row(s) hold values that do not occur in the population`);
  });

  test('with every column missing more than 5 %, heavy and clean rows are still compared, and it says how', () => {
    const comparison = results.heavyMissing.comparison;
    expect(comparison).toMatchObject({ maxMissingShare: 0.05, selection: 'least-missing' });
    expect(comparison!.columns).toBeGreaterThan(0);
    expect(results.heavyMissing.divergence.length).toBe(comparison!.columns);
    expect(comparison!.note).toMatch(/^no kept column misses at most 5\.0 % of the population/);
    const report = readFileSync(join(outDir, 'report.html'), 'utf8');
    expect(report).toContain(`<p class="notice">${comparison!.note}</p>`);
    expect(report).toContain('Distribution differences between heavy-missing and clean rows per column');
  });

  test('model/ holds the lineage: input hashes, row counts, config, code version, workflow and run ids', async () => {
    const lineage = LineageSchema.parse(JSON.parse(readFileSync(join(outDir, 'model', 'lineage.json'), 'utf8')));
    const description = await first.handle.describe();
    expect(lineage.temporal).toEqual({
      namespace: 'default',
      workflowId: first.handle.workflowId,
      runId: description.runId,
      workflowType: 'segmentation',
      taskQueue: temporal.taskQueue,
    });
    expect(lineage.inputs.population).toEqual({ path: files.population, sha256: sha256(files.population), rows: POPULATION_ROWS });
    expect(lineage.inputs.customers).toEqual({ path: files.customers, sha256: sha256(files.customers), rows: CUSTOMER_ROWS });
    expect(lineage.inputs.featureSummary).toEqual({ path: files.featureSummary, sha256: sha256(files.featureSummary) });
    expect(lineage.rows.population.total).toBe(POPULATION_ROWS);
    expect(lineage.rows.population.clean + lineage.rows.population.heavy).toBe(POPULATION_ROWS);
    expect(lineage.rows.population.heavy).toBe(results.heavyMissing.populationRows);
    expect(lineage.rows.customers.heavy).toBe(results.heavyMissing.customerRows);
    // The config as the run used it: the given values and the defaults.
    expect(lineage.config).toMatchObject({ ...CONFIG, maxColumnMissingShare: 0.3, alpha: 0.05 });
    expect(lineage.code).toEqual(codeVersion());
    expect(lineage.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['ingest', 'split', 'encode', 'pca', 'kmeans-final', 'drift']));
    for (const [name, hash] of Object.entries(lineage.files)) expect(sha256(join(outDir, 'model', name))).toBe(hash);
    expect(Object.keys(lineage.files)).toEqual(expect.arrayContaining(['pca.json', 'centroids.json', 'encoding.json']));
  });

  test('the Temporal UI gets markdown that renders one line per item, and a summary per sweep activity', async () => {
    const description = await first.handle.describe();
    const details = await description.staticDetails();
    expect(markdownLines(details!)).toEqual([
      `population ${files.population}`,
      `customers ${files.customers}`,
      `feature summary ${files.featureSummary}`,
      `output ${outDir} (checkpoints in ${storeDir})`,
      `config ${JSON.stringify(CONFIG)}`,
    ]);
    // A query of a closed run replays it on a worker.
    const metadata = (await temporal.withWorker(() => first.handle.query('__temporal_workflow_metadata'))) as { currentDetails?: string };
    const progress = markdownLines(metadata.currentDetails ?? '');
    expect(progress).toHaveLength(first.outcome.steps.length);
    expect(progress[0]).toMatch(/^✅ ingest \d+\.\d s/);

    const history = await first.handle.fetchHistory();
    const summaries = (history.events ?? [])
      .filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'sweepK')
      .map((event) => JSON.parse(Buffer.from(event.userMetadata?.summary?.data ?? new Uint8Array()).toString('utf8')) as string);
    // One per k, then the points refined near the knee (their own summary, one each).
    const refined = summaries.filter((s) => s.includes('refined near the knee'));
    const swept = summaries.filter((s) => !refined.includes(s));
    expect(swept).toHaveLength(4);
    expect(new Set(swept).size).toBe(4);
    expect(new Set(refined).size).toBe(refined.length);
    for (const k of [2, 3, 4, 5]) {
      const summary = swept.find((s) => s.includes(`k = ${k}`));
      expect(summary).toBeDefined();
      expect(summary).not.toContain('(elbow point)');
      expect(summary!.split('\n')).toHaveLength(1);
    }
  });

  test('a reused drift checkpoint names the previous-run folder it was given', async () => {
    // Two runs compared with the first one: once at its own folder, once at a copy (same results.json content).
    const copy = join(mkdtempSync(join(tmpdir(), 'segments-generic-copy-')), 'previous');
    cpSync(outDir, copy, { recursive: true, filter: (source) => !source.includes('artifacts') });
    const second = await run(mkdtempSync(join(tmpdir(), 'segments-generic-2-')), storeDir, outDir);
    expect(readResults(second.input.outDir).continuity?.previousOutDir).toBe(outDir);
    const third = await run(mkdtempSync(join(tmpdir(), 'segments-generic-3-')), storeDir, copy);
    expect(third.outcome.steps.find((s) => s.name === 'drift')?.reused).toBe(true);
    expect(readResults(third.input.outDir).continuity?.previousOutDir).toBe(copy);
    expect(readFileSync(join(third.input.outDir, 'report.html'), 'utf8')).toContain(`<code>${copy}</code>`);
  });
});
