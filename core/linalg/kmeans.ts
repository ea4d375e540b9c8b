/**
 * k-means: seeded initial centroids (k-means++ and k-means on a row sample, see KMeansOptions.initSample), then
 * Elkan's bound-based algorithm (Hamerly's where Elkan's bounds would not fit), which returns exactly what plain
 * Lloyd returns from the same initial centroids (same assignments, same centroids bit for bit, same iteration
 * count) — `algorithm: 'lloyd'` runs the plain reference for tests and benchmarks. The assignment step runs in
 * the WebAssembly kernel (core/wasm); this module drives it.
 *
 * One iteration t:
 *   1. assignment: every row goes to its nearest centroid of C_t (lowest index on exact ties);
 *   2. empty clusters (if any): for each empty cluster, in index order, the row farthest from its centroid
 *      (lowest row index on ties, taken only from clusters with ≥ 2 rows) is moved into it;
 *   3. update: C_{t+1} = member means; SSE_t = Σ‖x − C_{t+1}[a(x)]‖² (the SSE of the new means, which is
 *      non-increasing in t);
 *   4. stop when the centroids did not move (in particular when no assignment changed), or
 *      (SSE_{t−1} − SSE_t) / SSE_{t−1} < relativeTolerance, or t = maxIterations.
 * After the loop a final assignment step makes the returned assignments the nearest-centroid labels of the
 * returned centroids, and `sse` is computed exactly from them (Σ of squared distances).
 *
 * Exactness of Elkan / Hamerly vs Lloyd: distances are always the canonical squared distance (see dist2),
 * partial-distance early exit only skips candidates that cannot win, bounds are compared with a safety margin
 * of 1e-9 × max‖x‖ (and Elkan's float32 bounds are rounded down) so round-off in the bounds can never prune a
 * row Lloyd would move, and the cluster sums are exact fixed-point integers (see "Chunk kernel" below), so
 * incremental updates, Lloyd's full recomputation, a resumed run and any split of the rows over threads all
 * give the same centroids bit for bit. Rows are processed in chunks of KMEANS_CHUNK_ROWS (the unit of work of the helper
 * threads in core/parallel); the final SSE is summed per chunk, in chunk order.
 *
 * Resumption: `onIteration` receives a JSON-serialisable checkpoint after every iteration; passing it back as
 * `resumeFrom` continues exactly as if the run had not been interrupted (same final result and iteration count).
 */
import { cachedColumnStats, DESC, kernelFor, matrixView, toWasmMatrix, WasmArena, WasmMatrix } from '../wasm/kernel';
import { CONFIG_DEFAULTS } from '../../schemas/config-defaults';
import { deriveSeed, Prng, sampleIndices } from './prng';
import { checkMatrix, checkNumericArray, NumericArray, throwIfAborted } from './types';

export const KMEANS_CHUNK_ROWS = 16384;
export type KMeansAlgorithm = 'elkan' | 'hamerly' | 'lloyd';
/** Elkan's bounds (rows × k float32) above this size fall back to Hamerly's (one per row). */
export const ELKAN_MAX_BOUND_BYTES = 512 * 1024 * 1024;
/** Rows k-means++ draws from by default (see KMeansOptions.initSample; the config's default, config initSample). */
export const DEFAULT_INIT_SAMPLE: number = CONFIG_DEFAULTS.initSample;
/** Relative safety margin applied to Hamerly's bounds (× max row norm). */
export const BOUND_MARGIN = 1e-9;

export interface KMeansCheckpoint {
  k: number;
  dims: number;
  /** Iterations completed. */
  iteration: number;
  /** SSE of `centroids` with the assignment of this iteration (step 3 above). */
  sse: number;
  /** Centroids after this iteration's update (k × dims, row-major). */
  centroids: number[];
  /** Rows whose assignment changed in this iteration. */
  changed: number;
  /** Largest centroid move in this iteration. */
  maxShift: number;
  converged: boolean;
}
export type KMeansIterationState = KMeansCheckpoint;

export interface KMeansOptions {
  k: number;
  /** Seed of the k-means++ initialisation (default 0). */
  seed?: number;
  /** Default 300. */
  maxIterations?: number;
  /** Stop when (SSE_prev − SSE) / SSE_prev < relativeTolerance. Default 1e-4. 0 = run to a fixed point. */
  relativeTolerance?: number;
  /** k × dims starting centroids (skips k-means++). */
  initialCentroids?: ArrayLike<number>;
  /** Continue a run from a checkpoint given to onIteration (takes precedence over initialCentroids). */
  resumeFrom?: KMeansCheckpoint;
  /** Called after every iteration; return `false` to stop early (result then has converged = false). */
  onIteration?: (state: KMeansIterationState) => void | boolean;
  signal?: AbortSignal;
  /**
   * 'elkan' (default: one lower bound per row and centroid, the most pruning in many dimensions; falls back to
   * 'hamerly' when those bounds would exceed ELKAN_MAX_BOUND_BYTES), 'hamerly' (one lower bound per row), or
   * the plain 'lloyd' reference. All three return the same result.
   */
  algorithm?: KMeansAlgorithm;
  /**
   * Rows of the seeded uniform sample the initial centroids come from (default DEFAULT_INIT_SAMPLE): k-means++
   * on the sample, then k-means on the sample from there (same tolerance and iteration cap), and the full data
   * start from the sample's centroids. With no more rows than this, plain k-means++ on all rows.
   * Why: each greedy k-means++ step costs a pass over the rows it draws from, and the first iterations after
   * k-means++ move the centroids far, so that the bounds prune nothing and every row is rescanned. Measured
   * at full size (798,073 × 87, k = 5, 10, 15, 20, two seeds each): the full data then needed 2–5 iterations
   * instead of 6–19, the whole fit took 35–55 % of the time, and the final SSE was equal or lower in all eight.
   */
  initSample?: number;
  /**
   * Candidate starts (default 1): the init runs k-means++ and k-means on the init sample this many times (seeds
   * derived from `seed`; candidate 0 is the plain init) and the full data start from the candidate with the lowest
   * sample SSE — "the best of several sample fits carried to the full data", cheap next to full-data starts. With
   * no more rows than the sample, each candidate is k-means++ plus k-means on all rows.
   */
  initCandidates?: number;
}

export interface KMeansResult {
  k: number;
  dims: number;
  centroids: Float64Array;
  assignments: Int32Array;
  /** Σ over rows of the squared distance to the assigned (= nearest) returned centroid. */
  sse: number;
  iterations: number;
  converged: boolean;
  /** Rows per cluster. */
  counts: Int32Array;
  /** Number of empty-cluster re-seeds performed. */
  reseeds: number;
}

// ---------------------------------------------------------------------------------------------------------
// Distance kernels. The canonical squared distance is the WebAssembly kernel's (core/wasm): dimensions in
// blocks of four, lanes (d, d+1) and (d+2, d+3) summed separately, s = (l0 + l1) + (h0 + h1), then the 0–3
// remaining dimensions in order. dist2 here computes exactly that, so labels assigned in JS (assignNearest)
// and in the kernel agree bit for bit.
// ---------------------------------------------------------------------------------------------------------

/** ‖x − C[j]‖² (canonical order) with x a Float64Array row buffer and co = j · dims. */
export function dist2(x: Float64Array, C: Float64Array, co: number, dims: number): number {
  return dist2Bounded(x, C, co, dims, Infinity);
}

/**
 * dist2, abandoned once a partial sum (checked every 8 dimensions) exceeds `limit`; then the returned value is
 * some number > limit. Exact (= dist2) whenever it is ≤ limit: the checks only read the accumulators.
 */
function dist2Bounded(x: Float64Array, C: Float64Array, co: number, dims: number, limit: number): number {
  let l0 = 0, l1 = 0, h0 = 0, h1 = 0;
  const d4 = dims - (dims & 3);
  let d = 0;
  for (; d < d4; d += 4) {
    const t0 = x[d] - C[co + d], t1 = x[d + 1] - C[co + d + 1], t2 = x[d + 2] - C[co + d + 2], t3 = x[d + 3] - C[co + d + 3];
    l0 += t0 * t0;
    l1 += t1 * t1;
    h0 += t2 * t2;
    h1 += t3 * t3;
    if ((d & 4) !== 0 && d + 4 < dims) {
      const partial = (l0 + l1) + (h0 + h1);
      if (partial > limit) return partial;
    }
  }
  let s = (l0 + l1) + (h0 + h1);
  for (; d < dims; d++) {
    const t = x[d] - C[co + d];
    s += t * t;
  }
  return s;
}

function loadRow(data: NumericArray, o: number, dims: number, x: Float64Array): void {
  for (let d = 0; d < dims; d++) x[d] = data[o + d];
}

/** Scratch result of the scans: [bestIndex, bestD2, secondD2]. */
type ScanOut = Float64Array;

/** Nearest centroid only (lowest index on ties), early exit against the best so far. */
function scanNearest(x: Float64Array, C: Float64Array, k: number, dims: number, out: ScanOut): void {
  let best = -1, bestD = Infinity;
  for (let j = 0; j < k; j++) {
    const dj = dist2Bounded(x, C, j * dims, dims, bestD);
    if (dj < bestD) {
      bestD = dj;
      best = j;
    }
  }
  out[0] = best;
  out[1] = bestD;
}

// ---------------------------------------------------------------------------------------------------------
// assignNearest
// ---------------------------------------------------------------------------------------------------------

/** Nearest centroid (lowest index on ties) and squared distance for rows [rowStart, rowEnd). */
export function assignNearestRange(
  data: NumericArray,
  dims: number,
  centroids: Float64Array,
  k: number,
  rowStart: number,
  rowEnd: number,
  assignments: Int32Array,
  distances: Float64Array,
): void {
  const x = new Float64Array(dims);
  const out = new Float64Array(3);
  for (let i = rowStart; i < rowEnd; i++) {
    loadRow(data, i * dims, dims, x);
    scanNearest(x, centroids, k, dims, out);
    assignments[i] = out[0];
    distances[i] = out[1];
  }
}

/** Nearest centroid of every row and its squared distance. */
export function assignNearest(
  data: NumericArray,
  rows: number,
  dims: number,
  centroids: ArrayLike<number>,
  k: number,
  out?: { assignments?: Int32Array; distances?: Float64Array },
): { assignments: Int32Array; distances: Float64Array } {
  checkNumericArray('assignNearest', data);
  checkMatrix('assignNearest', data, rows, dims);
  checkMatrix('assignNearest centroids', centroids, k, dims);
  const C = centroids instanceof Float64Array ? centroids : Float64Array.from(centroids);
  const assignments = out?.assignments ?? new Int32Array(rows);
  const distances = out?.distances ?? new Float64Array(rows);
  if (assignments.length !== rows || distances.length !== rows) throw new RangeError('assignNearest: output arrays must have one entry per row');
  assignNearestRange(data, dims, C, k, 0, rows, assignments, distances);
  return { assignments, distances };
}

// ---------------------------------------------------------------------------------------------------------
// k-means++ (greedy, as in scikit-learn: 2 + ⌊ln k⌋ candidates per step, keep the one with lowest potential)
// ---------------------------------------------------------------------------------------------------------

/**
 * Greedy k-means++: the first centre is a uniformly drawn row; each further centre is the best (lowest
 * resulting potential Σ min D²) of `localTrials` rows drawn with probability ∝ D² (D = distance to the
 * nearest centre so far). Deterministic for a seed.
 */
export function kmeansPlusPlus(
  data: NumericArray,
  rows: number,
  dims: number,
  k: number,
  seed: number,
  opts: { localTrials?: number; signal?: AbortSignal; wasm?: { arena: WasmArena; matrix: WasmMatrix } } = {},
): Float64Array {
  checkNumericArray('kmeansPlusPlus', data);
  checkMatrix('kmeansPlusPlus', data, rows, dims);
  if (!Number.isInteger(k) || k < 1 || k > rows) throw new RangeError(`kmeansPlusPlus: k must be in [1, ${rows}], got ${k}`);
  const trials = opts.localTrials ?? 2 + Math.floor(Math.log(k));
  if (!Number.isInteger(trials) || trials < 1) throw new RangeError('kmeansPlusPlus: localTrials must be a positive integer');
  // The distance loops run in the WebAssembly kernel: on the rows where they are (opts.wasm), or on a copy.
  const work = (rows + trials * rows + trials * dims + trials) * 8 + 4 * 65536;
  const { arena, matrix } = opts.wasm ?? toWasmMatrix(data, rows, dims, work);
  const kernel = kernelFor(arena.memory);
  const isF32 = matrix.dtype === 'float32' ? 1 : 0;
  const scratch = arena.alloc(work);
  const buffer = arena.memory.buffer;
  const closestAt = scratch, candAt = closestAt + rows * 8;
  const candCAt = candAt + trials * rows * 8, potAt = candCAt + trials * dims * 8;
  try {
    return seedCentres();
  } finally {
    arena.free(scratch);
  }

  function seedCentres(): Float64Array {
    const closest = new Float64Array(buffer, closestAt, rows);
    const cand = new Float64Array(buffer, candAt, trials * rows);
    const candC = new Float64Array(buffer, candCAt, trials * dims);
    const newPot = new Float64Array(buffer, potAt, trials);
    const rng = new Prng(seed);
    const centers = new Float64Array(k * dims);
    const x = new Float64Array(dims);
    const cum = new Float64Array(rows);

    const first = rng.nextInt(rows);
    loadRow(data, first * dims, dims, x);
    centers.set(x, 0);
    candC.set(x, 0);
    closest.fill(Infinity);
    kernel.seedTrials(matrix.offset, isF32, rows, dims, candCAt, 1, closestAt, closestAt, potAt);

    for (let c = 1; c < k; c++) {
      throwIfAborted(opts.signal);
      let pot = 0;
      for (let i = 0; i < rows; i++) {
        pot += closest[i];
        cum[i] = pot;
      }
      for (let t = 0; t < trials; t++) {
        let idx: number;
        if (!(pot > 0)) {
          idx = rng.nextInt(rows);
        } else {
          const r = rng.nextFloat() * pot;
          let lo = 0, hi = rows - 1; // first i with cum[i] > r
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if (cum[mid] > r) hi = mid;
            else lo = mid + 1;
          }
          idx = lo;
          while (idx > 0 && closest[idx] === 0) idx--; // r rounded onto the very end: step back to a positive weight
        }
        loadRow(data, idx * dims, dims, x);
        candC.set(x, t * dims);
      }
      kernel.seedTrials(matrix.offset, isF32, rows, dims, candCAt, trials, closestAt, candAt, potAt);
      let bt = 0;
      for (let t = 1; t < trials; t++) if (newPot[t] < newPot[bt]) bt = t;
      centers.set(candC.subarray(bt * dims, (bt + 1) * dims), c * dims);
      closest.set(cand.subarray(bt * rows, (bt + 1) * rows));
    }
    return centers;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Chunk kernel (the unit of work; helper threads run it on shared buffers)
// ---------------------------------------------------------------------------------------------------------
//
// Cluster sums are kept in exact fixed point: each value v = x_d − origin_d is rounded to the grid
// unit_d = 2^(e_d − 40) (2^e_d ≥ max|x_d − origin_d|) and the integer is split into hi·2^20 + lo with |hi| ≤ 2^20,
// |lo| ≤ 2^19, so sums of up to 2^32 rows are exact in Float64. Exact sums do not depend on the order rows are added or
// removed: Hamerly updates them incrementally (only moved rows), Lloyd recomputes them every iteration, a
// resumed run recomputes them once, threads add their partial sums in any order — and all get bit-identical
// centroids. The grid error is ≤ 2^-40 · max|x_d − origin_d| per value (≈ 1e-12 of the column's spread),
// far below anything that matters for clustering. The squared norms ‖x − origin‖² (for the SSE) are kept the same way.

export const MODE_FULL = 0; // scan every row (fresh bounds), sums from scratch
export const MODE_HAMERLY = 1; // bound-based assignment, incremental sums
export const MODE_LLOYD = 2; // plain scan of every row, sums from scratch
export const MODE_ELKAN_FULL = 3; // scan every row, fresh per-centroid bounds, sums from scratch
export const MODE_ELKAN = 4; // per-centroid bound-based assignment, incremental sums
export const FLAG_FINAL = 8; // no sums; accumulate the exact SSE of the assignment per chunk

/** Indices into KMeansBuffers.params. */
export const P_MODE = 0, P_MARGIN = 1, P_MAXSHIFT_IDX = 2, P_MAXSHIFT1 = 3, P_MAXSHIFT2 = 4, P_INV_UNIT_W = 5, P_LENGTH = 6;

const TWO20 = 1048576;
const INV_TWO20 = 1 / 1048576;
const GRID_BITS = 40;

/**
 * The state of one run, every array a view on the kernel's shared WebAssembly memory (one block of the arena),
 * so helper threads and the kernel work on it in place. `desc` is the byte offset of the descriptor table the
 * kernel reads the array offsets from.
 */
export interface KMeansBuffers {
  memory: WebAssembly.Memory;
  /** Byte offset of the block holding every array below (freed with the arena when the run ends). */
  block: number;
  desc: number;
  /** Byte offset of prepare()'s scratch (4 × dims float64). */
  stats: number;
  /** The data's column-statistics cache (WasmMatrix.statsCache), when it has one. */
  statsCache?: number;
  data: NumericArray;
  rows: number;
  dims: number;
  k: number;
  chunks: number;
  /** Number of accumulator slots (one per thread). */
  slots: number;
  centroids: Float64Array;
  /** Origin of the sums (column means): keeps the sums of squares well-conditioned. */
  origin: Float64Array;
  /** 1 / unit_d (powers of two). */
  invUnit: Float64Array;
  assign: Int32Array;
  upper: Float64Array;
  lower: Float64Array;
  half: Float64Array;
  shift: Float64Array;
  /**
   * Elkan only (else empty): per row and centroid, a lower bound on their distance, stored as
   * f32down(distance + cumShift[j] at the time) — the valid bound now is the stored value − cumShift[j], so a
   * bound never needs rewriting when centroids move (the classic lazy form). float32 halves the memory; values
   * are rounded down, so they stay lower bounds.
   */
  bounds: Float32Array;
  /** Elkan: ½ ‖C_a − C_j‖ for every pair (k × k). */
  halfCC: Float64Array;
  /** Elkan: Σ over iterations of each centroid's moves. */
  cumShift: Float64Array;
  params: Float64Array;
  /** Per slot: k × dims hi and lo parts of the (delta) sums, k hi/lo parts of Σ‖x − origin‖², k counts. */
  slotHi: Float64Array;
  slotLo: Float64Array;
  slotQHi: Float64Array;
  slotQLo: Float64Array;
  slotCount: Float64Array;
  slotChanged: Float64Array;
  /** Exact SSE of each chunk in a final step. */
  partSse: Float64Array;
}

/** Byte length of a layout's arrays, each aligned to 16 bytes (the kernel's vector loads). */
const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/**
 * Where a run's arrays go in its block: after the descriptor and prepare()'s scratch (sums, chunk sums, minima,
 * maxima: 4 × dims float64), each array 16-byte aligned.
 */
function kmeansLayout(rows: number, dims: number, k: number, slots: number, elkan: boolean) {
  const chunks = Math.max(1, Math.ceil(rows / KMEANS_CHUNK_ROWS));
  const f64 = 8, f32 = 4, i32 = 4;
  const sizes: [keyof typeof DESC, number][] = [
    ['CENTROIDS', k * dims * f64], ['ORIGIN', dims * f64], ['INV_UNIT', dims * f64], ['ASSIGN', rows * i32],
    ['UPPER', rows * f64], ['LOWER', elkan ? 0 : rows * f64], ['HALF', k * f64], ['SHIFT', k * f64],
    ['BOUNDS', elkan ? rows * k * f32 : 0], ['HALF_CC', elkan ? k * k * f64 : 0], ['CUM_SHIFT', k * f64], ['PARAMS', P_LENGTH * f64],
    ['SLOT_HI', slots * k * dims * f64], ['SLOT_LO', slots * k * dims * f64], ['SLOT_QHI', slots * k * f64], ['SLOT_QLO', slots * k * f64],
    ['SLOT_COUNT', slots * k * f64], ['SLOT_CHANGED', slots * f64], ['PART_SSE', chunks * f64],
  ];
  const statsAt = align16(DESC.LENGTH * 4);
  const offsets = {} as Record<keyof typeof DESC, number>;
  let at = statsAt + align16(4 * dims * f64);
  for (const [name, n] of sizes) {
    offsets[name] = at;
    at += align16(n);
  }
  return { chunks, statsAt, offsets, bytes: at };
}

/**
 * Allocates a run's buffers in one block of `arena` (whose memory holds `matrix`, the data) and writes the
 * kernel's descriptor. Free with arena.free(buffers.block).
 */
export function allocKMeansBuffers(arena: WasmArena, matrix: WasmMatrix, k: number, slots = 1, elkan = false): KMeansBuffers {
  const { rows, dims } = matrix;
  const layout = kmeansLayout(rows, dims, k, slots, elkan);
  const { chunks } = layout;
  const block = arena.alloc(layout.bytes);
  const buffer = arena.memory.buffer;
  const offsets = {} as Record<keyof typeof DESC, number>;
  for (const [name, at] of Object.entries(layout.offsets) as [keyof typeof DESC, number][]) offsets[name] = block + at;
  const stats = block + layout.statsAt;
  const desc = new Uint32Array(buffer, block, DESC.LENGTH);
  desc.fill(0);
  desc[DESC.DATA] = matrix.offset;
  desc[DESC.F32] = matrix.dtype === 'float32' ? 1 : 0;
  desc[DESC.ROWS] = rows;
  desc[DESC.DIMS] = dims;
  desc[DESC.K] = k;
  desc[DESC.CHUNK_ROWS] = KMEANS_CHUNK_ROWS;
  for (const name of Object.keys(offsets) as (keyof typeof DESC)[]) desc[DESC[name]] = offsets[name];
  const view64 = (name: keyof typeof DESC, n: number) => new Float64Array(buffer, offsets[name], n).fill(0);
  return {
    memory: arena.memory, block, desc: block, stats, statsCache: matrix.statsCache,
    data: matrixView(matrix), rows, dims, k, chunks, slots,
    centroids: view64('CENTROIDS', k * dims),
    origin: view64('ORIGIN', dims),
    invUnit: view64('INV_UNIT', dims),
    assign: new Int32Array(buffer, offsets.ASSIGN, rows).fill(0),
    upper: view64('UPPER', rows),
    lower: view64('LOWER', elkan ? 0 : rows),
    half: view64('HALF', k),
    shift: view64('SHIFT', k),
    bounds: new Float32Array(buffer, offsets.BOUNDS, elkan ? rows * k : 0),
    halfCC: view64('HALF_CC', elkan ? k * k : 0),
    cumShift: view64('CUM_SHIFT', k),
    params: view64('PARAMS', P_LENGTH),
    slotHi: view64('SLOT_HI', slots * k * dims),
    slotLo: view64('SLOT_LO', slots * k * dims),
    slotQHi: view64('SLOT_QHI', slots * k),
    slotQLo: view64('SLOT_QLO', slots * k),
    slotCount: view64('SLOT_COUNT', slots * k),
    slotChanged: view64('SLOT_CHANGED', slots),
    partSse: view64('PART_SSE', chunks),
  };
}

/**
 * Round to nearest (ties to even) for |v| < 2^51: adding and subtracting 1.5 · 2^52 leaves no fraction bits.
 * Several times faster than Math.round / Math.floor in the hot loop, and exactly reproducible.
 */
const ROUNDER = 6755399441055744;

/**
 * Adds the row at offset o to cluster `to` and removes it from cluster `from` (−1 = none) in the fixed-point
 * accumulators of `slot`. A value v is stored as the integer q = round(v / unit) = hi · 2^20 + lo with
 * hi = round(q / 2^20), so |hi| ≤ 2^20 and |lo| ≤ 2^19.
 */
function moveRow(
  b: KMeansBuffers,
  o: number,
  from: number,
  to: number,
  hiArr: Float64Array,
  loArr: Float64Array,
  qhiArr: Float64Array,
  qloArr: Float64Array,
  cntArr: Float64Array,
  slot: number,
): void {
  const { data, dims, k, origin, invUnit } = b;
  const toBase = (slot * k + to) * dims;
  const fromBase = (slot * k + from) * dims;
  // ‖x − origin‖² in the canonical order (as the WebAssembly kernel sums it)
  let w0 = 0, w1 = 0, w2 = 0, w3 = 0;
  const d4 = dims - (dims & 3);
  for (let d = 0; d < d4; d += 4) {
    const v0 = data[o + d] - origin[d], v1 = data[o + d + 1] - origin[d + 1];
    const v2 = data[o + d + 2] - origin[d + 2], v3 = data[o + d + 3] - origin[d + 3];
    w0 += v0 * v0;
    w1 += v1 * v1;
    w2 += v2 * v2;
    w3 += v3 * v3;
  }
  let w = (w0 + w1) + (w2 + w3);
  for (let d = d4; d < dims; d++) {
    const v = data[o + d] - origin[d];
    w += v * v;
  }
  for (let d = 0; d < dims; d++) {
    const v = data[o + d] - origin[d];
    const qq = v * invUnit[d] + ROUNDER - ROUNDER;
    const hi = qq * INV_TWO20 + ROUNDER - ROUNDER;
    const lo = qq - hi * TWO20;
    hiArr[toBase + d] += hi;
    loArr[toBase + d] += lo;
    if (from >= 0) {
      hiArr[fromBase + d] -= hi;
      loArr[fromBase + d] -= lo;
    }
  }
  const qw = w * b.params[P_INV_UNIT_W] + ROUNDER - ROUNDER;
  const whi = qw * INV_TWO20 + ROUNDER - ROUNDER;
  const wlo = qw - whi * TWO20;
  qhiArr[slot * k + to] += whi;
  qloArr[slot * k + to] += wlo;
  cntArr[slot * k + to] += 1;
  if (from >= 0) {
    qhiArr[slot * k + from] -= whi;
    qloArr[slot * k + from] -= wlo;
    cntArr[slot * k + from] -= 1;
  }
}

/** Zeroes the accumulators of one slot (before a step). */
export function clearSlot(b: KMeansBuffers, slot: number): void {
  const kd = b.k * b.dims;
  b.slotHi.fill(0, slot * kd, (slot + 1) * kd);
  b.slotLo.fill(0, slot * kd, (slot + 1) * kd);
  b.slotQHi.fill(0, slot * b.k, (slot + 1) * b.k);
  b.slotQLo.fill(0, slot * b.k, (slot + 1) * b.k);
  b.slotCount.fill(0, slot * b.k, (slot + 1) * b.k);
  b.slotChanged[slot] = 0;
}

/** Runs the step given by params[P_MODE] on one chunk of rows, accumulating into `slot` (in the WebAssembly kernel). */
export function processChunk(b: KMeansBuffers, chunk: number, slot = 0): void {
  kernelFor(b.memory).processChunk(b.desc, chunk, slot);
}

// ---------------------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------------------

/**
 * Runs every chunk of the current step (slots already cleared). The default runs them in this thread, all
 * into slot 0; core/parallel provides a runner that spreads chunks over helper threads.
 */
export type ChunkRunner = (b: KMeansBuffers) => void;
export const runChunksInline: ChunkRunner = (b) => {
  for (let c = 0; c < b.chunks; c++) processChunk(b, c, 0);
};

export interface KMeansDriverHooks {
  /**
   * Where `data` lives: a matrix in `arena`'s memory (no copy). Without it the data are copied into a fresh
   * arena for the run.
   */
  wasm?: { arena: WasmArena; matrix: WasmMatrix };
  /** Accumulator slots (one per thread of runChunks). */
  slots?: number;
  runChunks?: ChunkRunner;
}

function validate(data: NumericArray, rows: number, dims: number, opts: KMeansOptions): void {
  checkNumericArray('kmeans', data);
  checkMatrix('kmeans', data, rows, dims);
  const { k } = opts;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`kmeans: k must be a positive integer, got ${k}`);
  if (k > rows) throw new RangeError(`kmeans: k=${k} exceeds the number of rows (${rows})`);
  const maxIt = opts.maxIterations ?? 300;
  if (!Number.isInteger(maxIt) || maxIt < 0) throw new RangeError(`kmeans: maxIterations must be a non-negative integer`);
  const tol = opts.relativeTolerance ?? 1e-4;
  if (!(tol >= 0)) throw new RangeError(`kmeans: relativeTolerance must be ≥ 0`);
  if (opts.resumeFrom) {
    const r = opts.resumeFrom;
    if (r.k !== k || r.dims !== dims || r.centroids.length !== k * dims) throw new RangeError('kmeans: resumeFrom does not match k × dims');
  } else if (opts.initialCentroids && opts.initialCentroids.length !== k * dims) {
    throw new RangeError(`kmeans: initialCentroids must have k × dims = ${k * dims} elements`);
  }
}

/** 2^(40 − e) for the smallest power of two 2^e ≥ bound (capped at 2^1023; 1 when bound is 0). */
function gridScale(bound: number): number {
  if (!(bound > 0)) return 1;
  let e = Math.ceil(Math.log2(bound));
  if (2 ** e < bound) e++;
  return 2 ** Math.min(1023, GRID_BITS - e);
}

/**
 * One pass over the data (chunk sums in chunk order: deterministic): the origin (column means), the
 * fixed-point grid of each column from its largest deviation from the origin, and the bound margin.
 */
function prepare(b: KMeansBuffers): void {
  const { data, rows, dims, params } = b;
  const stats = new Float64Array(b.memory.buffer, b.stats, 4 * dims);
  const at = (i: number) => b.stats + i * dims * 8;
  // Once per matrix when it carries a cache (the held PCA scores): every fit of the sweep reads it.
  const maxNorm2 = cachedColumnStats(b.memory, data.byteOffset, data instanceof Float32Array ? 1 : 0, rows, dims, KMEANS_CHUNK_ROWS, at(0), at(1), at(2), at(3), b.statsCache);
  if (Number.isNaN(maxNorm2)) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new RangeError(`kmeans: non-finite value at row ${Math.floor(i / dims)}, column ${i % dims}`);
    }
  }
  b.origin.set(stats.subarray(0, dims));
  const lo = stats.subarray(2 * dims, 3 * dims);
  const hi = stats.subarray(3 * dims, 4 * dims);
  if (!Number.isFinite(maxNorm2)) throw new RangeError('kmeans: values too large (squared norms overflow)');
  let wBound = 0;
  for (let d = 0; d < dims; d++) {
    b.origin[d] /= rows;
    const g = b.origin[d];
    // |fl(x − g)| ≤ max deviation, with slack for the rounding of g and of the subtraction
    const dev = Math.max(Math.abs(hi[d] - g), Math.abs(g - lo[d])) * (1 + 1e-9);
    b.invUnit[d] = gridScale(dev);
    wBound += dev * dev;
  }
  params[P_INV_UNIT_W] = gridScale(wBound * (1 + 1e-9));
  params[P_MARGIN] = BOUND_MARGIN * (Math.sqrt(maxNorm2) + Number.MIN_VALUE);
}

export function kmeans(data: NumericArray, rows: number, dims: number, opts: KMeansOptions, hooks: KMeansDriverHooks = {}): KMeansResult {
  validate(data, rows, dims, opts);
  const { k } = opts;
  const algorithm = resolveAlgorithm(opts.algorithm, rows, k);
  const elkan = algorithm === 'elkan';
  const runChunks = hooks.runChunks ?? runChunksInline;
  const slots = hooks.slots ?? 1;
  const wasm = hooks.wasm ?? toWasmMatrix(data, rows, dims, kmeansLayout(rows, dims, k, slots, elkan).bytes);
  const b = allocKMeansBuffers(wasm.arena, wasm.matrix, k, slots, elkan);
  try {
    return runKMeans(b, opts, k, algorithm, runChunks);
  } finally {
    wasm.arena.free(b.block);
  }
}

// long because: one iteration loop (init or resume, assign, update, convergence, heartbeat state) over buffers it shares with its kernels; left whole while issue 9 reworks k-means
function runKMeans(b: KMeansBuffers, opts: KMeansOptions, k: number, algorithm: KMeansAlgorithm, runChunks: ChunkRunner): KMeansResult {
  const { data, rows, dims, slots } = b;
  const lloyd = algorithm === 'lloyd';
  const elkan = algorithm === 'elkan';
  const maxIterations = opts.maxIterations ?? 300;
  const tol = opts.relativeTolerance ?? 1e-4;
  const { centroids: C, params, assign } = b;
  prepare(b);

  let iteration = 0;
  let prevSse = Infinity;
  let converged = false;
  if (opts.resumeFrom) {
    C.set(opts.resumeFrom.centroids);
    iteration = opts.resumeFrom.iteration;
    prevSse = opts.resumeFrom.sse;
    converged = opts.resumeFrom.converged;
  } else if (opts.initialCentroids) {
    C.set(opts.initialCentroids);
  } else {
    C.set(sampledInit(data, rows, dims, opts));
  }
  for (let i = 0; i < C.length; i++) if (!Number.isFinite(C[i])) throw new RangeError('kmeans: non-finite initial centroid');
  assign.fill(-1);

  // Exact fixed-point totals (hi, lo parts) of the current assignment.
  const kd = k * dims;
  const totHi = new Float64Array(kd), totLo = new Float64Array(kd);
  const totQHi = new Float64Array(k), totQLo = new Float64Array(k), totCount = new Float64Array(k);
  const next = new Float64Array(kd);
  const unit = Float64Array.from(b.invUnit, (v) => 1 / v);
  const unitW = 1 / params[P_INV_UNIT_W];
  let boundsValid = false;
  let reseeds = 0;
  let stoppedByCallback = false;

  const runStep = (mode: number): number => {
    params[P_MODE] = mode;
    for (let s = 0; s < slots; s++) clearSlot(b, s);
    runChunks(b);
    if ((mode & FLAG_FINAL) === 0) {
      if ((mode & 7) !== MODE_HAMERLY && (mode & 7) !== MODE_ELKAN) {
        totHi.fill(0); totLo.fill(0); totQHi.fill(0); totQLo.fill(0); totCount.fill(0);
      }
      for (let s = 0; s < slots; s++) {
        for (let t = 0; t < kd; t++) {
          totHi[t] += b.slotHi[s * kd + t];
          totLo[t] += b.slotLo[s * kd + t];
        }
        for (let j = 0; j < k; j++) {
          totQHi[j] += b.slotQHi[s * k + j];
          totQLo[j] += b.slotQLo[s * k + j];
          totCount[j] += b.slotCount[s * k + j];
        }
      }
    }
    let changed = 0;
    for (let s = 0; s < slots; s++) changed += b.slotChanged[s];
    return changed;
  };

  const stepMode = (): number =>
    lloyd ? MODE_LLOYD : elkan ? (boundsValid ? MODE_ELKAN : MODE_ELKAN_FULL) : boundsValid ? MODE_HAMERLY : MODE_FULL;
  if (elkan) computeHalfDistances(C, k, dims, b.half, b.halfCC);
  while (!converged && iteration < maxIterations) {
    throwIfAborted(opts.signal);
    iteration++;
    let changed = runStep(stepMode());
    boundsValid = true;

    // Empty clusters: move the farthest rows in (deterministic; exact distances to the centroids just used).
    let empties = 0;
    for (let j = 0; j < k; j++) if (totCount[j] === 0) empties++;
    if (empties > 0) {
      const far = new Float64Array(rows);
      const x = new Float64Array(dims);
      for (let i = 0; i < rows; i++) {
        loadRow(data, i * dims, dims, x);
        far[i] = dist2(x, C, assign[i] * dims, dims);
      }
      for (let j = 0; j < k; j++) {
        if (totCount[j] !== 0) continue;
        let bi = -1, bd = -1;
        for (let i = 0; i < rows; i++) {
          if (far[i] > bd && totCount[assign[i]] > 1) {
            bd = far[i];
            bi = i;
          }
        }
        if (bi < 0) throw new Error('kmeans: cannot re-seed an empty cluster');
        moveRow(b, bi * dims, assign[bi], j, totHi, totLo, totQHi, totQLo, totCount, 0);
        assign[bi] = j;
        far[bi] = -1;
        b.upper[bi] = Infinity; // forces a full rescan of this row next time
        b.lower[bi] = 0;
        reseeds++;
        changed++;
      }
    }

    // Update: new means and the SSE about them.
    let sse = 0;
    for (let j = 0; j < k; j++) {
      const n = totCount[j];
      let s1n = 0;
      for (let d = 0; d < dims; d++) {
        const t = j * dims + d;
        const s = (totHi[t] * TWO20 + totLo[t]) * unit[d];
        next[t] = b.origin[d] + s / n;
        s1n += s * s;
      }
      const e = (totQHi[j] * TWO20 + totQLo[j]) * unitW - s1n / n;
      sse += e > 0 ? e : 0;
    }
    // Centroid moves (for the bounds) and half the distance to the nearest other centroid.
    let maxShift = 0, maxIdx = -1, max2 = 0;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let d = 0; d < dims; d++) {
        const t = next[j * dims + d] - C[j * dims + d];
        s += t * t;
      }
      const p = Math.sqrt(s);
      b.shift[j] = p;
      b.cumShift[j] += p;
      if (p > maxShift) {
        max2 = maxShift;
        maxShift = p;
        maxIdx = j;
      } else if (p > max2) {
        max2 = p;
      }
    }
    C.set(next);
    params[P_MAXSHIFT_IDX] = maxIdx;
    params[P_MAXSHIFT1] = maxShift;
    params[P_MAXSHIFT2] = max2;
    computeHalfDistances(C, k, dims, b.half, elkan ? b.halfCC : undefined);

    const improvement = prevSse > 0 ? (prevSse - sse) / prevSse : 0;
    converged = changed === 0 || maxShift === 0 || (Number.isFinite(prevSse) && improvement < tol);
    prevSse = sse;
    if (opts.onIteration) {
      const keepGoing = opts.onIteration({ k, dims, iteration, sse, centroids: Array.from(C), changed, maxShift, converged });
      if (keepGoing === false && !converged) {
        stoppedByCallback = true;
        break;
      }
    }
  }

  // Final assignment against the returned centroids, with the exact SSE (chunk sums in chunk order).
  runStep(stepMode() | FLAG_FINAL);
  let sse = 0;
  for (let c = 0; c < b.chunks; c++) sse += b.partSse[c];
  const counts = new Int32Array(k);
  for (let i = 0; i < rows; i++) counts[assign[i]]++;
  return {
    k, dims,
    centroids: Float64Array.from(C),
    assignments: assign.buffer instanceof SharedArrayBuffer ? Int32Array.from(assign) : assign,
    sse,
    iterations: iteration,
    converged: converged && !stoppedByCallback,
    counts,
    reseeds,
  };
}

/**
 * half[j] = ½ · min over j' ≠ j of ‖C_j − C_j'‖ (Infinity when k = 1); with `pairs` (Elkan) also every
 * pair's ½ ‖C_a − C_c‖ (k × k, 0 on the diagonal).
 */
function computeHalfDistances(C: Float64Array, k: number, dims: number, half: Float64Array, pairs?: Float64Array): void {
  half.fill(Infinity);
  for (let a = 0; a < k; a++) {
    if (pairs) pairs[a * k + a] = 0;
    for (let c = a + 1; c < k; c++) {
      let s = 0;
      for (let d = 0; d < dims; d++) {
        const t = C[a * dims + d] - C[c * dims + d];
        s += t * t;
      }
      const h = 0.5 * Math.sqrt(s);
      if (h < half[a]) half[a] = h;
      if (h < half[c]) half[c] = h;
      if (pairs) {
        pairs[a * k + c] = h;
        pairs[c * k + a] = h;
      }
    }
  }
}

/** The algorithm kmeans() runs: Elkan unless its bounds would not fit ELKAN_MAX_BOUND_BYTES. */
export function resolveAlgorithm(requested: KMeansAlgorithm | undefined, rows: number, k: number): KMeansAlgorithm {
  const algorithm = requested ?? 'elkan';
  if (algorithm === 'elkan' && rows * k * Float32Array.BYTES_PER_ELEMENT > ELKAN_MAX_BOUND_BYTES) return 'hamerly';
  return algorithm;
}

/**
 * The seeded uniform sample of the init (its own seed, derived from `seed`, so it does not shift the init's
 * draws), in the data's own type, straight into a fresh kernel arena with `extraBytes` of room.
 */
function initSampleRows(data: NumericArray, rows: number, dims: number, seed: number, m: number, extraBytes: number) {
  const picked = sampleIndices(rows, m, deriveSeed(seed, 0x5a3e));
  const bytes = m * dims * data.BYTES_PER_ELEMENT;
  const arena = WasmArena.create(bytes + extraBytes);
  const matrix: WasmMatrix = { memory: arena.memory, offset: arena.alloc(bytes), rows: m, dims, dtype: data instanceof Float32Array ? 'float32' : 'float64' };
  const subset = matrixView(matrix);
  for (let r = 0; r < m; r++) {
    const o = picked[r] * dims;
    for (let d = 0; d < dims; d++) subset[r * dims + d] = data[o + d];
  }
  return { subset, wasm: { arena, matrix } };
}

function initSampleSize(sample: number, k: number): number {
  if (!Number.isInteger(sample) || sample < 1) throw new RangeError(`kmeans: initSample must be a positive integer, got ${sample}`);
  return Math.max(sample, k);
}

/** k-means++ (greedy) on the init sample of `sample` rows — on the whole data when it has no more rows. */
export function kmeansPlusPlusSampled(
  data: NumericArray,
  rows: number,
  dims: number,
  k: number,
  seed: number,
  sample: number,
  signal?: AbortSignal,
): Float64Array {
  const m = initSampleSize(sample, k);
  if (m >= rows) return kmeansPlusPlus(data, rows, dims, k, seed, { signal });
  const { subset, wasm } = initSampleRows(data, rows, dims, seed, m, 0);
  return kmeansPlusPlus(subset, m, dims, k, seed, { signal, wasm });
}

/**
 * The initial centroids kmeans() starts from without initialCentroids (see KMeansOptions.initSample): k-means++
 * then k-means on the init sample, or k-means++ on all rows when there are no more than the sample.
 */
export function sampledInit(data: NumericArray, rows: number, dims: number, opts: KMeansOptions): Float64Array {
  const seed = opts.seed ?? 0;
  const candidates = opts.initCandidates ?? 1;
  if (!Number.isInteger(candidates) || candidates < 1) throw new RangeError(`kmeans: initCandidates must be a positive integer, got ${candidates}`);
  const m = initSampleSize(opts.initSample ?? DEFAULT_INIT_SAMPLE, opts.k);
  const options = { k: opts.k, maxIterations: opts.maxIterations, relativeTolerance: opts.relativeTolerance, algorithm: opts.algorithm, signal: opts.signal };
  const candidateSeed = (c: number) => (c === 0 ? seed : deriveSeed(seed, 0x1c00 + c));
  if (m >= rows) {
    if (candidates === 1) return kmeansPlusPlus(data, rows, dims, opts.k, seed, { signal: opts.signal });
    let best: KMeansResult | null = null;
    for (let c = 0; c < candidates; c++) {
      const fit = kmeans(data, rows, dims, { ...options, initialCentroids: kmeansPlusPlus(data, rows, dims, opts.k, candidateSeed(c), { signal: opts.signal }) });
      if (!best || fit.sse < best.sse) best = fit;
    }
    return best!.centroids;
  }
  // One arena for the sample, k-means++'s scratch and the sample's k-means buffers (each freed after use).
  const { subset, wasm } = initSampleRows(data, rows, dims, seed, m, kmeansLayout(m, dims, opts.k, 1, true).bytes);
  let best: KMeansResult | null = null;
  for (let c = 0; c < candidates; c++) {
    const centres = kmeansPlusPlus(subset, m, dims, opts.k, candidateSeed(c), { signal: opts.signal, wasm });
    const fit = kmeans(subset, m, dims, { ...options, initialCentroids: centres }, { wasm });
    if (!best || fit.sse < best.sse) best = fit;
  }
  return best!.centroids;
}

/** Seed of initialisation `run` of a best-of-inits fit (core/parallel/kmeans-best-of.ts; run 0 uses `seed` itself). */
export function runSeed(seed: number, run: number): number {
  return run === 0 ? seed : deriveSeed(seed, run);
}

/** Σ‖x − C[a(x)]‖², plain and exact (for tests and checks). */
export function sseOf(data: NumericArray, rows: number, dims: number, centroids: ArrayLike<number>, assignments: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < rows; i++) {
    const a = assignments[i];
    for (let d = 0; d < dims; d++) {
      const t = data[i * dims + d] - centroids[a * dims + d];
      s += t * t;
    }
  }
  return s;
}
