/**
 * SQL builders for the cleaning steps. Pure functions of the feature summary, unit-tested on their own.
 * Raw cells are read as text; a column is stored as DOUBLE when every value that is not a missing code
 * parses as a finite number, else as normalised text ('8.0' -> '8', so '8' and '8.0' are one level).
 */
import { quoteIdent, quoteLiteral } from '../duckdb';
import type { FeatureType } from '../../schemas/feature-summary';

export type Storage = 'number' | 'text';

export interface ColumnSpec {
  name: string;
  type: FeatureType;
  storage: Storage;
  missingCodes: string[];
}

/** Types whose values must be numbers; text in them is bad input, not a category. */
export const NUMERIC_TYPES: ReadonlySet<FeatureType> = new Set(['ordinal', 'numeric', 'interval']);

const NUMERIC_CODE = /^-?\d+(\.\d+)?$/;

function trimmed(column: string): string {
  return `NULLIF(trim(${quoteIdent(column)}), '')`;
}

function parsedNumber(column: string): string {
  return `TRY_CAST(${trimmed(column)} AS DOUBLE)`;
}

/** True when a raw cell is neither empty, nor a listed code, nor a finite number. */
export function nonNumericCellPredicate(column: string, missingCodes: string[]): string {
  const letterCodes = missingCodes.filter((code) => !NUMERIC_CODE.test(code));
  const notCode = letterCodes.length ? ` AND ${trimmed(column)} NOT IN (${letterCodes.map(quoteLiteral).join(', ')})` : '';
  return `(${trimmed(column)} IS NOT NULL${notCode} AND (${parsedNumber(column)} IS NULL OR NOT isfinite(${parsedNumber(column)})))`;
}

/** One pass over a raw table: per column, how many cells are not numbers (codes and empties excluded). */
export function nonNumericCountsSql(table: string, columns: { name: string; missingCodes: string[] }[]): string {
  const counts = columns.map(
    (column) => `count(*) FILTER (WHERE ${nonNumericCellPredicate(column.name, column.missingCodes)}) AS ${quoteIdent(column.name)}`,
  );
  return `SELECT ${counts.join(',\n  ')} FROM ${table}`;
}

/** The first offending cell of a column, for an error message naming file, column and line. */
export function firstNonNumericCellSql(table: string, column: string, missingCodes: string[]): string {
  return `SELECT rowid AS row, ${quoteIdent(column)} AS value FROM ${table} WHERE ${nonNumericCellPredicate(column, missingCodes)} ORDER BY rowid LIMIT 1`;
}

/** Text normalisation: integral numbers lose their '.0' so '8' and '8.0' are the same level. */
function normalisedText(column: string): string {
  const number = parsedNumber(column);
  return `CASE WHEN ${number} IS NOT NULL AND isfinite(${number}) AND ${number} = floor(${number}) THEN CAST(CAST(${number} AS BIGINT) AS VARCHAR) ELSE ${trimmed(column)} END`;
}

/** Raw text table -> typed columns, with `row` = 0-based data row index (file order). */
export function typedSelectSql(table: string, columns: ColumnSpec[]): string {
  const casts = columns.map((column) =>
    column.storage === 'number'
      ? `${parsedNumber(column.name)} AS ${quoteIdent(column.name)}`
      : `${normalisedText(column.name)} AS ${quoteIdent(column.name)}`,
  );
  return `SELECT rowid AS "row", ${casts.join(',\n  ')} FROM ${table} ORDER BY rowid`;
}

/** The literal list a column's missing codes compare against, in the column's storage type. */
export function codeLiterals(column: ColumnSpec): string[] {
  if (column.storage === 'number') {
    return column.missingCodes.filter((code) => NUMERIC_CODE.test(code)).map((code) => String(Number(code)));
  }
  return column.missingCodes.map((code) => quoteLiteral(NUMERIC_CODE.test(code) ? String(Number(code)) : code));
}

/** Predicate: the cell holds one of the column's missing codes. 'false' when it lists none. */
export function isMissingCodeSql(column: ColumnSpec): string {
  const literals = codeLiterals(column);
  const casted = column.storage === 'number' ? literals.map((l) => `${l}::DOUBLE`) : literals;
  return literals.length ? `${quoteIdent(column.name)} IN (${casted.join(', ')})` : 'false';
}

/** Typed table -> the same table with every listed missing code turned into NULL. */
export function recodeSelectSql(source: string, columns: ColumnSpec[]): string {
  const recoded = columns.map((column) => {
    const predicate = isMissingCodeSql(column);
    const name = quoteIdent(column.name);
    return predicate === 'false' ? name : `CASE WHEN ${predicate} THEN NULL ELSE ${name} END AS ${name}`;
  });
  return `SELECT "row", ${recoded.join(',\n  ')} FROM ${source} ORDER BY "row"`;
}

/** Per column: cells already empty, and cells holding a missing code (what recoding turns into NULL). */
export function missingCountsSql(source: string, columns: ColumnSpec[]): string {
  const parts = columns.flatMap((column) => [
    `count(*) FILTER (WHERE ${quoteIdent(column.name)} IS NULL) AS ${quoteIdent(`${column.name}:empty`)}`,
    `count(*) FILTER (WHERE ${isMissingCodeSql(column)}) AS ${quoteIdent(`${column.name}:coded`)}`,
  ]);
  return `SELECT count(*) AS "rows", ${parts.join(',\n  ')} FROM ${source}`;
}

/** Per column null counts (after recoding). */
export function nullCountsSql(source: string, columns: string[]): string {
  const parts = columns.map((name) => `count(*) FILTER (WHERE ${quoteIdent(name)} IS NULL) AS ${quoteIdent(name)}`);
  return `SELECT count(*) AS "rows", ${parts.join(',\n  ')} FROM ${source}`;
}

/** The number of NULL cells of a row over the given columns. */
export function rowMissingCountExpr(columns: string[]): string {
  if (columns.length === 0) return '0';
  return columns.map((name) => `(${quoteIdent(name)} IS NULL)::INTEGER`).join(' + ');
}

/** Histogram: rows per missing count (0..columns.length). */
export function rowMissingHistogramSql(source: string, columns: string[]): string {
  return `SELECT ${rowMissingCountExpr(columns)} AS missing, count(*) AS "rows" FROM ${source} GROUP BY ALL ORDER BY missing`;
}

/** Rows of `source` with at most / more than `maxMissing` NULLs over `columns`, keeping `row` + the columns. */
export function splitSelectSql(source: string, columns: string[], maxMissing: number, heavy: boolean): string {
  const comparison = heavy ? '>' : '<=';
  const selected = ['"row"', ...columns.map(quoteIdent)].join(', ');
  return `SELECT ${selected} FROM ${source} WHERE ${rowMissingCountExpr(columns)} ${comparison} ${maxMissing} ORDER BY "row"`;
}

/** Value counts of several columns by the boolean column `heavy` of `source`, long format (column, value, heavy, n). */
export function valueCountsByGroupSql(source: string, columns: string[]): string {
  return columns
    .map(
      (name) =>
        `SELECT ${quoteLiteral(name)} AS "column", CAST(${quoteIdent(name)} AS VARCHAR) AS value, heavy, count(*) AS n FROM ${source} GROUP BY ALL`,
    )
    .join('\nUNION ALL\n');
}


export function copyToParquetSql(select: string, path: string): string {
  return `COPY (${select}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`;
}
