/**
 * Shared conventions of the numeric core.
 *
 * Every matrix is a row-major flat typed array: element (r, c) of a rows × cols matrix is `a[r * cols + c]`.
 * Inputs may be `Float64Array` or `Float32Array` (and may be backed by a `SharedArrayBuffer`); every
 * accumulation is done in Float64 and every output is a `Float64Array` (or `Int32Array` for labels).
 */
export type NumericArray = Float64Array | Float32Array;

/** Throws a RangeError unless `a` holds exactly rows × cols elements of a supported type. */
export function checkMatrix(name: string, a: ArrayLike<number>, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`${name}: rows must be a non-negative integer, got ${rows}`);
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`${name}: cols must be a positive integer, got ${cols}`);
  if (a.length !== rows * cols) {
    throw new RangeError(`${name}: expected ${rows} × ${cols} = ${rows * cols} elements, got ${a.length}`);
  }
}

export function checkNumericArray(name: string, a: unknown): asserts a is NumericArray {
  if (!(a instanceof Float64Array) && !(a instanceof Float32Array)) {
    throw new TypeError(`${name}: expected a Float64Array or Float32Array`);
  }
}

/** An AbortSignal-compatible check usable from plain loops. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof Error) throw reason;
    const err = new Error(typeof reason === 'string' ? reason : 'The operation was aborted');
    err.name = 'AbortError';
    throw err;
  }
}
