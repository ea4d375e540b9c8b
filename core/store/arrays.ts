import { readFile, writeFile } from 'node:fs/promises';
import { readMatrix } from '../encoding/matrix';

/** Typed arrays as raw little-endian files: how matrices and assignments move between steps. */
export async function writeTypedArray(path: string, array: Float64Array | Float32Array | Int32Array): Promise<void> {
  await writeFile(path, Buffer.from(array.buffer, array.byteOffset, array.byteLength));
}

/** A rows x cols Float64 matrix, backed by a SharedArrayBuffer so worker threads read it without copies. */
export function readFloat64Matrix(path: string, rows: number, cols: number): Float64Array {
  return readMatrix(path, rows, cols, 'float64', { shared: true });
}

export async function readInt32Array(path: string, length: number): Promise<Int32Array> {
  const bytes = await readFile(path);
  if (bytes.byteLength !== length * 4) throw new Error(`${path} has ${bytes.byteLength} bytes, expected ${length * 4}`);
  return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
