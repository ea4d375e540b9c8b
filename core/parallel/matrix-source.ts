/**
 * Where a worker task's matrix lives: in shared memory (a typed array every thread reads in place) or in a
 * matrix file (row-major, little-endian, as exportMatrix writes it), which each worker reads a chunk at a time.
 * The file form keeps the calling process's memory independent of the row count: the PCA step never holds
 * the population matrix (1.4 GB at 2.7M rows), only a chunk per thread.
 *
 * Every reader hands its caller rows [r0, r1) as an array whose row 0 is r0, for both forms: the chunked
 * loops (covariance blocks counted from the chunk's first row, projection row by row) then compute the same
 * sums in the same order, so results do not depend on the form (test/linalg/streamed-pca.test.ts).
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import type { NumericArray } from '../linalg/types';

export type FileDtype = 'float32' | 'float64';

/** A rows x cols matrix file. */
export interface MatrixFile {
  path: string;
  dtype: FileDtype;
  rows: number;
  cols: number;
}

export type MatrixSource = NumericArray | MatrixFile;

const BYTES: Record<FileDtype, number> = { float32: 4, float64: 8 };
const LITTLE_ENDIAN = endianness() === 'LE';

export function isMatrixFile(source: MatrixSource): source is MatrixFile {
  return !ArrayBuffer.isView(source);
}

/** Fails clearly (naming the file) unless it holds exactly rows x cols values of its dtype. */
export function checkMatrixFile(name: string, file: MatrixFile): void {
  const bytes = BYTES[file.dtype];
  if (bytes === undefined) throw new Error(`${name}: dtype must be float32 or float64, got ${String(file.dtype)}`);
  if (!Number.isInteger(file.rows) || file.rows < 0 || !Number.isInteger(file.cols) || file.cols < 1) {
    throw new RangeError(`${name}: bad matrix shape ${file.rows} x ${file.cols}`);
  }
  const fd = openSync(file.path, 'r');
  try {
    const size = fstatSync(fd).size;
    const expected = file.rows * file.cols * bytes;
    if (size !== expected) throw new Error(`${name}: ${file.path} has ${size} bytes, expected ${expected} (${file.rows} x ${file.cols} ${file.dtype})`);
  } finally {
    closeSync(fd);
  }
}

/** Reads rows of a source; for a file, into one reused buffer (grown when a larger range is asked for). */
export class RowReader {
  private fd: number | null = null;
  private buffer: Float32Array | Float64Array | null = null;

  constructor(
    private readonly source: MatrixSource,
    private readonly cols: number,
  ) {}

  /** Rows [r0, r1) (row 0 of the result is r0). For a file the array is valid until the next call. */
  rows(r0: number, r1: number): NumericArray {
    const cols = this.cols;
    if (!isMatrixFile(this.source)) return this.source.subarray(r0 * cols, r1 * cols);
    const file = this.source;
    const count = (r1 - r0) * cols;
    if (!this.buffer || this.buffer.length < count) this.buffer = file.dtype === 'float32' ? new Float32Array(count) : new Float64Array(count);
    this.fd ??= openSync(file.path, 'r');
    const bytes = BYTES[file.dtype];
    const view = new Uint8Array(this.buffer.buffer, 0, count * bytes);
    let done = 0;
    while (done < view.length) {
      const read = readSync(this.fd, view, done, view.length - done, r0 * cols * bytes + done);
      if (read === 0) throw new Error(`${file.path}: ended after ${r0 * cols * bytes + done} bytes, expected rows up to ${r1} of ${cols} ${file.dtype}`);
      done += read;
    }
    if (!LITTLE_ENDIAN) {
      const swap = Buffer.from(view.buffer, 0, view.length);
      if (bytes === 8) swap.swap64();
      else swap.swap32();
    }
    return this.buffer.subarray(0, count);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.buffer = null;
  }
}

/** A rows x cols output file of scores (little-endian), written by several workers at their own row offsets. */
export interface OutputFile {
  path: string;
  dtype: FileDtype;
}

/**
 * Bytes per write call. The kernel sizes a buffered write's page-cache folios by the call's length: one 16 MiB
 * call asks for large folios, which on this class of VM (Firecracker guest, free pages returned to the host)
 * cost a host fault per fresh page: 480 MiB of matrix took 5-9 s in 16 MiB calls and 0.2-0.3 s in 64 KiB
 * calls (same bytes, same file system, measured alternately in fresh processes). Elsewhere 64 KiB calls
 * cost ~8k syscalls per 512 MiB: noise.
 */
export const WRITE_PIECE_BYTES = 64 * 1024;

/** Writes `values` (rows starting at r0, `cols` per row) at their place in an output file opened as `fd`, in WRITE_PIECE_BYTES calls. */
export function writeRowsAt(fd: number, values: Float32Array | Float64Array, r0: number, cols: number): void {
  const bytes = values.BYTES_PER_ELEMENT;
  let view = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (!LITTLE_ENDIAN) {
    const copy = Buffer.from(view);
    if (bytes === 8) copy.swap64();
    else copy.swap32();
    view = copy;
  }
  let done = 0;
  while (done < view.length) done += writeSync(fd, view, done, Math.min(WRITE_PIECE_BYTES, view.length - done), r0 * cols * bytes + done);
}
