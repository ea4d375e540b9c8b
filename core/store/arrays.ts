import { readFile, writeFile } from 'node:fs/promises';
import { readInto } from '../encoding/matrix';
import { WasmArena, WasmMatrix } from '../wasm/kernel';

/** Typed arrays as raw little-endian files: how matrices and assignments move between steps. */
export async function writeTypedArray(path: string, array: Float64Array | Float32Array | Int32Array): Promise<void> {
  await writeFile(path, Buffer.from(array.buffer, array.byteOffset, array.byteLength));
}

/**
 * The most recently read scores matrix. The k sweep runs several activities at once on the same PCA scores:
 * they share one read-only copy (checkpoint files never change once written), loaded straight into the
 * shared WebAssembly memory the k-means kernel works in, so no run copies it again.
 */
let lastScores: { path: string; matrix: WasmMatrix } | undefined;

/** A rows x cols float32 matrix file, in a WebAssembly arena (see core/wasm/kernel.ts). */
export function readScoresMatrix(path: string, rows: number, cols: number): WasmMatrix {
  const cached = lastScores;
  if (cached && cached.path === path && cached.matrix.rows === rows && cached.matrix.dims === cols) return cached.matrix;
  lastScores = undefined; // let the previous arena go before allocating the next
  const bytes = rows * cols * Float32Array.BYTES_PER_ELEMENT;
  const arena = WasmArena.create(bytes);
  const offset = arena.alloc(bytes);
  readInto(path, new Uint8Array(arena.memory.buffer, offset, bytes), bytes);
  const matrix: WasmMatrix = { memory: arena.memory, offset, rows, dims: cols, dtype: 'float32' };
  lastScores = { path, matrix };
  return matrix;
}

export async function readInt32Array(path: string, length: number): Promise<Int32Array> {
  const bytes = await readFile(path);
  if (bytes.byteLength !== length * 4) throw new Error(`${path} has ${bytes.byteLength} bytes, expected ${length * 4}`);
  return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
