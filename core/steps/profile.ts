/** A cluster's profile: the features where its centroid sits furthest from the population mean, in original units. */
import type { FittedTransform } from '../../schemas/model-files';
import type { ClusterResult } from '../../schemas/results';
import { inverseScale } from '../encoding';
import { describeDeviation } from '../stats/describe';

/** Features listed per cluster profile. */
export const PROFILE_FEATURES = 12;

/** `standardised`: the centroid in standardised features (inverse-projected from PCA space). */
export function profileOf(standardised: ArrayLike<number>, features: string[], transform: FittedTransform): ClusterResult['profile'] {
  const original = inverseScale(standardised, transform);
  return features
    .map((feature, j) => ({ feature, value: original[j], populationMean: transform.features[j].mean, zScore: standardised[j] }))
    .sort((a, b) => Math.abs(b.zScore) - Math.abs(a.zScore))
    .slice(0, PROFILE_FEATURES)
    .map((p) => ({ ...p, description: describeDeviation(p.feature, p.value, p.populationMean, p.zScore) }));
}
