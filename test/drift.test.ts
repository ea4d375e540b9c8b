import { RunModel, centroidDistances, centroidsByFeature, matchSegments, warmStartCentroids, withSegmentIds } from '../core/drift';
import type { FittedTransform } from '../schemas/model-files';

/** A run over `features` with the given scaling and a PCA that is a rotation in the first two features. */
function model(options: { features: string[]; means: number[]; stds: number[]; angle: number; centroidsOriginal: number[][] }): RunModel {
  const { features, means, stds, angle } = options;
  const cols = features.length;
  const components: number[] = [];
  for (let p = 0; p < cols; p++) {
    for (let j = 0; j < cols; j++) {
      let v = p === j ? 1 : 0;
      if (p < 2 && j < 2) v = [[Math.cos(angle), Math.sin(angle)], [-Math.sin(angle), Math.cos(angle)]][p][j];
      components.push(v);
    }
  }
  const pcaMean = features.map((_, j) => 0.01 * j); // the standardised data's mean is ~0, not exactly
  const transform = {
    features: features.map((name, j) => ({ name, kind: 'ordinal', fill: means[j], mean: means[j], std: stds[j], missing: 0, constant: false })),
  } as unknown as FittedTransform;
  // Centroids given in original units → PCA scores.
  const centroids = options.centroidsOriginal.flatMap((x) => {
    const z = x.map((v, j) => (v - means[j]) / stds[j] - pcaMean[j]);
    return Array.from({ length: cols }, (_, p) => z.reduce((s, zj, j) => s + zj * components[p * cols + j], 0));
  });
  return { features, mean: pcaMean, components, keptComponents: cols, transform, centroids, k: options.centroidsOriginal.length };
}

const FEATURES = ['age', 'income', 'density', 'online'];

describe('drift: centroid distances and warm starts', () => {
  const previous = model({ features: FEATURES, means: [2, 3, 4, 1], stds: [1, 2, 1, 0.5], angle: 0.7, centroidsOriginal: [[3, 1, 4, 1], [1, 5, 5, 1.5]] });
  const current = model({ features: FEATURES, means: [2.1, 3, 3.9, 1.1], stds: [1, 2, 2, 0.5], angle: -0.3, centroidsOriginal: [[1, 5, 5, 1.5], [3, 1, 4, 1], [3, 1, 6, 2]] });

  it('takes centroids back to original units through each run’s own PCA and scaling', () => {
    const back = centroidsByFeature(previous);
    expect(FEATURES.map((f) => back[1].get(f)!)).toEqual([1, 5, 5, 1.5].map((v) => expect.closeTo(v, 10)));
  });

  it('measures RMS distances over the features, in this run’s population sd', () => {
    const { distances, sharedFeatures } = centroidDistances(current, previous);
    expect(sharedFeatures).toBe(4);
    // current 0 = previous 1, current 1 = previous 0 exactly; current 2 differs from previous 0 by density 2 (sd 2) and online 1 (sd 0.5).
    expect(distances[0 * 2 + 1]).toBeCloseTo(0, 10);
    expect(distances[1 * 2 + 0]).toBeCloseTo(0, 10);
    expect(distances[2 * 2 + 0]).toBeCloseTo(Math.sqrt((1 + 4) / 4), 10);
  });

  it('keeps the previous IDs of matching segments and numbers the rest after the previous nextId', () => {
    const identity = matchSegments(current, previous, [4, 2], 6, 0.25);
    expect(identity.segments.map((s) => [s.id, s.status])).toEqual([[2, 'continued'], [4, 'continued'], [6, 'new']]);
    expect(identity.nextId).toBe(7);
  });

  it('compares only the shared features; with none, everything is new and every previous segment gone', () => {
    const renamed = { ...previous, features: ['a', 'b', 'c', 'd'] };
    const identity = matchSegments(current, renamed, [0, 1], 2, 0.25);
    expect(identity.sharedFeatures).toBe(0);
    expect(identity.segments.map((s) => s.id)).toEqual([2, 3, 4]);
    expect(identity.gone.map((g) => g.id)).toEqual([0, 1]);
  });

  it('carries the previous centroids into this run’s PCA space for a warm start, only when the features are the same', () => {
    const warm = warmStartCentroids(previous, current)!;
    expect(warm.length).toBe(2 * 4);
    const carried = centroidsByFeature({ ...current, centroids: Array.from(warm), k: 2 });
    const original = centroidsByFeature(previous);
    for (let c = 0; c < 2; c++) for (const f of FEATURES) expect(carried[c].get(f)).toBeCloseTo(original[c].get(f)!, 10);
    expect(warmStartCentroids(previous, { ...current, features: ['age', 'income', 'density', 'offline'] })).toBeNull();
    expect(warmStartCentroids(previous, { ...current, features: FEATURES.slice(0, 3) })).toBeNull();
  });

  it('relabels clusters, verdict lists and each cluster’s all-row view with the stable IDs (heavy-missing stays −1)', () => {
    const view = (id: number) => ({ id, share: id });
    const comparison = {
      clusters: [-1, 0, 1].map((id) => ({ ...view(id), allRows: view(id) })),
      overRepresented: [1],
      underRepresented: [0],
    };
    const relabelled = withSegmentIds(comparison, [7, 3]);
    expect(relabelled.clusters.map((c) => [c.id, c.allRows.id, c.share])).toEqual([[-1, -1, -1], [3, 3, 1], [7, 7, 0]]);
    expect(relabelled).toMatchObject({ overRepresented: [3], underRepresented: [7] });
  });
});
