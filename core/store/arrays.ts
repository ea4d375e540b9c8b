import { readFile, writeFile } from 'node:fs/promises';
import { readInto, readIntoAsync } from '../encoding/matrix';
import { clearStatsCache, statsCacheBytes, WasmArena, WasmMatrix } from '../wasm/kernel';

/** Typed arrays as raw little-endian files: how matrices and assignments move between steps. */
export async function writeTypedArray(path: string, array: Float64Array | Float32Array | Int32Array): Promise<void> {
  await writeFile(path, Buffer.from(array.buffer, array.byteOffset, array.byteLength));
}

/**
 * PCA scores in the k-means kernel's memory, shared by every k-means of this process. The k sweep runs several
 * activities at once on the same scores: they share one read-only copy (checkpoint files never change once
 * written), loaded straight into the shared WebAssembly memory the kernel reads, so no run copies it again.
 * One arena serves every matrix: a matrix nobody holds is freed when another is loaded, so a long-lived worker
 * reuses the same memory month after month instead of leaving each run's copy to the garbage collector.
 */
let scoresArena: WasmArena | undefined;
const loadedScores = new Map<string, { matrix: WasmMatrix; holders: number; loading?: Promise<void> }>();

export interface ScoresLease {
  matrix: WasmMatrix;
  /** Lets the matrix go (it stays loaded for the next holder until another matrix needs the room). */
  release(): void;
}

/**
 * Room for a rows x cols float32 matrix and its column-statistics cache right after it, in one block: k-means'
 * preparation pass runs once per loaded matrix, not once per fit (the sweep's fits all read it), and the cache
 * goes when the matrix goes. Matrices nobody holds are freed first.
 */
function reserve(key: string, rows: number, cols: number): { entry: { matrix: WasmMatrix; holders: number; loading?: Promise<void> }; bytes: number } {
  scoresArena ??= WasmArena.create();
  for (const [otherKey, other] of loadedScores) {
    if (other.holders > 0) continue;
    scoresArena.free(other.matrix.offset);
    loadedScores.delete(otherKey);
  }
  const bytes = rows * cols * Float32Array.BYTES_PER_ELEMENT;
  const statsAt = Math.ceil(bytes / 16) * 16;
  const offset = scoresArena.alloc(statsAt + statsCacheBytes(cols));
  clearStatsCache(scoresArena.memory, offset + statsAt);
  const matrix: WasmMatrix = { memory: scoresArena.memory, offset, rows, dims: cols, dtype: 'float32', statsCache: offset + statsAt };
  return { entry: { matrix, holders: 0 }, bytes };
}

function lease(held: { matrix: WasmMatrix; holders: number }): ScoresLease {
  held.holders++;
  let released = false;
  return {
    matrix: held.matrix,
    release() {
      if (released) return;
      released = true;
      held.holders--;
    },
  };
}

/** Holds the rows x cols float32 matrix in `path`, loading it unless it is loaded already. */
export function acquireScoresMatrix(path: string, rows: number, cols: number): ScoresLease {
  const key = `${path}\u0000${rows}x${cols}`;
  let entry = loadedScores.get(key);
  if (entry?.loading) throw new Error(`${path} is being loaded by acquireScoresMatrixAsync: await that instead`);
  if (!entry) {
    const reserved = reserve(key, rows, cols);
    try {
      readInto(path, new Uint8Array(reserved.entry.matrix.memory.buffer, reserved.entry.matrix.offset, reserved.bytes), reserved.bytes);
    } catch (error) {
      scoresArena!.free(reserved.entry.matrix.offset);
      throw error;
    }
    entry = reserved.entry;
    loadedScores.set(key, entry);
  }
  return lease(entry);
}

/**
 * acquireScoresMatrix without blocking the event loop while the file loads (the sweep's activities and their
 * heartbeats share it). Activities asking for the same matrix while it loads wait for that one load.
 */
export async function acquireScoresMatrixAsync(path: string, rows: number, cols: number): Promise<ScoresLease> {
  const key = `${path}\u0000${rows}x${cols}`;
  for (let entry = loadedScores.get(key); entry; entry = loadedScores.get(key)) {
    if (!entry.loading) return lease(entry);
    // Someone else is loading it: wait, then look again (a failed load leaves no entry and we load it here).
    await entry.loading.catch(() => undefined);
  }
  const { entry, bytes } = reserve(key, rows, cols);
  // Held while loading, so no other load frees it.
  entry.holders++;
  entry.loading = readIntoAsync(path, new Uint8Array(entry.matrix.memory.buffer, entry.matrix.offset, bytes), bytes);
  loadedScores.set(key, entry);
  try {
    await entry.loading;
  } catch (error) {
    loadedScores.delete(key);
    scoresArena!.free(entry.matrix.offset);
    throw error;
  } finally {
    entry.holders--;
    delete entry.loading;
  }
  return lease(entry);
}

export async function readInt32Array(path: string, length: number): Promise<Int32Array> {
  const bytes = await readFile(path);
  if (bytes.byteLength !== length * 4) throw new Error(`${path} has ${bytes.byteLength} bytes, expected ${length * 4}`);
  return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
