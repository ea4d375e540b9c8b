/**
 * Hostile input, end to end: each case runs the real segmentation workflow (real worker, real DuckDB, the jest
 * global Temporal dev server) on a broken input next to a finished good run, sharing its output folder and
 * checkpoint store, and checks that
 *   - the run fails fast, at the first step that can see the problem, and no later activity is scheduled;
 *   - the failing activity failed once, non-retryably (history: one ActivityTaskFailed, attempt 1, retry state
 *     NON_RETRYABLE_FAILURE, failure type InputError / ConfigError / ValidationError);
 *   - the message names the file, column and line where they apply;
 *   - every file of the good run is byte-identical afterwards and no temporary folder is left in the store.
 * A few inputs look hostile but are legal (BOM, CRLF, an unlisted number, an unlisted letter level): those must
 * run to the end (into their own output folder, same store) without touching the good run's files.
 *
 * Bad flags, config files and output folders also go through the real CLI in its own process (one line, exit 2, before
 * any server is sought), and `segments worker` is started before its server exists (it waits, then works).
 * docs/hostile-inputs.md lists every case with what it did in the run; the last test checks it against the run.
 *
 * Run: npx jest --runInBand test/hostile-input.test.ts (HOSTILE_MESSAGES=1 prints every case's failure message,
 * HOSTILE_WRITE_DOC=1 rewrites docs/hostile-inputs.md).
 *
 * What counts as bad data: cells of ordinal / numeric / interval columns that are neither a finite number, nor empty,
 * nor one of the column's listed codes ('abc', 'NaN', 'inf', '3;4') are rejected at ingest. Numbers outside a
 * column's known domain (99 in a 1..7 scale) or beyond the magnitude limit (1e308) are counted by the value checks
 * and treated as missing, or rejected at recode under valueChecks.policy 'fail'. Any text is a legal level of a
 * categorical column ('Y' in CAMEO_DEUG_2015 becomes its own level).
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, decodeRetryState } from '@temporalio/common';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startRun } from '../cli/run';
import { startDevServer, type DevServerHandle } from '../temporal/dev-server';
import { queryRows, withDuckDb } from '../core/duckdb';
import { generateDataset } from '../tools/generator';
import { ResultsSchema, type Results } from '../schemas/results';
import type { SegmentationInput, SegmentationOutcome } from '../workflows/segmentation';
import { segments, spawnSegments, waitForText } from './support/cli';
import { TestTemporal, connectTestTemporal } from './support/temporal';

jest.setTimeout(10 * 60_000);

const POPULATION_ROWS = 3_000;
const CUSTOMER_ROWS = 800;
/** Small and quick: a short sweep, a fixed k, one init. */
const GOOD_CONFIG = { kMin: 2, kMax: 4, k: 3, finalInits: 1, silhouetteSample: 300 };
/** A failing run must be over well within this (a retry loop would take 2 + 4 + 8 + 16 s and more). */
const FAIL_FAST_SECONDS = 20;
/** Any run still going after this is terminated and the case fails. */
const RUN_LIMIT_MS = 5 * 60_000;

/** The activities in the order the workflow schedules them, up to the last cleaning step. */
const CLEANING_ACTIVITIES = ['ingestData', 'recodeMissingCodes', 'assessColumnMissingness', 'splitByRowMissingness'] as const;
type CleaningActivity = (typeof CLEANING_ACTIVITIES)[number];

interface Files {
  population: string;
  customers: string;
  featureSummary: string;
}

// ---------------------------------------------------------------------------------------------------------
// The good data set and ways to spoil it
// ---------------------------------------------------------------------------------------------------------

let temporal: TestTemporal;
let good: { files: Files; text: Files; outDir: string; storeDir: string; snapshot: Map<string, string>; results: Results };

interface Table {
  header: string[];
  rows: string[][];
}

function parseTable(text: string): Table {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return { header: lines[0].split(';'), rows: lines.slice(1).map((line) => line.split(';')) };
}

function renderTable({ header, rows }: Table, delimiter = ';', eol = '\n'): string {
  return [header, ...rows].map((cells) => cells.join(delimiter)).join(eol) + eol;
}

/** The good file with one cell replaced (row is the 0-based data row: it sits on line row + 2). */
function withCell(text: string, row: number, column: string, value: string): string {
  const table = parseTable(text);
  const index = table.header.indexOf(column);
  if (index === -1 || row >= table.rows.length) throw new Error(`test bug: no cell ${column} in row ${row}`);
  table.rows[row][index] = value;
  return renderTable(table);
}

/** The good file with columns changed: fn gets and returns (header, rows). */
function withColumns(text: string, fn: (table: Table) => Table): string {
  return renderTable(fn(parseTable(text)));
}

function withoutColumn(table: Table, column: string): Table {
  const index = table.header.indexOf(column);
  return { header: table.header.filter((_, i) => i !== index), rows: table.rows.map((row) => row.filter((_, i) => i !== index)) };
}

function withExtraColumns(table: Table, names: string[], value: (row: number) => string): Table {
  return { header: [...table.header, ...names], rows: table.rows.map((row, r) => [...row, ...names.map(() => value(r))]) };
}

/** Writes a hostile file into the case's folder. */
function write(dir: string, name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Deterministic "random" bytes (xorshift32), so the binary case is the same every run. */
function noise(length: number, seed = 0x9e3779b9): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

function summaryLines(): string[] {
  return good.text.featureSummary.trimEnd().split('\n');
}

/** Line number (1-based) of an attribute in the good feature summary. */
function summaryLine(attribute: string): number {
  return summaryLines().findIndex((line) => line.startsWith(`${attribute};`)) + 1;
}

// ---------------------------------------------------------------------------------------------------------
// Running the workflow and reading what happened
// ---------------------------------------------------------------------------------------------------------

interface RunResult {
  workflowId: string;
  seconds: number;
  outcome?: SegmentationOutcome;
  error?: unknown;
}

/** Starts the workflow directly (no CLI-side config validation), so the activities' own checks are what is tested. */
async function runWorkflow(files: Files, config: Record<string, unknown>, outDir: string, storeDir: string): Promise<RunResult> {
  const workflowId = `hostile-${randomUUID()}`;
  const input: SegmentationInput = { inputs: files, storeDir, outDir, config };
  const started = performance.now();
  const handle = await temporal.client.workflow.start('segmentation', { taskQueue: temporal.taskQueue, workflowId, args: [input] });
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    handle.result().then(
      (outcome: SegmentationOutcome) => ({ outcome }),
      (error: unknown) => ({ error }),
    ),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), RUN_LIMIT_MS))),
  ]);
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  if (settled === 'timeout') {
    await handle.terminate('hostile-input test: the run did not finish in time');
    throw new Error(`workflow ${workflowId} did not finish within ${RUN_LIMIT_MS / 1000} s (a retry loop?)`);
  }
  return { workflowId, seconds, ...settled };
}

/** relative path -> sha256 of every file under root. */
function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(root, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  };
  walk(root);
  return files;
}

/** Leftovers of interrupted writes: step temp folders (<store>/<step>/.tmp-*) and atomic-write temp files (*.tmp). */
function strays(outDir: string, storeDir: string): string[] {
  const found: string[] = [];
  for (const step of readdirSync(storeDir, { withFileTypes: true })) {
    if (!step.isDirectory()) continue;
    for (const entry of readdirSync(join(storeDir, step.name))) if (entry.startsWith('.tmp-')) found.push(join(step.name, entry));
  }
  for (const path of snapshot(outDir).keys()) if (path.endsWith('.tmp')) found.push(path);
  return found;
}

/** The good run's files are untouched: same bytes, and nothing new published next to them. */
function expectGoodRunIntact(): void {
  const now = snapshot(good.outDir);
  const changed = [...good.snapshot].filter(([path, hash]) => now.get(path) !== hash).map(([path]) => path);
  expect(changed).toEqual([]);
  const published = (files: Map<string, string>) => [...files.keys()].filter((path) => !path.startsWith('artifacts/')).sort();
  expect(published(now)).toEqual(published(good.snapshot));
  expect(strays(good.outDir, good.storeDir)).toEqual([]);
}

async function historyOf(workflowId: string) {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events ?? [];
}

/** The ingest checkpoint made from a given population file (found by the file's hash in the manifests). */
function ingestDirFor(populationPath: string): string {
  const sha = createHash('sha256').update(readFileSync(populationPath)).digest('hex');
  const root = join(good.storeDir, 'ingest');
  for (const key of readdirSync(root)) {
    const manifest = JSON.parse(readFileSync(join(root, key, 'manifest.json'), 'utf8'));
    if (manifest.output.population.sha256 === sha) return join(root, key);
  }
  throw new Error(`no ingest checkpoint for ${populationPath}`);
}

async function cell(parquet: string, row: number, column: string): Promise<unknown> {
  const [found] = await withDuckDb({}, (conn) => queryRows(conn, `SELECT "${column}" AS value FROM read_parquet('${parquet}') WHERE "row" = ${row}`));
  return found?.value;
}

function readResults(outDir: string): Results {
  return ResultsSchema.parse(JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')));
}

// ---------------------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------------------

interface Arranged {
  /** Replaces some of the good inputs. */
  inputs?: Partial<Files>;
  /** Merged over GOOD_CONFIG. */
  config?: Record<string, unknown>;
  /** Another output folder (its store inside it) instead of the good run's. */
  outDir?: string;
}

interface FailureCase {
  name: string;
  arrange: (dir: string) => Arranged;
  /** The activity that must fail (every earlier cleaning step may run, no later one). */
  activity: CleaningActivity;
  type: 'InputError' | 'ConfigError' | 'ValidationError' | 'PathError';
  /** Substrings of the failure message (files are the case's input paths). */
  message: (files: Files) => string[];
}

const P = goodText('population');
const C = goodText('customers');
const S = goodText('featureSummary');
/** Reads a good file's text lazily (the data set is generated in beforeAll). */
function goodText(role: keyof Files): () => string {
  return () => good.text[role];
}

const ORDINAL = 'ALTERSKATEGORIE_GROB';
const NUMERIC = 'ANZ_PERSONEN';

const FAILURES: FailureCase[] = [
  // --- the shape of the files
  {
    name: 'empty population file',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', '') } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 1`, 'the file is empty'],
  },
  {
    name: 'customers file with a header only',
    arrange: (dir) => ({ inputs: { customers: write(dir, 'customers.csv', `${parseTable(C()).header.join(';')}\n`) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}, line 2`, 'the file has a header but no data rows'],
  },
  {
    name: 'comma-delimited population',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', renderTable(parseTable(P()), ',')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 1`, 'the header is separated by ",", expected ";" (wrong delimiter)'],
  },
  {
    name: 'tab-delimited customers',
    arrange: (dir) => ({ inputs: { customers: write(dir, 'customers.tsv', renderTable(parseTable(C()), '\t')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}, line 1`, 'the header is separated by "\\t", expected ";" (wrong delimiter)'],
  },
  {
    name: 'a column missing from the population',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withColumns(P(), (t) => withoutColumn(t, 'KBA05_GBZ'))) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 1, column KBA05_GBZ`, '1 column(s) of the feature summary are missing from the header: KBA05_GBZ'],
  },
  {
    name: 'an extra column in the population',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withColumns(P(), (t) => withExtraColumns(t, ['EXTRA_SCORE'], (r) => String(r % 5)))) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 1, column EXTRA_SCORE`, '1 column(s) are not in the feature summary: EXTRA_SCORE'],
  },
  {
    name: 'a duplicate column in the population',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withColumns(P(), (t) => withExtraColumns(t, ['SEMIO_SOZ'], () => '3'))) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 1, column SEMIO_SOZ`, 'the column appears twice in the header'],
  },
  {
    name: "customers' columns differ from the population's (the full customer file's extra columns)",
    arrange: (dir) => ({
      inputs: {
        customers: write(dir, 'customers.csv', withColumns(C(), (t) => withExtraColumns(t, ['CUSTOMER_GROUP', 'ONLINE_PURCHASE', 'PRODUCT_GROUP'], () => 'x'))),
      },
    }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}, line 1, column CUSTOMER_GROUP`, '3 column(s) are not in the feature summary: CUSTOMER_GROUP, ONLINE_PURCHASE, PRODUCT_GROUP'],
  },
  {
    name: 'truncated last line',
    arrange: (dir) => {
      const text = P().trimEnd();
      const lastLine = text.slice(text.lastIndexOf('\n') + 1);
      return { inputs: { population: write(dir, 'population.csv', text.slice(0, text.length - Math.floor(lastLine.length / 2))) } };
    },
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line ${POPULATION_ROWS + 1}`, 'cannot parse the CSV: expected 85 fields, found'],
  },
  // --- the cells
  {
    name: 'non-numeric garbage in an ordinal column (data row 1234 -> line 1236)',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 1234, ORDINAL, 'abc')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [
      `file ${f.population}, line 1236, column ${ORDINAL}`,
      'value "abc" is not a number, but the column is ordinal and "abc" is not one of its missing codes [-1,0,9] (1 such cell)',
    ],
  },
  {
    name: 'garbage in a numeric column of the customers file',
    arrange: (dir) => ({ inputs: { customers: write(dir, 'customers.csv', withCell(withCell(C(), 500, NUMERIC, 'many'), 600, NUMERIC, 'lots')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}, line 502, column ${NUMERIC}`, 'value "many" is not a number, but the column is numeric', '(2 such cells)'],
  },
  {
    name: 'a NaN literal in an ordinal column',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 10, 'SEMIO_REL', 'NaN')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 12, column SEMIO_REL`, 'value "NaN" is not a number'],
  },
  {
    name: 'an inf literal in a numeric column',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 20, 'KBA13_ANZAHL_PKW', 'inf')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 22, column KBA13_ANZAHL_PKW`, 'value "inf" is not a number'],
  },
  {
    name: "a letter code that is not the column's ('X' is CAMEO_DEUG_2015's code, not ALTERSKATEGORIE_GROB's)",
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 3, ORDINAL, 'X')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 5, column ${ORDINAL}`, 'value "X" is not a number', 'not one of its missing codes [-1,0,9]'],
  },
  {
    name: 'a quoted field with an embedded delimiter in an ordinal column',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 77, 'FINANZ_SPARER', '"3;4"')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 79, column FINANZ_SPARER`, 'value "3;4" is not a number'],
  },
  {
    name: 'a quoted field with an embedded newline in an ordinal column',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 88, 'HEALTH_TYP', '"2\n3"')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 90, column HEALTH_TYP`, 'value "2\\n3" is not a number'],
  },
  {
    name: 'an unterminated quote',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 100, 'CAMEO_DEU_2015', '"4A')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 102`, 'cannot parse the CSV: a quoted field is never closed (unterminated quote)'],
  },
  {
    name: 'a Latin-1 byte in a data row',
    arrange: (dir) => {
      const text = withCell(P(), 42, 'CAMEO_DEU_2015', '@');
      return { inputs: { population: write(dir, 'population.csv', Buffer.from(Buffer.from(text, 'latin1').map((b) => (b === 0x40 ? 0xc4 : b)))) } };
    },
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 44`, 'cannot parse the CSV: the line is not UTF-8 text'],
  },
  {
    name: 'a binary file',
    arrange: (dir) => ({ inputs: { customers: write(dir, 'customers.csv', noise(64 * 1024)) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}`, 'the file is not a text CSV: it holds binary data'],
  },
  // --- paths
  {
    name: 'an unreadable path (ENOENT)',
    arrange: (dir) => ({ inputs: { customers: join(dir, 'no-such-file.csv') } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}`, 'cannot read the customers file: ENOENT (no such file)'],
  },
  {
    name: 'a directory instead of a file',
    arrange: (dir) => {
      mkdirSync(join(dir, 'population.csv'));
      return { inputs: { population: join(dir, 'population.csv') } };
    },
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}`, 'the population file is not a file but a directory'],
  },
  // --- the feature summary
  {
    name: 'a column missing from the feature summary',
    arrange: (dir) => ({ inputs: { featureSummary: write(dir, 'summary.csv', summaryLines().filter((line) => !line.startsWith('AGER_TYP;')).join('\n') + '\n') } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 1, column AGER_TYP`, '1 column(s) are not in the feature summary: AGER_TYP'],
  },
  {
    name: 'a bad type in the feature summary',
    arrange: (dir) => ({ inputs: { featureSummary: write(dir, 'summary.csv', S().replace('HEALTH_TYP;person;ordinal;', 'HEALTH_TYP;person;ordinall;')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.featureSummary}, line ${summaryLine('HEALTH_TYP')}, column HEALTH_TYP`, 'type: '],
  },
  {
    name: 'an unparsable missing-code list in the feature summary',
    arrange: (dir) => ({ inputs: { featureSummary: write(dir, 'summary.csv', S().replace('SEMIO_KULT;person;ordinal;[-1,9]', 'SEMIO_KULT;person;ordinal;[-1,9')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [
      `file ${f.featureSummary}, line ${summaryLine('SEMIO_KULT')}, column SEMIO_KULT`,
      'missing_or_unknown must be a bracketed list like [-1,0], got "[-1,9"',
    ],
  },
  {
    name: 'a duplicate attribute in the feature summary',
    arrange: (dir) => ({ inputs: { featureSummary: write(dir, 'summary.csv', `${S().trimEnd()}\nKKK;region_rr1;ordinal;[-1,0]\n`) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.featureSummary}, line ${summaryLines().length + 1}, column KKK`, `attribute KKK is listed twice (first on line ${summaryLine('KKK')})`],
  },
  {
    name: 'a comma-separated feature summary',
    arrange: (dir) => ({ inputs: { featureSummary: write(dir, 'summary.csv', S().replace(/;/g, ',')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.featureSummary}, line 1`, '(is it comma-separated? it must use ";")'],
  },
  // --- data that parses but cannot be modelled, and config
  // (These two messages name the population file once the workflow passes `ingest: ingest.ref` to the
  // missingness and split activities, which accept it; assert `file ${f.population}` then.)
  {
    name: 'every population row empty (every column dropped)',
    arrange: (dir) => ({
      inputs: { population: write(dir, 'population.csv', withColumns(P(), (t) => ({ header: t.header, rows: t.rows.map((row) => row.map(() => '')) }))) },
    }),
    activity: 'assessColumnMissingness',
    type: 'InputError',
    message: (f) => [`file ${f.population}`, 'no column is left to model: all 85 columns miss more than maxColumnMissingShare = 0.3 of the 3000 population rows', 'misses 100.0 %'],
  },
  {
    name: 'every population row heavy-missing (half of each row empty, columns kept by maxColumnMissingShare 0.9)',
    arrange: (dir) => ({
      inputs: {
        population: write(
          dir,
          'population.csv',
          withColumns(P(), (t) => ({ header: t.header, rows: t.rows.map((row, r) => row.map((value, c) => (c % 2 === r % 2 ? '' : value))) })),
        ),
      },
      config: { maxColumnMissingShare: 0.9 },
    }),
    activity: 'splitByRowMissingness',
    type: 'InputError',
    message: (f) => [`file ${f.population}`, 'only 0 clean population rows are left to model, at least 10 are needed', '3000 of 3000 rows are heavy-missing'],
  },
  {
    name: 'k larger than the clean rows',
    arrange: () => ({ config: { k: 5_000 } }),
    activity: 'splitByRowMissingness',
    type: 'ConfigError',
    message: () => ['k = 5000 exceeds the 2', 'clean population rows (rows missing at most', 'k-means needs at least k rows; lower k'],
  },
  {
    name: 'kMin/kMax larger than the clean rows',
    arrange: () => ({ config: { k: undefined, kMin: 3_500, kMax: 4_000 } }),
    activity: 'splitByRowMissingness',
    type: 'ConfigError',
    message: () => ['kMin..kMax = 3500..4000 exceeds the 2', 'clean population rows', 'lower kMin and kMax'],
  },
  {
    name: 'a bad config value (maxColumnMissingShare 2)',
    arrange: () => ({ config: { maxColumnMissingShare: 2 } }),
    activity: 'ingestData',
    type: 'ConfigError',
    message: () => ["the run's config: maxColumnMissingShare must be less than 1 (got 2)"],
  },
  {
    name: 'an unknown config key (a typo of maxColumnMissingShare)',
    arrange: () => ({ config: { maxColumMissingShare: 0.2 } }),
    activity: 'ingestData',
    type: 'ConfigError',
    message: () => ['unknown key "maxColumMissingShare" (did you mean maxColumnMissingShare?)'],
  },
  {
    name: "1e308 in a numeric column with valueChecks.policy 'fail'",
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 40, NUMERIC, '1e308')) }, config: { valueChecks: { policy: 'fail' } } }),
    activity: 'recodeMissingCodes' as CleaningActivity,
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 42, column ${NUMERIC}`, 'beyond ±1000000000'],
  },
  // --- more shapes, encodings and delimiters
  {
    name: 'empty customers file',
    arrange: (dir) => ({ inputs: { customers: write(dir, 'customers.csv', '') } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}, line 1`, 'the file is empty'],
  },
  {
    name: 'population file with a header only',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', `${parseTable(P()).header.join(';')}\n`) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 2`, 'the file has a header but no data rows'],
  },
  {
    name: 'an empty feature summary',
    arrange: (dir) => ({ inputs: { featureSummary: write(dir, 'summary.csv', '') } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.featureSummary}`],
  },
  {
    name: 'a feature summary with its header only',
    arrange: (dir) => ({ inputs: { featureSummary: write(dir, 'summary.csv', `${summaryLines()[0]}\n`) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.featureSummary}`],
  },
  {
    name: 'a pipe-delimited population',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', renderTable(parseTable(P()), '|')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 1`, 'the header is separated by "|", expected ";" (wrong delimiter)'],
  },
  {
    name: 'a UTF-16 LE population with its byte-order mark',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(P(), 'utf16le')])) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}`],
  },
  {
    name: 'a UTF-16 BE customers file without a byte-order mark',
    arrange: (dir) => ({ inputs: { customers: write(dir, 'customers.csv', Buffer.from(C(), 'utf16le').swap16()) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}`],
  },
  {
    name: "a Latin-1 customers file ('Ä' in a categorical column, data row 300 -> line 302)",
    arrange: (dir) => ({ inputs: { customers: write(dir, 'customers.csv', Buffer.from(withCell(C(), 300, 'CAMEO_DEU_2015', '\u00c4A'), 'latin1')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}, line 302`, 'not UTF-8'],
  },
  {
    name: 'a ragged row with a field too few (line 1502)',
    arrange: (dir) => {
      const table = parseTable(P());
      table.rows[1500] = table.rows[1500].slice(0, -1);
      return { inputs: { population: write(dir, 'population.csv', renderTable(table)) } };
    },
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 1502`, 'expected 85 fields, found 84'],
  },
  {
    name: 'a ragged row with a field too many (customers, line 702)',
    arrange: (dir) => {
      const table = parseTable(C());
      table.rows[700] = [...table.rows[700], '1'];
      return { inputs: { customers: write(dir, 'customers.csv', renderTable(table)) } };
    },
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}, line 702`, 'expected 85 fields, found 86'],
  },
  {
    name: 'a column missing from the customers',
    arrange: (dir) => ({ inputs: { customers: write(dir, 'customers.csv', withColumns(C(), (t) => withoutColumn(t, 'SEMIO_REL'))) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}, line 1, column SEMIO_REL`, 'missing from the header: SEMIO_REL'],
  },
  {
    name: 'a duplicate column in the customers',
    arrange: (dir) => ({ inputs: { customers: write(dir, 'customers.csv', withColumns(C(), (t) => withExtraColumns(t, ['ANZ_PERSONEN'], () => '2'))) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}, line 1, column ANZ_PERSONEN`, 'the column appears twice in the header'],
  },
  {
    name: 'a malformed 40 MB last line (line 3,002 of 3,002)',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', P() + `${'7'.repeat(40 * 1024 * 1024)}\n`) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line ${POPULATION_ROWS + 2}`],
  },
  {
    // DuckDB's reader takes the line end from the file's start and rejects a file that mixes them; its message
    // names no line.
    name: 'mixed CRLF and LF line ends in one file (every other line CRLF)',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', P().split('\n').map((line, i) => (i % 2 && line ? `${line}\r` : line)).join('\n')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}`, 'cannot parse the CSV'],
  },
  // --- non-finite and out-of-range numbers
  {
    name: "an 'Infinity' literal in a numeric column",
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 30, NUMERIC, 'Infinity')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 32, column ${NUMERIC}`, 'value "Infinity" is not a number'],
  },
  {
    name: "a '-inf' literal in an ordinal column of the customers",
    arrange: (dir) => ({ inputs: { customers: write(dir, 'customers.csv', withCell(C(), 60, 'SEMIO_KAEM', '-inf')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.customers}, line 62, column SEMIO_KAEM`, 'value "-inf" is not a number'],
  },
  {
    name: '1e309 (beyond the double range) in a numeric column',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 50, NUMERIC, '1e309')) } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 52, column ${NUMERIC}`, '1e309'],
  },
  // --- values outside the domain under policy 'fail'
  {
    name: "99 in SEMIO_SOZ (domain 1..7) with valueChecks.policy 'fail'",
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 120, 'SEMIO_SOZ', '99')) }, config: { valueChecks: { policy: 'fail' } } }),
    activity: 'recodeMissingCodes',
    type: 'InputError',
    message: (f) => [`file ${f.population}, line 122, column SEMIO_SOZ`, '99'],
  },
  {
    name: "-5 (not a listed missing code) in an ordinal column of the customers with valueChecks.policy 'fail'",
    arrange: (dir) => ({ inputs: { customers: write(dir, 'customers.csv', withCell(C(), 44, 'SEMIO_SOZ', '-5')) }, config: { valueChecks: { policy: 'fail' } } }),
    activity: 'recodeMissingCodes',
    type: 'InputError',
    message: (f) => [`file ${f.customers}, line 46, column SEMIO_SOZ`, '-5'],
  },
  // --- paths
  {
    name: 'the feature summary path does not exist',
    arrange: (dir) => ({ inputs: { featureSummary: join(dir, 'no-summary.csv') } }),
    activity: 'ingestData',
    type: 'InputError',
    message: (f) => [`file ${f.featureSummary}`, 'ENOENT'],
  },
  {
    name: 'an output folder under a file (ENOTDIR: the output cannot be created)',
    arrange: (dir) => ({ outDir: join(write(dir, 'a-file', 'not a folder'), 'out') }),
    activity: 'ingestData',
    type: 'PathError',
    message: () => ['/a-file/out/artifacts/', 'ENOTDIR'],
  },
  {
    name: 'an output folder under /proc (the workflow started directly, without the CLI)',
    arrange: () => ({ outDir: '/proc/segments-hostile-out' }),
    activity: 'ingestData',
    type: 'PathError',
    message: () => ['/proc/segments-hostile-out'],
  },
  {
    name: 'an output folder under /sys (EPERM)',
    arrange: () => ({ outDir: '/sys/segments-hostile-out' }),
    activity: 'ingestData',
    type: 'PathError',
    message: () => ['/sys/segments-hostile-out'],
  },
];

interface SuccessCase {
  name: string;
  arrange: (dir: string) => Arranged;
  /** Checks on the finished run (its own output folder; checkpoints in the good run's store). */
  check: (outDir: string, files: Files) => Promise<void>;
}

/** Identical content in another byte form must give the good run's results exactly. */
async function sameResultsAsGood(outDir: string): Promise<void> {
  const results = readResults(outDir);
  expect(results.clusters).toEqual(good.results.clusters);
  expect(results.kSweep).toEqual(good.results.kSweep);
  expect(results.pca).toEqual(good.results.pca);
  expect(results.droppedColumns).toEqual(good.results.droppedColumns);
}

const SUCCESSES: SuccessCase[] = [
  {
    name: 'a UTF-8 byte-order mark',
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', `\uFEFF${P()}`), customers: write(dir, 'customers.csv', `\uFEFF${C()}`) } }),
    check: sameResultsAsGood,
  },
  {
    name: 'CRLF line ends',
    arrange: (dir) => ({
      inputs: {
        population: write(dir, 'population.csv', P().replace(/\n/g, '\r\n')),
        customers: write(dir, 'customers.csv', C().replace(/\n/g, '\r\n')),
        featureSummary: write(dir, 'summary.csv', S().replace(/\n/g, '\r\n')),
      },
    }),
    check: sameResultsAsGood,
  },
  {
    name: "a value outside the column's domain (99 in SEMIO_SOZ, 1..7) is counted and treated as missing (valueChecks.policy 'missing')",
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 5, 'SEMIO_SOZ', '99')) } }),
    check: async (outDir, files) => {
      expect(await cell(join(ingestDirFor(files.population), 'population.parquet'), 5, 'SEMIO_SOZ')).toBe(99);
      const results = readResults(outDir);
      expect(results.droppedColumns).not.toContain('SEMIO_SOZ');
      expect(results.valueChecks?.columns).toEqual([
        expect.objectContaining({ column: 'SEMIO_SOZ', population: { outOfDomain: 1, extreme: 0 }, customers: { outOfDomain: 0, extreme: 0 } }),
      ]);
    },
  },
  {
    name: "1e308 in a numeric column (default valueChecks.policy 'missing') is counted as extreme and treated as missing",
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(P(), 40, NUMERIC, '1e308')) } }),
    check: async (outDir) => {
      expect(readResults(outDir).valueChecks?.columns).toEqual([
        expect.objectContaining({ column: NUMERIC, population: { outOfDomain: 0, extreme: 1 }, customers: { outOfDomain: 0, extreme: 0 } }),
      ]);
      expect(readFileSync(join(outDir, 'report.html'), 'utf8')).toContain('id="value-checks"');
    },
  },
  {
    name: 'a UTF-8 byte-order mark and CRLF line ends in the feature summary',
    arrange: (dir) => ({ inputs: { featureSummary: write(dir, 'summary.csv', `\uFEFF${S().replace(/\n/g, '\r\n')}`) } }),
    check: sameResultsAsGood,
  },
  {
    name: 'quoted fields (every field of every customers row in double quotes)',
    arrange: (dir) => {
      const table = parseTable(C());
      const quoted = { header: table.header, rows: table.rows.map((row) => row.map((cell) => `"${cell}"`)) };
      return { inputs: { customers: write(dir, 'customers.csv', renderTable(quoted)) } };
    },
    check: sameResultsAsGood,
  },
  {
    // A legal level, read as text; seen in 2 rows it is a rare level, so the encoding folds it (or drops the fold)
    // and says so in results.json instead of standardising two rows into outliers.
    name: "an unlisted letter ('Y') in a categorical column is a level of its own, folded as rare",
    arrange: (dir) => ({ inputs: { population: write(dir, 'population.csv', withCell(withCell(P(), 7, 'CAMEO_DEUG_2015', 'Y'), 8, 'CAMEO_DEUG_2015', 'Y')) } }),
    check: async (outDir, files) => {
      expect(await cell(join(ingestDirFor(files.population), 'population.parquet'), 7, 'CAMEO_DEUG_2015')).toBe('Y');
      const results = readResults(outDir);
      expect(results.features.filter((name) => name.startsWith('CAMEO_DEUG_2015') && name.endsWith('Y'))).toHaveLength(0);
      const decision = results.featureFit?.rareLevels.find((d) => d.column === 'CAMEO_DEUG_2015' && d.level === 'Y');
      expect(decision).toMatchObject({ count: 2, action: expect.stringMatching(/^(folded|dropped)$/) });
    },
  },
];

// ---------------------------------------------------------------------------------------------------------

let stopWorker: (() => void) | undefined;
let workerDone: Promise<unknown> | undefined;
let root: string | undefined;
let caseRoot: string;
/** name -> the failure message each case produced (printed with HOSTILE_MESSAGES=1). */
const messages = new Map<string, string>();
/** name -> what the case did, as docs/hostile-inputs.md lists it (recorded once its checks passed). */
const outcomes = new Map<string, string>();

function record(name: string, outcome: string): void {
  outcomes.set(name, outcome);
}

/** A message with this run's temporary paths replaced by stable names, so the list does not change between runs. */
function normalise(message: string, files?: Files): string {
  let text = message;
  if (files) {
    for (const role of ['population', 'customers', 'featureSummary'] as const) {
      if (files[role] === good.files[role]) text = text.split(files[role]).join(`<good ${role}>`);
    }
  }
  if (caseRoot) text = text.replace(new RegExp(caseRoot.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '/[^/\\s]+', 'g'), '<case>');
  if (root) text = text.split(root).join('<tmp>');
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

beforeAll(async () => {
  temporal = await connectTestTemporal();
  // One worker for the whole file: started here, stopped in afterAll.
  workerDone = temporal.withWorker(() => new Promise<void>((resolve) => (stopWorker = resolve)));
  workerDone.catch(() => undefined);

  root = mkdtempSync(join(tmpdir(), 'segments-hostile-'));
  const dataDir = join(root, 'data');
  caseRoot = join(root, 'cases');
  mkdirSync(caseRoot);
  const generated = await generateDataset({ outDir: dataDir, populationRows: POPULATION_ROWS, customerRows: CUSTOMER_ROWS, seed: 7 });
  const files: Files = { population: generated.files.population, customers: generated.files.customers, featureSummary: generated.files.featureSummary };
  const outDir = join(root, 'out');
  mkdirSync(outDir);
  const storeDir = join(outDir, 'artifacts');
  const run = await runWorkflow(files, GOOD_CONFIG, outDir, storeDir);
  if (run.error) throw run.error;
  good = {
    files,
    text: {
      population: readFileSync(files.population, 'utf8'),
      customers: readFileSync(files.customers, 'utf8'),
      featureSummary: readFileSync(files.featureSummary, 'utf8'),
    },
    outDir,
    storeDir,
    snapshot: snapshot(outDir),
    results: readResults(outDir),
  };
});

afterAll(async () => {
  stopWorker?.();
  await workerDone?.catch(() => undefined);
  await temporal?.close();
  if (process.env.HOSTILE_MESSAGES) {
    process.stdout.write([...messages].map(([name, message]) => `- ${name}\n    ${message}`).join('\n') + '\n');
  }
  // HOSTILE_KEEP=1 keeps the data, the cases and the outputs for a look.
  if (root && !process.env.HOSTILE_KEEP) rmSync(root, { recursive: true, force: true });
});

function caseDir(name: string): string {
  const dir = join(caseRoot, name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60));
  mkdirSync(dir);
  return dir;
}

function inputsFor(arranged: Arranged): { files: Files; config: Record<string, unknown> } {
  const config: Record<string, unknown> = { ...GOOD_CONFIG, ...arranged.config };
  for (const key of Object.keys(config)) if (config[key] === undefined) delete config[key];
  return { files: { ...good.files, ...arranged.inputs }, config };
}

test('the good run finished and left files to protect', () => {
  expect(good.snapshot.has('results.json')).toBe(true);
  expect([...good.snapshot.keys()].filter((path) => path.startsWith('artifacts/ingest/'))).not.toHaveLength(0);
  expect(strays(good.outDir, good.storeDir)).toEqual([]);
});

describe('hostile input fails fast, once, non-retryably, with a clear message, leaving the good run intact', () => {
  test.each(FAILURES.map((c) => [c.name, c] as const))('%s', async (_name, hostile) => {
    const arranged = hostile.arrange(caseDir(hostile.name));
    const { files, config } = inputsFor(arranged);
    const outDir = arranged.outDir ?? good.outDir;
    const run = await runWorkflow(files, config, outDir, arranged.outDir ? join(arranged.outDir, 'artifacts') : good.storeDir);

    // The workflow failed because one activity failed, non-retryably, with the expected type and message.
    expect(run.outcome).toBeUndefined();
    expect(run.error).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (run.error as WorkflowFailedError).cause;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    expect((activityFailure as ActivityFailure).activityType).toBe(hostile.activity);
    expect((activityFailure as ActivityFailure).retryState).toBe('NON_RETRYABLE_FAILURE');
    const failure = (activityFailure as ActivityFailure).cause;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe(hostile.type);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    const message = (failure as ApplicationFailure).message;
    messages.set(hostile.name, `${hostile.type} in ${hostile.activity}: ${message}`);
    for (const part of hostile.message(files)) expect(message).toContain(part);
    expect(run.seconds).toBeLessThan(FAIL_FAST_SECONDS);
    if (arranged.outDir) expect(existsSync(join(arranged.outDir, 'results.json'))).toBe(false);

    // History: the steps up to the failing one were scheduled once each and nothing after it; the failing
    // activity ran exactly one attempt and its single failure was final.
    const events = await historyOf(run.workflowId);
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes);
    const names = scheduled.map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
    expect(names).toEqual(CLEANING_ACTIVITIES.slice(0, CLEANING_ACTIVITIES.indexOf(hostile.activity) + 1));
    const failed = events.filter((e) => e.activityTaskFailedEventAttributes).map((e) => e.activityTaskFailedEventAttributes!);
    expect(failed).toHaveLength(1);
    const lastScheduledId = String(scheduled[scheduled.length - 1].eventId);
    expect(String(failed[0].scheduledEventId)).toBe(lastScheduledId);
    expect(decodeRetryState(failed[0].retryState)).toBe('NON_RETRYABLE_FAILURE');
    expect(failed[0].failure?.applicationFailureInfo?.type).toBe(hostile.type);
    expect(failed[0].failure?.applicationFailureInfo?.nonRetryable).toBe(true);
    const attempts = events
      .filter((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === lastScheduledId)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts).toEqual([1]);
    expect(events.some((e) => e.workflowExecutionFailedEventAttributes)).toBe(true);

    expectGoodRunIntact();
    record(hostile.name, `fails once in \`${hostile.activity}\` (${hostile.type}, not retried): ${normalise(message, files)}`);
  });
});

describe('legal input that looks hostile runs to the end without touching the good run', () => {
  test.each(SUCCESSES.map((c) => [c.name, c] as const))('%s', async (_name, legal) => {
    const dir = caseDir(legal.name);
    const { files, config } = inputsFor(legal.arrange(dir));
    const outDir = join(dir, 'out');
    mkdirSync(outDir);
    const run = await runWorkflow(files, config, outDir, good.storeDir);
    if (run.error) throw run.error;
    expect(run.outcome?.steps.every((step) => step.status === 'done')).toBe(true);
    expect(statSync(join(outDir, 'results.json')).size).toBeGreaterThan(0);
    await legal.check(outDir, files);
    expectGoodRunIntact();
    const results = readResults(outDir);
    const found = results.valueChecks?.columns.map((c) => `${c.column}: ${c.population.outOfDomain + c.customers.outOfDomain} out of domain, ${c.population.extreme + c.customers.extreme} extreme`) ?? [];
    record(legal.name, `runs to the end (k = ${results.k}, ${results.clusters.length} clusters incl. the heavy-missing group)${found.length ? `; value checks: ${found.join('; ')} (treated as missing)` : ''}`);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Through the real CLI (its own process): bad flags, config files and output folders fail at once, before any
// server is sought (TEMPORAL_ADDRESS points at nothing and no CLI could start one), with one line, exit 2.
// ---------------------------------------------------------------------------------------------------------

interface CliCase {
  name: string;
  /** Extra arguments of `segments run` (the good inputs are given); may write files into the case's folder. */
  args: (dir: string) => string[];
  /** Substrings of the one line on stderr. */
  message: (dir: string) => string[];
}

const CLI_CASES: CliCase[] = [
  {
    name: 'segments run --out under /proc',
    args: () => ['--out', '/proc/segments-hostile-cli'],
    message: () => ['--out /proc/segments-hostile-cli: cannot create', 'ENOENT'],
  },
  {
    name: 'segments run --out under a file (an unwritable output folder)',
    args: (dir) => ['--out', join(write(dir, 'a-file', 'x'), 'out')],
    message: (dir) => [`--out ${join(dir, 'a-file', 'out')}: cannot create the output folder`, 'is a file, not a folder'],
  },
  {
    name: 'segments run --out under /sys (EPERM)',
    args: () => ['--out', '/sys/segments-hostile-cli'],
    message: () => ['--out /sys/segments-hostile-cli', 'EPERM'],
  },
  {
    name: 'segments run --store under /proc',
    args: (dir) => ['--out', join(dir, 'out'), '--store', '/proc/segments-hostile-store'],
    message: () => ['--store /proc/segments-hostile-store: cannot create'],
  },
  {
    name: 'an unknown key in the --config file',
    args: (dir) => ['--out', join(dir, 'out'), '--config', write(dir, 'config.json', JSON.stringify({ kMin: 2, maxColumMissingShare: 0.2 }))],
    message: (dir) => [`--config ${join(dir, 'config.json')}: unknown key "maxColumMissingShare" (did you mean maxColumnMissingShare?)`],
  },
  {
    name: 'a --config file that is not JSON',
    args: (dir) => ['--out', join(dir, 'out'), '--config', write(dir, 'config.json', '{"k": 3,')],
    message: (dir) => [`--config ${join(dir, 'config.json')}: `, 'JSON'],
  },
  {
    name: 'kMax below kMin in the --config file',
    args: (dir) => ['--out', join(dir, 'out'), '--config', write(dir, 'config.json', JSON.stringify({ kMin: 5, kMax: 3 }))],
    message: (dir) => [`--config ${join(dir, 'config.json')}: kMax`, 'kMin'],
  },
  {
    name: '--k 0',
    args: (dir) => ['--out', join(dir, 'out'), '--k', '0'],
    message: () => ["option '--k <n>' argument '0' is invalid", 'whole number'],
  },
  {
    name: '--k 2.5',
    args: (dir) => ['--out', join(dir, 'out'), '--k', '2.5'],
    message: () => ["option '--k <n>' argument '2.5' is invalid", 'whole number'],
  },
  {
    name: '--k abc',
    args: (dir) => ['--out', join(dir, 'out'), '--k', 'abc'],
    message: () => ["option '--k <n>' argument 'abc' is invalid", 'whole number'],
  },
];

const OFFLINE = { TEMPORAL_ADDRESS: '127.0.0.1:1', TEMPORAL_CLI_PATH: '/nonexistent/temporal' };

describe('through the real CLI: bad flags, config and output folders fail at once with one line naming the flag and path', () => {
  test.each(CLI_CASES.map((c) => [c.name, c] as const))('%s', async (_name, hostile) => {
    const dir = caseDir(hostile.name);
    const args = ['run', '--population', good.files.population, '--customers', good.files.customers, '--features', good.files.featureSummary, ...hostile.args(dir)];
    const result = await segments(args, OFFLINE, 60_000);
    expect(result.signal).toBeNull();
    expect(result.code).toBe(2);
    expect(result.seconds).toBeLessThan(FAIL_FAST_SECONDS);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    for (const part of hostile.message(dir)) expect(lines[0]).toContain(part);
    expect(result.stdout).toBe('');
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expectGoodRunIntact();
    record(hostile.name, `exits at once with code 2 (usage), one line: ${normalise(lines[0])}`);
  });

  test('segments worker started before its server: a log line per attempt with backoff, then it works once the server is up', async () => {
    const port = await freePort();
    const taskQueue = `hostile-early-${randomUUID()}`;
    const worker = spawnSegments(['worker', '--task-queue', taskQueue], { TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_NAMESPACE: 'default' });
    let output = '';
    worker.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    worker.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let server: DevServerHandle | undefined;
    let connection: Connection | undefined;
    try {
      await waitForText(worker, 'attempt 3', 60_000);
      const attempts = output.split('\n').filter((line) => /not reachable yet \(attempt \d+/.test(line));
      expect(attempts.length).toBeGreaterThanOrEqual(3);
      expect(attempts[0]).toContain(`127.0.0.1:${port}`);
      const delays = attempts.map((line) => Number(/next attempt in ([\d.]+) s/.exec(line)?.[1]));
      expect(delays[1]).toBeGreaterThan(delays[0]);
      server = await startDevServer({ port, ui: false, ephemeral: true, stopOnProcessExit: true, log: () => undefined });
      if (!output.includes('worker: polling')) await waitForText(worker, 'worker: polling', 120_000);
      connection = await Connection.connect({ address: `127.0.0.1:${port}` });
      const client = new Client({ connection, namespace: 'default' });
      const dir = caseDir('worker before server');
      const handle = await startRun({ client, taskQueue, population: good.files.population, customers: good.files.customers, featureSummary: good.files.featureSummary, outDir: join(dir, 'out'), config: GOOD_CONFIG });
      const outcome = (await handle.result()) as SegmentationOutcome;
      expect(outcome.steps.every((step) => step.status === 'done')).toBe(true);
      expect(readResults(join(dir, 'out')).clusters).toEqual(good.results.clusters);
      record(
        'segments worker started before its server',
        `waits: one log line per attempt with growing delays (e.g. "${normalise(attempts[0]).replace(/127\.0\.0\.1:\d+/, '127.0.0.1:<port>').replace(/ \(attempt 1: .*\); /, ' (attempt 1: …); ')}"), then polls once the server is up and runs a segmentation to the end`,
      );
    } finally {
      worker.kill('SIGTERM');
      await new Promise((resolve) => (worker.exitCode !== null ? resolve(undefined) : worker.once('exit', resolve)));
      await connection?.close();
      await server?.stop();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// docs/hostile-inputs.md: the list of cases with what each did, written from this file's runs. The test fails
// when the file differs (a case added, renamed or behaving differently); HOSTILE_WRITE_DOC=1 rewrites it.
// ---------------------------------------------------------------------------------------------------------

const DOC = join(__dirname, '..', 'docs', 'hostile-inputs.md');

test('docs/hostile-inputs.md lists every case with the result it had in this run', () => {
  const sections: [string, string[]][] = [
    ['Rejected: the run fails once, at the first step that can see the problem, non-retryably; the good run\'s files untouched', FAILURES.map((c) => c.name)],
    ['Accepted: legal input that looks hostile runs to the end (into its own folder), the good run\'s files untouched', SUCCESSES.map((c) => c.name)],
    ['Through the real CLI (its own process, no reachable server)', [...CLI_CASES.map((c) => c.name), 'segments worker started before its server']],
  ];
  const all = sections.flatMap(([, names]) => names);
  const missing = all.filter((name) => !outcomes.has(name));
  expect({ casesWithoutAResult: missing }).toEqual({ casesWithoutAResult: [] });
  let n = 0;
  const text =
    `# Hostile inputs: ${all.length} cases and what each does\n\n` +
    `Generated by \`test/hostile-input.test.ts\`, which checks this file against its own runs (a case added, renamed or\n` +
    `behaving differently fails the test; \`HOSTILE_WRITE_DOC=1 npx jest --runInBand test/hostile-input.test.ts\` rewrites it).\n` +
    `Each case runs the real workflow (real worker, DuckDB, Temporal dev server) next to a finished good run over\n` +
    `${POPULATION_ROWS.toLocaleString('en-US')} population and ${CUSTOMER_ROWS.toLocaleString('en-US')} customer rows (generator seed 7), sharing its output folder and checkpoint store.\n` +
    `A rejected case is checked for: exactly one attempt of the failing activity (history: attempt 1, NON_RETRYABLE_FAILURE),\n` +
    `no later step scheduled, the message naming file, line and column where they apply, done within ${FAIL_FAST_SECONDS} s, and every\n` +
    `file of the good run byte-identical afterwards with no temporary file left. Paths: \`<case>\` is the case's own folder,\n` +
    `\`<good population>\` etc. the good run's inputs.\n` +
    sections
      .map(([title, names]) => `\n## ${title}\n\n` + names.map((name) => `${++n}. **${name}**: ${outcomes.get(name)}`).join('\n') + '\n')
      .join('');
  if (process.env.HOSTILE_WRITE_DOC) writeFileSync(DOC, text);
  expect(existsSync(DOC) ? readFileSync(DOC, 'utf8') : '(docs/hostile-inputs.md is missing)').toBe(text);
});
