/**
 * The WebAssembly k-means kernel (compiled from core/wasm/assembly/kmeans.ts by `npm run build:wasm`) and the
 * shared memory it works in.
 *
 * Why WebAssembly: the assignment step is Σ (x_d − c_d)² over rows × centroids × dimensions. In 87 dimensions
 * the triangle-inequality bounds of Hamerly and Elkan prune little (distances concentrate), so the raw rate
 * decides: measured on 798,073 × 87 against 20 centroids, one full pass took 2.1 s in plain JS and 0.26 s in
 * this kernel (128-bit SIMD, 4 centroids per pass over a row).
 *
 * WasmArena: one shared WebAssembly.Memory (its buffer is a SharedArrayBuffer, so typed-array views on it are
 * shared with worker threads, and every thread instantiates the kernel on it) with a small first-fit allocator
 * whose table lives in the memory itself, guarded by a lock, so any thread can allocate and free. Page 0 belongs
 * to the compiled module, page 1 holds the table, blocks follow in whole pages.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';

export const WASM_PAGE = 65536;
/** 4 GiB, the most a wasm32 memory can address. Reserved as address space only: pages are committed as they grow. */
const MAX_PAGES = 65536;
const TABLE_PAGE = 1;
const FIRST_BLOCK_PAGE = 2;
/** Table layout (Int32 slots): [0] lock, [1] block count, then per block: first page, page count, in use. */
const T_LOCK = 0, T_COUNT = 1, T_BLOCKS = 4, T_FIELDS = 3;
const MAX_BLOCKS = Math.floor((WASM_PAGE / 4 - T_BLOCKS) / T_FIELDS);
const LOCK_STALE_MS = 2000;

/** Descriptor slots of processChunk (byte offsets or values, u32): mirrors DESC_* in the AssemblyScript source. */
export const DESC = {
  DATA: 0, F32: 1, ROWS: 2, DIMS: 3, K: 4, CHUNK_ROWS: 5, CENTROIDS: 6, ORIGIN: 7, INV_UNIT: 8, ASSIGN: 9, UPPER: 10,
  LOWER: 11, HALF: 12, SHIFT: 13, BOUNDS: 14, HALF_CC: 15, CUM_SHIFT: 16, PARAMS: 17, SLOT_HI: 18, SLOT_LO: 19,
  SLOT_QHI: 20, SLOT_QLO: 21, SLOT_COUNT: 22, SLOT_CHANGED: 23, PART_SSE: 24, LENGTH: 25,
} as const;

export interface KernelExports {
  processChunk(desc: number, chunk: number, slot: number): void;
  distance2(x: number, isF32: number, c: number, dims: number): number;
  assignNearest(data: number, isF32: number, dims: number, centroids: number, k: number, rowStart: number, rowEnd: number, assign: number, dist: number): void;
  seedTrials(data: number, isF32: number, rows: number, dims: number, cand: number, trials: number, closest: number, out: number, pot: number): void;
  silhouetteSums(x: number, m: number, dims: number, lab: number, k: number, sums: number): void;
  columnStats(data: number, isF32: number, rows: number, dims: number, chunkRows: number, sums: number, part: number, lo: number, hi: number): number;
  covarianceBlocks(data: number, isF32: number, rows: number, cols: number, cp: number, blockRows: number, center: number, t: number, s1: number, c2: number): void;
  projectBlock(data: number, isF32: number, rows: number, cols: number, mean: number, wt: number, q: number, qp: number, x: number, out: number, outF32: number): void;
}

/** Where the compiled kernel is: next to this file (sources) or in the project's core/wasm (when running from dist/). */
export function kernelPath(): string {
  const candidates = [join(__dirname, 'kmeans.wasm'), join(__dirname, '..', '..', '..', 'core', 'wasm', 'kmeans.wasm')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`the k-means kernel is not built (looked for ${candidates.join(', ')}): run npm run build:wasm`);
  return found;
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<WebAssembly.Memory, KernelExports>();

/** This thread's instance of the kernel on `memory` (one per memory and thread). */
export function kernelFor(memory: WebAssembly.Memory): KernelExports {
  let inst = instances.get(memory);
  if (!inst) {
    if (!compiled) {
      // V8 first compiles WebAssembly with its baseline compiler (Liftoff) and optimises hot functions later;
      // each k-means runs in a fresh worker thread, so much of a run would execute baseline code (measured:
      // the first column-statistics pass at full size 228 ms instead of 80 ms). The kernel is small, so have
      // TurboFan compile it up front. The flag is process-wide and only affects WebAssembly compiled after it.
      setFlagsFromString('--no-liftoff');
      compiled = new WebAssembly.Module(readFileSync(kernelPath()));
    }
    inst = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as KernelExports;
    instances.set(memory, inst);
  }
  return inst;
}

export type WasmDtype = 'float32' | 'float64';

/** A matrix stored in an arena: rows × dims, row-major, at byte `offset`. */
export interface WasmMatrix {
  memory: WebAssembly.Memory;
  offset: number;
  rows: number;
  dims: number;
  dtype: WasmDtype;
  /**
   * Byte offset of the matrix's column-statistics cache (STATS_CACHE_BYTES(dims), same memory), when it has
   * one: k-means' preparation pass is then computed by the first fit and read by every later one.
   */
  statsCache?: number;
}

/** Cache header (Int32 slots): state (0 empty, 1 filled), rows, dims, chunk rows; then float64 data. */
const SC_STATE = 0, SC_ROWS = 1, SC_DIMS = 2, SC_CHUNK = 3, SC_HEADER_BYTES = 16;

/** Bytes of a column-statistics cache: header, the largest squared row norm, sums, minima, maxima. */
export function statsCacheBytes(dims: number): number {
  return SC_HEADER_BYTES + 8 * (1 + 3 * dims);
}

/** Marks a cache empty (a freshly loaded matrix; the memory may hold an earlier matrix's cache). */
export function clearStatsCache(memory: WebAssembly.Memory, cache: number): void {
  Atomics.store(new Int32Array(memory.buffer, cache, 4), SC_STATE, 0);
}

/**
 * The kernel's columnStats (sums per chunk in chunk order, minima, maxima into the `sums`, `lo`, `hi` arrays
 * of dims float64; returns the largest squared row norm or NaN), read from the matrix's cache when it holds
 * the same shape, else computed and — when finite — stored there. The values depend on the data alone, so
 * fits running at once may both compute and store them: they write identical bytes, and a reader only reads
 * after the state says filled.
 */
export function cachedColumnStats(
  memory: WebAssembly.Memory,
  data: number,
  isF32: number,
  rows: number,
  dims: number,
  chunkRows: number,
  sums: number,
  part: number,
  lo: number,
  hi: number,
  cache?: number,
): number {
  const header = cache === undefined ? undefined : new Int32Array(memory.buffer, cache, 4);
  const values = cache === undefined ? undefined : new Float64Array(memory.buffer, cache + SC_HEADER_BYTES, 1 + 3 * dims);
  const out = (at: number) => new Float64Array(memory.buffer, at, dims);
  if (header && values && Atomics.load(header, SC_STATE) === 1 && header[SC_ROWS] === rows && header[SC_DIMS] === dims && header[SC_CHUNK] === chunkRows) {
    out(sums).set(values.subarray(1, 1 + dims));
    out(lo).set(values.subarray(1 + dims, 1 + 2 * dims));
    out(hi).set(values.subarray(1 + 2 * dims, 1 + 3 * dims));
    return values[0];
  }
  const maxNorm2 = kernelFor(memory).columnStats(data, isF32, rows, dims, chunkRows, sums, part, lo, hi);
  if (header && values && Number.isFinite(maxNorm2)) {
    values[0] = maxNorm2;
    values.set(out(sums), 1);
    values.set(out(lo), 1 + dims);
    values.set(out(hi), 1 + 2 * dims);
    header[SC_ROWS] = rows;
    header[SC_DIMS] = dims;
    header[SC_CHUNK] = chunkRows;
    Atomics.store(header, SC_STATE, 1);
  }
  return maxNorm2;
}

export class WasmArena {
  private readonly table: Int32Array;

  constructor(readonly memory: WebAssembly.Memory) {
    if (!(memory.buffer instanceof SharedArrayBuffer)) throw new TypeError('WasmArena needs a shared WebAssembly.Memory');
    this.table = new Int32Array(memory.buffer, TABLE_PAGE * WASM_PAGE, WASM_PAGE / 4);
  }

  /** A new arena, its memory pre-sized for `bytes` of blocks (it grows beyond on demand). */
  static create(bytes = 0): WasmArena {
    const pages = FIRST_BLOCK_PAGE + Math.ceil(bytes / WASM_PAGE);
    if (pages > MAX_PAGES) throw new RangeError(`WasmArena: ${bytes} bytes exceed the 4 GiB a WebAssembly memory can hold`);
    return new WasmArena(new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES, shared: true }));
  }

  /**
   * The table's lock. It is held for microseconds; a holder that has not let go after LOCK_STALE_MS was a
   * thread terminated inside alloc/free (an aborted k-means), so the lock is taken over rather than waited on
   * forever.
   */
  private lock(): void {
    const start = Date.now();
    while (Atomics.compareExchange(this.table, T_LOCK, 0, 1) !== 0) {
      Atomics.wait(this.table, T_LOCK, 1, 5);
      if (Date.now() - start > LOCK_STALE_MS) return;
    }
  }

  private unlock(): void {
    Atomics.store(this.table, T_LOCK, 0);
    Atomics.notify(this.table, T_LOCK, 1);
  }

  /** A block of at least `bytes` (page-aligned byte offset). Reuses freed blocks; grows the memory otherwise. */
  alloc(bytes: number): number {
    const need = Math.max(1, Math.ceil(bytes / WASM_PAGE));
    const t = this.table;
    this.lock();
    try {
      const count = t[T_COUNT];
      const at = (i: number) => T_BLOCKS + i * T_FIELDS;
      // First fit among free blocks, splitting off the rest.
      for (let i = 0; i < count; i++) {
        const b = at(i);
        if (t[b + 2] === 0 && t[b + 1] >= need) {
          if (t[b + 1] > need) this.insert(i + 1, t[b] + need, t[b + 1] - need, 0);
          t[b + 1] = need;
          t[b + 2] = 1;
          return t[b] * WASM_PAGE;
        }
      }
      const end = count === 0 ? FIRST_BLOCK_PAGE : t[at(count - 1)] + t[at(count - 1) + 1];
      const lastFree = count > 0 && t[at(count - 1) + 2] === 0;
      const start = lastFree ? t[at(count - 1)] : end;
      const pagesNow = this.memory.buffer.byteLength / WASM_PAGE;
      const required = start + need;
      if (required > MAX_PAGES) throw new RangeError(`WasmArena: cannot hold ${bytes} more bytes (the 4 GiB limit of a WebAssembly memory)`);
      if (required > pagesNow) this.memory.grow(required - pagesNow);
      if (lastFree) {
        const b = at(count - 1);
        t[b + 1] = need;
        t[b + 2] = 1;
      } else {
        this.insert(count, start, need, 1);
      }
      return start * WASM_PAGE;
    } finally {
      this.unlock();
    }
  }

  /** Returns a block to the arena (merging it with free neighbours). */
  free(offset: number): void {
    const t = this.table;
    const page = offset / WASM_PAGE;
    this.lock();
    try {
      const at = (i: number) => T_BLOCKS + i * T_FIELDS;
      let i = 0;
      while (i < t[T_COUNT] && t[at(i)] !== page) i++;
      if (i === t[T_COUNT] || t[at(i) + 2] !== 1) throw new Error(`WasmArena: no block in use at offset ${offset}`);
      t[at(i) + 2] = 0;
      if (i + 1 < t[T_COUNT] && t[at(i + 1) + 2] === 0) {
        t[at(i) + 1] += t[at(i + 1) + 1];
        this.remove(i + 1);
      }
      if (i > 0 && t[at(i - 1) + 2] === 0) {
        t[at(i - 1) + 1] += t[at(i) + 1];
        this.remove(i);
      }
    } finally {
      this.unlock();
    }
  }

  /** Pages in use / reserved by blocks (for tests and diagnostics). */
  usage(): { blocks: number; usedPages: number; totalPages: number } {
    const t = this.table;
    let usedPages = 0;
    for (let i = 0; i < t[T_COUNT]; i++) if (t[T_BLOCKS + i * T_FIELDS + 2] === 1) usedPages += t[T_BLOCKS + i * T_FIELDS + 1];
    return { blocks: t[T_COUNT], usedPages, totalPages: this.memory.buffer.byteLength / WASM_PAGE };
  }

  private insert(i: number, start: number, pages: number, used: number): void {
    const t = this.table;
    const count = t[T_COUNT];
    if (count >= MAX_BLOCKS) throw new Error('WasmArena: block table full');
    t.copyWithin(T_BLOCKS + (i + 1) * T_FIELDS, T_BLOCKS + i * T_FIELDS, T_BLOCKS + count * T_FIELDS);
    t[T_BLOCKS + i * T_FIELDS] = start;
    t[T_BLOCKS + i * T_FIELDS + 1] = pages;
    t[T_BLOCKS + i * T_FIELDS + 2] = used;
    t[T_COUNT] = count + 1;
  }

  private remove(i: number): void {
    const t = this.table;
    const count = t[T_COUNT];
    t.copyWithin(T_BLOCKS + i * T_FIELDS, T_BLOCKS + (i + 1) * T_FIELDS, T_BLOCKS + count * T_FIELDS);
    t[T_COUNT] = count - 1;
  }
}

/** A view of a matrix stored in an arena. */
export function matrixView(m: WasmMatrix): Float32Array | Float64Array {
  return m.dtype === 'float32'
    ? new Float32Array(m.memory.buffer, m.offset, m.rows * m.dims)
    : new Float64Array(m.memory.buffer, m.offset, m.rows * m.dims);
}

/** Copies a matrix into a new arena (for data that does not live in one yet). */
export function toWasmMatrix(data: Float32Array | Float64Array, rows: number, dims: number, extraBytes = 0): { arena: WasmArena; matrix: WasmMatrix } {
  const arena = WasmArena.create(data.byteLength + extraBytes + WASM_PAGE);
  const offset = arena.alloc(data.byteLength);
  const matrix: WasmMatrix = { memory: arena.memory, offset, rows, dims, dtype: data instanceof Float32Array ? 'float32' : 'float64' };
  matrixView(matrix).set(data);
  return { arena, matrix };
}
