/**
 * The cleaning steps as functions of a DuckDB connection and files: ingest, recode missing codes,
 * assess missingness, split rows. Activities wrap them with validation and checkpoints.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { copyFile, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, InputError } from '../../common/errors';
import { MAX_LINE_BYTES, scanInputFile } from './input-scan';
import { type FeatureSummary } from '../../schemas/feature-summary';
import { readFeatureSummary } from './feature-summary';
import { MODEL_FILES } from '../../schemas/model-files';
import { type IngestOutput, type MissingnessOutput, type RecodeOutput, type RecodePlan, RecodePlanSchema, type SplitOutput } from '../../schemas/steps';
import { parquetRelation, queryOne, withDuckDb, queryRows, quoteIdent, quoteLiteral, toNumber } from '../duckdb';
import { jensenShannon, totalVariation } from '../stats/divergence';
import { type ComparisonOptions, planHeavyComparison } from './heavy-comparison';
import { csvReadError, validateCsvHeader } from './csv-header';
import { ValueCheckSettings, describeDomain, recodedValueSql, valueCheckCountsSql, valueCheckFlagsSql } from './domains';
import type { ValueChecks } from '../../schemas/results';
import {
  ColumnSpec,
  NUMERIC_TYPES,
  copyToParquetSql,
  firstNonNumericCellSql,
  negativeZeroColumnsSql,
  nullCountsSql,
  numberedSelectSql,
  readCsvSql,
  rowAndNonNumericCountsSql,
  rowMissingCountExpr,
  rowMissingHistogramSql,
  splitSelectSql,
  typedFromTextSql,
  typedFromTypedCsvSql,
  valueCountsByColumnSql,
  valueCountsByGroupSql,
} from './sql';

export const FILES = ['population', 'customers'] as const;
export type FileRole = (typeof FILES)[number];

/**
 * Rows per row group of the cleaning steps' Parquet files. DuckDB's order-preserving COPY holds a few row
 * groups per thread in memory (as read and as encoded), so this drives the steps' peak memory: at the full
 * Arvato size 30720 rows keep each step under ~0.7 GB where 122880 took ~1 GB and more, at no cost in time.
 */
export const CLEANING_ROW_GROUP_SIZE = 30720;

/** COPY of a step's output (zstd, CLEANING_ROW_GROUP_SIZE rows per row group). */
function outputCopySql(select: string, path: string): string {
  return copyToParquetSql(select, path, { rowGroupSize: CLEANING_ROW_GROUP_SIZE });
}

/** Loads a validated `;`-separated file as an all-text table (DuckDB's parse errors name file and line). */
export async function loadRawCsv(conn: DuckDBConnection, table: string, path: string, header: string[]): Promise<number> {
  try {
    await conn.run(`CREATE OR REPLACE TABLE ${table} AS SELECT * FROM ${readCsvSql(path, header)}`);
  } catch (error) {
    throw csvReadError(path, error);
  }
  const { rows } = await queryOne(conn, `SELECT count(*) AS rows FROM ${table}`);
  return toNumber(rows);
}

/** Data rows of each file the fast ingest path reads (as text) to guess which categorical columns hold text. */
export const INGEST_SAMPLE_ROWS = 20000;

/** The fast ingest path cannot vouch for its result; the exact path decides (and names any bad input). */
class FastPathMiss extends Error {}

export interface IngestedFiles {
  rows: Record<FileRole, number>;
  columns: ColumnSpec[];
}

/**
 * Validates both files against the summary, decides each column's storage and writes typed Parquet with a `row`
 * column. Text in an ordinal/numeric/interval column fails with file, column, line.
 *
 * Neither path materialises a file in DuckDB: each file is streamed from the CSV into an intermediate Parquet
 * file in file order (columns c0, c1, ...), which is then rewritten with `row` = its Parquet file row number.
 * - The fast path guesses the storage from the first INGEST_SAMPLE_ROWS rows of each file and lets DuckDB's CSV
 *   reader parse the number columns as DOUBLE; any surprise (text further down, a blank or non-finite cell, a
 *   CSV error, a header problem) fails it, and the exact path runs instead, from scratch.
 * - The exact path is the reference: per file, the header check, one counting pass over the file read as text
 *   (CSV errors, the row count, the non-numeric cells per column), the first bad cell for the error message,
 *   and the typed pass from text. Its results and errors are those of the all-text table it replaced.
 * Both write the same files: the fast path only runs to the end when every cell gives what the text path gives.
 */
export async function ingest(
  conn: DuckDBConnection,
  inputs: { population: string; customers: string; featureSummaryPath: string },
  summary: FeatureSummary,
  outDir: string,
  hashes: { population: string; customers: string; featureSummary: string },
  /** 'exact' skips the fast path (tests compare the two). */
  mode: 'auto' | 'exact' = 'auto',
): Promise<IngestOutput> {
  let result: IngestedFiles | null = null;
  if (mode === 'auto') {
    try {
      result = await ingestFast(conn, inputs, summary, outDir);
    } catch {
      for (const role of FILES) await rm(join(outDir, `${role}.parquet`), { force: true });
    }
  }
  result ??= await ingestExact(conn, inputs, summary, outDir);
  const { rows, columns } = result;
  return {
    population: { path: inputs.population, rows: rows.population, sha256: hashes.population, parquet: 'population.parquet' },
    customers: { path: inputs.customers, rows: rows.customers, sha256: hashes.customers, parquet: 'customers.parquet' },
    featureSummary: { path: inputs.featureSummaryPath, sha256: hashes.featureSummary },
    columns,
  };
}

/** Column storage: text for letter-coded columns and for those holding non-numeric cells, else number. */
function columnSpecs(summary: FeatureSummary, textColumns: ReadonlySet<string>): ColumnSpec[] {
  return summary.features.map((feature) => ({
    name: feature.attribute,
    type: feature.type,
    // A letter code ('X', 'XX') marks a code column: keep it as text so the codes are counted as codes.
    storage: textColumns.has(feature.attribute) || hasLetterCode(feature.missingCodes) ? 'text' : 'number',
    missingCodes: feature.missingCodes,
  }));
}

function countColumns(summary: FeatureSummary): { name: string; missingCodes: string[] }[] {
  return summary.features.map((f) => ({ name: f.attribute, missingCodes: f.missingCodes }));
}

/**
 * Writes `<outDir>/<role>.parquet` from a select that yields the typed columns c0, c1, ... in file order:
 * through an intermediate file, so the row numbers come from Parquet (parallel) rather than a window over the
 * CSV (one thread). Returns the number of rows written.
 */
async function writeTyped(conn: DuckDBConnection, select: string, columns: ColumnSpec[], outDir: string, role: FileRole): Promise<number> {
  const intermediate = join(outDir, `.${role}.typed.parquet.tmp`);
  try {
    const written = copyToParquetSql(select, intermediate, { compression: 'uncompressed', rowGroupSize: CLEANING_ROW_GROUP_SIZE });
    const copied = await conn.runAndReadAll(written);
    const rows = toNumber(copied.getRowsJS()[0]?.[0]);
    await conn.run(outputCopySql(numberedSelectSql(intermediate, columns), join(outDir, `${role}.parquet`)));
    return rows;
  } finally {
    await rm(intermediate, { force: true });
  }
}

/** The fast path alone (exported for tests): throws where `ingest` would fall back to the exact path. */
export async function ingestFast(
  conn: DuckDBConnection,
  inputs: { population: string; customers: string },
  summary: FeatureSummary,
  outDir: string,
): Promise<IngestedFiles> {
  const features = summary.features;
  const headers = {} as Record<FileRole, string[]>;
  const textColumns = new Set<string>();
  for (const role of FILES) {
    headers[role] = await validateCsvHeader(inputs[role], summary);
    const sample = `(SELECT * FROM ${readCsvSql(inputs[role], headers[role])} LIMIT ${INGEST_SAMPLE_ROWS})`;
    const [counts] = (await conn.runAndReadAll(rowAndNonNumericCountsSql(sample, countColumns(summary)))).getRowsJS();
    features.forEach((feature, i) => {
      if (toNumber(counts[i + 1]) === 0) return;
      if (NUMERIC_TYPES.has(feature.type)) throw new FastPathMiss(`${feature.attribute}: bad cells in the sample`);
      textColumns.add(feature.attribute);
    });
  }
  const columns = columnSpecs(summary, textColumns);
  const doubles = new Set(columns.filter((column) => column.storage === 'number').map((column) => column.name));
  const rows = {} as Record<FileRole, number>;
  for (const role of FILES) {
    rows[role] = await writeTyped(conn, typedFromTypedCsvSql(readCsvSql(inputs[role], headers[role], doubles), columns), columns, outDir, role);
    if (rows[role] === 0) throw new FastPathMiss('no data rows');
  }
  return { rows, columns };
}

async function ingestExact(
  conn: DuckDBConnection,
  inputs: { population: string; customers: string },
  summary: FeatureSummary,
  outDir: string,
): Promise<IngestedFiles> {
  const features = summary.features;
  const headers = {} as Record<FileRole, string[]>;
  const rows = {} as Record<FileRole, number>;
  const textColumns = new Set<string>();
  for (const role of FILES) {
    const path = inputs[role];
    headers[role] = await validateCsvHeader(path, summary);
    const source = readCsvSql(path, headers[role]);
    let counts: unknown[];
    try {
      [counts] = (await conn.runAndReadAll(rowAndNonNumericCountsSql(source, countColumns(summary)))).getRowsJS();
    } catch (error) {
      throw csvReadError(path, error);
    }
    rows[role] = toNumber(counts[0]);
    if (rows[role] === 0) throw new InputError('the file has no data rows', { file: path, line: 2 });
    for (const [i, feature] of features.entries()) {
      const cells = toNumber(counts[i + 1]);
      if (cells === 0) continue;
      if (NUMERIC_TYPES.has(feature.type)) {
        // The column alone, as a table whose rowid is the data row index (file order).
        await conn.run(`CREATE OR REPLACE TEMP TABLE bad_column AS SELECT ${quoteIdent(feature.attribute)} FROM ${source}`);
        const [bad] = await queryRows(conn, firstNonNumericCellSql('bad_column', feature.attribute, feature.missingCodes));
        const line = toNumber(bad.row) + 2;
        // JSON quoting shows a quoted cell's embedded newline or delimiter as it is, on one line.
        const value = JSON.stringify(String(bad.value));
        throw new InputError(
          `value ${value} is not a number, but the column is ${feature.type} and ${value} is not one of its missing codes [${feature.missingCodes.join(',')}] (${cells} such ${cells === 1 ? 'cell' : 'cells'})`,
          { file: path, column: feature.attribute, line },
        );
      }
      textColumns.add(feature.attribute);
    }
  }
  const columns = columnSpecs(summary, textColumns);
  for (const role of FILES) {
    await writeTyped(conn, typedFromTextSql(readCsvSql(inputs[role], headers[role]), columns), columns, outDir, role);
  }
  return { rows, columns };
}

function hasLetterCode(codes: string[]): boolean {
  return codes.some((code) => /[A-Za-z]/.test(code));
}

/**
 * Missing codes -> NULL, by SQL generated from the summary; counts what was empty and what was coded.
 *
 * The recoded rows are not written out: per file the checkpoint holds a plan (RecodePlanSchema), each column's
 * recode expression, which the later steps apply as they read the ingest step's Parquet (recodedRelation). So the
 * step is the value checks and one counting scan, where writing an 86-column file cost about six scans, and the
 * split writes the only copy of the recoded values the pipeline keeps. Checkpoints made before name a Parquet file
 * of the recoded rows instead; recodedRelation reads either.
 */
export async function recodeMissing(
  conn: DuckDBConnection,
  ingested: { dir: string; output: IngestOutput },
  outDir: string,
  checks: ValueCheckSettings = NO_VALUE_CHECKS,
): Promise<RecodeOutput> {
  const { columns } = ingested.output;
  const perFile = {} as Record<FileRole, Map<string, { empty: number; coded: number }>>;
  // Per column the values present before and after recoding its codes (count() of each, no per-row filter), in the
  // value checks' scan of each file.
  const codesOnly = columns.map((column) => recodedValueSql(column, checks, false));
  const present = ['count(*) AS "rows"', ...codesOnly.flatMap((sql, i) => [`count(${quoteIdent(columns[i].name)}) AS b${i}`, `count(${sql}) AS a${i}`])];
  const { valueChecks, alongside } = await checkValuesAlongside(conn, ingested, checks, present);
  for (const role of FILES) {
    const found = (name: string) => valueChecks.columns.find((c) => c.column === name)?.[role];
    // Only the columns where the checks found values to treat carry the value test (the others' codes suffice).
    const treats = (name: string) => {
      const counts = found(name);
      return counts !== undefined && counts.outOfDomain + counts.extreme > 0;
    };
    const plan: RecodePlan = {
      source: 'ingest',
      columns: columns.map((column) => ({ name: column.name, sql: recodedValueSql(column, checks, treats(column.name)) })),
    };
    await writeFile(join(outDir, recodePlanFile(role)), JSON.stringify(plan));
    const counted = { ...alongside[role] };
    // Where the plan also treats the values the checks found (rare), its expression differs: those are counted again.
    const treating = plan.columns.flatMap((column, i) => (column.sql === codesOnly[i] ? [] : [`count(${column.sql}) AS a${i}`]));
    if (treating.length > 0) {
      Object.assign(counted, await queryOne(conn, `SELECT ${treating.join(',\n  ')} FROM ${parquetRelation(join(ingested.dir, ingested.output[role].parquet))}`));
    }
    const rows = toNumber(counted.rows);
    // The NULLs recoding added are the codes plus the values the value checks treated as missing.
    const treated = (name: string) => (checks.policy === 'missing' && treats(name) ? found(name)!.outOfDomain + found(name)!.extreme : 0);
    perFile[role] = new Map(
      columns.map(({ name }, i) => {
        const before = toNumber(counted[`b${i}`]);
        return [name, { empty: rows - before, coded: before - toNumber(counted[`a${i}`]) - treated(name) }];
      }),
    );
  }
  const counts = (role: FileRole, name: string) => perFile[role].get(name) as { empty: number; coded: number };
  const columnCounts = columns.map(({ name }) => ({ name, population: counts('population', name), customers: counts('customers', name) }));
  const total = (role: FileRole) =>
    columnCounts.reduce((sum, column) => ({ empty: sum.empty + column[role].empty, coded: sum.coded + column[role].coded }), {
      empty: 0,
      coded: 0,
    });
  return {
    population: recodePlanFile('population'),
    customers: recodePlanFile('customers'),
    columns: columnCounts,
    totals: { population: total('population'), customers: total('customers') },
    valueChecks,
  };
}

function recodePlanFile(role: FileRole): string {
  return `${role}.recode.json`;
}

/** A recode checkpoint, with the ingest checkpoint its plans read (needed unless it holds the recoded rows). */
export interface Recoded {
  dir: string;
  output: RecodeOutput;
  ingested?: { dir: string; output: IngestOutput };
}

/**
 * The recoded rows of a file as a relation (usable after FROM): `row` and every column, in row order. A plan is
 * applied to the ingest step's Parquet; a checkpoint made before names the Parquet file of the recoded rows.
 * `rowFilter`, a predicate on the file's own columns (`row`, say), keeps only the rows it holds for, tested
 * before any value is recoded: the recode expressions run for those rows alone.
 */
export async function recodedRelation(recoded: Recoded, role: FileRole, rowFilter?: string): Promise<string> {
  const file = recoded.output[role];
  const where = rowFilter === undefined ? '' : ` WHERE ${rowFilter}`;
  if (file.endsWith('.parquet')) return rowFilter === undefined ? parquetRelation(join(recoded.dir, file)) : `(SELECT * FROM ${parquetRelation(join(recoded.dir, file))}${where})`;
  if (!recoded.ingested) throw new Error(`the recode checkpoint ${recoded.dir} recodes the ingest step's files as they are read: the ingest step's output is needed`);
  const plan = RecodePlanSchema.parse(JSON.parse(await readFile(join(recoded.dir, file), 'utf8')));
  const { dir, output } = recoded.ingested;
  const names = output.columns.map((column) => column.name);
  if (plan.columns.length !== names.length || plan.columns.some((column, i) => column.name !== names[i])) {
    throw new Error(`the recode plan ${join(recoded.dir, file)} does not list the columns of the ingest step's ${role} file`);
  }
  const values = plan.columns.map((column) => `${column.sql} AS ${quoteIdent(column.name)}`);
  return `(SELECT "row", ${values.join(',\n  ')} FROM ${parquetRelation(join(dir, output[role].parquet))}${where})`;
}

/**
 * Row count and per-column NULL counts of the recoded rows without a scan: from a plan's recode counts (empty +
 * coded + the values the checks treated as missing) or from the footer of a recoded Parquet file.
 */
export async function recodedNullCounts(conn: DuckDBConnection, recoded: Recoded, role: FileRole): Promise<ParquetNullCounts | null> {
  const file = recoded.output[role];
  if (file.endsWith('.parquet')) return parquetNullCounts(conn, join(recoded.dir, file), ['row', ...recodedColumns(recoded.output)]);
  if (!recoded.ingested) return null;
  const { valueChecks } = recoded.output;
  const treated = (name: string) => {
    const found = valueChecks.columns.find((c) => c.column === name)?.[role];
    return valueChecks.policy === 'missing' && found ? found.outOfDomain + found.extreme : 0;
  };
  const nulls = new Map(recoded.output.columns.map((column) => [column.name, column[role].empty + column[role].coded + treated(column.name)]));
  return { rows: recoded.ingested.output[role].rows, nulls };
}

/** No domains, no magnitude limit: what recodeMissing does when not told otherwise. */
export const NO_VALUE_CHECKS: ValueCheckSettings = { policy: 'missing', maxAbsValue: Number.MAX_VALUE, domains: {}, domainSource: 'none' };

/**
 * Counts, per file and column, the values outside the column's domain and those of extreme magnitude (one scan
 * per file). Policy 'fail': the first such value (lowest row, first column) is an InputError naming the input
 * file, column and line.
 */
export async function checkValues(
  conn: DuckDBConnection,
  ingested: { dir: string; output: IngestOutput },
  checks: ValueCheckSettings,
): Promise<ValueChecks> {
  return (await checkValuesAlongside(conn, ingested, checks, [])).valueChecks;
}

/** checkValues, with other aggregates (`alongside`, not aliased f0, f1, ...) computed per file in its flags scan. */
async function checkValuesAlongside(
  conn: DuckDBConnection,
  ingested: { dir: string; output: IngestOutput },
  checks: ValueCheckSettings,
  alongside: string[],
): Promise<{ valueChecks: ValueChecks; alongside: Record<FileRole, Record<string, unknown>> }> {
  const found = new Map<string, ValueChecks['columns'][number]>();
  const computed = {} as Record<FileRole, Record<string, unknown>>;
  for (const role of FILES) {
    const source = parquetRelation(join(ingested.dir, ingested.output[role].parquet));
    // The flags scan first: the counting scan covers only the columns that may hold such a value (often none).
    const flags = valueCheckFlagsSql(source, ingested.output.columns, checks, alongside);
    const flagged = { ...(flags.bounds ? await queryOne(conn, flags.bounds) : {}) };
    computed[role] = flags.rows ? await queryOne(conn, flags.rows) : {};
    flags.checked.forEach((_, i) => {
      flagged[`f${i}`] = flagged[`f${i}`] === true || computed[role][`f${i}`] === true;
    });
    const candidates = flags.checked.filter((_, i) => flagged[`f${i}`] === true);
    if (candidates.length === 0) continue;
    const { sql, checked } = valueCheckCountsSql(source, candidates, checks);
    if (!sql) continue;
    const row = await queryOne(conn, sql);
    let first: { row: number; column: string; lo: string; hi: string; extreme: boolean } | undefined;
    checked.forEach((column, i) => {
      const extreme = toNumber(row[`e${i}`]);
      const outOfDomain = toNumber(row[`o${i}`]);
      if (extreme + outOfDomain === 0) return;
      const entry = found.get(column.name) ?? {
        column: column.name,
        domain: describeDomain(checks.domains[column.name]),
        population: { outOfDomain: 0, extreme: 0 },
        customers: { outOfDomain: 0, extreme: 0 },
        range: '',
      };
      entry[role] = { outOfDomain, extreme };
      const lo = String(row[`lo${i}`]);
      const hi = String(row[`hi${i}`]);
      entry.range = entry.range ? `${entry.range}; ${role} ${lo}..${hi}` : `${role} ${lo}..${hi}`;
      found.set(column.name, entry);
      const at = toNumber(row[`r${i}`]);
      if (!first || at < first.row) first = { row: at, column: column.name, lo, hi, extreme: extreme > 0 };
    });
    if (checks.policy === 'fail' && first) {
      const entry = found.get(first.column)!;
      const counts = entry[role];
      throw new InputError(
        `${counts.extreme > 0 ? `${counts.extreme} value(s) beyond ±${checks.maxAbsValue}` : ''}${counts.extreme > 0 && counts.outOfDomain > 0 ? ' and ' : ''}` +
          `${counts.outOfDomain > 0 ? `${counts.outOfDomain} value(s) outside the column's domain ${entry.domain}` : ''} (from ${first.lo} to ${first.hi}); ` +
          `valueChecks.policy is 'fail' (set it to 'missing' to treat them as missing)`,
        { file: ingested.output[role].path, column: first.column, line: first.row + 2 },
      );
    }
  }
  return {
    valueChecks: { policy: checks.policy, maxAbsValue: checks.maxAbsValue, domainSource: checks.domainSource, columns: [...found.values()] },
    alongside: computed,
  };
}

export interface ParquetNullCounts {
  rows: number;
  nulls: Map<string, number>;
}

/**
 * Row count and per-column NULL counts of a Parquet file written by these steps, from its footer (the writer's
 * exact statistics; no scan). `names` are the file's columns in order; null when the footer does not hold
 * them all (other columns, a missing null count), so the caller counts by a scan instead.
 */
export async function parquetNullCounts(conn: DuckDBConnection, path: string, names: readonly string[]): Promise<ParquetNullCounts | null> {
  const file = quoteLiteral(path);
  const [[rows]] = (await conn.runAndReadAll(`SELECT num_rows FROM parquet_file_metadata(${file})`)).getRowsJS();
  const columns = (
    await conn.runAndReadAll(
      `SELECT column_id, any_value(path_in_schema), sum(stats_null_count), count(*) = count(stats_null_count), sum(row_group_num_rows) ` +
        `FROM parquet_metadata(${file}) GROUP BY column_id ORDER BY column_id`,
    )
  ).getRowsJS();
  const total = toNumber(rows);
  if (total > 0 && columns.length !== names.length) return null;
  const nulls = new Map<string, number>();
  for (const [id, path_, count, known, groupRows] of columns) {
    const index = toNumber(id);
    if (names[index] !== path_ || known !== true || toNumber(groupRows) !== total) return null;
    nulls.set(names[index], toNumber(count));
  }
  if (total === 0) for (const name of names) nulls.set(name, 0);
  return { rows: total, nulls };
}

function recodedColumns(output: RecodeOutput): string[] {
  return output.columns.map((column) => column.name);
}

function histogram(rows: Record<string, unknown>[], size: number): number[] {
  const bins = new Array<number>(size + 1).fill(0);
  for (const row of rows) bins[toNumber(row.missing)] = toNumber(row.rows);
  return bins;
}

/** Missing share per column in both files; columns above the threshold (population) are dropped. */
export async function assessMissingness(
  conn: DuckDBConnection,
  recoded: Recoded,
  columnNames: string[],
  maxColumnMissingShare: number,
  /** The population file, to name in errors. */
  populationFile?: string,
): Promise<MissingnessOutput> {
  const sources = { population: await recodedRelation(recoded, 'population'), customers: await recodedRelation(recoded, 'customers') };
  const nullCounts = async (role: FileRole): Promise<Record<string, unknown>> => {
    // The recode counts (or a recoded file's footer) hold every column's NULL count; a scan only when they do not.
    const footer = await recodedNullCounts(conn, recoded, role);
    if (footer && columnNames.every((name) => footer.nulls.has(name))) {
      return { rows: footer.rows, ...Object.fromEntries(columnNames.map((name) => [name, footer.nulls.get(name)])) };
    }
    return queryOne(conn, nullCountsSql(sources[role], columnNames));
  };
  const nulls = { population: await nullCounts('population'), customers: await nullCounts('customers') };
  const total = { population: toNumber(nulls.population.rows), customers: toNumber(nulls.customers.rows) };
  const columns = columnNames.map((column) => {
    const populationMissing = toNumber(nulls.population[column]);
    const customerMissing = toNumber(nulls.customers[column]);
    const populationShare = populationMissing / total.population;
    return {
      column,
      populationMissing,
      customerMissing,
      populationShare,
      customerShare: customerMissing / total.customers,
      dropped: populationShare > maxColumnMissingShare,
    };
  });
  const kept = columns.filter((c) => !c.dropped).map((c) => c.column);
  if (kept.length === 0) {
    const least = columns.reduce((a, b) => (b.populationShare < a.populationShare ? b : a));
    throw new InputError(
      `no column is left to model: all ${columns.length} columns miss more than maxColumnMissingShare = ${maxColumnMissingShare} of the ` +
        `${total.population} population rows (the fullest, ${least.column}, misses ${percent(least.populationShare)}); is the population file mostly empty?`,
      { file: populationFile, column: least.column },
    );
  }
  return {
    threshold: maxColumnMissingShare,
    columns,
    dropped: columns.filter((c) => c.dropped).map((c) => c.column),
    kept,
    rowHistogram: {
      population: histogram(await queryRows(conn, rowMissingHistogramSql(sources.population, kept)), kept.length),
      customers: histogram(await queryRows(conn, rowMissingHistogramSql(sources.customers, kept)), kept.length),
    },
  };
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

/** Fewer clean population rows than this cannot be modelled (PCA, a k sweep and a final k-means need rows). */
export const MIN_CLEAN_ROWS = 10;

/**
 * Before the split: the clean population rows (counted from the missingness histogram, so nothing is computed)
 * must be enough to model and to hold every k the run asks for. Too few clean rows is the data's fault
 * (InputError); a k, kMin or kMax above them is the config's (ConfigError). Either way the run stops here,
 * with the counts, instead of crashing later inside PCA or k-means.
 */
export function checkCleanRows(
  missingness: Pick<MissingnessOutput, 'kept' | 'rowHistogram'>,
  maxRowMissing: number,
  config: { k?: number; kMin: number; kMax: number },
  /** The population file, to name in errors. */
  populationFile?: string,
): { rows: number; cleanRows: number } {
  const histogram = missingness.rowHistogram.population;
  const rows = histogram.reduce((a, b) => a + b, 0);
  const cleanRows = histogram.slice(0, maxRowMissing + 1).reduce((a, b) => a + b, 0);
  const split = `(rows missing at most ${maxRowMissing} of the ${missingness.kept.length} kept columns; ${rows - cleanRows} of ${rows} rows are heavy-missing)`;
  if (cleanRows < MIN_CLEAN_ROWS) {
    throw new InputError(
      `only ${cleanRows} clean population rows are left to model, at least ${MIN_CLEAN_ROWS} are needed ${split}; ` +
        'the population file is too sparse, or maxRowMissing / maxRowMissingShare too strict',
      { file: populationFile },
    );
  }
  const tooLarge = (['k', 'kMin', 'kMax'] as const).filter((name) => (config[name] ?? 0) > cleanRows);
  if (tooLarge.length > 0) {
    const asked = [
      ...(tooLarge.includes('k') ? [`k = ${config.k}`] : []),
      ...(tooLarge.includes('kMax') ? [`kMin..kMax = ${config.kMin}..${config.kMax}`] : []),
    ];
    throw new ConfigError(
      `${asked.join(' and ')} ${asked.length > 1 ? 'exceed' : 'exceeds'} the ${cleanRows} clean population rows ${split}: ` +
        `k-means needs at least k rows; lower ${tooLarge.join(' and ')}`,
    );
  }
  return { rows, cleanRows };
}

/** The default choice of compared columns (config heavyComparison). */
export const DEFAULT_HEAVY_COMPARISON: ComparisonOptions = { maxMissingShare: 0.05, fallbackColumns: 10 };

/**
 * Rows missing more than `maxRowMissing` kept values form the heavy-missing group (kept aside for the final
 * comparison); the rest are modelled. Compares the two groups' value distributions per well-filled column
 * (planHeavyComparison: which columns, or why none).
 *
 * Per file one pass writes the clean rows (recoded, filtered by their missing count); the heavy rows are then the
 * rows that file does not hold, found by their `row` alone, so their values are recoded for them only (a tenth of
 * the rows at Arvato) rather than recounting every row's missing values again. The comparison counts the clean
 * rows' values from the clean file just written and the heavy rows' from a small table of theirs: no third pass
 * over the recoded population. Writing the clean copy is most of the step's time (DuckDB's Parquet writer).
 */
export async function splitRows(
  conn: DuckDBConnection,
  recoded: Recoded,
  missingness: MissingnessOutput,
  maxRowMissing: number,
  outDir: string,
  comparisonOptions: ComparisonOptions = DEFAULT_HEAVY_COMPARISON,
): Promise<SplitOutput> {
  const kept = missingness.kept;
  const counts = {} as Record<FileRole, SplitOutput['population']>;
  for (const role of FILES) {
    const rows = missingness.rowHistogram[role].reduce((a, b) => a + b, 0);
    const heavyRows = missingness.rowHistogram[role].slice(maxRowMissing + 1).reduce((a, b) => a + b, 0);
    counts[role] = {
      rows,
      cleanRows: rows - heavyRows,
      heavyRows,
      heavyShare: rows === 0 ? 0 : heavyRows / rows,
      clean: `${role}_clean.parquet`,
      heavy: `${role}_heavy.parquet`,
    };
  }
  const plan = planHeavyComparison(
    missingness.columns,
    { clean: counts.population.cleanRows, heavy: counts.population.heavyRows },
    comparisonOptions,
  );
  const missing = rowMissingCountExpr(kept);
  for (const role of FILES) {
    const cleanPath = join(outDir, counts[role].clean);
    // The recoded rows are in row order, and the copy keeps it (no sort).
    const cleanSelect = splitSelectSql(await recodedRelation(recoded, role), kept, maxRowMissing, false, false);
    await copyExpecting(conn, outputCopySql(cleanSelect, cleanPath), counts[role].cleanRows, cleanPath);
    const heavySource = await recodedRelation(recoded, role, `"row" NOT IN (SELECT "row" FROM ${parquetRelation(cleanPath)})`);
    const compared = role === 'population' ? plan.columns : [];
    // Only the population's heavy rows are compared: their compared values are kept in a table beside row and count.
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE ${heavyTable(role)} AS SELECT "row" AS ${HEAVY_ROW}, ${missing} AS ${HEAVY_MISSING}` +
        `${compared.map((name) => `, ${quoteIdent(name)}`).join('')} FROM ${heavySource}`,
    );
    const heavySelect = `SELECT ${HEAVY_ROW} AS "row", ${HEAVY_MISSING} AS missing FROM ${heavyTable(role)} ORDER BY ${HEAVY_ROW}`;
    await copyExpecting(conn, outputCopySql(heavySelect, join(outDir, counts[role].heavy)), counts[role].heavyRows, join(outDir, counts[role].heavy));
  }

  const divergence: SplitOutput['divergence'] = [];
  const unfilled: string[] = [];
  if (plan.columns.length > 0) {
    const valueCounts = await valueCountsByGroup(
      conn,
      {
        clean: parquetRelation(join(outDir, counts.population.clean)),
        heavy: heavyTable('population'),
        recodedRows: await recodedRelation(recoded, 'population'),
        kept,
        maxRowMissing,
      },
      plan.columns,
      plan.skipMissing,
    );
    for (const column of plan.columns) {
      const { clean, heavy } = valueCounts.get(column) as { clean: Map<string, number>; heavy: Map<string, number> };
      const levels = [...new Set([...clean.keys(), ...heavy.keys()])].sort();
      const p = levels.map((level) => clean.get(level) ?? 0);
      const q = levels.map((level) => heavy.get(level) ?? 0);
      // Without missing values a group may hold no value of a column at all: nothing to compare there.
      if (!p.some((n) => n > 0) || !q.some((n) => n > 0)) {
        unfilled.push(column);
        continue;
      }
      divergence.push({ column, jensenShannon: jensenShannon(p, q), totalVariation: totalVariation(p, q) });
    }
    divergence.sort((a, b) => b.jensenShannon - a.jensenShannon);
  }
  for (const role of FILES) await conn.run(`DROP TABLE IF EXISTS ${heavyTable(role)}`);
  const skipped = unfilled.length ? ` (${unfilled.length} column(s) without a value in one of the groups left out: ${unfilled.slice(0, 5).join(', ')})` : '';
  const note = plan.note === null ? (skipped ? `compared${skipped}` : null) : `${plan.note}${skipped}`;
  const comparison = { maxMissingShare: comparisonOptions.maxMissingShare, columns: divergence.length, selection: plan.selection, note };
  return { maxRowMissing, keptColumns: kept, population: counts.population, customers: counts.customers, divergence, comparison };
}

/** The split's table of a file's heavy rows: row, missing count, and (population) the compared columns' values. */
const heavyTable = (role: FileRole) => `split_heavy_${role}`;
const HEAVY_ROW = quoteIdent('split:row');
const HEAVY_MISSING = quoteIdent('split:missing');

/** Runs a COPY and checks the rows it wrote against the count the missingness histogram gives. */
async function copyExpecting(conn: DuckDBConnection, copy: string, expected: number, path: string): Promise<void> {
  const written = toNumber((await conn.runAndReadAll(copy)).getRowsJS()[0]?.[0]);
  if (written !== expected) {
    throw new Error(`the split wrote ${written} rows to ${path} where the missingness step counted ${expected}: the recode and missingness checkpoints disagree`);
  }
}

/** Compared columns counted per scan (valueCountsByColumnSql). */
export const GROUPING_SETS_PER_SCAN = 64;

/**
 * Per compared column, the clean and the heavy rows' value counts, keyed by CAST(value AS VARCHAR) ('null' for
 * NULL): one grouping-sets scan of the clean rows (`clean`, recoded values) and one of the heavy rows (`heavy`).
 * A column holding -0.0 in the recoded rows (which a group counts with 0.0, but whose text differs) is counted
 * again by value text from the recoded rows.
 */
async function valueCountsByGroup(
  conn: DuckDBConnection,
  groups: { clean: string; heavy: string; recodedRows: string; kept: string[]; maxRowMissing: number },
  compared: string[],
  skipMissing = false,
): Promise<Map<string, { clean: Map<string, number>; heavy: Map<string, number> }>> {
  const { clean, heavy, recodedRows, kept, maxRowMissing } = groups;
  const out = new Map(compared.map((name) => [name, { clean: new Map<string, number>(), heavy: new Map<string, number>() }]));
  for (const [group, source] of [['clean', clean], ['heavy', heavy]] as const) {
    const nulls = new Map<string, number>();
    // DuckDB's grouping sets grow faster than linearly in their number (128 columns 0.3 s, 400 columns 25 s at 20k
    // rows): a scan per GROUPING_SETS_PER_SCAN columns.
    for (let start = 0; start < compared.length; start += GROUPING_SETS_PER_SCAN) {
      const columns = compared.slice(start, start + GROUPING_SETS_PER_SCAN);
      for (const [index, value, n] of (await conn.runAndReadAll(valueCountsByColumnSql(source, columns))).getRowsJS()) {
        const name = columns[toNumber(index)];
        if (value === null) nulls.set(name, toNumber(n));
        else (out.get(name) as { clean: Map<string, number>; heavy: Map<string, number> })[group].set(String(value), toNumber(n));
      }
    }
    // NULLs last, as 'null' (what String(null) gives), unless the comparison leaves missing values out.
    if (!skipMissing) for (const [name, n] of nulls) out.get(name)![group].set(String(null), n);
  }
  // DuckDB's Parquet writer stores the zeros of a column chunk as the first of -0.0 and 0.0 it met, so the clean
  // file may hold a zero of the other sign than the recoded rows: the columns holding a -0.0 are looked for, and
  // counted by value text, in the recoded rows themselves (as the split did before it counted from its files).
  const types = new Map((await queryRows(conn, `DESCRIBE SELECT * FROM ${clean}`)).map((row) => [String(row.column_name), String(row.column_type)]));
  const numbers = compared.filter((name) => types.get(name) !== 'VARCHAR');
  const [negativeZeros] = numbers.length ? (await conn.runAndReadAll(negativeZeroColumnsSql(recodedRows, numbers))).getRowsJS() : [[]];
  const recount = numbers.filter((_, i) => negativeZeros[i] === true);
  if (recount.length > 0) {
    const flagged = `(SELECT ${recount.map(quoteIdent).join(', ')}, (${rowMissingCountExpr(kept)}) > ${maxRowMissing} AS heavy FROM ${recodedRows})`;
    for (const name of recount) out.set(name, { clean: new Map(), heavy: new Map() });
    for (const row of await queryRows(conn, valueCountsByGroupSql(flagged, recount))) {
      const counts = out.get(String(row.column)) as { clean: Map<string, number>; heavy: Map<string, number> };
      if (skipMissing && row.value === null) continue;
      (row.heavy ? counts.heavy : counts.clean).set(String(row.value), toNumber(row.n));
    }
  }
  return out;
}

/** The split threshold: a fixed count, or a share of the kept columns. */
export function resolveMaxRowMissing(config: { maxRowMissing?: number; maxRowMissingShare: number }, keptColumns: number): number {
  return config.maxRowMissing ?? Math.floor(config.maxRowMissingShare * keptColumns);
}

const INPUT_ROLES = { population: 'population file', customers: 'customers file', featureSummary: 'feature summary' } as const;
export type InputRole = keyof typeof INPUT_ROLES;

/** Hashes one input file; a missing path, a directory or an unreadable file is the user's to fix (InputError). */
export async function hashInput(role: InputRole, path: string): Promise<string> {
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      throw new InputError(`the ${INPUT_ROLES[role]} is not a file but a ${info.isDirectory() ? 'directory' : 'special file'}`, { file: path });
    }
    const scan = await scanInputFile(path);
    if (scan.overlong) {
      const { line, bytes } = scan.overlong;
      throw new InputError(
        `the line is ${(bytes / 1024 / 1024).toFixed(1)} MB long (${bytes.toLocaleString('en-US')} bytes), more than the ${MAX_LINE_BYTES / 1024 / 1024} MB a line may have: a malformed or binary line?`,
        { file: path, line },
      );
    }
    return scan.sha256;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const { code, message } = error as NodeJS.ErrnoException;
    const reason = code === 'ENOENT' ? 'ENOENT (no such file)' : code === 'EACCES' ? 'EACCES (permission denied)' : (code ?? message);
    throw new InputError(`cannot read the ${INPUT_ROLES[role]}: ${reason}`, { file: path });
  }
}

/**
 * Step 1a as a whole: validates the summary and both files and loads them typed. The checkpoint keeps a copy
 * of the feature summary (MODEL_FILES.featureSummary): later steps read that copy, so a changed file on disk
 * cannot skew a resumed run.
 */
export async function ingestFiles(inputs: Record<InputRole, string>, hashes: Record<InputRole, string>, workDir: string): Promise<IngestOutput> {
  const summary = readFeatureSummary(inputs.featureSummary);
  await copyFile(inputs.featureSummary, join(workDir, MODEL_FILES.featureSummary));
  return withDuckDb({}, (conn) =>
    ingest(conn, { population: inputs.population, customers: inputs.customers, featureSummaryPath: inputs.featureSummary }, summary, workDir, hashes),
  );
}
