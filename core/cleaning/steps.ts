/**
 * The cleaning steps as functions of a DuckDB connection and files: ingest, recode missing codes,
 * assess missingness, split rows. Activities wrap them with validation and checkpoints.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import { ConfigError, InputError } from '../../common/errors';
import type { FeatureSummary } from '../../schemas/feature-summary';
import type { IngestOutput, MissingnessOutput, RecodeOutput, SplitOutput } from '../../schemas/steps';
import { parquetRelation, queryOne, queryRows, quoteIdent, quoteLiteral, toNumber } from '../duckdb';
import { jensenShannon, totalVariation } from '../stats/divergence';
import { csvReadError, validateCsvHeader } from './csv-header';
import {
  ColumnSpec,
  NUMERIC_TYPES,
  copyToParquetSql,
  firstNonNumericCellSql,
  missingCountsSql,
  nonNumericCountsSql,
  nullCountsSql,
  recodeSelectSql,
  rowMissingCountExpr,
  rowMissingHistogramSql,
  splitSelectSql,
  typedSelectSql,
  valueCountsByGroupSql,
} from './sql';

export const FILES = ['population', 'customers'] as const;
export type FileRole = (typeof FILES)[number];

/** Loads a validated `;`-separated file as an all-text table (DuckDB's parse errors name file and line). */
export async function loadRawCsv(conn: DuckDBConnection, table: string, path: string, header: string[]): Promise<number> {
  const columns = header.map((name) => `${quoteLiteral(name)}: 'VARCHAR'`).join(', ');
  try {
    await conn.run(
      `CREATE OR REPLACE TABLE ${table} AS SELECT * FROM read_csv(${quoteLiteral(path)}, delim=';', header=true, ` +
        `auto_detect=false, columns={${columns}}, quote='"', escape='"', strict_mode=true, null_padding=false)`,
    );
  } catch (error) {
    throw csvReadError(path, error);
  }
  const { rows } = await queryOne(conn, `SELECT count(*) AS rows FROM ${table}`);
  return toNumber(rows);
}

/**
 * Validates both files against the summary, loads them as text, decides each column's storage and writes
 * typed Parquet with a `row` column. Text in an ordinal/numeric/interval column fails with file, column, line.
 */
export async function ingest(
  conn: DuckDBConnection,
  inputs: { population: string; customers: string; featureSummaryPath: string },
  summary: FeatureSummary,
  outDir: string,
  hashes: { population: string; customers: string; featureSummary: string },
): Promise<IngestOutput> {
  const features = summary.features;
  const rows: Record<FileRole, number> = { population: 0, customers: 0 };
  const textColumns = new Set<string>();
  for (const role of FILES) {
    const path = inputs[role];
    const header = await validateCsvHeader(path, summary);
    rows[role] = await loadRawCsv(conn, `raw_${role}`, path, header);
    if (rows[role] === 0) throw new InputError('the file has no data rows', { file: path, line: 2 });
    const counts = await queryOne(conn, nonNumericCountsSql(`raw_${role}`, features.map((f) => ({ name: f.attribute, missingCodes: f.missingCodes }))));
    for (const feature of features) {
      if (toNumber(counts[feature.attribute]) === 0) continue;
      if (NUMERIC_TYPES.has(feature.type)) {
        const [bad] = await queryRows(conn, firstNonNumericCellSql(`raw_${role}`, feature.attribute, feature.missingCodes));
        const line = toNumber(bad.row) + 2;
        // JSON quoting shows a quoted cell's embedded newline or delimiter as it is, on one line.
        const value = JSON.stringify(String(bad.value));
        const cells = toNumber(counts[feature.attribute]);
        throw new InputError(
          `value ${value} is not a number, but the column is ${feature.type} and ${value} is not one of its missing codes [${feature.missingCodes.join(',')}] (${cells} such ${cells === 1 ? 'cell' : 'cells'})`,
          { file: path, column: feature.attribute, line },
        );
      }
      textColumns.add(feature.attribute);
    }
  }
  const columns: ColumnSpec[] = features.map((feature) => ({
    name: feature.attribute,
    type: feature.type,
    // A letter code ('X', 'XX') marks a code column: keep it as text so the codes are counted as codes.
    storage: textColumns.has(feature.attribute) || hasLetterCode(feature.missingCodes) ? 'text' : 'number',
    missingCodes: feature.missingCodes,
  }));
  for (const role of FILES) {
    await conn.run(copyToParquetSql(typedSelectSql(`raw_${role}`, columns), join(outDir, `${role}.parquet`)));
    await conn.run(`DROP TABLE raw_${role}`);
  }
  return {
    population: { path: inputs.population, rows: rows.population, sha256: hashes.population, parquet: 'population.parquet' },
    customers: { path: inputs.customers, rows: rows.customers, sha256: hashes.customers, parquet: 'customers.parquet' },
    featureSummary: { path: inputs.featureSummaryPath, sha256: hashes.featureSummary },
    columns,
  };
}

function hasLetterCode(codes: string[]): boolean {
  return codes.some((code) => /[A-Za-z]/.test(code));
}

/** Missing codes -> NULL, by SQL generated from the summary; counts what was empty and what was coded. */
export async function recodeMissing(
  conn: DuckDBConnection,
  ingested: { dir: string; output: IngestOutput },
  outDir: string,
): Promise<RecodeOutput> {
  const { columns } = ingested.output;
  const perFile = {} as Record<FileRole, Record<string, unknown>>;
  for (const role of FILES) {
    const source = parquetRelation(join(ingested.dir, ingested.output[role].parquet));
    perFile[role] = await queryOne(conn, missingCountsSql(source, columns));
    await conn.run(copyToParquetSql(recodeSelectSql(source, columns), join(outDir, `${role}.parquet`)));
  }
  const counts = (role: FileRole, name: string) => ({
    empty: toNumber(perFile[role][`${name}:empty`]),
    coded: toNumber(perFile[role][`${name}:coded`]),
  });
  const columnCounts = columns.map(({ name }) => ({ name, population: counts('population', name), customers: counts('customers', name) }));
  const total = (role: FileRole) =>
    columnCounts.reduce((sum, column) => ({ empty: sum.empty + column[role].empty, coded: sum.coded + column[role].coded }), {
      empty: 0,
      coded: 0,
    });
  return {
    population: 'population.parquet',
    customers: 'customers.parquet',
    columns: columnCounts,
    totals: { population: total('population'), customers: total('customers') },
  };
}

function histogram(rows: Record<string, unknown>[], size: number): number[] {
  const bins = new Array<number>(size + 1).fill(0);
  for (const row of rows) bins[toNumber(row.missing)] = toNumber(row.rows);
  return bins;
}

/** Missing share per column in both files; columns above the threshold (population) are dropped. */
export async function assessMissingness(
  conn: DuckDBConnection,
  recoded: { dir: string; output: RecodeOutput },
  columnNames: string[],
  maxColumnMissingShare: number,
  /** The population file, to name in errors. */
  populationFile?: string,
): Promise<MissingnessOutput> {
  const sources = {
    population: parquetRelation(join(recoded.dir, recoded.output.population)),
    customers: parquetRelation(join(recoded.dir, recoded.output.customers)),
  };
  const nulls = {
    population: await queryOne(conn, nullCountsSql(sources.population, columnNames)),
    customers: await queryOne(conn, nullCountsSql(sources.customers, columnNames)),
  };
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

/** Columns whose population missing share is at most this are compared between clean and heavy rows. */
const DIVERGENCE_MAX_MISSING_SHARE = 0.05;

/**
 * Rows missing more than `maxRowMissing` kept values form the heavy-missing group (kept aside for the final
 * comparison); the rest are modelled. Compares the two groups' value distributions per well-filled column.
 */
export async function splitRows(
  conn: DuckDBConnection,
  recoded: { dir: string; output: RecodeOutput },
  missingness: MissingnessOutput,
  maxRowMissing: number,
  outDir: string,
): Promise<SplitOutput> {
  const kept = missingness.kept;
  const counts = {} as Record<FileRole, SplitOutput['population']>;
  for (const role of FILES) {
    const source = parquetRelation(join(recoded.dir, recoded.output[role]));
    await conn.run(copyToParquetSql(splitSelectSql(source, kept, maxRowMissing, false), join(outDir, `${role}_clean.parquet`)));
    await conn.run(
      copyToParquetSql(
        `SELECT "row", ${rowMissingCountExpr(kept)} AS missing FROM ${source} WHERE ${rowMissingCountExpr(kept)} > ${maxRowMissing} ORDER BY "row"`,
        join(outDir, `${role}_heavy.parquet`),
      ),
    );
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

  const compared = missingness.columns
    .filter((c) => !c.dropped && c.populationShare <= DIVERGENCE_MAX_MISSING_SHARE)
    .map((c) => c.column);
  const divergence: SplitOutput['divergence'] = [];
  if (compared.length > 0 && counts.population.heavyRows > 0 && counts.population.cleanRows > 0) {
    const source = parquetRelation(join(recoded.dir, recoded.output.population));
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE flagged AS SELECT ${compared.map(quoteIdent).join(', ')}, (${rowMissingCountExpr(kept)}) > ${maxRowMissing} AS heavy FROM ${source}`,
    );
    const valueCounts = await queryRows(conn, valueCountsByGroupSql('flagged', compared));
    await conn.run('DROP TABLE flagged');
    for (const column of compared) {
      const clean = new Map<string, number>();
      const heavy = new Map<string, number>();
      for (const row of valueCounts) {
        if (row.column !== column) continue;
        (row.heavy ? heavy : clean).set(String(row.value), toNumber(row.n));
      }
      const levels = [...new Set([...clean.keys(), ...heavy.keys()])].sort();
      const p = levels.map((level) => clean.get(level) ?? 0);
      const q = levels.map((level) => heavy.get(level) ?? 0);
      divergence.push({ column, jensenShannon: jensenShannon(p, q), totalVariation: totalVariation(p, q) });
    }
    divergence.sort((a, b) => b.jensenShannon - a.jensenShannon);
  }
  return { maxRowMissing, keptColumns: kept, population: counts.population, customers: counts.customers, divergence };
}

/** The split threshold: a fixed count, or a share of the kept columns. */
export function resolveMaxRowMissing(config: { maxRowMissing?: number; maxRowMissingShare: number }, keptColumns: number): number {
  return config.maxRowMissing ?? Math.floor(config.maxRowMissingShare * keptColumns);
}
