import { kmeans, type KMeansOptions, type KMeansResult, runSeed } from '../../core/linalg/kmeans';
import { Prng } from '../../core/linalg/prng';

/** Gaussian mixture test data: rows × dims Float64Array, deterministic. */
export function mixture(rows: number, dims: number, centers: number, seed: number, spread = 1): Float64Array {
  const rng = new Prng(seed);
  const gauss = (): number => {
    const u = rng.nextFloat() || 1e-12;
    const v = rng.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const C = new Float64Array(centers * dims);
  for (let i = 0; i < C.length; i++) C[i] = (rng.nextFloat() - 0.5) * 10;
  const X = new Float64Array(rows * dims);
  for (let i = 0; i < rows; i++) {
    const c = rng.nextInt(centers);
    for (let d = 0; d < dims; d++) X[i * dims + d] = C[c * dims + d] + spread * gauss();
  }
  return X;
}

export function uniform(rows: number, dims: number, seed: number): Float64Array {
  const rng = new Prng(seed);
  const X = new Float64Array(rows * dims);
  for (let i = 0; i < X.length; i++) X[i] = rng.nextFloat();
  return X;
}

/**
 * The project's canonical squared distance, written out independently of core/linalg and core/wasm: four
 * accumulators over blocks of four dimensions (lanes d, d+1, d+2, d+3), s = (l0 + l1) + (h0 + h1), then the
 * remaining dimensions in order.
 */
export function canonicalDist2(X: ArrayLike<number>, xo: number, C: ArrayLike<number>, co: number, dims: number): number {
  const acc = [0, 0, 0, 0];
  let d = 0;
  for (; d + 4 <= dims; d += 4) {
    for (let lane = 0; lane < 4; lane++) {
      const t = X[xo + d + lane] - C[co + d + lane];
      acc[lane] += t * t;
    }
  }
  let s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  for (; d < dims; d++) {
    const t = X[xo + d] - C[co + d];
    s += t * t;
  }
  return s;
}

/** Nearest centroid by brute force (canonical distances, lowest index on ties). */
export function bruteNearest(X: ArrayLike<number>, rows: number, dims: number, C: ArrayLike<number>, k: number): { a: Int32Array; d2: Float64Array } {
  const a = new Int32Array(rows);
  const d2 = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = -1, bd = Infinity;
    for (let j = 0; j < k; j++) {
      const s = canonicalDist2(X, i * dims, C, j * dims, dims);
      if (s < bd) {
        bd = s;
        best = j;
      }
    }
    a[i] = best;
    d2[i] = bd;
  }
  return { a, d2 };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Bit-for-bit equality of two numeric arrays (fast for big arrays; reports the first difference). */
export function expectSameArray(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length).toBe(b.length);
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) {
      first = i;
      break;
    }
  }
  expect(first === -1 ? 'identical' : `first difference at ${first}: ${a[first]} vs ${b[first]}`).toBe('identical');
}

/** The best (lowest SSE) of `inits` seeded k-means fits on this thread (run i seeded runSeed(seed, i), as the driver does). */
export function bestOfInits(data: Float64Array | Float32Array, rows: number, dims: number, options: KMeansOptions, inits: number): KMeansResult {
  let best: KMeansResult | undefined;
  for (let run = 0; run < inits; run++) {
    const fit = kmeans(data, rows, dims, { ...options, seed: runSeed(options.seed ?? 0, run) });
    if (!best || fit.sse < best.sse) best = fit;
  }
  return best!;
}
