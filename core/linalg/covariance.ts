/**
 * Column means and covariance of a row-major matrix, blocked, accumulated in Float64, mergeable.
 *
 * Numerics. The covariance is accumulated as co-moments about a fixed *centre* c (the exact column means in
 * the two-pass entry point, else the mean of the first block seen):
 *   s1 = Σ (x − c),   C = Σ (x − c)(x − c)ᵀ,   mean = c + s1 / n,   cov = (C − s1 s1ᵀ / n) / (n − 1).
 * With c equal (or close) to the mean, s1 ≈ 0 and this is the textbook two-pass formula, free of the
 * cancellation of the one-pass Σxxᵀ − n·m mᵀ. Accumulators with different centres merge exactly by re-centring.
 *
 * Speed. Rows are taken in blocks of `blockRows`; each block is centred and transposed to column-major
 * (columns padded to a multiple of 4) and only the upper triangle of Xᵀ X is formed with a 2 × 4 register
 * tile of dot products (≈ 1.5 s for 891k × 80 on one core of the reference machine). The same loop runs in the
 * SIMD kernel (core/wasm/linalg.ts, 4 × 4 tiles of two-lane float64), bit-identical, unless it is switched off.
 *
 * Determinism. `columnMeansAndCovariance` always cuts the rows into fixed chunks of CHUNK_ROWS, builds one
 * accumulator per chunk and merges them in chunk order, so the result is bit-identical whether the chunks are
 * processed in this thread or spread over any number of worker threads (core/parallel).
 */
import { covarianceRangeInKernel, pcaKernelEnabled } from '../wasm/linalg';
import { checkMatrix, checkNumericArray, NumericArray, throwIfAborted } from './types';

/** Rows per chunk: the unit of work (and of bit-exact reproducibility) for threads and resumption. */
export const COVARIANCE_CHUNK_ROWS = 65536;
/** Rows per cache block inside a chunk. */
export const DEFAULT_BLOCK_ROWS = 256;

export interface CovarianceResult {
  n: number;
  cols: number;
  mean: Float64Array;
  /** Full symmetric cols × cols matrix, divided by (n − 1). */
  covariance: Float64Array;
}

export interface CovarianceAccumulatorJSON {
  version: 1;
  cols: number;
  n: number;
  center: number[] | null;
  s1: number[];
  /** Upper triangle (including the diagonal) of C, row by row: (0,0), (0,1) … (0,cols−1), (1,1) … */
  c2: number[];
}

export class CovarianceAccumulator {
  readonly cols: number;
  /** Rows accumulated so far (the resume point of a sequential accumulation). */
  n = 0;
  private center: Float64Array | null;
  private readonly s1: Float64Array;
  /** cp × cp padded square; only entries (i, j) with i ≤ j < cols are meaningful. */
  private readonly c2: Float64Array;
  private readonly cp: number;
  private readonly blockRows: number;
  private tbuf: Float64Array | null = null;

  constructor(cols: number, opts: { center?: ArrayLike<number>; blockRows?: number } = {}) {
    if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`CovarianceAccumulator: bad cols ${cols}`);
    this.cols = cols;
    this.cp = Math.ceil(cols / 4) * 4;
    this.blockRows = opts.blockRows ?? DEFAULT_BLOCK_ROWS;
    if (!Number.isInteger(this.blockRows) || this.blockRows < 1) throw new RangeError('blockRows must be a positive integer');
    this.s1 = new Float64Array(cols);
    this.c2 = new Float64Array(this.cp * this.cp);
    if (opts.center) {
      if (opts.center.length !== cols) throw new RangeError(`center must have ${cols} elements`);
      this.center = Float64Array.from(opts.center);
    } else {
      this.center = null;
    }
  }

  /** The centre in use (null until the first non-empty block when none was given). */
  getCenter(): Float64Array | null {
    return this.center ? this.center.slice() : null;
  }

  /** Adds `rows` rows of a row-major block (default: the whole array). */
  add(block: NumericArray, rows: number = block.length / this.cols): this {
    checkNumericArray('CovarianceAccumulator.add', block);
    if (!Number.isInteger(rows) || rows < 0 || rows * this.cols > block.length) {
      throw new RangeError(`CovarianceAccumulator.add: bad row count ${rows} for ${block.length} elements`);
    }
    return this.addRange(block, 0, rows);
  }

  /** Adds rows [rowStart, rowEnd) of a row-major matrix with `this.cols` columns. */
  addRange(data: NumericArray, rowStart: number, rowEnd: number): this {
    const cols = this.cols;
    if (rowEnd <= rowStart) return this;
    if (rowEnd * cols > data.length) throw new RangeError('CovarianceAccumulator.addRange: range out of bounds');
    if (!this.center) {
      const c = columnSumsRange(data, cols, rowStart, rowEnd);
      const m = rowEnd - rowStart;
      for (let j = 0; j < cols; j++) c[j] /= m;
      this.center = c;
    }
    const B = this.blockRows;
    if (pcaKernelEnabled()) {
      // The same blocks and sums in the SIMD kernel (core/wasm/linalg.ts): bit-identical, faster.
      covarianceRangeInKernel(data, cols, this.cp, rowStart, rowEnd, B, this.center, this.s1, this.c2);
      this.n += rowEnd - rowStart;
      return this;
    }
    if (!this.tbuf) this.tbuf = new Float64Array(B * this.cp);
    for (let r0 = rowStart; r0 < rowEnd; r0 += B) {
      const nb = Math.min(B, rowEnd - r0);
      accumulateBlock(data, cols, this.cp, r0, nb, B, this.center, this.tbuf, this.s1, this.c2);
    }
    this.n += rowEnd - rowStart;
    return this;
  }

  /** Adds another accumulator's rows (exact up to rounding; re-centres `other` when centres differ). */
  merge(other: CovarianceAccumulator): this {
    if (other.cols !== this.cols) throw new RangeError('CovarianceAccumulator.merge: column counts differ');
    if (other.n === 0) return this;
    const cols = this.cols, cp = this.cp;
    if (!this.center) this.center = other.center!.slice();
    const oc = other.center!;
    let same = true;
    for (let j = 0; j < cols; j++) if (oc[j] !== this.center[j]) { same = false; break; }
    if (same) {
      for (let i = 0; i < cols; i++) {
        this.s1[i] += other.s1[i];
        for (let j = i; j < cols; j++) this.c2[i * cp + j] += other.c2[i * cp + j];
      }
    } else {
      // Σ(x−c')(x−c')ᵀ = C + s1 δᵀ + δ s1ᵀ + n δ δᵀ  with δ = c − c',  Σ(x−c') = s1 + n δ.
      const n = other.n;
      const delta = new Float64Array(cols);
      for (let j = 0; j < cols; j++) delta[j] = oc[j] - this.center[j];
      for (let i = 0; i < cols; i++) {
        const si = other.s1[i], di = delta[i];
        for (let j = i; j < cols; j++) {
          this.c2[i * cp + j] += other.c2[i * cp + j] + si * delta[j] + di * other.s1[j] + n * di * delta[j];
        }
      }
      for (let i = 0; i < cols; i++) this.s1[i] += other.s1[i] + n * delta[i];
    }
    this.n += other.n;
    return this;
  }

  /** Mean and covariance (n − 1 denominator) of everything added. Needs n ≥ 2. */
  result(): CovarianceResult {
    const n = this.n, cols = this.cols, cp = this.cp;
    if (n < 2 || !this.center) throw new RangeError(`CovarianceAccumulator.result: need at least 2 rows, have ${n}`);
    const mean = new Float64Array(cols);
    for (let j = 0; j < cols; j++) mean[j] = this.center[j] + this.s1[j] / n;
    const cov = new Float64Array(cols * cols);
    for (let i = 0; i < cols; i++) {
      const si = this.s1[i];
      for (let j = i; j < cols; j++) {
        const v = (this.c2[i * cp + j] - (si * this.s1[j]) / n) / (n - 1);
        cov[i * cols + j] = v;
        cov[j * cols + i] = v;
      }
    }
    return { n, cols, mean, covariance: cov };
  }

  toJSON(): CovarianceAccumulatorJSON {
    const cols = this.cols, cp = this.cp;
    const c2: number[] = [];
    for (let i = 0; i < cols; i++) for (let j = i; j < cols; j++) c2.push(this.c2[i * cp + j]);
    return { version: 1, cols, n: this.n, center: this.center ? Array.from(this.center) : null, s1: Array.from(this.s1), c2 };
  }

  static fromJSON(json: CovarianceAccumulatorJSON, opts: { blockRows?: number } = {}): CovarianceAccumulator {
    const { cols } = json;
    if (json.version !== 1) throw new RangeError(`CovarianceAccumulator.fromJSON: unsupported version ${String(json.version)}`);
    if (!Number.isInteger(cols) || cols < 1) throw new RangeError('CovarianceAccumulator.fromJSON: bad cols');
    if (!Number.isInteger(json.n) || json.n < 0) throw new RangeError('CovarianceAccumulator.fromJSON: bad n');
    if (json.s1.length !== cols || json.c2.length !== (cols * (cols + 1)) / 2 || (json.center && json.center.length !== cols)) {
      throw new RangeError('CovarianceAccumulator.fromJSON: inconsistent lengths');
    }
    if (json.n > 0 && !json.center) throw new RangeError('CovarianceAccumulator.fromJSON: rows without a centre');
    const acc = new CovarianceAccumulator(cols, { center: json.center ?? undefined, blockRows: opts.blockRows });
    acc.n = json.n;
    acc.s1.set(json.s1);
    let t = 0;
    for (let i = 0; i < cols; i++) for (let j = i; j < cols; j++) acc.c2[i * acc.cp + j] = json.c2[t++];
    return acc;
  }

  /** Binary form: Float64 [version, cols, n, hasCenter, center(cols), s1(cols), upper triangle of C]. */
  toArrayBuffer(): ArrayBuffer {
    const cols = this.cols, cp = this.cp;
    const out = new Float64Array(4 + 2 * cols + (cols * (cols + 1)) / 2);
    out[0] = 1;
    out[1] = cols;
    out[2] = this.n;
    out[3] = this.center ? 1 : 0;
    if (this.center) out.set(this.center, 4);
    out.set(this.s1, 4 + cols);
    let t = 4 + 2 * cols;
    for (let i = 0; i < cols; i++) for (let j = i; j < cols; j++) out[t++] = this.c2[i * cp + j];
    return out.buffer;
  }

  static fromArrayBuffer(buf: ArrayBuffer | SharedArrayBuffer, opts: { blockRows?: number } = {}): CovarianceAccumulator {
    const a = new Float64Array(buf);
    if (a.length < 4 || a[0] !== 1) throw new RangeError('CovarianceAccumulator.fromArrayBuffer: bad header');
    const cols = a[1];
    if (!Number.isInteger(cols) || cols < 1 || a.length !== 4 + 2 * cols + (cols * (cols + 1)) / 2) {
      throw new RangeError('CovarianceAccumulator.fromArrayBuffer: bad length');
    }
    const acc = new CovarianceAccumulator(cols, {
      center: a[3] === 1 ? a.subarray(4, 4 + cols) : undefined,
      blockRows: opts.blockRows,
    });
    acc.n = a[2];
    acc.s1.set(a.subarray(4 + cols, 4 + 2 * cols));
    let t = 4 + 2 * cols;
    for (let i = 0; i < cols; i++) for (let j = i; j < cols; j++) acc.c2[i * acc.cp + j] = a[t++];
    return acc;
  }
}

/** Σ over rows [rowStart, rowEnd) of each column, in row order, in Float64. */
export function columnSumsRange(data: NumericArray, cols: number, rowStart: number, rowEnd: number): Float64Array {
  const s = new Float64Array(cols);
  for (let r = rowStart; r < rowEnd; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) s[c] += data[o + c];
  }
  return s;
}

/** Number of fixed chunks `rows` is cut into. */
export function chunkCount(rows: number, chunkRows = COVARIANCE_CHUNK_ROWS): number {
  return Math.ceil(rows / chunkRows);
}

/** Rows [start, end) of fixed chunk `chunk`. */
export function chunkRows(rows: number, chunk: number): [number, number] {
  const start = chunk * COVARIANCE_CHUNK_ROWS;
  return [start, Math.min(rows, start + COVARIANCE_CHUNK_ROWS)];
}

/** Column sums of one fixed chunk (pass 1 work unit). */
export function chunkColumnSums(data: NumericArray, rows: number, cols: number, chunk: number): Float64Array {
  const start = chunk * COVARIANCE_CHUNK_ROWS;
  return columnSumsRange(data, cols, start, Math.min(rows, start + COVARIANCE_CHUNK_ROWS));
}

/** Pass 1 reduction: adds per-chunk sums in chunk order and divides by rows. */
export function meansFromChunkSums(chunkSums: readonly Float64Array[], rows: number, cols: number): Float64Array {
  const mean = new Float64Array(cols);
  for (const s of chunkSums) for (let c = 0; c < cols; c++) mean[c] += s[c];
  for (let c = 0; c < cols; c++) mean[c] /= rows;
  return mean;
}

/** Co-moment accumulator of one fixed chunk about `center` (pass 2 work unit). */
export function chunkAccumulator(
  data: NumericArray,
  rows: number,
  cols: number,
  chunk: number,
  center: ArrayLike<number>,
  blockRows = DEFAULT_BLOCK_ROWS,
): CovarianceAccumulator {
  const start = chunk * COVARIANCE_CHUNK_ROWS;
  return new CovarianceAccumulator(cols, { center, blockRows }).addRange(data, start, Math.min(rows, start + COVARIANCE_CHUNK_ROWS));
}

/** Column means (chunked, deterministic). */
export function columnMeans(data: NumericArray, rows: number, cols: number): Float64Array {
  checkNumericArray('columnMeans', data);
  checkMatrix('columnMeans', data, rows, cols);
  if (rows < 1) throw new RangeError('columnMeans: no rows');
  const sums: Float64Array[] = [];
  for (let ch = 0; ch < chunkCount(rows); ch++) sums.push(chunkColumnSums(data, rows, cols, ch));
  return meansFromChunkSums(sums, rows, cols);
}

export interface CovarianceOptions {
  /** Rows per cache block (default 256). Does not change the result beyond rounding of the blocks' order. */
  blockRows?: number;
  /** Precomputed column means (skips pass 1). */
  mean?: ArrayLike<number>;
  /** Called after each chunk with the number of rows done in pass 2. */
  onProgress?: (rowsDone: number, rows: number) => void;
  signal?: AbortSignal;
}

/**
 * Blocked two-pass mean and covariance: pass 1 column means, pass 2 co-moments centred on those means,
 * accumulated per fixed chunk and merged in chunk order. Divides by n − 1.
 */
export function columnMeansAndCovariance(data: NumericArray, rows: number, cols: number, opts: CovarianceOptions = {}): CovarianceResult {
  checkNumericArray('columnMeansAndCovariance', data);
  checkMatrix('columnMeansAndCovariance', data, rows, cols);
  if (rows < 2) throw new RangeError(`columnMeansAndCovariance: need at least 2 rows, have ${rows}`);
  const mean = opts.mean ? Float64Array.from(opts.mean) : columnMeans(data, rows, cols);
  if (mean.length !== cols) throw new RangeError(`columnMeansAndCovariance: mean must have ${cols} elements`);
  const total = new CovarianceAccumulator(cols, { center: mean });
  const chunks = chunkCount(rows);
  for (let ch = 0; ch < chunks; ch++) {
    throwIfAborted(opts.signal);
    total.merge(chunkAccumulator(data, rows, cols, ch, mean, opts.blockRows));
    opts.onProgress?.(Math.min(rows, (ch + 1) * COVARIANCE_CHUNK_ROWS), rows);
  }
  return total.result();
}

/**
 * Centres nb rows starting at r0 on `center`, transposes them into t (column-major, stride B), adds the
 * centred values to s1 and the upper triangle of the block's Xᵀ X to the padded cp × cp matrix c2.
 * Columns cols..cp−1 of t are never written and stay zero.
 */
function accumulateBlock(
  data: NumericArray,
  cols: number,
  cp: number,
  r0: number,
  nb: number,
  B: number,
  center: Float64Array,
  t: Float64Array,
  s1: Float64Array,
  c2: Float64Array,
): void {
  for (let r = 0; r < nb; r++) {
    const o = (r0 + r) * cols;
    for (let c = 0; c < cols; c++) {
      const v = data[o + c] - center[c];
      t[c * B + r] = v;
      s1[c] += v;
    }
  }
  for (let i = 0; i < cp; i += 2) {
    const p0 = i * B, p1 = p0 + B;
    for (let j = i & ~3; j < cp; j += 4) {
      const q0 = j * B, q1 = q0 + B, q2 = q1 + B, q3 = q2 + B;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let r = 0; r < nb; r++) {
        const x0 = t[p0 + r], x1 = t[p1 + r];
        const y0 = t[q0 + r], y1 = t[q1 + r], y2 = t[q2 + r], y3 = t[q3 + r];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
      }
      const a0 = i * cp + j, a1 = a0 + cp;
      c2[a0] += s00; c2[a0 + 1] += s01; c2[a0 + 2] += s02; c2[a0 + 3] += s03;
      c2[a1] += s10; c2[a1 + 1] += s11; c2[a1 + 2] += s12; c2[a1 + 3] += s13;
    }
  }
}
