import { bestOfInits } from './helpers';
import { adjustedRandIndexOfLabels, medianAgreement, replicateAgreement, stabilityScore, SubsampleFit, worstAgreement } from '../../core/linalg/stability';
import { adjustedRandIndex } from '../../core/stats/agreement';
import { Prng } from '../../core/linalg/prng';

/** Well-separated spherical blobs in 5 dimensions. */
function blobs(rows: number, centres: number, seed: number): Float64Array {
  const rng = new Prng(seed);
  const dims = 5;
  const C = Array.from({ length: centres * dims }, () => rng.nextFloat() * 40);
  const X = new Float64Array(rows * dims);
  for (let i = 0; i < rows; i++) {
    const c = i % centres;
    for (let d = 0; d < dims; d++) X[i * dims + d] = C[c * dims + d] + (rng.nextFloat() + rng.nextFloat() + rng.nextFloat() - 1.5);
  }
  return X;
}

const fit: SubsampleFit = async (data, rows, dims, k, seed, inits) => bestOfInits(data, rows, dims, { k, seed }, inits);

describe('stability under resampling', () => {
  it('the table ARI equals the reference ARI', () => {
    const rng = new Prng(3);
    const a = Int32Array.from({ length: 5000 }, () => Math.floor(rng.nextFloat() * 4));
    const b = Int32Array.from(a, (x, i) => (i % 7 === 0 ? (x + 1) % 5 : x));
    expect(adjustedRandIndexOfLabels(a, b, 4, 5)).toBeCloseTo(adjustedRandIndex(a, b), 12);
  });

  it('the planted k is stable; splitting a blob is not', async () => {
    const data = blobs(8000, 4, 11);
    const options = { seed: 1, sampleRows: 3000, inits: 4, evaluationRows: 4000 };
    const at = async (k: number) =>
      stabilityScore(await Promise.all([0, 1, 2, 3, 4].map(async (replicate) => (await replicateAgreement(data, 8000, 5, { ...options, k, replicate }, fit)).ari)));
    const four = await at(4);
    const six = await at(6);
    expect(four).toBeGreaterThan(0.99);
    expect(six).toBeLessThan(four - 0.05);
  });

  it('is a pure function of (data, seed, k, replicate)', async () => {
    const data = blobs(3000, 3, 5);
    const options = { k: 3, seed: 9, replicate: 2, sampleRows: 1000, inits: 2, evaluationRows: 1500 };
    const a = await replicateAgreement(data, 3000, 5, options, fit);
    const b = await replicateAgreement(data, 3000, 5, options, fit);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ sampleRows: 1000, evaluationRows: 1500 });
  });

  it('the score is the median of the replicates; the worst one is reported beside it', () => {
    expect(stabilityScore([0.99, 0.5, 0.98])).toBe(0.98);
    expect(worstAgreement([0.99, 0.5, 0.98])).toBe(0.5);
    expect(medianAgreement([0.5, 0.99, 0.98])).toBe(0.98);
    expect(medianAgreement([0.5, 0.9, 0.98, 1])).toBeCloseTo(0.94, 12);
    expect(() => stabilityScore([])).toThrow();
    expect(() => medianAgreement([])).toThrow();
  });
});
