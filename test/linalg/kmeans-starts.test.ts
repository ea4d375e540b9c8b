import { kmeans, sampledInit } from '../../core/linalg/kmeans';
import { bestOfInits, mixture } from './helpers';

describe('k-means starts: the best of several sample fits carried to the full data', () => {
  const rows = 6000, dims = 6, k = 12;
  const data = mixture(rows, dims, 12, 3, 0.6);

  it('candidate 0 is the plain init; more candidates never start from a worse sample fit, and are seeded (repeatable)', () => {
    const base = { k, seed: 5, initSample: 1500 };
    expect(Array.from(sampledInit(data, rows, dims, { ...base, initCandidates: 1 }))).toEqual(Array.from(sampledInit(data, rows, dims, base)));
    const one = kmeans(data, rows, dims, { ...base, initCandidates: 1 });
    const eight = kmeans(data, rows, dims, { ...base, initCandidates: 8 });
    expect(eight.sse).toBeLessThanOrEqual(one.sse * (1 + 1e-9));
    expect(kmeans(data, rows, dims, { ...base, initCandidates: 8 }).sse).toBe(eight.sse);
  });

  it('with no more rows than the sample, candidates are full k-means fits (best kept)', () => {
    const fits = [1, 2, 3, 4].map((c) => kmeans(data, rows, dims, { k, seed: 9, initCandidates: c }).sse);
    for (let i = 1; i < fits.length; i++) expect(fits[i]).toBeLessThanOrEqual(fits[i - 1] * (1 + 1e-9));
    const best = bestOfInits(data, rows, dims, { k, seed: 9, initCandidates: 4 }, 3);
    expect(best.sse).toBeLessThanOrEqual(fits[3] * (1 + 1e-9));
  });

  it('rejects a bad candidate count', () => {
    expect(() => kmeans(data, rows, dims, { k, initCandidates: 0 })).toThrow(/initCandidates/);
  });
});
