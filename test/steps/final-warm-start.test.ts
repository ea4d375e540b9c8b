/**
 * The final fit's warm start (config continuity.keepPreviousK): one more k-means run from the previous run's
 * centroids, kept when its SSE is within the tolerance of the best seeded init's; absent without a warm start.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '../../core/linalg';
import { fitFinalKMeans, KMeansSettings } from '../../core/steps/kmeans';
import { INERT_RUNTIME, Loaded } from '../../core/steps/runtime';
import { writeTypedArray } from '../../core/store/arrays';
import { CentroidsFileSchema, MODEL_FILES } from '../../schemas/model-files';
import type { PcaOutput } from '../../schemas/steps';

const ROWS = 12_000;
const DIMS = 5;
const K = 4;

/** Four well-separated blobs, rows interleaved, as float32 PCA scores. */
function blobs(seed: number): { data: Float32Array; centres: number[] } {
  const rng = new Prng(seed);
  const centres = Array.from({ length: K * DIMS }, () => rng.nextFloat() * 40 - 20);
  const data = new Float32Array(ROWS * DIMS);
  for (let i = 0; i < ROWS; i++) {
    for (let d = 0; d < DIMS; d++) data[i * DIMS + d] = centres[(i % K) * DIMS + d] + (rng.nextFloat() - 0.5) * 4;
  }
  return { data, centres };
}

let root: string;
let pca: Loaded<PcaOutput>;
let centres: number[];
const SETTINGS: KMeansSettings = { k: K, seed: 3, maxIterations: 100, relativeTolerance: 1e-6, inits: 2, initCandidates: 1 };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'segments-warm-'));
  const made = blobs(5);
  centres = made.centres;
  await writeTypedArray(join(root, 'population.scores'), made.data);
  pca = { dir: root, output: { keptComponents: DIMS, population: { rows: ROWS, scores: 'population.scores' } } as unknown as PcaOutput };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function fit(name: string, warm?: Parameters<typeof fitFinalKMeans>[5]) {
  const workDir = mkdtempSync(join(root, `${name}-`));
  return fitFinalKMeans(pca, SETTINGS, undefined, workDir, INERT_RUNTIME, warm).then((output) => ({
    output,
    centroids: CentroidsFileSchema.parse(JSON.parse(readFileSync(join(workDir, MODEL_FILES.centroids), 'utf8'))).centroids,
  }));
}

test('without a warm start the output says nothing about one', async () => {
  const { output } = await fit('cold');
  expect(output.warmStart).toBeUndefined();
});

test('a warm start from last month\'s centroids (in another order) is kept and its centroids keep that order', async () => {
  const cold = await fit('cold');
  // Last month's segments: the planted centres, listed in reverse, nudged a little.
  const order = [3, 2, 1, 0];
  const previous = Float64Array.from(order.flatMap((c) => centres.slice(c * DIMS, (c + 1) * DIMS).map((v) => v + 0.3)));
  const warm = await fit('warm', { centroids: previous, tolerance: 0.005 });
  expect(warm.output.warmStart).toBe('kept');
  expect(warm.output.sse).toBeLessThanOrEqual(cold.output.sse * 1.005);
  // Centroid c of the warm fit is (near) last month's centroid c: the order, and so the IDs, carry over.
  for (let c = 0; c < K; c++) {
    for (let d = 0; d < DIMS; d++) expect(Math.abs(warm.centroids[c * DIMS + d] - centres[order[c] * DIMS + d])).toBeLessThan(0.2);
  }
});

test('no previous centroids to carry over (the data changed shape): unavailable, the seeded fit stands', async () => {
  const cold = await fit('cold');
  const none = await fit('none', { centroids: null, tolerance: 0.005 });
  expect(none.output.warmStart).toBe('unavailable');
  expect(none.output.sse).toBe(cold.output.sse);
  expect(none.centroids).toEqual(cold.centroids);
});

test('a warm start stuck in a worse local optimum is not kept: the seeded fit stands', async () => {
  const cold = await fit('cold');
  const at = (c: number, d: number) => centres[c * DIMS + d];
  // Blob 0 split in two, blobs 1 and 2 under one centroid at their midpoint, blob 3 on its own: Lloyd stays there.
  const stuck = Float64Array.from([
    ...Array.from({ length: DIMS }, (_, d) => at(0, d) + (d === 0 ? 0.8 : 0)),
    ...Array.from({ length: DIMS }, (_, d) => at(0, d) - (d === 0 ? 0.8 : 0)),
    ...Array.from({ length: DIMS }, (_, d) => (at(1, d) + at(2, d)) / 2),
    ...Array.from({ length: DIMS }, (_, d) => at(3, d)),
  ]);
  const warm = await fit('stuck', { centroids: stuck, tolerance: 0.005 });
  expect(warm.output.warmStart).toBe('not-kept');
  expect(warm.output.sse).toBe(cold.output.sse);
  expect(warm.centroids).toEqual(cold.centroids);
});
