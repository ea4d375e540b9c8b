/** Small SQL-text helpers: every identifier and literal the encoding emits goes through these. */

export { parquetRelation, quoteIdent, quoteLiteral } from '../duckdb';
import { quoteLiteral } from '../duckdb';

/**
 * A DOUBLE literal that round-trips exactly: DuckDB reads `0.1` as DECIMAL, so numbers are written as
 * '<shortest repr>'::DOUBLE (parsed correctly rounded, folded at bind time).
 */
export function doubleLiteral(value: number): string {
  if (Number.isNaN(value)) return `'NaN'::DOUBLE`;
  if (value === Infinity) return `'Infinity'::DOUBLE`;
  if (value === -Infinity) return `'-Infinity'::DOUBLE`;
  return `${quoteLiteral(Object.is(value, -0) ? '-0' : String(value))}::DOUBLE`;
}


/** How a source column holds its values. */
export type SourceKind = 'number' | 'text';

const NUMERIC_TYPES = new Set([
  'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT',
  'FLOAT', 'DOUBLE', 'REAL', 'INT1', 'INT2', 'INT4', 'INT8',
]);

/** Maps a DuckDB column type name to number / text; null for anything else (dates, lists, ...). */
export function sourceKindOf(duckdbType: string): SourceKind | null {
  const type = duckdbType.toUpperCase();
  if (NUMERIC_TYPES.has(type) || type.startsWith('DECIMAL')) return 'number';
  if (type === 'VARCHAR' || type.startsWith('VARCHAR(')) return 'text';
  return null;
}

/** Canonical text of a number value as used for levels: shortest form (8 -> "8", 2.5 -> "2.5"). */
export function numberText(value: number): string {
  return Object.is(value, -0) ? '0' : String(value);
}

/**
 * The SQL literal for a rules/model value key against a source column of the given kind.
 * Throws a plain Error when a number column is matched with a non-numeric key.
 */
export function valueLiteral(key: string, kind: SourceKind): string {
  if (kind === 'text') return quoteLiteral(key);
  const value = Number(key);
  if (key.trim() === '' || !Number.isFinite(value)) {
    throw new Error(`value "${key}" is not a number but the column holds numbers`);
  }
  return doubleLiteral(value);
}
