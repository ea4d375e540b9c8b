import { readFile, writeFile } from 'node:fs/promises';
import { readInto } from '../encoding/matrix';
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
const loadedScores = new Map<string, { matrix: WasmMatrix; holders: number }>();

export interface ScoresLease {
  matrix: WasmMatrix;
  /** Lets the matrix go (it stays loaded for the next holder until another matrix needs the room). */
  release(): void;
}

/** Holds the rows x cols float32 matrix in `path`, loading it unless it is loaded already. */
export function acquireScoresMatrix(path: string, rows: number, cols: number): ScoresLease {
  const key = `${path}\u0000${rows}x${cols}`;
  let entry = loadedScores.get(key);
  if (!entry) {
    scoresArena ??= WasmArena.create();
    for (const [otherKey, other] of loadedScores) {
      if (other.holders > 0) continue;
      scoresArena.free(other.matrix.offset);
      loadedScores.delete(otherKey);
    }
    const bytes = rows * cols * Float32Array.BYTES_PER_ELEMENT;
    // The column-statistics cache right after the scores, in the same block: k-means' preparation pass runs
    // once per loaded matrix, not once per fit (the sweep's fits all read it), and goes when the matrix goes.
    const statsAt = Math.ceil(bytes / 16) * 16;
    const offset = scoresArena.alloc(statsAt + statsCacheBytes(cols));
    try {
      readInto(path, new Uint8Array(scoresArena.memory.buffer, offset, bytes), bytes);
    } catch (error) {
      scoresArena.free(offset);
      throw error;
    }
    clearStatsCache(scoresArena.memory, offset + statsAt);
    entry = { matrix: { memory: scoresArena.memory, offset, rows, dims: cols, dtype: 'float32', statsCache: offset + statsAt }, holders: 0 };
    loadedScores.set(key, entry);
  }
  const held = entry;
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

export async function readInt32Array(path: string, length: number): Promise<Int32Array> {
  const bytes = await readFile(path);
  if (bytes.byteLength !== length * 4) throw new Error(`${path} has ${bytes.byteLength} bytes, expected ${length * 4}`);
  return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
