/**
 * The PCA loops in the SIMD kernel: covariance co-moments (CovarianceAccumulator.addRange) and projection
 * (projectRowsRange). The kernel vectorises across output entries and keeps every sum's order, so the results
 * are bit-identical to the plain JS loops of core/linalg (test/linalg/pca-kernel.test.ts checks it), at about
 * twice to four times their speed (two float64 lanes, register tiles of 4 × 4 covariance entries or 2 rows × 8
 * scores, no bounds checks).
 *
 * The data stay where they are (a shared typed array the worker threads read): each call copies a slab of
 * rows into a scratch region of a small per-thread kernel memory, so the copy costs 1/cols (covariance) or
 * 1/q (projection) of the arithmetic and no full-size copy is ever made.
 */
import type { NumericArray } from '../linalg/types';
import { kernelFor, KernelExports, WasmArena } from './kernel';

/** Rows per slab copied into the kernel's memory (a multiple of every block size used: 256). */
export const SLAB_ROWS = 4096;

interface Scratch {
  arena: WasmArena;
  kernel: KernelExports;
  offset: number;
  bytes: number;
}

let scratch: Scratch | undefined;
/** Set false (tests, A/B measurements) to run the plain JS loops instead. */
let enabled = true;

export function setPcaKernelEnabled(on: boolean): void {
  enabled = on;
}

export function pcaKernelEnabled(): boolean {
  return enabled;
}

/** This thread's scratch region of at least `bytes` (kept and reused; grown when a larger one is needed). */
function region(bytes: number): Scratch {
  if (!scratch) {
    const arena = WasmArena.create(bytes);
    scratch = { arena, kernel: kernelFor(arena.memory), offset: arena.alloc(bytes), bytes };
  } else if (scratch.bytes < bytes) {
    scratch.arena.free(scratch.offset);
    scratch.offset = scratch.arena.alloc(bytes);
    scratch.bytes = bytes;
  }
  return scratch;
}

const align = (n: number) => Math.ceil(n / 16) * 16;

/** Copies rows [r0, r1) of data into the kernel memory at `at` (same element type). */
function copyRows(memory: WebAssembly.Memory, at: number, data: NumericArray, cols: number, r0: number, r1: number): void {
  const src = data.subarray(r0 * cols, r1 * cols);
  const dst = data instanceof Float32Array ? new Float32Array(memory.buffer, at, src.length) : new Float64Array(memory.buffer, at, src.length);
  dst.set(src);
}

/**
 * Adds rows [rowStart, rowEnd) to the co-moments s1 (cols) and c2 (padded cp × cp), centred on `center`, in
 * blocks of blockRows rows counted from rowStart — the same blocks, and so the same sums, as the JS loop.
 */
export function covarianceRangeInKernel(
  data: NumericArray,
  cols: number,
  cp: number,
  rowStart: number,
  rowEnd: number,
  blockRows: number,
  center: Float64Array,
  s1: Float64Array,
  c2: Float64Array,
): void {
  const slab = Math.max(blockRows, Math.floor(SLAB_ROWS / blockRows) * blockRows);
  const elem = data.BYTES_PER_ELEMENT;
  const dataBytes = align(slab * cols * elem);
  const vec = align(cp * 8);
  const tBytes = align(blockRows * cp * 8);
  const c2Bytes = align(cp * cp * 8);
  const s = region(dataBytes + 2 * vec + tBytes + c2Bytes);
  const base = s.offset;
  const at = { data: base, center: base + dataBytes, s1: base + dataBytes + vec, t: base + dataBytes + 2 * vec, c2: base + dataBytes + 2 * vec + tBytes };
  const mem = s.arena.memory;
  new Float64Array(mem.buffer, at.center, cols).set(center.subarray(0, cols));
  const s1View = new Float64Array(mem.buffer, at.s1, cols);
  const c2View = new Float64Array(mem.buffer, at.c2, cp * cp);
  s1View.set(s1.subarray(0, cols));
  c2View.set(c2);
  const isF32 = data instanceof Float32Array ? 1 : 0;
  for (let r0 = rowStart; r0 < rowEnd; r0 += slab) {
    const r1 = Math.min(rowEnd, r0 + slab);
    copyRows(mem, at.data, data, cols, r0, r1);
    s.kernel.covarianceBlocks(at.data, isF32, r1 - r0, cols, cp, blockRows, at.center, at.t, at.s1, at.c2);
  }
  s1.set(s1View);
  c2.set(c2View);
}

/** Scores of rows [rowStart, rowEnd) on q components into out (absolute row index), as projectRowsRange. */
export function projectRangeInKernel(
  data: NumericArray,
  cols: number,
  mean: Float64Array,
  components: Float64Array,
  q: number,
  rowStart: number,
  rowEnd: number,
  out: Float64Array | Float32Array,
): void {
  const qp = Math.ceil(q / 8) * 8;
  const elem = data.BYTES_PER_ELEMENT;
  const outElem = out.BYTES_PER_ELEMENT;
  const slab = SLAB_ROWS;
  const dataBytes = align(slab * cols * elem);
  const outBytes = align(slab * q * outElem);
  const vec = align(cols * 8);
  const wtBytes = align(cols * qp * 8);
  const s = region(dataBytes + outBytes + 3 * vec + wtBytes);
  const base = s.offset;
  const at = { data: base, out: base + dataBytes, mean: base + dataBytes + outBytes, x: base + dataBytes + outBytes + vec, wt: base + dataBytes + outBytes + 3 * vec };
  const mem = s.arena.memory;
  new Float64Array(mem.buffer, at.mean, cols).set(mean.subarray(0, cols));
  const wt = new Float64Array(mem.buffer, at.wt, cols * qp);
  wt.fill(0);
  for (let c = 0; c < q; c++) for (let j = 0; j < cols; j++) wt[j * qp + c] = components[c * cols + j];
  const isF32 = data instanceof Float32Array ? 1 : 0;
  const outF32 = out instanceof Float32Array ? 1 : 0;
  for (let r0 = rowStart; r0 < rowEnd; r0 += slab) {
    const r1 = Math.min(rowEnd, r0 + slab);
    copyRows(mem, at.data, data, cols, r0, r1);
    s.kernel.projectBlock(at.data, isF32, r1 - r0, cols, at.mean, at.wt, q, qp, at.x, at.out, outF32);
    const n = (r1 - r0) * q;
    out.set(outF32 ? new Float32Array(mem.buffer, at.out, n) : new Float64Array(mem.buffer, at.out, n), r0 * q);
  }
}
