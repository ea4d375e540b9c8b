/**
 * The scale step's fast path: every encoded feature is a function of one source column's value, so each cell
 * of a source column becomes a small code (NULL, one of the values the encoding or the fit knows, or an
 * "other" value), and the statistics, the imputation and the standardisation all work per code:
 * - the population is read from DuckDB once (raw source columns, no encoding SQL) into compact code columns;
 * - the fit (counts, means, variances, histogram medians) follows from the code counts, exactly as
 *   fitImputeScale's SQL gets it from the encoded rows (same sums in the same order; see the test);
 * - the export copies each code's precomputed standardised values into the row-major matrix blocks: no
 *   per-feature arithmetic, no encoding query, no second read of the population.
 * Values outside a column's code table (a kept number off its whole-number range) keep their own value and
 * are computed one by one. Kept numbers that are not histogram features (continuous or wide) get their
 * moments and median from DuckDB's SQL, as in fitImputeScale.
 */
import type { DuckDBConnection, DuckDBDataChunk, DuckDBVector } from '@duckdb/node-api';
import { InputError } from '../../common/errors';
import type { EncodedFeature, EncodingModel, FittedTransform, SourceColumn } from './model';
import {
  emptyObservedStats,
  histogramFeatureFlags,
  needsMedianFeature,
  observedStatsSql,
  setHistogramStats,
  transformFromObserved,
} from './impute-scale';
import { encodeSelectSql } from './fit';
import { numericVectorView, type MatrixDtype, MatrixFileWriter, withDuckDBSettings } from './matrix';
import { parquetRelation, quoteIdent, quoteLiteral, valueLiteral } from './sql';

/**
 * Codes are bytes (one array type keeps the hot loops monomorphic and the population's codes at one byte a
 * cell): 0 NULL, up to 253 known values, OTHER / OVERFLOW. A kept number's window covers its first 253 whole
 * values; a map or one-hot column with more known values than that is not coded (the step falls back).
 */
const MAX_CODES = 256;

type CodeArray = Uint8Array;

/** One source column: how its cells become codes, and what each code encodes to. */
interface ColumnPlan {
  name: string;
  /** The column in the stream query: a DOUBLE (number source, or a text column kept as a number) or a text code. */
  selectSql: string;
  /** The text code came from SQL (codes read directly); otherwise codes are made here from the DOUBLE value. */
  sqlCodes: boolean;
  /** Model indices of the column's features. */
  features: number[];
  /** The column's one feature is a kept number: values off the window keep their own value (OVERFLOW). */
  numeric: boolean;
  /** Code count: 0 NULL, 1..K the known values, K + 1 OTHER (map columns) or OVERFLOW (numeric). */
  size: number;
  /** Number of known values K. */
  known: number;
  /** The value each known code stands for (index code - 1): a number, or a text key. */
  keys: (number | string)[];
  /** number columns: whole-number window [lo, lo + span] read through `dense` (known code; OTHER otherwise). */
  lo: number;
  span: number;
  dense: Uint8Array | null;
  /** number map columns: known value -> code, for values off the window. */
  keyCodes: Map<number, number>;
}

function featuresBySource(model: EncodingModel): Map<string, number[]> {
  const out = new Map<string, number[]>();
  model.features.forEach((feature, j) => {
    const list = out.get(feature.source) ?? [];
    list.push(j);
    out.set(feature.source, list);
  });
  return out;
}

/** The keys (as the encoding matches them) a map / one-hot feature knows. */
function featureKeys(model: EncodingModel, feature: EncodedFeature): string[] {
  if (feature.kind === 'onehot') {
    const group = model.groups.find((candidate) => candidate.source === feature.source);
    return group ? [...group.levels] : feature.level !== undefined ? [feature.level] : [];
  }
  return Object.keys(feature.map ?? {});
}

// long because: the three kinds of column (text codes, kept numbers, number maps) each set the plan's fields
function planColumn(model: EncodingModel, column: SourceColumn, features: number[]): ColumnPlan | null {
  const id = `src.${quoteIdent(column.name)}`;
  const numeric = features.length === 1 && model.features[features[0]].kind === 'numeric';
  if (features.some((j) => model.features[j].kind === 'numeric') && !numeric) {
    throw new Error(`column ${column.name} yields a kept number and other features`);
  }
  const base = { name: column.name, features, numeric, lo: 0, span: -1, dense: null, keyCodes: new Map<number, number>() };
  if (numeric) {
    const range = model.features[features[0]].range;
    const window = range !== undefined && Number.isInteger(range.min) && Number.isInteger(range.max) && range.max >= range.min;
    const lo = window ? range.min : 0;
    const span = window ? Math.min(range.max - range.min, MAX_CODES - 4) : -1;
    const keys = Array.from({ length: span + 1 }, (_, t) => lo + t);
    return {
      ...base,
      selectSql: column.kind === 'number' ? `CAST(${id} AS DOUBLE)` : `TRY_CAST(${id} AS DOUBLE)`,
      sqlCodes: false,
      size: keys.length + 2,
      known: keys.length,
      keys,
      lo,
      span,
    };
  }
  const texts = [...new Set(features.flatMap((j) => featureKeys(model, model.features[j])))];
  if (column.kind === 'text') {
    const arms = texts.map((key, k) => `WHEN ${id} = ${quoteLiteral(key)} THEN ${k + 1}`).join(' ');
    if (texts.length + 2 > MAX_CODES) return null;
    return {
      ...base,
      selectSql: `CAST(CASE WHEN ${id} IS NULL THEN NULL ${arms} ELSE ${texts.length + 1} END AS UTINYINT)`,
      sqlCodes: true,
      size: texts.length + 2,
      known: texts.length,
      keys: texts,
    };
  }
  // A number column matched against keys: one code per distinct numeric key (8 and "8.0" are one key).
  const values = [
    ...new Set(
      texts.map((key) => {
        valueLiteral(key, 'number'); // throws on a key that is not a number, as the SQL would
        return Number(key);
      }),
    ),
  ];
  if (values.length + 2 > MAX_CODES) return null;
  const keyCodes = new Map<number, number>(values.map((value, k) => [value, k + 1]));
  const other = values.length + 1;
  const whole = values.length > 0 && values.every((value) => Number.isInteger(value));
  const lo = whole ? Math.min(...values) : 0;
  const span = whole ? Math.max(...values) - lo : -1;
  let dense: Uint8Array | null = null;
  if (whole && span < 65536) {
    dense = new Uint8Array(span + 1).fill(other);
    values.forEach((value, k) => {
      (dense as Uint8Array)[value - lo] = k + 1;
    });
  }
  return {
    ...base,
    selectSql: `CAST(${id} AS DOUBLE)`,
    sqlCodes: false,
    size: values.length + 2,
    known: values.length,
    keys: values,
    lo,
    span: dense ? span : -1,
    dense,
    keyCodes,
  };
}

/**
 * The encoded value of feature `feature` for a known key (number or text) — the arithmetic of
 * featureExpressionSql: kept numbers as themselves, maps by key, one-hot 1 / 0 by level.
 */
function encodeKnown(model: EncodingModel, feature: EncodedFeature, key: number | string, kind: SourceColumn['kind']): number | null {
  const same = (text: string): boolean => (kind === 'text' ? text === key : Number(text) === key);
  switch (feature.kind) {
    case 'numeric':
      return key as number;
    case 'onehot': {
      // A level's feature is 1 for its level; a fold of rare levels, "(other)", for any of its levels.
      if (feature.levels ? feature.levels.some(same) : same(feature.level as string)) return 1;
      const group = model.groups.find((candidate) => candidate.source === feature.source);
      if (group?.unknownLevels === 'missing' && !group.levels.some(same)) return null;
      return 0;
    }
    default: {
      for (const [text, value] of Object.entries(feature.map ?? {})) if (same(text)) return value;
      return null;
    }
  }
}

/** The encoded value for a value none of the feature's keys match (OTHER). */
function encodeOther(model: EncodingModel, feature: EncodedFeature): number | null {
  if (feature.kind !== 'onehot') return null;
  const group = model.groups.find((candidate) => candidate.source === feature.source);
  return group?.unknownLevels === 'missing' ? null : 0;
}

/** The encoded values of every code of a column, per feature (index code * features + f; null = missing). */
function encodedTable(model: EncodingModel, plan: ColumnPlan, kind: SourceColumn['kind']): (number | null)[] {
  const nf = plan.features.length;
  const table = new Array<number | null>(plan.size * nf).fill(null);
  plan.features.forEach((j, f) => {
    const feature = model.features[j];
    plan.keys.forEach((key, k) => {
      table[(k + 1) * nf + f] = encodeKnown(model, feature, key, plan.numeric ? 'number' : kind);
    });
    if (!plan.numeric) table[(plan.known + 1) * nf + f] = encodeOther(model, feature);
  });
  return table;
}

/** A growable list of doubles (a column's OVERFLOW values, in row order). */
class DoubleList {
  values = new Float64Array(64);
  length = 0;
  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}

/** Whether x is a whole number in the window [lo, lo + span] (and not -0, which keeps its own value). */
function inWindow(x: number, t: number, span: number): boolean {
  return t >= 0 && t <= span && (t | 0) === t && (x !== 0 || 1 / x > 0);
}

/** A kept number's cells: window codes, NULL 0, OVERFLOW (the value to `overflow`) otherwise. */
function codeNumericCells(items: Float64Array, bits: Uint8Array | null, n: number, codes: CodeArray, at: number, lo: number, span: number, overflow: DoubleList): void {
  const escape = span + 2;
  for (let i = 0; i < n; i++) {
    if (bits !== null && (bits[i >> 3] & (1 << (i & 7))) === 0) {
      codes[at + i] = 0;
      continue;
    }
    const x = items[i];
    const t = x - lo;
    if (inWindow(x, t, span)) {
      codes[at + i] = t + 1;
    } else {
      overflow.push(x);
      codes[at + i] = escape;
    }
  }
}

/** A number map column's cells: the known value's code, OTHER for any other value, NULL 0. */
function codeMappedCells(items: Float64Array, bits: Uint8Array | null, n: number, codes: CodeArray, at: number, plan: ColumnPlan): void {
  const { lo, span, keyCodes } = plan;
  const dense = plan.dense ?? new Uint8Array(0);
  const other = plan.known + 1;
  for (let i = 0; i < n; i++) {
    if (bits !== null && (bits[i >> 3] & (1 << (i & 7))) === 0) {
      codes[at + i] = 0;
      continue;
    }
    const x = items[i];
    const t = x - lo;
    codes[at + i] = t >= 0 && t <= span && (t | 0) === t ? dense[t] : (keyCodes.get(x) ?? other);
  }
}

/** Cells of a number column into codes [at, at + n); OVERFLOW values go to `overflow`. */
function codeNumberCells(plan: ColumnPlan, vector: DuckDBVector, n: number, codes: CodeArray, at: number, overflow: DoubleList): void {
  const view = numericVectorView(vector, n);
  if (view !== undefined && view.items instanceof Float64Array) {
    if (plan.numeric) codeNumericCells(view.items, view.validBits, n, codes, at, plan.lo, plan.span, overflow);
    else codeMappedCells(view.items, view.validBits, n, codes, at, plan);
    return;
  }
  const items = new Float64Array(n);
  const bits = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    const value = vector.getItem(i);
    if (value === null || value === undefined) continue;
    items[i] = Number(value as number | bigint);
    bits[i >> 3] |= 1 << (i & 7);
  }
  if (plan.numeric) codeNumericCells(items, bits, n, codes, at, plan.lo, plan.span, overflow);
  else codeMappedCells(items, bits, n, codes, at, plan);
}

/** Text codes computed by SQL into codes [at, at + n) (NULL -> 0). */
function copySqlCodes(vector: DuckDBVector, n: number, codes: CodeArray, at: number): void {
  const view = numericVectorView(vector, n);
  if (view === undefined) {
    for (let i = 0; i < n; i++) {
      const value = vector.getItem(i);
      codes[at + i] = value === null || value === undefined ? 0 : Number(value as number);
    }
    return;
  }
  codes.set(view.items as CodeArray, at);
  const bits = view.validBits;
  if (bits !== null) for (let i = 0; i < n; i++) if ((bits[i >> 3] & (1 << (i & 7))) === 0) codes[at + i] = 0;
}

/** Codes for one file's rows, column by column (population: the whole file; customers: one chunk). */
interface CodedRows {
  rows: number;
  rowIds: Int32Array;
  codes: CodeArray[];
  overflow: DoubleList[];
}

function newCodedRows(plans: readonly ColumnPlan[], rows: number): CodedRows {
  return {
    rows: 0,
    rowIds: new Int32Array(rows),
    codes: plans.map(() => new Uint8Array(rows)),
    overflow: plans.map(() => new DoubleList()),
  };
}

/** Appends a chunk's rows (row id in column 0, then the plans' columns) to `coded`. */
function appendChunk(plans: readonly ColumnPlan[], chunk: DuckDBDataChunk, coded: CodedRows): void {
  const n = chunk.rowCount;
  const at = coded.rows;
  if (at + n > coded.rowIds.length) throw new Error(`the file grew while it was read (more than ${coded.rowIds.length} rows)`);
  const ids = numericVectorView(chunk.getColumnVector(0), n);
  if (ids === undefined || ids.validBits !== null || !(ids.items instanceof Int32Array)) {
    for (let i = 0; i < n; i++) {
      const value = chunk.getColumnVector(0).getItem(i);
      if (value === null || value === undefined) throw new Error('the cleaned relation has NULL in column "row"');
      coded.rowIds[at + i] = Number(value as number);
    }
  } else {
    coded.rowIds.set(ids.items, at);
  }
  plans.forEach((plan, c) => {
    const vector = chunk.getColumnVector(c + 1);
    if (plan.sqlCodes) copySqlCodes(vector, n, coded.codes[c], at);
    else codeNumberCells(plan, vector, n, coded.codes[c], at, coded.overflow[c]);
  });
  coded.rows += n;
}

/** The stream query: `row` as INTEGER, then one column per plan. */
function codesSql(plans: readonly ColumnPlan[], sourceRelationSql: string): string {
  return `SELECT CAST(src."row" AS INTEGER) AS "row", ${plans.map((plan, c) => `${plan.selectSql} AS ${quoteIdent(`s${c}`)}`).join(', ')} FROM ${sourceRelationSql} AS src`;
}

/** Streams a relation's rows into codes, calling `onChunk` after each appended chunk. */
async function streamCodes(
  conn: DuckDBConnection,
  plans: readonly ColumnPlan[],
  sourceRelationSql: string,
  coded: (n: number) => CodedRows,
  onChunk: (coded: CodedRows) => Promise<void> | void,
): Promise<void> {
  await withDuckDBSettings(
    conn,
    { streamingBufferSize: '64MB' },
    async () => {
      const result = await conn.stream(codesSql(plans, sourceRelationSql));
      const fetch = (): Promise<DuckDBDataChunk | null> => {
        const promise = result.fetchChunk();
        promise.catch(() => undefined); // raised where it is awaited
        return promise;
      };
      let next: Promise<DuckDBDataChunk | null> | null = fetch();
      try {
        for (;;) {
          const chunk: DuckDBDataChunk | null = await next;
          next = null;
          if (chunk === null || chunk.rowCount === 0) break;
          next = fetch(); // DuckDB computes the next chunk while this one is coded
          const target = coded(chunk.rowCount);
          appendChunk(plans, chunk, target);
          await onChunk(target);
        }
      } finally {
        if (next !== null) await next.catch(() => null);
      }
    },
    { soft: ['streamingBufferSize'] },
  );
}

/** Adds rows [from, coded.rows) to the per-column code counts. */
function countCodes(counts: readonly Float64Array[], coded: CodedRows, from: number): void {
  counts.forEach((column, c) => {
    const codes = coded.codes[c];
    for (let i = from; i < coded.rows; i++) column[codes[i]]++;
  });
}

/**
 * The observed statistics from code counts, as observedStatsSql computes them: histogram features from their
 * exact histograms (entries in ascending key order, as DuckDB's histogram() gives them); 0/1 features as the
 * exact sum over the count; other kept numbers by SQL (`sqlStats`).
 */
function observedFromCodes(
  model: EncodingModel,
  plans: readonly ColumnPlan[],
  tables: readonly (number | null)[][],
  counts: readonly Float64Array[],
  coded: CodedRows,
  histogram: readonly boolean[],
): { stats: ReturnType<typeof emptyObservedStats>; viaSql: boolean[] } {
  const stats = emptyObservedStats(model.features.length, coded.rows);
  const viaSql = model.features.map((feature, j) => needsMedianFeature(feature) && !histogram[j]);
  plans.forEach((plan, c) => {
    const nf = plan.features.length;
    const overflow = coded.overflow[c];
    plan.features.forEach((j, f) => {
      if (viaSql[j]) return;
      const byValue = new Map<number, number>();
      for (let code = 1; code < plan.size; code++) {
        const n = counts[c][code];
        if (n === 0) continue;
        if (plan.numeric && code === plan.known + 1) {
          for (let i = 0; i < overflow.length; i++) byValue.set(overflow.values[i], (byValue.get(overflow.values[i]) ?? 0) + 1);
          continue;
        }
        const value = tables[c][code * nf + f];
        if (value !== null) byValue.set(value, (byValue.get(value) ?? 0) + n);
      }
      const entries = [...byValue].map(([key, count]) => ({ key, count })).sort((a, b) => a.key - b.key);
      if (histogram[j]) {
        setHistogramStats(stats, j, entries);
        return;
      }
      let count = 0;
      let sum = 0;
      for (const entry of entries) {
        count += entry.count;
        sum += entry.key * entry.count;
      }
      stats.counts[j] = count;
      const mean = count === 0 ? null : sum / count;
      stats.means[j] = mean;
      stats.variances[j] = mean === null ? null : mean * (1 - mean);
    });
  });
  return { stats, viaSql };
}

/** Per column: each code's imputed and standardised value per feature, rounded to the matrix's type. */
function standardisedTables(
  plans: readonly ColumnPlan[],
  tables: readonly (number | null)[][],
  transform: FittedTransform,
  dtype: MatrixDtype,
): (Float32Array | Float64Array)[] {
  return plans.map((plan, c) => {
    const nf = plan.features.length;
    const out = dtype === 'float32' ? new Float32Array(plan.size * nf) : new Float64Array(plan.size * nf);
    for (let code = 0; code < plan.size; code++) {
      plan.features.forEach((j, f) => {
        const t = transform.features[j];
        const value = tables[c][code * nf + f];
        // The SQL's ((COALESCE(x, fill) - mean) / std), then the store's rounding.
        out[code * nf + f] = ((value ?? t.fill) - t.mean) / t.std;
      });
    }
    return out;
  });
}

/** Everything the gather needs per column. */
interface GatherColumn {
  codes: CodeArray;
  table: Float32Array | Float64Array;
  targets: Int32Array;
  /** OVERFLOW code (numeric columns) or -1; its values are (x - mean) / std with the cursor into `overflow`. */
  overflowCode: number;
  overflow: DoubleList;
  cursor: number;
  mean: number;
  std: number;
}

/** Rows the population's gather copies before it yields to the event loop. */
const GATHER_SLICE_ROWS = 8192;

/** Rows per tile of the gather (a tile of the output block stays in cache). */
const TILE_ROWS = 64;

/** Rows [from, to) of the coded columns into the row-major block from row `blockRow`, tile by tile. */
function gatherInto(block: Float32Array | Float64Array, cols: number, blockRow: number, columns: GatherColumn[], from: number, to: number): void {
  for (let tile = from; tile < to; tile += TILE_ROWS) {
    const end = Math.min(tile + TILE_ROWS, to);
    const first = (blockRow + tile - from) * cols;
    for (const column of columns) {
      const { codes, table, targets, overflowCode } = column;
      const nf = targets.length;
      if (nf === 1) {
        const target = targets[0];
        let out = first + target;
        for (let i = tile; i < end; i++, out += cols) {
          const code = codes[i];
          block[out] = code === overflowCode ? (column.overflow.values[column.cursor++] - column.mean) / column.std : table[code];
        }
        continue;
      }
      let row = first;
      for (let i = tile; i < end; i++, row += cols) {
        const base = codes[i] * nf;
        for (let f = 0; f < nf; f++) block[row + targets[f]] = table[base + f];
      }
    }
  }
}

/** The columns' plans, or null when a column has too many known values to code in a byte. */
function planColumns(model: EncodingModel): ColumnPlan[] | null {
  const bySource = featuresBySource(model);
  const plans: ColumnPlan[] = [];
  for (const column of model.sourceColumns) {
    const features = bySource.get(column.name);
    if (features === undefined) continue;
    const plan = planColumn(model, column, features);
    if (plan === null) return null;
    plans.push(plan);
  }
  if (plans.flatMap((plan) => plan.features).length !== model.features.length) throw new Error(`the encoding's features come from unknown source columns`);
  return plans;
}

/** Whether codedImputeScale can take this encoding (every map / one-hot column has at most 253 known values). */
export function canCodeEncoding(model: EncodingModel): boolean {
  return planColumns(model) !== null;
}

export interface CodedScaleOptions {
  model: EncodingModel;
  /** The population's cleaned rows (`row` + kept columns): the fit, and the first matrix. */
  populationParquet: string;
  populationOutPrefix: string;
  /** Other files transformed with the population's fit. */
  others: { sourceParquet: string; outPrefix: string }[];
  dtype: MatrixDtype;
  histogramMaxDistinct?: number;
  medianBatch?: number;
  /** Rows per write (default: 16 MiB blocks). */
  blockBytes?: number;
  onProgress?: (rowsWritten: number) => void;
}

export interface CodedScaleResult {
  transform: FittedTransform;
  /** Rows written per file: the population first, then `others` in order. */
  rows: number[];
  features: string[];
  /** Wall seconds per phase: reading the population into codes, the fit, its matrix, the other files. */
  seconds: { readPopulation: number; fit: number; writePopulation: number; others: number };
}

function gatherColumns(plans: readonly ColumnPlan[], coded: CodedRows, standardised: (Float32Array | Float64Array)[], transform: FittedTransform): GatherColumn[] {
  return plans.map((plan, c) => {
    const j = plan.features[0];
    return {
      codes: coded.codes[c],
      table: standardised[c],
      targets: Int32Array.from(plan.features),
      overflowCode: plan.numeric ? plan.known + 1 : -1,
      overflow: coded.overflow[c],
      cursor: 0,
      mean: transform.features[j].mean,
      std: transform.features[j].std,
    };
  });
}

/**
 * Fits imputation and scaling on the population and writes every file's matrix (`<prefix>.matrix` +
 * `<prefix>.rows`, as exportMatrix writes them; byte-identical to fitImputeScale + exportMatrix).
 */
// long because: one read of the population feeds the fit and the first matrix; the steps share the plans, codes and tables
export async function codedImputeScale(conn: DuckDBConnection, options: CodedScaleOptions): Promise<CodedScaleResult> {
  const { model, dtype } = options;
  const plans = planColumns(model);
  if (plans === null) throw new Error('the encoding has a column with too many levels to code (see canCodeEncoding)');
  const kinds = new Map(model.sourceColumns.map((column) => [column.name, column.kind]));
  const tables = plans.map((plan) => encodedTable(model, plan, kinds.get(plan.name) ?? 'number'));
  const histogram = histogramFeatureFlags(model, options.histogramMaxDistinct ?? 20000);
  const cols = model.features.length;
  const blockRows = Math.max(2048, Math.floor((options.blockBytes ?? 16 * 1024 * 1024) / (cols * (dtype === 'float32' ? 4 : 8))));

  const seconds = { readPopulation: 0, fit: 0, writePopulation: 0, others: 0 };
  let mark = performance.now();
  const lap = (): number => {
    const now = performance.now();
    const elapsed = (now - mark) / 1000;
    mark = now;
    return elapsed;
  };
  // 1. The population, read once into codes.
  const population = parquetRelation(options.populationParquet);
  const total = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${population}`)).getRowsJS()[0][0]);
  if (total === 0) throw new InputError('no population rows to fit imputation and scaling on');
  const coded = newCodedRows(plans, total);
  const counts = plans.map((plan) => new Float64Array(plan.size));
  let counted = 0;
  await streamCodes(conn, plans, population, () => coded, () => {
    countCodes(counts, coded, counted);
    counted = coded.rows;
  });
  if (coded.rows !== total) throw new Error(`read ${coded.rows} population rows, expected ${total}`);

  seconds.readPopulation = lap();
  // 2. The fit from the code counts (kept numbers off the histogram path: SQL, as fitImputeScale does).
  const { stats, viaSql } = observedFromCodes(model, plans, tables, counts, coded, histogram);
  if (viaSql.some(Boolean)) {
    const sql = await observedStatsSql(
      conn,
      { model, encodedRelationSql: `(${encodeSelectSql(model, population)})`, histogramMaxDistinct: options.histogramMaxDistinct, medianBatch: options.medianBatch },
      viaSql,
    );
    viaSql.forEach((use, j) => {
      if (!use) return;
      stats.counts[j] = sql.counts[j];
      stats.means[j] = sql.means[j];
      stats.variances[j] = sql.variances[j];
      stats.medians.set(j, sql.medians.get(j) ?? null);
    });
  }
  const transform = transformFromObserved(model, stats);
  const standardised = standardisedTables(plans, tables, transform, dtype);

  seconds.fit = lap();
  // 3. The population's matrix from its codes; then each other file, chunk by chunk.
  const rows: number[] = [];
  {
    const writer = await MatrixFileWriter.open(options.populationOutPrefix, dtype, cols, blockRows, options.onProgress);
    try {
      const columns = gatherColumns(plans, coded, standardised, transform);
      for (let from = 0; from < coded.rows; from += blockRows) {
        const to = Math.min(coded.rows, from + blockRows);
        const { block, rowBlock } = writer.current();
        // A slice at a time, yielding between slices: the event loop (heartbeats) never waits for a whole block.
        for (let slice = from; slice < to; slice += GATHER_SLICE_ROWS) {
          if (slice > from) await new Promise<void>((resolve) => setImmediate(resolve));
          gatherInto(block, cols, slice - from, columns, slice, Math.min(to, slice + GATHER_SLICE_ROWS));
        }
        rowBlock.set(coded.rowIds.subarray(from, to));
        await writer.flush(to - from);
      }
      rows.push(await writer.finish());
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }
  seconds.writePopulation = lap();
  for (const other of options.others) {
    const writer = await MatrixFileWriter.open(other.outPrefix, dtype, cols, blockRows, options.onProgress);
    try {
      let chunkCoded: CodedRows | null = null;
      let filled = 0;
      await streamCodes(
        conn,
        plans,
        parquetRelation(other.sourceParquet),
        (n) => {
          if (chunkCoded === null || chunkCoded.rowIds.length < n) chunkCoded = newCodedRows(plans, n);
          chunkCoded.rows = 0;
          for (const list of chunkCoded.overflow) list.length = 0;
          return chunkCoded;
        },
        async (chunk) => {
          const columns = gatherColumns(plans, chunk, standardised, transform);
          let offset = 0;
          while (offset < chunk.rows) {
            const take = Math.min(chunk.rows - offset, blockRows - filled);
            const { block, rowBlock } = writer.current();
            gatherInto(block, cols, filled, columns, offset, offset + take);
            rowBlock.set(chunk.rowIds.subarray(offset, offset + take), filled);
            filled += take;
            offset += take;
            if (filled === blockRows) {
              await writer.flush(filled);
              filled = 0;
            }
          }
        },
      );
      if (filled > 0) await writer.flush(filled);
      rows.push(await writer.finish());
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }
  seconds.others = lap();
  return { transform, rows, features: model.features.map((feature) => feature.name), seconds };
}
