import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, write } from 'node:fs';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { endianness } from 'node:os';
import { type DuckDBConnection, type DuckDBDataChunk, DuckDBInstance, type DuckDBVector } from '@duckdb/node-api';
import type { EncodingModel, FittedTransform } from './model';
import { assertTransformMatchesModel } from './impute-scale';
import { encodedExportSql } from './fit';
import { parquetRelation, quoteLiteral } from './sql';
import { WRITE_PIECE_BYTES } from '../parallel/matrix-source';

export type MatrixDtype = 'float32' | 'float64';
export type MatrixArray = Float32Array | Float64Array;

const BYTES: Record<MatrixDtype, number> = { float32: 4, float64: 8 };
const LITTLE_ENDIAN = endianness() === 'LE';
const writeAsync = promisify(write);

export interface DuckDBSettings {
  /** DuckDB worker threads (SET threads). */
  threads?: number;
  /** DuckDB memory limit, e.g. '4GB' (SET memory_limit). */
  memoryLimit?: string;
  /**
   * How much a streaming result may buffer ahead of the reader (SET streaming_buffer_size; DuckDB's default
   * ~1 MB holds less than one 2048-row chunk of a wide matrix, which stalls the producer threads).
   */
  streamingBufferSize?: string;
}

const SIZE = /^\s*\d+(\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)\s*$/i;

let defaultsPromise: Promise<Map<string, string>> | null = null;

/** Setting values of a fresh in-memory DuckDB (the defaults), read once per process. */
async function duckdbDefaults(): Promise<Map<string, string>> {
  defaultsPromise ??= (async () => {
    const instance = await DuckDBInstance.create(':memory:');
    try {
      const conn = await instance.connect();
      const rows = (
        await conn.runAndReadAll(
          `SELECT name, value FROM duckdb_settings() WHERE name IN ('threads', 'memory_limit', 'streaming_buffer_size')`,
        )
      ).getRowsJS();
      conn.closeSync();
      return new Map(rows.map(([name, value]) => [String(name), String(value)]));
    } finally {
      instance.closeSync();
    }
  })();
  return defaultsPromise;
}

export interface WithSettingsOptions {
  /** Settings applied only when the current value is DuckDB's default (a caller's own choice wins). */
  soft?: readonly (keyof DuckDBSettings)[];
}

/**
 * Runs `fn` with DuckDB settings applied, restoring the previous values afterwards. A setting that was at
 * its default is restored exactly (RESET); one the caller had changed is set back to the value DuckDB
 * reports, which for sizes is rounded to 0.1 of its unit ("3.7 GiB"). The settings are database-wide, so
 * concurrent work on the same instance sees them too.
 */
export async function withDuckDBSettings<T>(
  conn: DuckDBConnection,
  settings: DuckDBSettings,
  fn: () => Promise<T>,
  options: WithSettingsOptions = {},
): Promise<T> {
  const changes: { key: keyof DuckDBSettings; name: string; value: string }[] = [];
  if (settings.threads !== undefined) {
    if (!Number.isInteger(settings.threads) || settings.threads < 1) throw new Error(`threads must be a positive integer, got ${settings.threads}`);
    changes.push({ key: 'threads', name: 'threads', value: String(settings.threads) });
  }
  for (const [key, name] of [
    ['memoryLimit', 'memory_limit'],
    ['streamingBufferSize', 'streaming_buffer_size'],
  ] as const) {
    const value = settings[key];
    if (value === undefined) continue;
    if (!SIZE.test(value)) throw new Error(`${key} must look like '4GB', got "${value}"`);
    changes.push({ key, name, value: quoteLiteral(value.trim()) });
  }
  if (changes.length === 0) return fn();
  const defaults = await duckdbDefaults();
  const restore: string[] = [];
  const apply: string[] = [];
  for (const change of changes) {
    const before = String(
      (await conn.runAndReadAll(`SELECT current_setting(${quoteLiteral(change.name)})`)).getRowsJS()[0][0],
    );
    const isDefault = defaults.get(change.name) === before;
    if (!isDefault && options.soft?.includes(change.key)) continue;
    apply.push(`SET ${change.name} = ${change.value}`);
    restore.push(isDefault ? `RESET ${change.name}` : `SET ${change.name} = ${change.name === 'threads' ? before : quoteLiteral(before)}`);
  }
  try {
    for (const statement of apply) await conn.run(statement);
    return await fn();
  } finally {
    for (const statement of restore) await conn.run(statement);
  }
}

type TypedArrayCtor<T> = { new (length: number): T; readonly BYTES_PER_ELEMENT: number };

/** Typed views a fixed-width numeric vector may expose as `items` (all convert to double exactly). */
const NUMERIC_VIEWS = [Float64Array, Float32Array, Int32Array, Int16Array, Int8Array, Uint32Array, Uint16Array, Uint8Array] as const;
type NumericView = InstanceType<(typeof NUMERIC_VIEWS)[number]>;

/**
 * A fixed-width numeric vector's cells without per-cell objects: its (private) `items` view of the chunk's
 * memory (node-api 1.5: DuckDBDoubleVector / DuckDBFloatVector / DuckDBIntegerVector, …) and its validity bits
 * (null when no cell is NULL; bit i lives in byte i >> 3, bit i & 7 of the little-endian uint64 words).
 * Undefined when the internals do not look as expected: callers then fall back to getItem.
 */
export function numericVectorView(vector: DuckDBVector, rowCount: number): { items: NumericView; validBits: Uint8Array | null } | undefined {
  const internals = vector as unknown as { items?: unknown; validity?: { data?: unknown; offset?: unknown } };
  const { items, validity } = internals;
  if (!NUMERIC_VIEWS.some((view) => items instanceof view) || (items as NumericView).length !== rowCount || validity === undefined) return undefined;
  const data = validity.data;
  if (data === null || data === undefined) return { items: items as NumericView, validBits: null };
  if (data instanceof BigUint64Array && validity.offset === 0 && LITTLE_ENDIAN) {
    return { items: items as NumericView, validBits: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  }
  return undefined;
}

/**
 * The values of a fixed-width numeric vector as a typed array of `ctor`'s type, without per-cell objects (the
 * vector's own view when it has that type and no NULL); NULL cells become NaN (0 for integers) and are counted.
 */
export function vectorValues<T extends Float64Array | Float32Array | Int32Array>(
  vector: DuckDBVector,
  rowCount: number,
  ctor: TypedArrayCtor<T>,
): { values: T; nulls: number } {
  const isInt = ctor === (Int32Array as unknown);
  const fast = numericVectorView(vector, rowCount);
  if (fast && fast.items instanceof (ctor as unknown as typeof Float64Array)) {
    const { items, validBits } = fast;
    if (validBits === null) return { values: items as T, nulls: 0 };
    let nulls = 0;
    let copy: T | null = null;
    for (let i = 0; i < rowCount; i++) {
      if ((validBits[i >> 3] & (1 << (i & 7))) === 0) {
        if (copy === null) {
          copy = new ctor(rowCount);
          copy.set(items as T);
        }
        copy[i] = isInt ? 0 : NaN;
        nulls++;
      }
    }
    return { values: copy ?? (items as T), nulls };
  }
  const values = new ctor(rowCount);
  let nulls = 0;
  for (let i = 0; i < rowCount; i++) {
    const value = vector.getItem(i);
    if (value === null || value === undefined) {
      values[i] = isInt ? 0 : NaN;
      nulls++;
    } else {
      values[i] = Number(value as number | bigint);
    }
  }
  return { values, nulls };
}

/**
 * Imputes and standardises one numeric vector into `target[0 .. rowCount)`: (x - mean) / std, and `fill`
 * (the standardised fill value) for NULL cells. The same IEEE operations, in the same order, as the SQL
 * ((COALESCE(CAST(x AS DOUBLE), fill) - mean) / std), so the values are bit-identical to DuckDB's.
 */
export function standardiseVector(
  vector: DuckDBVector,
  rowCount: number,
  target: Float64Array,
  mean: number,
  std: number,
  fill: number,
): void {
  const fast = numericVectorView(vector, rowCount);
  if (fast) {
    target.set(fast.items);
    for (let i = 0; i < rowCount; i++) target[i] = (target[i] - mean) / std;
    const bits = fast.validBits;
    if (bits) {
      for (let b = 0; b << 3 < rowCount; b++) {
        const byte = bits[b];
        if (byte === 0xff) continue;
        const end = Math.min(rowCount, (b + 1) << 3);
        for (let i = b << 3; i < end; i++) if ((byte & (1 << (i & 7))) === 0) target[i] = fill;
      }
    }
    return;
  }
  for (let i = 0; i < rowCount; i++) {
    const value = vector.getItem(i);
    target[i] = value === null || value === undefined ? fill : (Number(value as number | bigint) - mean) / std;
  }
}

/** Rows per tile of the column-to-row transposition (a tile of the output block stays in cache). */
const TILE_ROWS = 64;

/**
 * Copies rows [from, to) of the columns into the row-major block starting at element `start`, tile by tile.
 * (A function of its own, so V8 optimises the hot loop for the block's one array type.)
 */
function transposeInto(block: MatrixArray, start: number, columns: Float64Array[], from: number, to: number): void {
  const cols = columns.length;
  for (let tile = from; tile < to; tile += TILE_ROWS) {
    const end = Math.min(tile + TILE_ROWS, to);
    const first = start + (tile - from) * cols;
    for (let j = 0; j < cols; j++) {
      const values = columns[j];
      let out = first + j;
      for (let i = tile; i < end; i++, out += cols) block[out] = values[i];
    }
  }
}

export interface ExportMatrixOptions {
  model: EncodingModel;
  transform: FittedTransform;
  /** A cleaned file: `row` + kept columns. Or give `sourceRelationSql` instead. */
  sourceParquet?: string;
  /** A cleaned relation usable after FROM (table, view, `read_parquet(...)`), instead of sourceParquet. */
  sourceRelationSql?: string;
  /** Writes `<outPrefix>.matrix` and `<outPrefix>.rows`. */
  outPrefix: string;
  dtype: MatrixDtype;
  /** DuckDB settings for the export (restored afterwards). streamingBufferSize: 64MB unless set here or already changed on the instance. */
  duckdb?: DuckDBSettings;
  /** Bytes buffered before each write (default 16 MiB). */
  blockBytes?: number;
  /** Called after each written block with the rows written so far (e.g. to heartbeat). */
  onProgress?: (rowsWritten: number) => void;
}

export interface MatrixExport {
  rows: number;
  cols: number;
  matrixPath: string;
  rowsPath: string;
  dtype: MatrixDtype;
  /** Column names, in matrix column order. */
  features: string[];
  stats: ExportStats;
}

/** Where the export's wall time went (seconds). */
export interface ExportStats {
  seconds: number;
  /** Waiting for DuckDB to produce chunks (the encoding runs there). */
  queryWaitSeconds: number;
  /** Imputing, standardising and copying chunk columns into row-major blocks. */
  copySeconds: number;
  /** Waiting for block writes (they run while the next block is filled). */
  writeSeconds: number;
}

/**
 * Streams the imputed + standardised feature matrix out of DuckDB into `<outPrefix>.matrix` (row-major,
 * little-endian, rows x cols of float32 / float64) and the 0-based source row indices into
 * `<outPrefix>.rows` (Int32, same order). DuckDB encodes; the imputation and standardisation (the arithmetic
 * of transformSelectSql, bit for bit) run on the chunks' typed arrays as they are transposed into large
 * row-major blocks. Files appear atomically (temp + rename).
 */
// long because: a double-buffered stream (DuckDB chunk -> transposed, standardised block -> async write) whose fds, blocks and pending writes share one frame; left whole while issue 12 tunes this path
export async function exportMatrix(conn: DuckDBConnection, options: ExportMatrixOptions): Promise<MatrixExport> {
  const { model, transform, outPrefix, dtype } = options;
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`dtype must be float32 or float64, got ${String(dtype)}`);
  const source =
    options.sourceRelationSql ?? (options.sourceParquet !== undefined ? parquetRelation(options.sourceParquet) : undefined);
  if (source === undefined) throw new Error('exportMatrix needs sourceParquet or sourceRelationSql');
  // DuckDB encodes (narrow types, NULL where missing); imputation and standardisation happen here, per column,
  // while the chunk is transposed (standardiseVector: bit-identical to transformSelectSql's arithmetic). The
  // Float32Array store rounds to nearest, as DuckDB's DOUBLE -> FLOAT cast does.
  assertTransformMatchesModel(model, transform);
  const sql = encodedExportSql(model, source);
  const cols = model.features.length;
  const means = transform.features.map((feature) => feature.mean);
  const stds = transform.features.map((feature) => feature.std);
  const fills = transform.features.map((feature) => (feature.fill - feature.mean) / feature.std);
  const bytes = BYTES[dtype];
  const Ctor: TypedArrayCtor<MatrixArray> = dtype === 'float32' ? Float32Array : Float64Array;
  const blockRows = Math.max(2048, Math.floor((options.blockBytes ?? 16 * 1024 * 1024) / (cols * bytes)));
  const matrixPath = `${outPrefix}.matrix`;
  const rowsPath = `${outPrefix}.rows`;
  const suffix = `.tmp-${process.pid}-${Date.now()}`;
  const matrixTmp = matrixPath + suffix;
  const rowsTmp = rowsPath + suffix;

  const stats: ExportStats = { seconds: 0, queryWaitSeconds: 0, copySeconds: 0, writeSeconds: 0 };
  const started = performance.now();
  // long because: the stream's loop itself (see exportMatrix); its fds, blocks and pending writes live here
  const run = async (): Promise<number> => {
    const matrixFd = openSync(matrixTmp, 'w');
    const rowsFd = openSync(rowsTmp, 'w');
    let next: Promise<DuckDBDataChunk | null> | null = null;
    // Two blocks: one is filled while the other is written (on a libuv thread, at its own file offset), so the
    // transposition and DuckDB's work go on while the kernel takes the previous block.
    const writes: (Promise<void> | null)[] = [null, null];
    try {
      const blocks = [new Ctor(blockRows * cols), new Ctor(blockRows * cols)];
      const rowBlocks = [new Int32Array(blockRows), new Int32Array(blockRows)];
      let current = 0;
      let block = blocks[current];
      let rowBlock = rowBlocks[current];
      let capacity = 2048;
      let columns = Array.from({ length: cols }, () => new Float64Array(capacity));
      let filled = 0;
      let issued = 0;
      let written = 0;
      const flush = async (): Promise<void> => {
        if (filled === 0) return;
        const count = filled;
        const index = current;
        const at = issued;
        issued += count;
        filled = 0;
        const writing = (async () => {
          await writeAllAt(matrixFd, blocks[index], count * cols, bytes, at * cols * bytes);
          await writeAllAt(rowsFd, rowBlocks[index], count, 4, at * 4);
          written += count;
          options.onProgress?.(written);
        })();
        writing.catch(() => undefined); // a failure is raised where it is awaited; never left unhandled
        writes[index] = writing;
        current = 1 - current;
        const start = performance.now();
        const pending = writes[current];
        writes[current] = null;
        if (pending) await pending;
        stats.writeSeconds += (performance.now() - start) / 1000;
        block = blocks[current];
        rowBlock = rowBlocks[current];
      };
      let mark = performance.now();
      const result = await conn.stream(sql);
      if (result.columnCount !== cols + 1) throw new Error(`export query returned ${result.columnCount} columns, expected ${cols + 1}`);
      // The next chunk is requested before the current one is copied and written, so DuckDB computes it
      // (on a libuv thread) while this thread transposes and writes.
      const fetch = (): Promise<DuckDBDataChunk | null> => {
        const promise = result.fetchChunk();
        promise.catch(() => undefined); // a failure is raised where it is awaited; never left unhandled
        return promise;
      };
      next = fetch();
      for (;;) {
        const chunk = await next;
        stats.queryWaitSeconds += (performance.now() - mark) / 1000;
        if (chunk === null || chunk.rowCount === 0) break;
        next = fetch();
        mark = performance.now();
        const n = chunk.rowCount;
        const rowIds = vectorValues(chunk.getColumnVector(0), n, Int32Array);
        if (rowIds.nulls > 0) throw new Error('the cleaned relation has NULL in column "row"');
        if (n > capacity) {
          capacity = n;
          columns = Array.from({ length: cols }, () => new Float64Array(capacity));
        }
        for (let j = 0; j < cols; j++) standardiseVector(chunk.getColumnVector(j + 1), n, columns[j], means[j], stds[j], fills[j]);
        let offset = 0;
        while (offset < n) {
          const take = Math.min(n - offset, blockRows - filled);
          rowBlock.set(rowIds.values.subarray(offset, offset + take), filled);
          transposeInto(block, filled * cols, columns, offset, offset + take);
          filled += take;
          offset += take;
          if (filled === blockRows) {
            stats.copySeconds += (performance.now() - mark) / 1000;
            await flush();
            mark = performance.now();
          }
        }
        stats.copySeconds += (performance.now() - mark) / 1000;
        mark = performance.now();
      }
      await flush();
      const start = performance.now();
      for (const pending of writes) if (pending) await pending;
      stats.writeSeconds += (performance.now() - start) / 1000;
      if (written !== issued) throw new Error(`wrote ${written} of ${issued} rows`);
      return written;
    } finally {
      // Never leave a fetch running on the connection (the caller may reuse it right away), nor a write on a
      // file about to be closed.
      if (next !== null) await next.catch(() => null);
      for (const pending of writes) if (pending) await pending.catch(() => undefined);
      closeSync(matrixFd);
      closeSync(rowsFd);
    }
  };

  let rows: number;
  try {
    // A 64MB streaming buffer unless the caller chose one (here or on the instance).
    const soft: (keyof DuckDBSettings)[] = options.duckdb?.streamingBufferSize === undefined ? ['streamingBufferSize'] : [];
    rows = await withDuckDBSettings(conn, { streamingBufferSize: '64MB', ...options.duckdb }, run, { soft });
    renameSync(matrixTmp, matrixPath);
    renameSync(rowsTmp, rowsPath);
  } catch (error) {
    rmSync(matrixTmp, { force: true });
    rmSync(rowsTmp, { force: true });
    throw error;
  }
  stats.seconds = (performance.now() - started) / 1000;
  return { rows, cols, matrixPath, rowsPath, dtype, features: model.features.map((feature) => feature.name), stats };
}

/**
 * A matrix file pair (`<prefix>.matrix` + `<prefix>.rows`, as exportMatrix writes them) filled block by
 * block: two blocks, one filled while the other is written (on a libuv thread, at its own file offset).
 * Files appear atomically on finish (temp + rename); abort removes them.
 */
export class MatrixFileWriter {
  private readonly blocks: MatrixArray[];
  private readonly rowBlocks: Int32Array[];
  private readonly writes: (Promise<void> | null)[] = [null, null];
  private index = 0;
  private issued = 0;
  private written = 0;
  private closed = false;

  private constructor(
    private readonly matrixPath: string,
    private readonly rowsPath: string,
    private readonly suffix: string,
    private readonly matrixFd: number,
    private readonly rowsFd: number,
    private readonly bytes: number,
    private readonly cols: number,
    dtype: MatrixDtype,
    blockRows: number,
    private readonly onProgress?: (rowsWritten: number) => void,
  ) {
    const Ctor: TypedArrayCtor<MatrixArray> = dtype === 'float32' ? Float32Array : Float64Array;
    this.blocks = [new Ctor(blockRows * cols), new Ctor(blockRows * cols)];
    this.rowBlocks = [new Int32Array(blockRows), new Int32Array(blockRows)];
  }

  static async open(outPrefix: string, dtype: MatrixDtype, cols: number, blockRows: number, onProgress?: (rowsWritten: number) => void): Promise<MatrixFileWriter> {
    if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`dtype must be float32 or float64, got ${String(dtype)}`);
    const suffix = `.tmp-${process.pid}-${Date.now()}`;
    const matrixPath = `${outPrefix}.matrix`;
    const rowsPath = `${outPrefix}.rows`;
    const matrixFd = openSync(matrixPath + suffix, 'w');
    let rowsFd: number;
    try {
      rowsFd = openSync(rowsPath + suffix, 'w');
    } catch (error) {
      closeSync(matrixFd);
      rmSync(matrixPath + suffix, { force: true });
      throw error;
    }
    return new MatrixFileWriter(matrixPath, rowsPath, suffix, matrixFd, rowsFd, BYTES[dtype], cols, dtype, blockRows, onProgress);
  }

  /** The block to fill now (row-major, `cols` per row) and its row indices. */
  current(): { block: MatrixArray; rowBlock: Int32Array } {
    return { block: this.blocks[this.index], rowBlock: this.rowBlocks[this.index] };
  }

  /** Starts writing the current block's first `count` rows and waits until the other block is free. */
  async flush(count: number): Promise<void> {
    if (count === 0) return;
    const index = this.index;
    const at = this.issued;
    this.issued += count;
    const writing = (async () => {
      await writeAllAt(this.matrixFd, this.blocks[index], count * this.cols, this.bytes, at * this.cols * this.bytes);
      await writeAllAt(this.rowsFd, this.rowBlocks[index], count, 4, at * 4);
      this.written += count;
      this.onProgress?.(this.written);
    })();
    writing.catch(() => undefined); // raised where it is awaited; never left unhandled
    this.writes[index] = writing;
    this.index = 1 - index;
    const pending = this.writes[this.index];
    this.writes[this.index] = null;
    if (pending) await pending;
  }

  /** Waits for the writes, closes and publishes the files; the rows written. */
  async finish(): Promise<number> {
    for (const pending of this.writes) if (pending) await pending;
    this.close();
    if (this.written !== this.issued) throw new Error(`wrote ${this.written} of ${this.issued} rows`);
    renameSync(this.matrixPath + this.suffix, this.matrixPath);
    renameSync(this.rowsPath + this.suffix, this.rowsPath);
    return this.written;
  }

  /** Waits for any write in flight, closes and removes the temporary files. */
  async abort(): Promise<void> {
    for (const pending of this.writes) if (pending) await pending.catch(() => undefined);
    this.close();
    rmSync(this.matrixPath + this.suffix, { force: true });
    rmSync(this.rowsPath + this.suffix, { force: true });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.matrixFd);
    closeSync(this.rowsFd);
  }
}


/** Writes the first `count` elements of a typed array at byte `position` of the file, little-endian, in WRITE_PIECE_BYTES calls. */
async function writeAllAt(fd: number, array: MatrixArray | Int32Array, count: number, bytes: number, position: number): Promise<void> {
  let buffer = Buffer.from(array.buffer, array.byteOffset, count * bytes);
  if (!LITTLE_ENDIAN) {
    buffer = Buffer.from(buffer); // copy before swapping
    if (bytes === 8) buffer.swap64();
    else buffer.swap32();
  }
  let done = 0;
  while (done < buffer.length) {
    const { bytesWritten } = await writeAsync(fd, buffer, done, Math.min(WRITE_PIECE_BYTES, buffer.length - done), position + done);
    done += bytesWritten;
  }
}

export interface ReadMatrixOptions {
  /** Back the array with a SharedArrayBuffer (for worker threads). Default true. */
  shared?: boolean;
}

/** Reads a whole file of exactly `expectedBytes` into `target` (in 64 MiB pieces). */
export function readInto(path: string, target: Uint8Array, expectedBytes: number): void {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size !== expectedBytes) throw new Error(`${path} has ${size} bytes, expected ${expectedBytes}`);
    const piece = 64 * 1024 * 1024;
    let done = 0;
    while (done < expectedBytes) {
      const read = readSync(fd, target, done, Math.min(piece, expectedBytes - done), done);
      if (read === 0) throw new Error(`${path} ended after ${done} bytes, expected ${expectedBytes}`);
      done += read;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * readInto without blocking the event loop: 16 MiB reads on the thread pool, so a worker's heartbeats,
 * queries and other activities go on while a large matrix loads (a synchronous read of the 0.46 GB matrix
 * at full size holds the loop for its whole duration, longer on a busy disk).
 */
export async function readIntoAsync(path: string, target: Uint8Array, expectedBytes: number): Promise<void> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    if (size !== expectedBytes) throw new Error(`${path} has ${size} bytes, expected ${expectedBytes}`);
    const piece = 16 * 1024 * 1024;
    let done = 0;
    while (done < expectedBytes) {
      const { bytesRead } = await file.read(target, done, Math.min(piece, expectedBytes - done), done);
      if (bytesRead === 0) throw new Error(`${path} ended after ${done} bytes, expected ${expectedBytes}`);
      done += bytesRead;
    }
  } finally {
    await file.close();
  }
}

function matrixBuffer(rows: number, cols: number, dtype: MatrixDtype, options: ReadMatrixOptions): { buffer: ArrayBuffer | SharedArrayBuffer; total: number; bytes: number } {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) throw new Error(`bad matrix shape ${rows} x ${cols}`);
  const bytes = BYTES[dtype];
  if (bytes === undefined) throw new Error(`dtype must be float32 or float64, got ${String(dtype)}`);
  const total = rows * cols * bytes;
  return { buffer: options.shared === false ? new ArrayBuffer(total) : new SharedArrayBuffer(total), total, bytes };
}

/** readMatrix without blocking the event loop (see readIntoAsync). */
export async function readMatrixAsync(path: string, rows: number, cols: number, dtype: 'float32', options?: ReadMatrixOptions): Promise<Float32Array>;
export async function readMatrixAsync(path: string, rows: number, cols: number, dtype: 'float64', options?: ReadMatrixOptions): Promise<Float64Array>;
export async function readMatrixAsync(path: string, rows: number, cols: number, dtype: MatrixDtype, options: ReadMatrixOptions = {}): Promise<MatrixArray> {
  const { buffer, total, bytes } = matrixBuffer(rows, cols, dtype, options);
  await readIntoAsync(path, new Uint8Array(buffer), total);
  if (!LITTLE_ENDIAN) {
    const swap = Buffer.from(buffer);
    if (bytes === 8) swap.swap64();
    else swap.swap32();
  }
  return dtype === 'float32' ? new Float32Array(buffer) : new Float64Array(buffer);
}

/** Loads a matrix written by exportMatrix (rows x cols, row-major), by default into a SharedArrayBuffer. */
export function readMatrix(path: string, rows: number, cols: number, dtype: 'float32', options?: ReadMatrixOptions): Float32Array;
export function readMatrix(path: string, rows: number, cols: number, dtype: 'float64', options?: ReadMatrixOptions): Float64Array;
export function readMatrix(path: string, rows: number, cols: number, dtype: MatrixDtype, options?: ReadMatrixOptions): MatrixArray;
export function readMatrix(path: string, rows: number, cols: number, dtype: MatrixDtype, options: ReadMatrixOptions = {}): MatrixArray {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) throw new Error(`bad matrix shape ${rows} x ${cols}`);
  const bytes = BYTES[dtype];
  if (bytes === undefined) throw new Error(`dtype must be float32 or float64, got ${String(dtype)}`);
  const total = rows * cols * bytes;
  const buffer = options.shared === false ? new ArrayBuffer(total) : new SharedArrayBuffer(total);
  const view = new Uint8Array(buffer);
  readInto(path, view, total);
  if (!LITTLE_ENDIAN) {
    const swap = Buffer.from(buffer);
    if (bytes === 8) swap.swap64();
    else swap.swap32();
  }
  return dtype === 'float32' ? new Float32Array(buffer) : new Float64Array(buffer);
}

/** Loads a `.rows` file (Int32 0-based source row indices). */
export function readRowIndex(path: string, rows: number, options: ReadMatrixOptions = { shared: false }): Int32Array {
  const total = rows * 4;
  const buffer = options.shared ? new SharedArrayBuffer(total) : new ArrayBuffer(total);
  readInto(path, new Uint8Array(buffer), total);
  if (!LITTLE_ENDIAN) Buffer.from(buffer).swap32();
  return new Int32Array(buffer);
}
