import {
  assignNearest,
  kmeans,
  KMeansCheckpoint,
  kmeansPlusPlus,
  KMeansResult,
  runSeed,
  sseOf,
} from '../../core/linalg/kmeans';
import { kmeansPlusPlusSampled, resolveAlgorithm, sampledInit, ELKAN_MAX_BOUND_BYTES } from '../../core/linalg/kmeans';
import { kmeansBestOf } from '../../core/parallel/kmeans-best-of';
import { INERT_RUNTIME } from '../../core/steps/runtime';
import { bruteNearest, expectSameArray, mixture, uniform } from './helpers';

function expectSameResult(a: KMeansResult, b: KMeansResult): void {
  expectSameArray(a.assignments, b.assignments);
  expectSameArray(a.centroids, b.centroids);
  expect(a.iterations).toBe(b.iterations);
  expect(a.sse).toBe(b.sse);
  expect(a.converged).toBe(b.converged);
}

describe('assignNearest', () => {
  it('equals brute force, lowest index on ties', () => {
    const rows = 500, dims = 7, k = 9;
    const X = uniform(rows, dims, 1);
    const C = new Float64Array(k * dims);
    for (let j = 0; j < k; j++) C.set(X.subarray(j * 3 * dims, (j * 3 + 1) * dims), j * dims);
    C.set(C.subarray(0, dims), 5 * dims); // centroid 5 duplicates centroid 0: rows must go to 0
    const got = assignNearest(X, rows, dims, C, k);
    const ref = bruteNearest(X, rows, dims, C, k);
    expectSameArray(got.assignments, ref.a);
    expectSameArray(got.distances, ref.d2);
    expect(got.assignments.includes(5)).toBe(false);
  });
});

describe('kmeansPlusPlus', () => {
  it('is deterministic for a seed, picks data rows, and differs across seeds', () => {
    const rows = 400, dims = 5, k = 6;
    const X = mixture(rows, dims, 6, 2);
    const a = kmeansPlusPlus(X, rows, dims, k, 42);
    const b = kmeansPlusPlus(X, rows, dims, k, 42);
    const c = kmeansPlusPlus(X, rows, dims, k, 43);
    expectSameArray(a, b);
    expect(Array.from(a)).not.toEqual(Array.from(c));
    for (let j = 0; j < k; j++) {
      const row = Array.from(a.subarray(j * dims, (j + 1) * dims));
      let found = false;
      for (let i = 0; i < rows && !found; i++) found = row.every((v, d) => v === X[i * dims + d]);
      expect(found).toBe(true);
    }
  });

  it('spreads centres over well-separated clusters', () => {
    const rows = 600, dims = 2, k = 3;
    const X = new Float64Array(rows * dims);
    for (let i = 0; i < rows; i++) {
      X[i * 2] = (i % 3) * 100 + (i % 7) * 0.01;
      X[i * 2 + 1] = (i % 5) * 0.01;
    }
    const C = kmeansPlusPlus(X, rows, dims, k, 1);
    const groups = new Set([0, 1, 2].map((j) => Math.round(C[j * 2] / 100)));
    expect(groups.size).toBe(3);
  });
});

describe('kmeans (Elkan, Hamerly) vs brute force and vs plain Lloyd', () => {
  const cases: [string, number, number, number, number][] = [
    ['mixture', 2000, 6, 7, 1],
    ['mixture', 1500, 13, 4, 2],
    ['uniform', 1200, 3, 9, 3],
    ['mixture', 800, 30, 20, 4],
    ['uniform', 300, 2, 1, 5],
  ];
  it.each(cases)('%s %i × %i, k=%i (seed %i)', (kind, rows, dims, k, seed) => {
    const X = kind === 'mixture' ? mixture(rows, dims, k + 2, seed, 2) : uniform(rows, dims, seed);
    const opts = { k, seed, maxIterations: 200, relativeTolerance: 0 };
    const h = kmeans(X, rows, dims, opts);
    const l = kmeans(X, rows, dims, { ...opts, algorithm: 'lloyd' });
    // the default (Elkan) and Hamerly prune differently but must not change a single bit either
    expectSameResult(kmeans(X, rows, dims, { ...opts, algorithm: 'hamerly' }), l);
    expectSameResult(kmeans(X, rows, dims, { ...opts, algorithm: 'elkan' }), h);
    // final assignments are the brute-force nearest centroids; SSE recomputed by brute force
    const ref = bruteNearest(X, rows, dims, h.centroids, k);
    expectSameArray(h.assignments, ref.a);
    const brute = sseOf(X, rows, dims, h.centroids, h.assignments);
    expect(Math.abs(h.sse - brute)).toBeLessThanOrEqual(1e-12 * brute);
    // Hamerly == Lloyd from the same init: bit-identical
    expectSameResult(h, l);
    expect(h.converged).toBe(true);
    // at convergence the centroids are the member means (up to the 2^-40 fixed-point grid)
    for (let j = 0; j < k; j++) {
      const mean = new Float64Array(dims);
      let n = 0;
      for (let i = 0; i < rows; i++) {
        if (h.assignments[i] !== j) continue;
        n++;
        for (let d = 0; d < dims; d++) mean[d] += X[i * dims + d];
      }
      expect(n).toBe(h.counts[j]);
      expect(n).toBeGreaterThan(0);
      for (let d = 0; d < dims; d++) expect(Math.abs(mean[d] / n - h.centroids[j * dims + d])).toBeLessThan(1e-9);
    }
  });

  it('SSE never increases and relativeTolerance stops early', () => {
    const rows = 3000, dims = 4, k = 12;
    const X = uniform(rows, dims, 9);
    const sses: number[] = [];
    const full = kmeans(X, rows, dims, { k, seed: 1, relativeTolerance: 0, maxIterations: 500, onIteration: (s) => { sses.push(s.sse); } });
    for (let i = 1; i < sses.length; i++) expect(sses[i]).toBeLessThanOrEqual(sses[i - 1] * (1 + 1e-12));
    const loose = kmeans(X, rows, dims, { k, seed: 1, relativeTolerance: 1e-2, maxIterations: 500 });
    expect(loose.iterations).toBeLessThan(full.iterations);
    expect(loose.converged).toBe(true);
    // the loose run stopped at the first iteration whose relative improvement fell below 1e-2
    const stop = sses.findIndex((s, i) => i > 0 && (sses[i - 1] - s) / sses[i - 1] < 1e-2);
    expect(loose.iterations).toBe(stop + 1);
    const capped = kmeans(X, rows, dims, { k, seed: 1, relativeTolerance: 0, maxIterations: 3 });
    expect(capped.iterations).toBe(3);
    expect(capped.converged).toBe(false);
  });

  it('keeps full precision for data far from the origin (fixed-point grid follows the spread)', () => {
    const X = Float64Array.from([0, 1, 2, 10, 11].map((v) => 1e9 + v));
    const r = kmeans(X, 5, 1, { k: 2, initialCentroids: [1e9, 1e9 + 11] });
    expect(Array.from(r.assignments)).toEqual([0, 0, 0, 1, 1]);
    expect(Math.abs(r.centroids[0] - (1e9 + 1))).toBeLessThan(1e-6);
    expect(Math.abs(r.centroids[1] - (1e9 + 10.5))).toBeLessThan(1e-6);
    expect(r.sse).toBeCloseTo(2.5, 5);
  });

  it('Float32 input gives the same result as the same values in Float64', () => {
    const rows = 700, dims = 5, k = 5;
    const X32 = Float32Array.from(mixture(rows, dims, 5, 8));
    const a = kmeans(X32, rows, dims, { k, seed: 3 });
    const b = kmeans(Float64Array.from(X32), rows, dims, { k, seed: 3 });
    expectSameResult(a, b);
  });
});

describe('seeding', () => {
  const rows = 1000, dims = 4, k = 5;
  const X = mixture(rows, dims, 8, 21);
  it('same seed, same result; another seed, another init', () => {
    expectSameResult(kmeans(X, rows, dims, { k, seed: 7 }), kmeans(X, rows, dims, { k, seed: 7 }));
    const firstA: number[][] = [], firstB: number[][] = [];
    kmeans(X, rows, dims, { k, seed: 7, maxIterations: 1, onIteration: (s) => { firstA.push(s.centroids); } });
    kmeans(X, rows, dims, { k, seed: 8, maxIterations: 1, onIteration: (s) => { firstB.push(s.centroids); } });
    expect(firstA[0]).not.toEqual(firstB[0]);
  });

  it('the best-of driver keeps the lowest SSE of the seeded runs, the earliest on ties', async () => {
    const singles = [0, 1, 2, 3].map((r) => kmeans(X, rows, dims, { k, seed: runSeed(100, r), relativeTolerance: 1e-6 }));
    const shared = new Float64Array(new SharedArrayBuffer(X.byteLength));
    shared.set(X);
    const best = await kmeansBestOf(shared, rows, dims, { k, seed: 100, maxIterations: 300, relativeTolerance: 1e-6, inits: 4 }, INERT_RUNTIME);
    const min = Math.min(...singles.map((s) => s.sse));
    const first = singles.findIndex((s) => s.sse === min);
    expect(best.bestRun).toBe(first);
    expect(best.bestRunSse).toBe(min);
    expect(best.sse).toBe(min);
    expect(Array.from(best.centroids)).toEqual(Array.from(singles[first].centroids));
    expect(Array.from(best.assignments)).toEqual(Array.from(singles[first].assignments));
    expect(runSeed(100, 0)).toBe(100);
  });
});

describe('empty clusters', () => {
  it('re-seeds at the farthest row, deterministically and identically in Elkan, Hamerly and Lloyd', () => {
    const rows = 400, dims = 3, k = 4;
    const X = mixture(rows, dims, 3, 31);
    const init = new Float64Array(k * dims);
    init.set(X.subarray(0, dims), 0);
    init.set(X.subarray(10 * dims, 11 * dims), dims);
    init.set(X.subarray(0, dims), 2 * dims); // duplicate of centroid 0: gets no rows
    init.set([1e4, 1e4, 1e4], 3 * dims); // far away: gets no rows
    let firstCentroids: number[] | null = null;
    const h = kmeans(X, rows, dims, { k, initialCentroids: init, relativeTolerance: 0 });
    const l = kmeans(X, rows, dims, { k, initialCentroids: init, relativeTolerance: 0, algorithm: 'lloyd' });
    expectSameResult(h, l);
    expectSameResult(kmeans(X, rows, dims, { k, initialCentroids: init, relativeTolerance: 0, algorithm: 'hamerly' }), l);
    expect(h.reseeds).toBeGreaterThanOrEqual(2);
    for (let j = 0; j < k; j++) expect(h.counts[j]).toBeGreaterThan(0);
    // after the first iteration, the re-seeded centroid 2 sits exactly on the row farthest from its centroid
    kmeans(X, rows, dims, {
      k, initialCentroids: init, maxIterations: 1,
      onIteration: (s) => { firstCentroids = s.centroids; },
    });
    const near = bruteNearest(X, rows, dims, init, k);
    let far = 0;
    for (let i = 1; i < rows; i++) if (near.d2[i] > near.d2[far]) far = i;
    const moved = firstCentroids!.slice(2 * dims, 3 * dims);
    moved.forEach((v, d) => expect(Math.abs(v - X[far * dims + d])).toBeLessThan(1e-9)); // fixed-point grid
  });
});

describe('checkpoint / resume', () => {
  it('resuming from a JSON checkpoint reproduces the uninterrupted run exactly', () => {
    const rows = 2500, dims = 6, k = 8;
    const X = mixture(rows, dims, 10, 77, 3);
    const opts = { k, seed: 5, relativeTolerance: 1e-7, maxIterations: 100 };
    const checkpoints: KMeansCheckpoint[] = [];
    const straight = kmeans(X, rows, dims, { ...opts, onIteration: (s) => { checkpoints.push(JSON.parse(JSON.stringify(s))); } });
    expect(straight.iterations).toBeGreaterThan(4);
    for (const at of [1, 3, straight.iterations - 1, straight.iterations]) {
      const resumed = kmeans(X, rows, dims, { ...opts, resumeFrom: checkpoints[at - 1] });
      expectSameResult(resumed, straight);
    }
    // a stop requested by the callback returns converged = false and a resumable state
    let last: KMeansCheckpoint | null = null;
    const stopped = kmeans(X, rows, dims, { ...opts, onIteration: (s) => { last = s; return s.iteration < 2; } });
    expect(stopped.iterations).toBe(2);
    expect(stopped.converged).toBe(false);
    expectSameResult(kmeans(X, rows, dims, { ...opts, resumeFrom: last! }), straight);
  });

  it('honours an aborted signal', () => {
    const X = uniform(100, 2, 1);
    const ac = new AbortController();
    ac.abort();
    expect(() => kmeans(X, 100, 2, { k: 3, signal: ac.signal })).toThrow();
  });

  it('validates its inputs', () => {
    const X = uniform(10, 2, 1);
    expect(() => kmeans(X, 10, 2, { k: 11 })).toThrow(RangeError);
    expect(() => kmeans(X, 10, 2, { k: 0 })).toThrow(RangeError);
    expect(() => kmeans(X, 10, 2, { k: 2, initialCentroids: [1, 2, 3] })).toThrow(RangeError);
    const bad = Float64Array.from(X);
    bad[5] = NaN;
    expect(() => kmeans(bad, 10, 2, { k: 2 })).toThrow(/non-finite/);
  });
});

describe('k-means++ on a sample', () => {
  it('draws from a seeded sample when the data have more rows, and from all rows otherwise', () => {
    const rows = 3000, dims = 4, k = 6;
    const X = mixture(rows, dims, 6, 12);
    expectSameArray(kmeansPlusPlusSampled(X, rows, dims, k, 9, rows), kmeansPlusPlus(X, rows, dims, k, 9));
    const a = kmeansPlusPlusSampled(X, rows, dims, k, 9, 500);
    expectSameArray(a, kmeansPlusPlusSampled(X, rows, dims, k, 9, 500));
    expect(Array.from(a)).not.toEqual(Array.from(kmeansPlusPlus(X, rows, dims, k, 9)));
    for (let j = 0; j < k; j++) {
      const row = Array.from(a.subarray(j * dims, (j + 1) * dims));
      let found = false;
      for (let i = 0; i < rows && !found; i++) found = row.every((v, d) => v === X[i * dims + d]);
      expect(found).toBe(true);
    }
    // kmeans starts from k-means on the sample, begun at those k-means++ centres
    const subsetInit = sampledInit(X, rows, dims, { k, seed: 9, initSample: 500 });
    const viaSample = kmeans(X, rows, dims, { k, seed: 9, initSample: 500 });
    expectSameResult(viaSample, kmeans(X, rows, dims, { k, initialCentroids: subsetInit }));
    expect(Array.from(subsetInit)).not.toEqual(Array.from(a));
    // without more rows than the sample: plain k-means++ on all rows
    expectSameArray(sampledInit(X, rows, dims, { k, seed: 9, initSample: rows }), kmeansPlusPlus(X, rows, dims, k, 9));
  });
});

describe('algorithm choice', () => {
  it('falls back from Elkan to Hamerly when the per-centroid bounds would not fit', () => {
    expect(resolveAlgorithm(undefined, 1000, 10)).toBe('elkan');
    const rows = Math.ceil(ELKAN_MAX_BOUND_BYTES / 4 / 20) + 1;
    expect(resolveAlgorithm(undefined, rows, 20)).toBe('hamerly');
    expect(resolveAlgorithm('lloyd', rows, 20)).toBe('lloyd');
  });
});
