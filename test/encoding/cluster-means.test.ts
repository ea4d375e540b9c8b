import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterMeansInOriginalUnits, clusterSumsFromFileAsync } from '../../core/encoding/cluster-means';
import type { FittedTransform } from '../../schemas/model-files';

describe('cluster means in original units (profiles)', () => {
  // Two features: a 1–7 scale (mean 4, std 2) and a one-hot share (mean 0.2, std 0.4); 20,000 rows in 3 clusters.
  const rows = 20_000, cols = 2;
  const transform: FittedTransform = {
    version: 1,
    rows,
    features: [
      { name: 'SEMIO_KAEM', kind: 'numeric', fill: 4, mean: 4, std: 2, missing: 0, constant: false },
      { name: 'GEBAEUDETYP=1', kind: 'onehot', fill: 0, mean: 0.2, std: 0.4, missing: 0, constant: false },
    ],
    constantFeatures: [],
  };
  const original = new Float64Array(rows * cols);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    labels[i] = i % 3;
    original[i * 2] = labels[i] === 0 ? 7 : 1 + (i % 7);
    original[i * 2 + 1] = labels[i] === 0 ? 1 : i % 5 === 0 ? 1 : 0;
  }
  const standardised = Float32Array.from(original, (v, x) => (x % 2 === 0 ? (v - 4) / 2 : (v - 0.2) / 0.4));
  const dir = mkdtempSync(join(tmpdir(), 'cluster-means-'));
  const path = join(dir, 'population.matrix');
  writeFileSync(path, Buffer.from(standardised.buffer));

  it('streams the file and returns each cluster mean, within the observed range', async () => {
    const { sums, counts } = await clusterSumsFromFileAsync(path, rows, cols, labels, 3);
    expect(Array.from(counts)).toEqual([6667, 6667, 6666]);
    const means = clusterMeansInOriginalUnits(sums, counts, cols, transform);
    for (let c = 0; c < 3; c++) {
      let a = 0, b = 0, n = 0;
      for (let i = 0; i < rows; i++) if (labels[i] === c) { a += original[i * 2]; b += original[i * 2 + 1]; n++; }
      expect(means[c].original[0]).toBeCloseTo(a / n, 5);
      expect(means[c].original[1]).toBeCloseTo(b / n, 5);
      expect(means[c].original[0]).toBeGreaterThanOrEqual(1 - 1e-6);
      expect(means[c].original[0]).toBeLessThanOrEqual(7 + 1e-6);
      expect(means[c].original[1]).toBeGreaterThanOrEqual(-1e-6);
      expect(means[c].original[1]).toBeLessThanOrEqual(1 + 1e-6);
    }
    expect(means[0].original[0]).toBeCloseTo(7, 5);
  });

  it('names a wrong file size and a label beyond k', async () => {
    await expect(clusterSumsFromFileAsync(path, rows + 1, cols, new Int32Array(rows + 1), 3)).rejects.toThrow(/bytes, expected/);
    await expect(clusterSumsFromFileAsync(path, rows, cols, labels, 2)).rejects.toThrow(/not below k/);
  });
});
