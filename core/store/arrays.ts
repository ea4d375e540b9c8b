import { readFile, writeFile } from 'node:fs/promises';
import { readMatrix } from '../encoding/matrix';

/** Typed arrays as raw little-endian files: how matrices and assignments move between steps. */
export async function writeTypedArray(path: string, array: Float64Array | Float32Array | Int32Array): Promise<void> {
  await writeFile(path, Buffer.from(array.buffer, array.byteOffset, array.byteLength));
}

/**
 * The most recently read matrix. The k sweep runs several activities at once on the same PCA scores: they share
 * one read-only copy instead of each loading ~0.5 GB (checkpoint files never change once written).
 */
let lastMatrix: { path: string; rows: number; cols: number; data: Float64Array } | undefined;

/** A rows x cols Float64 matrix, backed by a SharedArrayBuffer so worker threads read it without copies. */
export function readFloat64Matrix(path: string, rows: number, cols: number): Float64Array {
  if (lastMatrix && lastMatrix.path === path && lastMatrix.rows === rows && lastMatrix.cols === cols) return lastMatrix.data;
  const data = readMatrix(path, rows, cols, 'float64', { shared: true });
  lastMatrix = { path, rows, cols, data };
  return data;
}

export async function readInt32Array(path: string, length: number): Promise<Int32Array> {
  const bytes = await readFile(path);
  if (bytes.byteLength !== length * 4) throw new Error(`${path} has ${bytes.byteLength} bytes, expected ${length * 4}`);
  return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
