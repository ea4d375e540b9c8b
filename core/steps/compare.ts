/**
 * Step 5b, compare: each cluster's share among customers vs the population (lift with CI, two-proportion
 * test, verdict), and each cluster profiled in original features and named by a one-line persona.
 *
 * Verdicts come from the clean rows (core/stats/representation.ts compareSegmentViews): a cluster's share is of
 * its file's clusterable rows, which answers "which segments do customers come from" whatever the two files'
 * heavy-missing shares; the heavy-missing group keeps its share of all rows and its own lift. The all-row view
 * is kept beside it (`allRows`). Profiles are the members' own means (core/encoding/cluster-means.ts), so they
 * never leave a feature's observed range; the persona reads the same member means (standardised: population sd
 * units), over every feature rather than the profile's top 12.
 */
import { join } from 'node:path';
import { FittedTransformSchema, PcaModelFileSchema } from '../../schemas/model-files';
import type { ClusterResult } from '../../schemas/results';
import type { CompareOutput, KFitOutput, MapOutput, PcaOutput, ScaleOutput } from '../../schemas/steps';
import { clusterSumsFromFileAsync } from '../encoding/cluster-means';
import { HEAVY_MISSING_PERSONA, persona } from '../stats/persona';
import { compareSegmentViews, type GroupComparison, rankRepresentation } from '../stats/representation';
import { readInt32Array } from '../store/arrays';
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
  const k = final.output.k;
  const cols = model.features.length;
  if (!final.output.assignments) throw new Error('the final k-means checkpoint has no population assignments');
  const rows = scale.output.population.rows;
  const labels = await readInt32Array(join(final.dir, final.output.assignments), rows);
  const { sums, counts } = await clusterSumsFromFileAsync(join(scale.dir, scale.output.population.matrix), rows, cols, labels, k);
  const memberMeans = Array.from({ length: k }, (_, c) => Float64Array.from({ length: cols }, (_, j) => (counts[c] > 0 ? sums[c * cols + j] / counts[c] : 0)));
  const views = compareSegmentViews(map.output.counts, alpha);
  const allRows = new Map(views.allRows.map((c) => [c.id, c]));
  const clusters: ClusterResult[] = views.clean.map((c) => ({
    ...shareFields(c),
    allRows: shareFields(allRows.get(c.id)!),
    profile: c.id < 0 || c.id >= k ? [] : profileOf(memberMeans[c.id], model.features, transform),
    // Who the segment is in plain words, from every feature's deviation (not only the profile's top 12).
    persona: c.id < 0 || c.id >= k ? HEAVY_MISSING_PERSONA : persona(personaDeviations(memberMeans[c.id], model.features)),
  }));
  const ranking = rankRepresentation(views.clean);
  return { clusters, overRepresented: ranking.over, underRepresented: ranking.under };
}

function shareFields(c: GroupComparison) {
  const { id, populationCount, customerCount, populationShare, customerShare, lift, liftCi, pValue, representation } = c;
  return { id, populationCount, customerCount, populationShare, customerShare, lift, liftCi, pValue, representation };
}

/** A cluster's deviations for its persona: the members' mean of each standardised feature (population sd units). */
function personaDeviations(standardisedMean: Float64Array, features: string[]) {
  return features.map((feature, j) => ({ feature, zScore: standardisedMean[j] }));
}
