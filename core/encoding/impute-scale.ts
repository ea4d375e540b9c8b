import type { DuckDBConnection } from '@duckdb/node-api';
import { InputError } from '../../common/errors';
import { encodeSelectSql } from './fit';
import { type EncodingModel, type FittedTransform, FittedTransformSchema } from './model';
import { doubleLiteral, quoteIdent } from './sql';

export function parseFittedTransform(input: unknown): FittedTransform {
  return FittedTransformSchema.parse(input);
}

export interface FitImputeScaleOptions {
  model: EncodingModel;
  /** The population's encoded rows, usable after FROM: a table / view name or `(encodeSelectSql(...))`. */
  encodedRelationSql: string;
  /**
   * Kept whole-number features whose population range spans fewer than this many values get their median
   * (and moments) from an exact histogram; others use DuckDB's exact median, `medianBatch` per query.
   * Default 20,000.
   */
  histogramMaxDistinct?: number;
  /** Exact medians per query (each holds its column in memory; default 16). */
  medianBatch?: number;
}

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  return Number(value as number | bigint);
}

async function oneRow(conn: DuckDBConnection, sql: string): Promise<unknown[]> {
  return (await conn.runAndReadAll(sql)).getRowsJS()[0];
}

/** Relative threshold under which a std counts as zero. */
const CONSTANT_EPSILON = 1e-12;

/**
 * The median (DuckDB / numpy convention: the mean of the two middle values for an even count) from value
 * counts. Exported for tests.
 */
export function medianFromHistogram(entries: readonly { key: number; count: number }[]): number | null {
  const sorted = [...entries].filter((entry) => entry.count > 0).sort((a, b) => a.key - b.key);
  const total = sorted.reduce((sum, entry) => sum + entry.count, 0);
  if (total === 0) return null;
  const h = (total - 1) * 0.5;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  let seen = 0;
  let low: number | null = null;
  for (const entry of sorted) {
    const end = seen + entry.count; // positions [seen, end)
    if (low === null && lo < end) low = entry.key;
    if (hi < end) {
      const high = entry.key;
      return (low as number) + (h - lo) * (high - (low as number));
    }
    seen = end;
  }
  return null;
}

/** Count, mean and population variance from value counts (two passes over the entries). */
export function histogramMoments(entries: readonly { key: number; count: number }[]): {
  count: number;
  mean: number | null;
  variance: number | null;
} {
  let count = 0;
  let sum = 0;
  for (const entry of entries) {
    count += entry.count;
    sum += entry.key * entry.count;
  }
  if (count === 0) return { count: 0, mean: null, variance: null };
  const mean = sum / count;
  let squares = 0;
  for (const entry of entries) squares += entry.count * (entry.key - mean) ** 2;
  return { count, mean, variance: squares / count };
}

/** Features whose fill is a median (kept numbers and derived ordinals); the others are 0/1 features. */
export function needsMedianFeature(feature: EncodingModel['features'][number]): boolean {
  return feature.kind === 'numeric' || feature.kind === 'derived';
}

/**
 * Features whose moments and median come from an exact value histogram: derived features (few values by
 * construction) and kept numbers that are whole numbers over a range of fewer than `maxDistinct` values in
 * the population fit. Other median features use DuckDB's count, avg, var_pop and exact median.
 */
export function histogramFeatureFlags(model: EncodingModel, maxDistinct = 20000): boolean[] {
  return model.features.map(
    (feature) =>
      feature.kind === 'derived' ||
      (feature.kind === 'numeric' &&
        feature.range !== undefined &&
        feature.range.integral &&
        feature.range.max - feature.range.min < maxDistinct),
  );
}

/**
 * What the population shows of each feature before imputation: observed count, mean and population variance
 * (null with no observed value), and the exact median of the median features. Entries of features a partial
 * computation did not cover stay at count 0 / null.
 */
export interface ObservedStats {
  rows: number;
  counts: number[];
  means: (number | null)[];
  variances: (number | null)[];
  medians: Map<number, number | null>;
}

export function emptyObservedStats(featureCount: number, rows: number): ObservedStats {
  return {
    rows,
    counts: new Array<number>(featureCount).fill(0),
    means: new Array<number | null>(featureCount).fill(null),
    variances: new Array<number | null>(featureCount).fill(null),
    medians: new Map(),
  };
}

/** Count, mean, variance and median of one feature from its exact value histogram, into `stats`. */
export function setHistogramStats(stats: ObservedStats, j: number, entries: readonly { key: number; count: number }[]): void {
  const moments = histogramMoments(entries);
  stats.counts[j] = moments.count;
  stats.means[j] = moments.mean;
  stats.variances[j] = moments.variance;
  stats.medians.set(j, medianFromHistogram(entries));
}

/**
 * The population's observed statistics of the features `include` selects (default all), by SQL over the
 * encoded rows: one scan (histograms, or count + mean (+ variance for median features)), plus one per
 * `medianBatch` features that need DuckDB's exact median.
 */
// long because: the one scan's expressions and slots, and reading them back, share the per-feature flags
export async function observedStatsSql(
  conn: DuckDBConnection,
  options: FitImputeScaleOptions,
  include: readonly boolean[] = options.model.features.map(() => true),
): Promise<ObservedStats> {
  const { model, encodedRelationSql: relation } = options;
  const features = model.features;
  const ids = features.map((feature) => quoteIdent(feature.name));
  const batch = Math.max(1, options.medianBatch ?? 16);
  const needsMedian = features.map(needsMedianFeature);
  const histogram = histogramFeatureFlags(model, options.histogramMaxDistinct ?? 20000);

  // The one scan: histograms, or count + mean (+ variance for median features).
  const parts: string[] = ['count(*)'];
  const slots: { histogram?: number; count?: number; mean?: number; variance?: number }[] = [];
  ids.forEach((id, j) => {
    const x = `CAST(${id} AS DOUBLE)`;
    if (!include[j]) {
      slots.push({});
    } else if (histogram[j]) {
      slots.push({ histogram: parts.length });
      parts.push(`histogram(${x})`);
    } else {
      const slot: (typeof slots)[number] = { count: parts.length, mean: parts.length + 1 };
      parts.push(`count(${id})`, `avg(${x})`);
      if (needsMedian[j]) {
        slot.variance = parts.length;
        parts.push(`var_pop(${x})`);
      }
      slots.push(slot);
    }
  });
  const scanRow = await oneRow(conn, `SELECT ${parts.join(', ')} FROM ${relation}`);
  const stats = emptyObservedStats(features.length, toNumber(scanRow[0]) ?? 0);
  const value = (index: number | undefined): number | null => (index === undefined ? null : toNumber(scanRow[index]));
  slots.forEach((slot, j) => {
    if (!include[j]) return;
    if (slot.histogram !== undefined) {
      const entries = ((scanRow[slot.histogram] as { key: unknown; value: unknown }[] | null) ?? []).map((entry) => ({
        key: Number(entry.key),
        count: Number(entry.value),
      }));
      setHistogramStats(stats, j, entries);
      return;
    }
    stats.counts[j] = value(slot.count) ?? 0;
    const mean = value(slot.mean);
    stats.means[j] = mean;
    // 0/1 features: the population variance of the observed values is p (1 - p).
    stats.variances[j] = needsMedian[j] ? value(slot.variance) : mean === null ? null : mean * (1 - mean);
  });

  // Exact medians of the remaining (continuous or wide-range) features.
  const viaMedian = features.flatMap((_, j) => (include[j] && needsMedian[j] && !histogram[j] ? [j] : []));
  for (let start = 0; start < viaMedian.length; start += batch) {
    const part = viaMedian.slice(start, start + batch);
    const row = await oneRow(conn, `SELECT ${part.map((j) => `median(CAST(${ids[j]} AS DOUBLE))`).join(', ')} FROM ${relation}`);
    part.forEach((j, k) => stats.medians.set(j, toNumber(row[k])));
  }
  return stats;
}

/**
 * Fits fill values, means and standard deviations on the population's encoded rows, in one scan (plus one
 * per `medianBatch` continuous features, none for the Arvato data):
 * - derived features and whole-number kept features with a modest range: exact value histograms, which
 *   give count, mean, variance and the exact median;
 * - other features: count and mean (0/1 features: variance p (1 - p)); continuous ones also var_pop and
 *   DuckDB's exact median.
 * The scale step computes the same statistics from source-column codes (core/encoding/coded-scale.ts); this
 * SQL path is its reference.
 */
export async function fitImputeScale(conn: DuckDBConnection, options: FitImputeScaleOptions): Promise<FittedTransform> {
  const stats = await observedStatsSql(conn, options);
  if (stats.rows === 0) throw new InputError('no population rows to fit imputation and scaling on');
  return transformFromObserved(options.model, stats);
}

/**
 * The fitted transform from the population's observed statistics: fills (median, mode, the group's most
 * frequent level), then the mean and std after imputation, which follow exactly from the observed moments:
 *   mean = (c * m_obs + k * fill) / n,  var = (c * (v_obs + (m_obs - mean)^2) + k * (fill - mean)^2) / n
 * with c observed and k = n - c imputed cells (the pooled-variance identity; no cancellation).
 */
export function transformFromObserved(model: EncodingModel, stats: ObservedStats): FittedTransform {
  const { rows, counts, means, variances, medians } = stats;
  const features = model.features;
  const needsMedian = features.map(needsMedianFeature);
  const fills = new Array<number>(features.length).fill(0);
  features.forEach((feature, j) => {
    if (needsMedian[j]) {
      // A feature with no observed value at all gets 0; it is then constant and reported as such.
      fills[j] = medians.get(j) ?? 0;
    } else if (feature.kind === 'binary' || feature.kind === 'flag') {
      fills[j] = counts[j] > 0 && (means[j] ?? 0) > 0.5 ? 1 : 0;
    }
  });
  // One-hot groups: the most frequent level gets 1, the other levels 0 (first level wins a tie).
  const indexByName = new Map(features.map((feature, j) => [feature.name, j]));
  for (const group of model.groups) {
    const members = group.features.map((name) => {
      const j = indexByName.get(name);
      if (j === undefined) throw new Error(`one-hot group ${group.source} names an unknown feature ${name}`);
      return j;
    });
    let best = -1;
    let bestOnes = -1;
    for (const j of members) {
      const ones = Math.round(counts[j] * (means[j] ?? 0));
      if (ones > bestOnes) {
        bestOnes = ones;
        best = j;
      }
    }
    for (const j of members) fills[j] = j === best ? 1 : 0;
  }

  const constantFeatures: string[] = [];
  const out = features.map((feature, j) => {
    const c = counts[j];
    const k = rows - c;
    const fill = fills[j];
    const observedMean = means[j] ?? fill;
    const observedVar = variances[j] ?? 0;
    const mean = (c * observedMean + k * fill) / rows;
    const variance = (c * (observedVar + (observedMean - mean) ** 2) + k * (fill - mean) ** 2) / rows;
    const rawStd = Math.sqrt(Math.max(0, variance));
    const constant = !Number.isFinite(rawStd) || rawStd <= CONSTANT_EPSILON * Math.max(1, Math.abs(mean));
    if (constant) constantFeatures.push(feature.name);
    return { name: feature.name, kind: feature.kind, fill, mean, std: constant ? 1 : rawStd, missing: k, constant };
  });
  return FittedTransformSchema.parse({ version: 1, rows, features: out, constantFeatures });
}

function checkAligned(model: EncodingModel, transform: FittedTransform): void {
  if (model.features.length !== transform.features.length) {
    throw new Error(`the transform has ${transform.features.length} features, the encoding ${model.features.length}`);
  }
  model.features.forEach((feature, j) => {
    if (transform.features[j].name !== feature.name) {
      throw new Error(`feature ${j} is "${feature.name}" in the encoding but "${transform.features[j].name}" in the transform`);
    }
  });
}

/** SQL expression: imputed then standardised feature j, from a relation aliased `enc` holding the encoded columns. */
export function standardisedExpressionSql(model: EncodingModel, transform: FittedTransform, j: number, alias = 'enc'): string {
  const feature = model.features[j];
  const t = transform.features[j];
  const x = `COALESCE(CAST(${alias}.${quoteIdent(feature.name)} AS DOUBLE), ${doubleLiteral(t.fill)})`;
  return `((${x} - ${doubleLiteral(t.mean)}) / ${doubleLiteral(t.std)})`;
}

export interface TransformSelectOptions {
  /** DOUBLE (default) or FLOAT output columns. */
  floatType?: 'DOUBLE' | 'FLOAT';
  /** Name the output columns c0, c1, ... instead of the feature names. */
  positionalNames?: boolean;
  /** Cast `row` to INTEGER (fails loudly beyond 2^31 - 1). */
  rowAsInteger?: boolean;
}

/**
 * SQL producing `row` + every feature imputed then standardised, from a cleaned (unencoded) relation.
 * Encoding, imputation and scaling run in one pipeline; nothing is materialised.
 */
export function transformSelectSql(
  model: EncodingModel,
  transform: FittedTransform,
  sourceRelationSql: string,
  options: TransformSelectOptions = {},
): string {
  checkAligned(model, transform);
  const floatType = options.floatType ?? 'DOUBLE';
  const columns = model.features.map((feature, j) => {
    const name = options.positionalNames ? `c${j}` : feature.name;
    return `CAST(${standardisedExpressionSql(model, transform, j)} AS ${floatType}) AS ${quoteIdent(name)}`;
  });
  const row = options.rowAsInteger ? `CAST(enc."row" AS INTEGER)` : `enc."row"`;
  return `SELECT ${row} AS "row", ${columns.join(', ')} FROM (${encodeSelectSql(model, sourceRelationSql)}) AS enc`;
}

export { checkAligned as assertTransformMatchesModel };
