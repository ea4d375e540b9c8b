import { sampleIndices } from '../../core/linalg/prng';
import { silhouetteSample } from '../../core/linalg/silhouette';
import { mixture } from './helpers';

/** Textbook silhouette over all given rows (O(n²), separate loops for a and b). */
function bruteSilhouette(X: ArrayLike<number>, n: number, dims: number, labels: ArrayLike<number>): number {
  const dist = (i: number, j: number): number => {
    let s = 0;
    for (let d = 0; d < dims; d++) s += (X[i * dims + d] - X[j * dims + d]) ** 2;
    return Math.sqrt(s);
  };
  const clusters = [...new Set(Array.from(labels))];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const own = [...Array(n).keys()].filter((j) => j !== i && labels[j] === labels[i]);
    if (own.length === 0) continue; // s = 0
    const a = own.reduce((s, j) => s + dist(i, j), 0) / own.length;
    let b = Infinity;
    for (const c of clusters) {
      if (c === labels[i]) continue;
      const members = [...Array(n).keys()].filter((j) => labels[j] === c);
      b = Math.min(b, members.reduce((s, j) => s + dist(i, j), 0) / members.length);
    }
    total += (b - a) / Math.max(a, b);
  }
  return total / n;
}

describe('silhouetteSample', () => {
  it('equals the brute-force formula when the sample is the whole data (incl. a singleton cluster)', () => {
    const rows = 60, dims = 3;
    const X = mixture(rows, dims, 3, 4);
    const labels = Int32Array.from({ length: rows }, (_, i) => i % 3);
    labels[7] = 3; // singleton cluster → s = 0
    const res = silhouetteSample(X, rows, dims, labels, 5, { sampleSize: 1000 });
    expect(res.sampleSize).toBe(rows);
    expect(Math.abs(res.score - bruteSilhouette(X, rows, dims, labels))).toBeLessThan(1e-12);
    expect(Number.isNaN(res.perCluster[4])).toBe(true);
    expect(res.perCluster[3]).toBe(0);
  });

  it('on a seeded sample equals brute force over exactly the sampled rows, and is deterministic', () => {
    const rows = 3000, dims = 4, k = 4;
    const X = mixture(rows, dims, k, 9, 1.5);
    const labels = new Int32Array(rows);
    // label by nearest of the first k rows: a sensible clustering
    for (let i = 0; i < rows; i++) {
      let best = 0, bd = Infinity;
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let d = 0; d < dims; d++) s += (X[i * dims + d] - X[j * dims + d]) ** 2;
        if (s < bd) { bd = s; best = j; }
      }
      labels[i] = best;
    }
    const res = silhouetteSample(X, rows, dims, labels, k, { sampleSize: 150, seed: 3 });
    const idx = sampleIndices(rows, 150, 3);
    const Xs = new Float64Array(150 * dims);
    const Ls = new Int32Array(150);
    idx.forEach((r, s) => { Xs.set(X.subarray(r * dims, (r + 1) * dims), s * dims); Ls[s] = labels[r]; });
    expect(Math.abs(res.score - bruteSilhouette(Xs, 150, dims, Ls))).toBeLessThan(1e-12);
    expect(silhouetteSample(X, rows, dims, labels, k, { sampleSize: 150, seed: 3 }).score).toBe(res.score);
    expect(silhouetteSample(X, rows, dims, labels, k, { sampleSize: 150, seed: 4 }).score).not.toBe(res.score);
  });

  it('is high for well-separated clusters and rejects a single cluster', () => {
    const rows = 100, dims = 2;
    const X = new Float64Array(rows * dims);
    const labels = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      labels[i] = i % 2;
      X[i * 2] = labels[i] * 100 + (i % 5) * 0.1;
      X[i * 2 + 1] = (i % 3) * 0.1;
    }
    expect(silhouetteSample(X, rows, dims, labels, 2).score).toBeGreaterThan(0.99);
    expect(() => silhouetteSample(X, rows, dims, new Int32Array(rows), 2)).toThrow(/fewer than 2 clusters/);
    expect(() => silhouetteSample(X, rows, dims, labels.map(() => 5), 2)).toThrow(RangeError);
  });
});

describe('sampleIndices', () => {
  it('draws distinct sorted indices, all rows when m ≥ n', () => {
    const s = sampleIndices(1000, 100, 1);
    expect(new Set(s).size).toBe(100);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThan(s[i - 1]);
    expect(Array.from(sampleIndices(5, 10, 1))).toEqual([0, 1, 2, 3, 4]);
  });
});
