/**
 * k-means' column statistics computed once per held matrix (WasmMatrix.statsCache), not once per fit: the
 * cache is read when it matches the shape, recomputed when it does not, and a fit gives the same bits with or
 * without it — in this thread and in a worker thread.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kmeans, KMEANS_CHUNK_ROWS } from '../../core/linalg/kmeans';
import { runKmeansInWorker } from '../../core/parallel';
import { readMatrix, readMatrixAsync } from '../../core/encoding/matrix';
import { acquireScoresMatrix, acquireScoresMatrixAsync } from '../../core/store/arrays';
import { cachedColumnStats, clearStatsCache, matrixView, statsCacheBytes, toWasmMatrix, WasmArena, WasmMatrix } from '../../core/wasm/kernel';
import { mixture } from './helpers';

function withCache(rows: number, dims: number, data: Float32Array) {
  const { arena, matrix } = toWasmMatrix(data, rows, dims, statsCacheBytes(dims) + 65536);
  const statsCache = arena.alloc(statsCacheBytes(dims));
  clearStatsCache(arena.memory, statsCache);
  return { arena, matrix: { ...matrix, statsCache } as WasmMatrix };
}

describe('column statistics cache', () => {
  const rows = 3000, dims = 7;
  const data = Float32Array.from(mixture(rows, dims, 4, 3));

  it('is filled by the first call, read by the next, and ignored for another shape', () => {
    const { arena, matrix } = withCache(rows, dims, data);
    const scratch = arena.alloc(4 * dims * 8);
    const at = (i: number) => scratch + i * dims * 8;
    const stats = () => Array.from(new Float64Array(arena.memory.buffer, scratch, 4 * dims)).filter((_, i) => i < dims || i >= 2 * dims);
    const first = cachedColumnStats(arena.memory, matrix.offset, 1, rows, dims, KMEANS_CHUNK_ROWS, at(0), at(1), at(2), at(3), matrix.statsCache);
    const firstStats = stats();
    // Zero the data: a cached answer still gives the old statistics, a recomputed one does not.
    matrixView(matrix).fill(0);
    expect(cachedColumnStats(arena.memory, matrix.offset, 1, rows, dims, KMEANS_CHUNK_ROWS, at(0), at(1), at(2), at(3), matrix.statsCache)).toBe(first);
    expect(stats()).toEqual(firstStats);
    expect(cachedColumnStats(arena.memory, matrix.offset, 1, rows, dims, 1024, at(0), at(1), at(2), at(3), matrix.statsCache)).toBe(0);
    expect(cachedColumnStats(arena.memory, matrix.offset, 1, rows - 1, dims, KMEANS_CHUNK_ROWS, at(0), at(1), at(2), at(3), matrix.statsCache)).toBe(0);
    clearStatsCache(arena.memory, matrix.statsCache!);
    expect(cachedColumnStats(arena.memory, matrix.offset, 1, rows, dims, KMEANS_CHUNK_ROWS, at(0), at(1), at(2), at(3), matrix.statsCache)).toBe(0);
  });

  it('k-means gives the same bits with the cache (filled or not) as without it, here and in a worker', async () => {
    const opts = { k: 4, seed: 9, maxIterations: 50 };
    const plain = toWasmMatrix(data, rows, dims, 1 << 20);
    const reference = kmeans(matrixView(plain.matrix), rows, dims, opts, { wasm: plain });
    const cached = withCache(rows, dims, data);
    for (let run = 0; run < 2; run++) {
      const result = kmeans(matrixView(cached.matrix), rows, dims, opts, { wasm: cached });
      expect(result.sse).toBe(reference.sse);
      expect(Array.from(result.centroids)).toEqual(Array.from(reference.centroids));
      expect(Array.from(result.assignments)).toEqual(Array.from(reference.assignments));
    }
    const inWorker = await runKmeansInWorker(cached.matrix, rows, dims, opts);
    expect(inWorker.sse).toBe(reference.sse);
    expect(Array.from(inWorker.centroids)).toEqual(Array.from(reference.centroids));
  });

  it('a held scores matrix comes with an empty cache, also when its memory held another matrix before', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stats-cache-'));
    try {
      const path = join(dir, 'a.scores');
      writeFileSync(path, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      const lease = acquireScoresMatrix(path, rows, dims);
      const { matrix } = lease;
      expect(matrix.statsCache).toBeDefined();
      expect(new Int32Array(matrix.memory.buffer, matrix.statsCache!, 1)[0]).toBe(0);
      const result = kmeans(matrixView(matrix), rows, dims, { k: 3, seed: 1 }, { wasm: { arena: new WasmArena(matrix.memory), matrix } });
      expect(Number.isFinite(result.sse)).toBe(true);
      expect(new Int32Array(matrix.memory.buffer, matrix.statsCache!, 1)[0]).toBe(1);
      lease.release();
      // Another matrix takes the freed block: its cache starts empty, not with the first matrix's statistics.
      const other = join(dir, 'b.scores');
      writeFileSync(other, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      const next = acquireScoresMatrix(other, rows, dims);
      expect(new Int32Array(next.matrix.memory.buffer, next.matrix.statsCache!, 1)[0]).toBe(0);
      next.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('held scores matrix loaded without blocking the event loop', () => {
  const rows = 2000, dims = 5;
  const data = Float32Array.from(mixture(rows, dims, 3, 8));

  it('concurrent acquirers share one load with the same bytes as the synchronous read; a bad file fails cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scores-async-'));
    try {
      const path = join(dir, 'c.scores');
      writeFileSync(path, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      const [a, b] = await Promise.all([acquireScoresMatrixAsync(path, rows, dims), acquireScoresMatrixAsync(path, rows, dims)]);
      expect(a.matrix.offset).toBe(b.matrix.offset);
      expect(Array.from(matrixView(a.matrix))).toEqual(Array.from(data));
      // The synchronous acquirer finds the loaded matrix too.
      const c = acquireScoresMatrix(path, rows, dims);
      expect(c.matrix.offset).toBe(a.matrix.offset);
      for (const lease of [a, b, c]) lease.release();
      await expect(acquireScoresMatrixAsync(path, rows + 1, dims)).rejects.toThrow(/has 40000 bytes, expected 40020/);
      // Nothing half-loaded stays behind: the next try loads again (and fails again the same way).
      await expect(acquireScoresMatrixAsync(path, rows + 1, dims)).rejects.toThrow(/expected 40020/);
      expect(Array.from(await readMatrixAsync(path, rows, dims, 'float32'))).toEqual(Array.from(readMatrix(path, rows, dims, 'float32')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
