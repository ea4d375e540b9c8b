import { dist2 } from '../../core/linalg/kmeans';
import { kernelFor, matrixView, toWasmMatrix, WASM_PAGE, WasmArena } from '../../core/wasm/kernel';
import { canonicalDist2, mixture } from './helpers';

describe('WebAssembly kernel: the canonical squared distance', () => {
  it.each([1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 87])('equals the JS dist2 and the written-out definition bit for bit (%i dims, float64 and float32 rows)', (dims) => {
    const rows = 64;
    const X = mixture(rows, dims, 4, dims, 3);
    const C = mixture(8, dims, 2, dims + 100, 3);
    for (const data of [X, Float32Array.from(X)]) {
      const { arena, matrix } = toWasmMatrix(data, rows, dims);
      const cAt = arena.alloc(C.byteLength);
      new Float64Array(arena.memory.buffer, cAt, C.length).set(C);
      const kernel = kernelFor(arena.memory);
      const isF32 = data instanceof Float32Array ? 1 : 0;
      const bytes = data.BYTES_PER_ELEMENT;
      const x = new Float64Array(dims);
      for (let i = 0; i < rows; i++) {
        for (let d = 0; d < dims; d++) x[d] = data[i * dims + d];
        for (let j = 0; j < 8; j++) {
          const wasm = kernel.distance2(matrix.offset + i * dims * bytes, isF32, cAt + j * dims * 8, dims);
          const js = dist2(x, C, j * dims, dims);
          const written = canonicalDist2(data, i * dims, C, j * dims, dims);
          if (wasm !== js || js !== written) throw new Error(`row ${i}, centroid ${j}: wasm ${wasm}, js ${js}, reference ${written}`);
        }
      }
    }
  });
});

describe('WasmArena', () => {
  it('allocates page-aligned blocks, reuses and merges freed ones, and grows when it must', () => {
    const arena = WasmArena.create(0);
    const a = arena.alloc(10);
    const b = arena.alloc(3 * WASM_PAGE);
    const c = arena.alloc(WASM_PAGE + 1);
    expect(a % WASM_PAGE).toBe(0);
    expect(b).toBe(a + WASM_PAGE);
    expect(c).toBe(b + 3 * WASM_PAGE);
    expect(arena.usage()).toEqual({ blocks: 3, usedPages: 6, totalPages: 2 + 6 });
    arena.free(b);
    expect(arena.alloc(2 * WASM_PAGE)).toBe(b); // first fit, split
    arena.free(a);
    arena.free(b);
    expect(arena.usage().usedPages).toBe(2);
    expect(arena.alloc(4 * WASM_PAGE)).toBe(a); // a + b + the split-off page merged back into one block
    arena.free(c);
    const big = arena.alloc(5 * WASM_PAGE); // the free tail block is extended instead of appending a new one
    expect(big).toBe(c);
    expect(arena.usage().totalPages).toBe(2 + 4 + 5);
    expect(() => arena.free(12345 * WASM_PAGE)).toThrow(/no block in use/);
    // views on memory allocated before a grow stay valid
    const view = new Float64Array(arena.memory.buffer, big, 4);
    view[3] = 42;
    arena.alloc(10 * WASM_PAGE);
    expect(new Float64Array(arena.memory.buffer, big, 4)[3]).toBe(42);
  });

  it('copies a matrix in unchanged (float32 and float64)', () => {
    const X = mixture(100, 3, 2, 1);
    for (const data of [X, Float32Array.from(X)]) {
      const { matrix } = toWasmMatrix(data, 100, 3);
      expect(Array.from(matrixView(matrix))).toEqual(Array.from(data));
      expect(matrix.dtype).toBe(data instanceof Float32Array ? 'float32' : 'float64');
    }
  });
});

describe('PCA scores shared in the kernel memory', () => {
  it('loads a file once for every holder and reuses the memory of a released matrix for the next one', async () => {
    const { acquireScoresMatrix } = await import('../../core/store/arrays');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'scores-'));
    try {
      const write = (name: string, values: number[]) => {
        writeFileSync(join(dir, name), Buffer.from(Float32Array.from(values).buffer));
        return join(dir, name);
      };
      const a = write('a.scores', [1, 2, 3, 4, 5, 6]);
      const b = write('b.scores', [7, 8, 9, 10, 11, 12]);
      const first = acquireScoresMatrix(a, 3, 2);
      const second = acquireScoresMatrix(a, 3, 2);
      expect(second.matrix).toBe(first.matrix); // one copy for both holders
      expect(Array.from(matrixView(first.matrix))).toEqual([1, 2, 3, 4, 5, 6]);
      const other = acquireScoresMatrix(b, 3, 2); // a is still held: loaded next to it
      expect(other.matrix.offset).not.toBe(first.matrix.offset);
      expect(Array.from(matrixView(first.matrix))).toEqual([1, 2, 3, 4, 5, 6]);
      first.release();
      second.release();
      other.release();
      const again = acquireScoresMatrix(a, 3, 2); // still loaded: no reading
      expect(again.matrix).toBe(first.matrix);
      again.release();
      const c = write('c.scores', [13, 14, 15, 16, 17, 18]);
      const third = acquireScoresMatrix(c, 3, 2); // nothing held: a and b go, and c takes their memory
      expect(third.matrix.offset).toBe(Math.min(first.matrix.offset, other.matrix.offset));
      expect(third.matrix.memory).toBe(first.matrix.memory);
      expect(Array.from(matrixView(third.matrix))).toEqual([13, 14, 15, 16, 17, 18]);
      third.release();
      expect(() => acquireScoresMatrix(join(dir, 'missing.scores'), 3, 2)).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
