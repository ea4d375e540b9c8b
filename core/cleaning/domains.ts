/**
 * Value checks: values outside a column's known domain and values of extreme magnitude.
 *
 * The feature summary lists types and missing codes but no domains, so a domain comes from
 * - a domains file (config `valueChecks.domains`: {"COLUMN": {"values": [...]} | {"min": a, "max": b, "integer": true}}), or
 * - for the Arvato summary, the built-in domains (core/cleaning/arvato-domains.ts: the data dictionary's codes,
 *   ranges widened to the observed min/max of the real file, e.g. ANZ_HAUSHALTE_AKTIV 0..595), as whole numbers
 *   from the smallest to the largest.
 * A column without a domain is checked for magnitude only (|x| > maxAbsValue, every number column): 1e308 would
 * overflow the variance (DuckDB: "VARPOP is out of range") and anything far beyond a column's scale swamps it.
 *
 * Policy (config `valueChecks.policy`): 'missing' (default) turns such values into NULL with the missing codes
 * and counts them per column (results.json and the report list them); 'fail' stops the run at the recode step
 * naming the file, column and line of the first such value.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../../common/errors';
import { ARVATO_NUMBER_DOMAINS } from './arvato-domains';
import type { ColumnSpec } from './sql';
import { isMissingCodeSql } from './sql';
import { quoteIdent } from '../duckdb';
import { isArvatoSummary } from '../encoding/rules';
import { readFeatureSummary } from './feature-summary';

export const ValueDomainSchema = z.union([
  z.object({ values: z.array(z.union([z.number(), z.string()])).min(1) }).strict(),
  z
    .object({ min: z.number().optional(), max: z.number().optional(), integer: z.boolean().optional() })
    .strict()
    .refine((d) => d.min === undefined || d.max === undefined || d.min <= d.max, { message: 'min must be <= max' }),
]);
export type ValueDomain = z.infer<typeof ValueDomainSchema>;
export const DomainsFileSchema = z.record(z.string(), ValueDomainSchema);
export type Domains = Record<string, ValueDomain>;

export type ValuePolicy = 'missing' | 'fail';

export interface ValueCheckSettings {
  policy: ValuePolicy;
  maxAbsValue: number;
  domains: Domains;
  /** Where the domains came from ('built-in Arvato domains', a file path, or 'none'). */
  domainSource: string;
}

/** Arvato's number columns: the data dictionary's whole numbers (codes included; they are recoded first). */
export function builtinArvatoDomains(): Domains {
  const domains: Domains = {};
  for (const [name, { min, max }] of Object.entries(ARVATO_NUMBER_DOMAINS)) domains[name] = { min, max, integer: true };
  return domains;
}

/** Reads a domains file; errors name the file and the column. */
export function readDomainsFile(path: string, columns: readonly string[]): Domains {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InputError(`cannot read the value domains: ${(error as Error).message}`, { file: path });
  }
  const parsed = DomainsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`invalid value domain: ${issue.message}`, { file: path, column: String(issue.path[0] ?? '') || undefined });
  }
  const unknown = Object.keys(parsed.data).filter((name) => !columns.includes(name));
  if (unknown.length > 0) throw new InputError(`the value domains name columns the feature summary lacks: ${unknown.join(', ')}`, { file: path, column: unknown[0] });
  return parsed.data;
}

/** One line per domain for messages and the report: "1..5 (whole numbers)", "one of 1, 2, 3". */
export function describeDomain(domain: ValueDomain | undefined): string {
  if (!domain) return 'no domain';
  if ('values' in domain) return `one of ${domain.values.join(', ')}`;
  const range = `${domain.min ?? '-∞'}..${domain.max ?? '∞'}`;
  return domain.integer ? `${range} (whole numbers)` : range;
}

function literal(value: number | string, column: ColumnSpec): string {
  if (column.storage === 'number') return typeof value === 'number' ? `${value}::DOUBLE` : `TRY_CAST('${String(value).replace(/'/g, "''")}' AS DOUBLE)`;
  return `'${String(value).replace(/'/g, "''")}'`;
}

/** SQL true for a present, non-code value of extreme magnitude (number columns only). */
export function extremeValueSql(column: ColumnSpec, maxAbsValue: number): string {
  if (column.storage !== 'number') return 'false';
  return `(abs(${quoteIdent(column.name)}) > ${maxAbsValue})`;
}

/** SQL true for a present, non-code value outside the column's domain (not counting extreme values). */
export function outOfDomainSql(column: ColumnSpec, domain: ValueDomain | undefined): string {
  if (!domain) return 'false';
  const name = quoteIdent(column.name);
  let outside: string;
  if ('values' in domain) {
    outside = `${name} NOT IN (${domain.values.map((v) => literal(v, column)).join(', ')})`;
  } else {
    if (column.storage !== 'number') return 'false';
    const parts = [
      ...(domain.min !== undefined ? [`${name} < ${domain.min}`] : []),
      ...(domain.max !== undefined ? [`${name} > ${domain.max}`] : []),
      ...(domain.integer ? [`${name} <> round(${name})`] : []),
    ];
    if (parts.length === 0) return 'false';
    outside = parts.join(' OR ');
  }
  const code = isMissingCodeSql(column);
  return `(${name} IS NOT NULL AND NOT (${code}) AND (${outside}))`;
}

/** SQL true for a value the policy treats (extreme or out of domain). */
export function invalidValueSql(column: ColumnSpec, settings: ValueCheckSettings): string {
  const parts = [extremeValueSql(column, settings.maxAbsValue), outOfDomainSql(column, settings.domains[column.name])].filter((p) => p !== 'false');
  return parts.length ? `(${parts.join(' OR ')})` : 'false';
}

/** A number column's range domain when it is finite and inside ±maxAbsValue (an extreme value is then outside it). */
function boundedRange(column: ColumnSpec, settings: ValueCheckSettings): { min: number; max: number; integer?: boolean } | undefined {
  const domain = settings.domains[column.name];
  const limit = settings.maxAbsValue;
  if (column.storage !== 'number' || !domain || 'values' in domain || domain.min === undefined || domain.max === undefined) return undefined;
  if (domain.min < -limit || domain.max > limit) return undefined;
  return { min: domain.min, max: domain.max, integer: domain.integer };
}

/**
 * A cheap superset of invalidValueSql: true on every value the policy treats, and maybe on a few others. For a
 * number column with a finite range inside ±maxAbsValue it is the range and whole-number test alone (an extreme
 * value is outside the range too; the NULL and missing-code tests only remove rows), else invalidValueSql itself.
 */
export function invalidCandidateSql(column: ColumnSpec, settings: ValueCheckSettings): string {
  const domain = boundedRange(column, settings);
  if (!domain) return invalidValueSql(column, settings);
  const name = quoteIdent(column.name);
  return `(${name} < ${domain.min} OR ${name} > ${domain.max}${domain.integer ? ` OR ${name} <> round(${name})` : ''})`;
}

/**
 * One scan: per column, the extreme values, the other out-of-domain values, and the smallest and largest of them
 * (as text) for the message. Columns whose predicates are constant false are left out.
 *
 * The scan keeps only the rows that may hold such a value (one OR of the columns' invalidCandidateSql, a few
 * comparisons per cell) and aggregates over those: every aggregate's filter implies its column's predicate, so
 * the results are those of aggregating over all rows, while the five filtered aggregates per column (each a full
 * predicate over every row: 85 columns x 5 = 425 per row, ~36 s of the recode step at the full Arvato size)
 * see only the few candidate rows.
 */
export function valueCheckCountsSql(source: string, columns: ColumnSpec[], settings: ValueCheckSettings): { sql: string; checked: ColumnSpec[] } {
  const checked = columns.filter((c) => invalidValueSql(c, settings) !== 'false');
  if (checked.length === 0) return { sql: '', checked };
  const parts = checked.flatMap((column, i) => {
    const extreme = extremeValueSql(column, settings.maxAbsValue);
    const outside = outOfDomainSql(column, settings.domains[column.name]);
    const invalid = invalidValueSql(column, settings);
    const name = quoteIdent(column.name);
    return [
      `count(*) FILTER (WHERE ${extreme}) AS e${i}`,
      `count(*) FILTER (WHERE ${outside} AND NOT ${extreme}) AS o${i}`,
      `CAST(min(${name}) FILTER (WHERE ${invalid}) AS VARCHAR) AS lo${i}`,
      `CAST(max(${name}) FILTER (WHERE ${invalid}) AS VARCHAR) AS hi${i}`,
      `min("row") FILTER (WHERE ${invalid}) AS r${i}`,
    ];
  });
  const candidates = checked.map((column) => invalidCandidateSql(column, settings)).join('\n    OR ');
  return { sql: `SELECT ${parts.join(',\n  ')} FROM (SELECT * FROM ${source} WHERE ${candidates})`, checked };
}

/**
 * Cheap queries before valueCheckCountsSql: per column that the checks cover, whether it may hold a value the
 * policy treats. `bounds` (min() and max() only, which DuckDB answers from the Parquet statistics without a scan)
 * tests the range columns' bounds; `rows` (one scan) the range columns' whole-number test and the other columns'
 * invalidCandidateSql. Both yield positional booleans f0, f1, ... in the order of `checked` (false where they do
 * not test that column); a column may hold such a value when either says true. A false is exact, a true only a
 * maybe. The counting scan then covers just the flagged columns: on clean data it does not run at all, where its
 * 400-odd filtered aggregates cost several scans (much of it planning) whether or not a row passes its prefilter.
 * Kept apart because any other aggregate beside min()/max() makes DuckDB scan for them too.
 */
export function valueCheckFlagsSql(
  source: string,
  columns: ColumnSpec[],
  settings: ValueCheckSettings,
  /** Other aggregates to compute in the `rows` scan (aliases other than f0, f1, ...): one scan of the file for both. */
  alongside: string[] = [],
): { bounds: string; rows: string; checked: ColumnSpec[] } {
  const checked = columns.filter((c) => invalidValueSql(c, settings) !== 'false');
  const bounds: string[] = [];
  const rows: string[] = [];
  checked.forEach((column, i) => {
    const range = boundedRange(column, settings);
    const name = quoteIdent(column.name);
    if (!range) {
      rows.push(`coalesce(bool_or(${invalidCandidateSql(column, settings)}), false) AS f${i}`);
      return;
    }
    bounds.push(`coalesce(min(${name}) < ${range.min} OR max(${name}) > ${range.max}, false) AS f${i}`);
    if (range.integer) rows.push(`coalesce(bool_or(${name} <> round(${name})), false) AS f${i}`);
  });
  const query = (parts: string[]) => (parts.length ? `SELECT ${parts.join(',\n  ')} FROM ${source}` : '');
  return { bounds: query(bounds), rows: query([...rows, ...alongside]), checked };
}

/**
 * The recoded value of a column (SQL, no alias): missing codes and (policy 'missing') invalid values become NULL;
 * the column itself when nothing in it is recoded. `mayHoldInvalid: false` (the value checks found none in this
 * file's column) leaves the value test out.
 */
export function recodedValueSql(column: ColumnSpec, settings: ValueCheckSettings | undefined, mayHoldInvalid = true): string {
  const name = quoteIdent(column.name);
  const treated = settings && settings.policy === 'missing' && mayHoldInvalid ? invalidValueSql(column, settings) : 'false';
  const predicates = [isMissingCodeSql(column), treated].filter((p) => p !== 'false');
  return predicates.length ? `CASE WHEN ${predicates.join(' OR ')} THEN NULL ELSE ${name} END` : name;
}

/**
 * The run's value-check settings: the config's policy and magnitude limit, and the domains from the config's
 * domains file, else the built-in Arvato domains when the summary is Arvato's, else none (magnitude only).
 */
export function valueCheckSettings(
  config: { policy: ValuePolicy; maxAbsValue: number; domains?: string },
  featureSummaryPath: string,
  columns: readonly string[],
): ValueCheckSettings {
  if (config.domains) {
    return { policy: config.policy, maxAbsValue: config.maxAbsValue, domains: readDomainsFile(config.domains, columns), domainSource: config.domains };
  }
  if (isArvatoSummary(readFeatureSummary(featureSummaryPath))) {
    const domains = builtinArvatoDomains();
    for (const name of Object.keys(domains)) if (!columns.includes(name)) delete domains[name];
    return { policy: config.policy, maxAbsValue: config.maxAbsValue, domains, domainSource: 'built-in Arvato domains' };
  }
  return { policy: config.policy, maxAbsValue: config.maxAbsValue, domains: {}, domainSource: 'none' };
}
