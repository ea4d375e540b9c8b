import type { DuckDBConnection } from '@duckdb/node-api';
import { InputError } from '../../common/errors';
import type { EncodingRule, EncodingRules } from '../../schemas/encoding-rules';
import {
  type EncodedFeature,
  type EncodingModel,
  EncodingModelSchema,
  type OneHotGroup,
  type SourceColumn,
  type SqlType,
} from './model';
import {
  concentrationShare,
  type ConcentrationRule,
  type LevelDecision,
  OTHER_LEVEL,
  type RareLevelRule,
  splitRareLevels,
} from './rare-levels';
import { doubleLiteral, numberText, parquetRelation, quoteIdent, sourceKindOf, type SourceKind, valueLiteral } from './sql';

export interface FitEncodingOptions {
  /** Clean population rows: column `row` then the kept columns. */
  populationParquet: string;
  /** Kept data columns, in the order the features should follow. */
  keptColumns: readonly string[];
  rules: EncodingRules;
  /** A one-hot column with more levels than this is an error (default 100). */
  maxOneHotLevels?: number;
  /** Rare one-hot levels: folded into "(other)" or dropped (unset: every level kept; the pipeline's config sets it). */
  rareLevels?: RareLevelRule;
  /** Features a handful of rows dominate are dropped (unset: none checked; the pipeline's config sets it). */
  concentration?: ConcentrationRule;
}

const SMALLINT_MIN = -32768;
/** Rows read to decide whether a kept number holds whole numbers. */
const INTEGRAL_CHECK_ROWS = 20000;
const SMALLINT_MAX = 32767;

interface ColumnInfo {
  name: string;
  type: string;
}

/** Column names and DuckDB types of a relation (anything usable after FROM). */
export async function describeRelation(conn: DuckDBConnection, relationSql: string): Promise<ColumnInfo[]> {
  const reader = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${relationSql}`);
  return reader.getRowObjectsJS().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

interface LevelCount {
  level: string;
  count: number;
}

/** Non-null distinct values of a column with their counts, as level text (numbers in shortest form), sorted. */
async function levelCounts(
  conn: DuckDBConnection,
  relationSql: string,
  column: SourceColumn,
  limit: number,
): Promise<{ levels: LevelCount[]; truncated: boolean }> {
  const id = quoteIdent(column.name);
  const value = column.kind === 'number' ? `CAST(${id} AS DOUBLE)` : `CAST(${id} AS VARCHAR)`;
  const reader = await conn.runAndReadAll(
    `SELECT ${value} AS v, count(*) AS n FROM ${relationSql} WHERE ${id} IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT ${limit + 1}`,
  );
  const rows = reader.getRowsJS();
  const levels = rows.slice(0, limit).map(([v, n]) => ({
    level: typeof v === 'number' ? numberText(v) : String(v),
    count: Number(n),
  }));
  return { levels, truncated: rows.length > limit };
}

/** Observed levels per column (for defaultRulesFor's `sampleLevels`). At most `limit` levels per column. */
export async function observedLevels(
  conn: DuckDBConnection,
  parquetPath: string,
  columns: readonly string[],
  limit = 100,
): Promise<Record<string, string[]>> {
  const relation = parquetRelation(parquetPath);
  const info = new Map((await describeRelation(conn, relation)).map((column) => [column.name, column.type]));
  const out: Record<string, string[]> = {};
  for (const name of columns) {
    const type = info.get(name);
    if (type === undefined) throw new InputError(`column ${name} is not in the cleaned file`, { file: parquetPath, column: name });
    const kind = sourceKindOf(type);
    if (kind === null) continue;
    const { levels } = await levelCounts(conn, relation, { name, duckdbType: type, kind }, limit);
    out[name] = levels.map((level) => level.level);
  }
  return out;
}

function sortLevelCounts(levels: LevelCount[], kind: SourceKind): LevelCount[] {
  return kind === 'number'
    ? [...levels].sort((a, b) => Number(a.level) - Number(b.level))
    : [...levels].sort((a, b) => (a.level < b.level ? -1 : a.level > b.level ? 1 : 0));
}

/** Canonical key for matching a rule key against observed level text. */
function canonicalKey(key: string, kind: SourceKind): string {
  return kind === 'number' ? numberText(Number(key)) : key;
}

function checkKeys(keys: string[], column: SourceColumn, file: string): void {
  for (const key of keys) {
    try {
      valueLiteral(key, column.kind);
    } catch (error) {
      throw new InputError(`${(error as Error).message} (rule key for a ${column.duckdbType} column)`, { file, column: column.name });
    }
  }
  const seen = new Set<string>();
  for (const key of keys) {
    const canonical = canonicalKey(key, column.kind);
    if (seen.has(canonical)) throw new InputError(`value "${key}" is listed twice (as the same value)`, { file, column: column.name });
    seen.add(canonical);
  }
}

function uncoveredNote(column: string, levels: LevelCount[], covered: Set<string>, what: string): string | null {
  const missing = levels.filter((level) => !covered.has(level.level));
  if (missing.length === 0) return null;
  const rows = missing.reduce((sum, level) => sum + level.count, 0);
  const shown = missing.slice(0, 8).map((level) => `${level.level} (${level.count})`).join(', ');
  return `${column}: ${rows} population row(s) hold values the ${what} does not cover [${shown}${missing.length > 8 ? ', ...' : ''}]; encoded as missing`;
}

/** What fitting one column's rule needs: the population file, and where the features, groups and notes go. */
interface FitContext {
  conn: DuckDBConnection;
  relation: string;
  file: string;
  maxLevels: number;
  addFeature: (feature: EncodedFeature) => void;
  groups: OneHotGroup[];
  notes: string[];
  /** Clean population rows (the rare-level rule's shares are of these). */
  populationRows: number;
  /** Rare one-hot levels: the rule, and the decisions made under it (the encoding model lists them). */
  rareRule: RareLevelRule;
  rareLevels: LevelDecision[];
  /** Every non-null value of a column with its count, where a level query read them all (the concentration check reuses them). */
  valueCounts: Map<string, LevelCount[]>;
}

/**
 * Fits the encoding on the population's clean rows: reads the column types, fits one-hot level sets and
 * checks every map against the values present. The rules must cover every kept column.
 */
export async function fitEncoding(conn: DuckDBConnection, options: FitEncodingOptions): Promise<EncodingModel> {
  const { populationParquet, keptColumns, rules } = options;
  const file = populationParquet;
  const relation = parquetRelation(populationParquet);
  const info = new Map((await describeRelation(conn, relation)).map((column) => [column.name, column.type]));
  if (!info.has('row')) throw new InputError('the cleaned file has no "row" column', { file });
  if (new Set(keptColumns).size !== keptColumns.length) throw new Error('fitEncoding: keptColumns lists a column twice');

  const populationRows = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${relation}`)).getRowsJS()[0][0]);

  const sourceColumns: SourceColumn[] = [];
  const features: EncodedFeature[] = [];
  const dropped: { column: string; reason: string }[] = [];
  const reasons: Record<string, string> = {};
  const names = new Map<string, string>();
  const addFeature = (feature: EncodedFeature): void => {
    const previous = names.get(feature.name);
    if (previous !== undefined) {
      throw new InputError(`output feature "${feature.name}" would be produced by both ${previous} and ${feature.source}`, {
        column: feature.source,
      });
    }
    names.set(feature.name, feature.source);
    features.push(feature);
  };
  const context: FitContext = {
    conn,
    relation,
    file,
    maxLevels: options.maxOneHotLevels ?? 100,
    addFeature,
    groups: [],
    notes: [],
    populationRows,
    rareRule: options.rareLevels ?? { minShare: 0, minCount: 0, action: 'other' },
    rareLevels: [],
    valueCounts: new Map(),
  };

  for (const name of keptColumns) {
    const { column, rule } = sourceColumnWithRule(name, info.get(name), rules, file);
    sourceColumns.push(column);
    reasons[name] = rule.reason;
    if (rule.action === 'drop') dropped.push({ column: name, reason: rule.reason });
    else if (rule.action === 'keep') await fitKeep(context, column, rule);
    else if (rule.action === 'binary') await fitBinary(context, column, rule);
    else if (rule.action === 'onehot') await fitOneHot(context, column, rule);
    else await fitDerive(context, column, rule);
  }

  if (features.length === 0) throw new InputError('the encoding rules drop every kept column: no feature is left');
  await fitNumericRanges(context, features, sourceColumns);
  const { groups, notes, rareLevels } = context;
  const concentratedFeatures = options.concentration
    ? await concentratedFeaturesOf(conn, relation, { sourceColumns, features, groups }, options.concentration, context.valueCounts)
    : [];
  const removed = new Set(concentratedFeatures.map((c) => c.feature));
  const keptFeatures = features.filter((feature) => !removed.has(feature.name));
  if (keptFeatures.length === 0) throw new InputError('every feature is dominated by a handful of rows: no feature is left');
  for (const group of groups) group.features = group.features.filter((feature) => !removed.has(feature));
  return EncodingModelSchema.parse({
    version: 1,
    sourceColumns,
    features: keptFeatures,
    groups: groups.filter((group) => group.features.length > 0),
    dropped,
    reasons,
    populationRows,
    notes,
    rareLevels,
    concentratedFeatures,
  });
}

/** A kept column's source description (its DuckDB type must be a number or text) and its encoding rule (one must exist). */
function sourceColumnWithRule(name: string, type: string | undefined, rules: FitEncodingOptions['rules'], file: string): { column: SourceColumn; rule: EncodingRule } {
  if (name === 'row') throw new Error('fitEncoding: "row" is the row index, not a data column');
  if (type === undefined) throw new InputError('kept column is not in the cleaned population file', { file, column: name });
  const kind = sourceKindOf(type);
  if (kind === null) throw new InputError(`unsupported column type ${type} (expected a number or text)`, { file, column: name });
  const rule: EncodingRule | undefined = rules.columns[name];
  if (rule === undefined) throw new InputError('no encoding rule for this kept column (add one to the rules file)', { column: name });
  return { column: { name, duckdbType: type, kind }, rule };
}

type RuleOf<A extends EncodingRule['action']> = Extract<EncodingRule, { action: A }>;

/** keep: the column as a number (a text column must hold only numbers). */
async function fitKeep({ conn, relation, file, addFeature }: FitContext, { name, kind }: SourceColumn, rule: RuleOf<'keep'>): Promise<void> {
  if (kind === 'text') {
    const id = quoteIdent(name);
    const reader = await conn.runAndReadAll(
      `SELECT count(*) FILTER (WHERE ${id} IS NOT NULL AND TRY_CAST(${id} AS DOUBLE) IS NULL) AS bad, ` +
        `any_value(${id}) FILTER (WHERE ${id} IS NOT NULL AND TRY_CAST(${id} AS DOUBLE) IS NULL) AS example FROM ${relation}`,
    );
    const [bad, example] = reader.getRowsJS()[0];
    if (Number(bad) > 0) {
      throw new InputError(
        `rule "keep" needs numbers but ${bad} population value(s) are not numeric (e.g. ${JSON.stringify(example)}); use onehot or binary`,
        { file, column: name },
      );
    }
  }
  addFeature({ name, source: name, kind: 'numeric', sqlType: 'DOUBLE', description: rule.reason });
}

/** binary: the rule's two levels to 0 and 1; population values the map does not cover are noted. */
async function fitBinary({ conn, relation, file, maxLevels, addFeature, notes, valueCounts }: FitContext, column: SourceColumn, rule: RuleOf<'binary'>): Promise<void> {
  const { name, kind } = column;
  const keys = Object.keys(rule.levels);
  checkKeys(keys, column, file);
  const { levels, truncated } = await levelCounts(conn, relation, column, maxLevels);
  if (!truncated) valueCounts.set(name, levels);
  const note = uncoveredNote(name, levels, new Set(keys.map((key) => canonicalKey(key, kind))), 'binary level map');
  if (note) notes.push(note);
  const zero = keys.find((key) => rule.levels[key] === 0);
  const one = keys.find((key) => rule.levels[key] === 1);
  addFeature({
    name,
    source: name,
    kind: 'binary',
    sqlType: 'UTINYINT',
    map: { ...rule.levels },
    description: `${name}: ${zero} -> 0, ${one} -> 1 (${rule.reason})`,
  });
}

/** onehot: one feature per population level, in level order; rare levels folded into "(other)" or dropped (context.rareRule). */
async function fitOneHot(context: FitContext, column: SourceColumn, rule: RuleOf<'onehot'>): Promise<void> {
  const { conn, relation, file, maxLevels, addFeature, groups, notes } = context;
  const { name, kind } = column;
  const { levels, truncated } = await levelCounts(conn, relation, column, maxLevels);
  if (truncated) {
    throw new InputError(`one-hot would create more than ${maxLevels} columns; drop the column or raise maxOneHotLevels`, {
      file,
      column: name,
    });
  }
  context.valueCounts.set(name, levels);
  if (levels.length === 0) notes.push(`${name}: no value in the population; the one-hot group is empty`);
  const sorted = sortLevelCounts(levels, kind);
  const split = splitRareLevels(name, sorted, context.populationRows, context.rareRule);
  context.rareLevels.push(...split.decisions);
  const group: OneHotGroup = {
    source: name,
    levels: sorted.map((level) => level.level),
    counts: sorted.map((level) => level.count),
    features: [],
    unknownLevels: rule.unknownLevels,
  };
  for (const level of split.kept) {
    const featureName = `${name}=${level.level}`;
    const label = rule.labels?.[level.level];
    addFeature({
      name: featureName,
      source: name,
      kind: 'onehot',
      sqlType: 'UTINYINT',
      level: level.level,
      description: `${name} = ${level.level}${label ? ` (${label})` : ''}`,
    });
    group.features.push(featureName);
  }
  if (split.otherKept) {
    const featureName = `${name}=${OTHER_LEVEL}`;
    const folded = split.rare.map((level) => level.level);
    addFeature({
      name: featureName,
      source: name,
      kind: 'onehot',
      sqlType: 'UTINYINT',
      levels: folded,
      description: `${name} = one of the rare levels ${folded.join(', ')} (folded; ${split.otherCount} rows)`,
    });
    group.features.push(featureName);
  }
  if (group.features.length > 0) groups.push(group);
}

/** derive: the rule's outputs (engineered features or flags), each a map over the column's values. */
async function fitDerive({ conn, relation, file, maxLevels, addFeature, notes, valueCounts }: FitContext, column: SourceColumn, rule: RuleOf<'derive'>): Promise<void> {
  const { name, kind } = column;
  const { levels, truncated } = await levelCounts(conn, relation, column, Math.max(maxLevels, 10000));
  if (!truncated) valueCounts.set(name, levels);
  const covered = new Set<string>();
  for (const output of rule.outputs) {
    const keys = Object.keys(output.map);
    checkKeys(keys, column, file);
    for (const key of keys) covered.add(canonicalKey(key, kind));
    const values = Object.values(output.map).filter((value): value is number => value !== null);
    const sqlType: SqlType =
      output.kind === 'flag'
        ? 'UTINYINT'
        : values.every((value) => Number.isInteger(value) && value >= SMALLINT_MIN && value <= SMALLINT_MAX)
          ? 'SMALLINT'
          : 'DOUBLE';
    addFeature({
      name: output.name,
      source: name,
      kind: output.kind === 'flag' ? 'flag' : 'derived',
      sqlType,
      map: { ...output.map },
      description: output.description ?? `${output.name}, derived from ${name}`,
    });
  }
  const note = uncoveredNote(name, levels, covered, 'derive maps');
  if (note) notes.push(note);
}

/**
 * Ranges of the kept numbers: min / max over the file (answered from Parquet statistics) and whether the
 * values are whole numbers, checked on the first rows (a size guard only: fitImputeScale takes exact
 * histogram medians for whole-number features with a modest range, and a histogram is exact regardless).
 */
async function fitNumericRanges({ conn, relation }: FitContext, features: EncodedFeature[], sourceColumns: SourceColumn[]): Promise<void> {
  const numeric = features.filter((feature) => feature.kind === 'numeric');
  if (numeric.length > 0) {
    const expressions = numeric.map((feature) => {
      const kind = sourceColumns.find((column) => column.name === feature.source)?.kind;
      return `${kind === 'text' ? 'TRY_CAST' : 'CAST'}(${quoteIdent(feature.source)} AS DOUBLE)`;
    });
    const ranges = (
      await conn.runAndReadAll(`SELECT ${expressions.map((x) => `min(${x}), max(${x})`).join(', ')} FROM ${relation}`)
    ).getRowsJS()[0];
    const head = (
      await conn.runAndReadAll(
        `SELECT ${expressions.map((x) => `max(${x} - floor(${x}))`).join(', ')} FROM (SELECT * FROM ${relation} LIMIT ${INTEGRAL_CHECK_ROWS})`,
      )
    ).getRowsJS()[0];
    numeric.forEach((feature, k) => {
      const min = ranges[2 * k] === null ? null : Number(ranges[2 * k]);
      const max = ranges[2 * k + 1] === null ? null : Number(ranges[2 * k + 1]);
      const frac = head[k] === null ? 0 : Number(head[k]);
      if (min !== null && max !== null && Number.isFinite(min) && Number.isFinite(max)) {
        feature.range = { min, max, integral: frac === 0 };
      }
    });
  }
}

/** A feature's observed encoded values with their counts. */
interface ValueCount {
  value: number;
  count: number;
}

/** Rows the kept numbers' value counts may have in all (beyond it, their check is left to the SQL scans). */
const NUMERIC_VALUE_COUNTS_MAX_ROWS = 100000;

/**
 * The features whose `rule.rows` most extreme rows hold more than `rule.maxShare` of their sum of squared
 * deviations (observed population values; see core/encoding/rare-levels.ts). Every feature is a function of one
 * source column's value, so its count, mean, variance and most extreme rows follow from that column's value
 * counts: the level queries' counts for mapped and one-hot columns, one grouping-sets scan for the kept numbers.
 * A feature whose value counts are not at hand, or whose share comes out at or near the limit, is decided by
 * the two SQL scans (moments, then the top-n largest |x - mean|), which also give the share the model records:
 * the decisions and the recorded shares are the SQL's.
 */
async function concentratedFeaturesOf(
  conn: DuckDBConnection,
  relation: string,
  partial: Pick<EncodingModel, 'sourceColumns' | 'features' | 'groups'>,
  rule: ConcentrationRule,
  levelCounts: ReadonlyMap<string, LevelCount[]>,
): Promise<EncodingModel['concentratedFeatures']> {
  const { features } = partial;
  if (features.length === 0) return [];
  const model = { version: 1, dropped: [], reasons: {}, populationRows: 0, notes: [], rareLevels: [], concentratedFeatures: [], ...partial } as EncodingModel;
  const rows = Math.max(1, Math.floor(rule.rows));
  const numbers = await numericValueCounts(conn, relation, model);
  const bySql: number[] = [];
  features.forEach((feature, j) => {
    const counts = feature.kind === 'numeric' ? numbers?.get(feature.source) : categoricalValueCounts(model, feature, levelCounts.get(feature.source));
    if (counts === undefined) {
      bySql.push(j);
      return;
    }
    const { count, variance, topSquares } = concentrationFromCounts(counts, rows);
    // At or near the limit (the two computations may differ in the last bits), the SQL decides.
    if (concentrationShare(count, variance, topSquares) > rule.maxShare * (1 - 1e-9)) bySql.push(j);
  });
  const measured = await concentrationBySql(conn, relation, model, bySql, rows);
  const out: EncodingModel['concentratedFeatures'] = [];
  bySql.forEach((j, k) => {
    const { count, share } = measured[k];
    if (share > rule.maxShare) {
      out.push({
        feature: features[j].name,
        share,
        reason: `the ${rows} most extreme of ${count} population rows hold ${(share * 100).toFixed(1)} % of its squared deviations (limit ${(rule.maxShare * 100).toFixed(0)} %)`,
      });
    }
  });
  return out;
}

/**
 * Each kept number's value counts (its non-null values as the encoding reads them), from one scan with a grouping
 * set per column; null when they would exceed NUMERIC_VALUE_COUNTS_MAX_ROWS rows in all (continuous columns).
 */
async function numericValueCounts(conn: DuckDBConnection, relation: string, model: EncodingModel): Promise<Map<string, ValueCount[]> | null> {
  const numeric = model.features.filter((feature) => feature.kind === 'numeric');
  const out = new Map<string, ValueCount[]>(numeric.map((feature) => [feature.source, []]));
  if (numeric.length === 0) return out;
  const names = numeric.map((_, k) => quoteIdent(`n${k}`));
  const reader = await conn.runAndReadAll(
    `SELECT ${names.join(', ')}, count(*) AS n FROM (SELECT ${numeric.map((feature, k) => `${featureExpressionSql(model, feature)} AS ${names[k]}`).join(', ')} FROM ${relation} AS src) ` +
      `GROUP BY GROUPING SETS (${names.map((name) => `(${name})`).join(', ')}) LIMIT ${NUMERIC_VALUE_COUNTS_MAX_ROWS + 1}`,
  );
  const result = reader.getRowsJS();
  if (result.length > NUMERIC_VALUE_COUNTS_MAX_ROWS) return null;
  for (const row of result) {
    // A grouping set's row holds its column's value and NULL elsewhere (all NULL: the column's NULL group).
    const k = row.findIndex((value, index) => index < numeric.length && value !== null);
    if (k >= 0) out.get(numeric[k].source)?.push({ value: Number(row[k]), count: Number(row[numeric.length]) });
  }
  return out;
}

/** A mapped or one-hot feature's value counts from its column's level counts (undefined when those are not complete). */
function categoricalValueCounts(model: EncodingModel, feature: EncodedFeature, levels: LevelCount[] | undefined): ValueCount[] | undefined {
  if (levels === undefined) return undefined;
  const kind = sourceOf(model, feature.source).kind;
  // As the SQL compares: text exactly, numbers as DOUBLEs (DuckDB holds NaN equal to NaN).
  const equalNumbers = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
  const same = (level: string) => (key: string) => (kind === 'text' ? key === level : equalNumbers(Number(key), Number(level)));
  const group = model.groups.find((candidate) => candidate.source === feature.source);
  const out: ValueCount[] = [];
  for (const { level, count } of levels) {
    const matches = same(level);
    let value: number | null;
    if (feature.kind === 'onehot') {
      // featureExpressionSql's one-hot: 1 for its level (a fold: any of its levels), NULL off the known levels when unknownLevels = missing.
      value = (feature.levels ? feature.levels.some(matches) : matches(feature.level as string)) ? 1 : 0;
      if (value === 0 && group?.unknownLevels === 'missing' && !group.levels.some(matches)) value = null;
    } else {
      const key = Object.keys(feature.map ?? {}).find(matches);
      value = key === undefined ? null : (feature.map ?? {})[key];
    }
    if (value !== null) out.push({ value, count });
  }
  return out;
}

/** Count, population variance and the sum of the `rows` largest squared deviations, from value counts. */
function concentrationFromCounts(counts: readonly ValueCount[], rows: number): { count: number; variance: number; topSquares: number } {
  let count = 0;
  let sum = 0;
  for (const entry of counts) {
    count += entry.count;
    sum += entry.value * entry.count;
  }
  if (count === 0) return { count, variance: 0, topSquares: 0 };
  const mean = sum / count;
  let squares = 0;
  for (const entry of counts) squares += entry.count * (entry.value - mean) ** 2;
  const byDeviation = counts.map((entry) => ({ square: (entry.value - mean) ** 2, count: entry.count })).sort((a, b) => b.square - a.square);
  let topSquares = 0;
  let left = rows;
  for (const entry of byDeviation) {
    if (left === 0) break;
    const take = Math.min(left, entry.count);
    topSquares += take * entry.square;
    left -= take;
  }
  return { count, variance: squares / count, topSquares };
}

/** Count and concentration share of the model's features `indices` by SQL: moments, then the top-n largest |x − mean| (two scans). */
async function concentrationBySql(conn: DuckDBConnection, relation: string, model: EncodingModel, indices: number[], rows: number): Promise<{ count: number; share: number }[]> {
  if (indices.length === 0) return [];
  const features = indices.map((j) => model.features[j]);
  const source = `(${encodeSelectSql({ ...model, features }, relation)})`;
  const column = (k: number) => `CAST(enc.${quoteIdent(features[k].name)} AS DOUBLE)`;
  const moments = (
    await conn.runAndReadAll(`SELECT ${features.map((_, k) => `count(${column(k)}), avg(${column(k)}), var_pop(${column(k)})`).join(', ')} FROM ${source} AS enc`)
  ).getRowsJS()[0];
  const means = features.map((_, k) => (moments[3 * k + 1] === null ? 0 : Number(moments[3 * k + 1])));
  const tops = (
    await conn.runAndReadAll(
      `SELECT ${features
        .map((_, k) => `list_sum(list_transform(max(abs(${column(k)} - ${doubleLiteral(means[k])}), ${rows}), lambda v: v * v))`)
        .join(', ')} FROM ${source} AS enc`,
    )
  ).getRowsJS()[0];
  return features.map((_, k) => {
    const count = Number(moments[3 * k]);
    const variance = moments[3 * k + 2] === null ? 0 : Number(moments[3 * k + 2]);
    return { count, share: concentrationShare(count, variance, tops[k] === null ? 0 : Number(tops[k])) };
  });
}

function sourceOf(model: EncodingModel, name: string): SourceColumn {
  const column = model.sourceColumns.find((candidate) => candidate.name === name);
  if (!column) throw new Error(`the encoding model has no source column ${name}`);
  return column;
}

function caseMap(id: string, map: Record<string, number | null>, kind: SourceKind, valueSql: (value: number) => string): string {
  const arms = Object.entries(map).map(
    ([key, value]) => `WHEN ${valueLiteral(key, kind)} THEN ${value === null ? 'NULL' : valueSql(value)}`,
  );
  return `CASE ${id} ${arms.join(' ')} ELSE NULL END`;
}

/** The SQL expression (over alias `src`) for one encoded feature; typed as the feature's sqlType. */
export function featureExpressionSql(model: EncodingModel, feature: EncodedFeature): string {
  const column = sourceOf(model, feature.source);
  const id = `src.${quoteIdent(column.name)}`;
  switch (feature.kind) {
    case 'numeric':
      return column.kind === 'number' ? `CAST(${id} AS DOUBLE)` : `TRY_CAST(${id} AS DOUBLE)`;
    case 'binary':
    case 'flag':
      return `CAST(${caseMap(id, feature.map ?? {}, column.kind, (value) => String(value))} AS UTINYINT)`;
    case 'derived': {
      const valueSql = feature.sqlType === 'DOUBLE' ? doubleLiteral : (value: number) => String(value);
      return `CAST(${caseMap(id, feature.map ?? {}, column.kind, valueSql)} AS ${feature.sqlType})`;
    }
    case 'onehot': {
      const level = feature.level;
      if (level === undefined && !feature.levels?.length) throw new Error(`one-hot feature ${feature.name} has no level`);
      const test =
        level !== undefined
          ? `(${id} = ${valueLiteral(level, column.kind)})`
          : `(${id} IN (${feature.levels!.map((value) => valueLiteral(value, column.kind)).join(', ')}))`;
      const group = model.groups.find((candidate) => candidate.source === column.name);
      if (group?.unknownLevels === 'missing') {
        const known = group.levels.map((value) => valueLiteral(value, column.kind)).join(', ');
        return `CAST(CASE WHEN ${id} IN (${known}) THEN ${test} ELSE NULL END AS UTINYINT)`;
      }
      return `CAST(${test} AS UTINYINT)`;
    }
  }
}

/**
 * SQL producing `row` plus every encoded feature (model order) from a cleaned relation (anything usable
 * after FROM: a table name, `read_parquet('...')`, or a parenthesised query). Narrow types: UTINYINT for
 * one-hot / binary / flags, SMALLINT for integer derived ordinals, DOUBLE for kept numbers. NULLs are kept:
 * a NULL source gives NULL in every column of its one-hot group, so imputation sees it.
 */
export function encodeSelectSql(model: EncodingModel, sourceRelationSql: string): string {
  const columns = model.features.map((feature) => `${featureExpressionSql(model, feature)} AS ${quoteIdent(feature.name)}`);
  return `SELECT src."row" AS "row", ${columns.join(', ')} FROM ${sourceRelationSql} AS src`;
}

/**
 * The matrix export's query: `row` as INTEGER (fails loudly beyond 2^31 - 1), then every encoded feature in
 * model order, named c0, c1, ... (narrow types, NULL where missing).
 */
export function encodedExportSql(model: EncodingModel, sourceRelationSql: string): string {
  const columns = model.features.map((feature, j) => `enc.${quoteIdent(feature.name)} AS ${quoteIdent(`c${j}`)}`);
  return `SELECT CAST(enc."row" AS INTEGER) AS "row", ${columns.join(', ')} FROM (${encodeSelectSql(model, sourceRelationSql)}) AS enc`;
}

/** `(encodeSelectSql(...))` over a cleaned Parquet file: a relation usable after FROM. */
export function encodedParquetRelation(model: EncodingModel, parquetPath: string): string {
  return `(${encodeSelectSql(model, parquetRelation(parquetPath))})`;
}

export interface UnseenLevels {
  column: string;
  /** Rows whose non-null value is not a fitted level / not covered by the map. */
  rows: number;
  values: string[];
}

/**
 * For another file (e.g. customers): per one-hot / binary / derive column, the rows holding a value the
 * population fit does not know. Such rows get all zeros in a one-hot group (or NULL with unknownLevels =
 * missing) and NULL for binary / derived outputs.
 */
export async function countUnseenLevels(
  conn: DuckDBConnection,
  model: EncodingModel,
  sourceRelationSql: string,
): Promise<UnseenLevels[]> {
  const out: UnseenLevels[] = [];
  const known = new Map<string, string[]>();
  for (const group of model.groups) known.set(group.source, group.levels);
  for (const feature of model.features) {
    if (feature.kind === 'onehot' || !feature.map) continue;
    const keys = known.get(feature.source) ?? [];
    known.set(feature.source, [...keys, ...Object.keys(feature.map)]);
  }
  for (const [name, levels] of known) {
    const column = sourceOf(model, name);
    const id = quoteIdent(name);
    const list = [...new Set(levels.map((level) => valueLiteral(level, column.kind)))].join(', ');
    const filter = list.length > 0 ? `${id} IS NOT NULL AND ${id} NOT IN (${list})` : `${id} IS NOT NULL`;
    const value = column.kind === 'number' ? `CAST(${id} AS DOUBLE)` : `CAST(${id} AS VARCHAR)`;
    const reader = await conn.runAndReadAll(
      `SELECT ${value} AS v, count(*) AS n FROM ${sourceRelationSql} WHERE ${filter} GROUP BY 1 ORDER BY 2 DESC LIMIT 20`,
    );
    const rows = reader.getRowsJS();
    if (rows.length === 0) continue;
    const total = Number(
      (await conn.runAndReadAll(`SELECT count(*) FROM ${sourceRelationSql} WHERE ${filter}`)).getRowsJS()[0][0],
    );
    out.push({
      column: name,
      rows: total,
      values: rows.map(([v]) => (typeof v === 'number' ? numberText(v) : String(v))),
    });
  }
  return out;
}

