/**
 * SharedArrayBuffer-backed typed arrays: allocate the big matrices with these so worker threads read and
 * write them in place (posting a typed array whose buffer is a SharedArrayBuffer shares it, no copy).
 */
import type { NumericArray } from '../linalg/types';

export function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}

export function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

export function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
}

export function isShared(a: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
}

/** The array itself when it is already shared, else a shared copy (one memcpy; allocate shared up front to avoid it). */
export function toShared<T extends NumericArray | Int32Array>(a: T): T {
  if (isShared(a)) return a;
  let copy: NumericArray | Int32Array;
  if (a instanceof Float64Array) copy = sharedFloat64(a.length);
  else if (a instanceof Float32Array) copy = sharedFloat32(a.length);
  else copy = sharedInt32(a.length);
  copy.set(a);
  return copy as T;
}
