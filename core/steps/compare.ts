/**
 * Step 5b, compare: each cluster's share among customers vs the population (lift with CI, two-proportion
 * test, verdict), and each centroid profiled in original features and named by a one-line persona.
 */
import { join } from 'node:path';
import { CentroidsFileSchema, FittedTransformSchema, PcaModelFileSchema } from '../../schemas/model-files';
import type { ClusterResult } from '../../schemas/results';
import type { CompareOutput, KFitOutput, MapOutput, PcaOutput, ScaleOutput } from '../../schemas/steps';
import { inverseProject } from '../linalg';
import { HEAVY_MISSING_PERSONA, persona } from '../stats/persona';
import { compareGroups, rankRepresentation } from '../stats/representation';
import { readJsonFile } from '../store/json';
import { profileOf } from './profile';
import type { Loaded } from './runtime';

export interface CompareUpstream {
  scale: Loaded<ScaleOutput>;
  pca: Loaded<PcaOutput>;
  final: Loaded<KFitOutput>;
  map: Loaded<MapOutput>;
}

export async function compareSegments({ scale, pca, final, map }: CompareUpstream, alpha: number): Promise<CompareOutput> {
  const transform = await readJsonFile(join(scale.dir, scale.output.transform), FittedTransformSchema);
  const model = await readJsonFile(join(pca.dir, pca.output.model), PcaModelFileSchema);
  const { k, centroids } = await readJsonFile(join(final.dir, final.output.centroids), CentroidsFileSchema);
  const cols = model.features.length;
  const standardised = inverseProject(centroids, model.keptComponents, model.mean, model.components, cols);
  const comparisons = compareGroups(map.output.counts, alpha);
  const clusters: ClusterResult[] = comparisons.map((c) => ({
    id: c.id,
    populationCount: c.populationCount,
    customerCount: c.customerCount,
    populationShare: c.populationShare,
    customerShare: c.customerShare,
    lift: c.lift,
    liftCi: c.liftCi,
    pValue: c.pValue,
    representation: c.representation,
    profile: c.id < 0 || c.id >= k ? [] : profileOf(standardised.subarray(c.id * cols, (c.id + 1) * cols), model.features, transform),
    // Who the segment is in plain words, from every feature's deviation (not only the profile's top 12).
    persona: c.id < 0 || c.id >= k ? HEAVY_MISSING_PERSONA : persona(model.features.map((feature, j) => ({ feature, zScore: standardised[c.id * cols + j] }))),
  }));
  const ranking = rankRepresentation(comparisons);
  return { clusters, overRepresented: ranking.over, underRepresented: ranking.under };
}
