/**
 * Month-to-month continuity: this run's clusters matched to the previous run's (Hungarian assignment on
 * centroid distances), so a segment keeps its identity across re-segmentations, with the drift in shares.
 * Centroids are compared in original encoded units standardised by *this* run's transform, on the features
 * both runs have.
 */
import type { FittedTransform } from '../schemas/model-files';
import type { ClusterMatch } from '../schemas/steps';
import { inverseProject } from './linalg/pca';
import { hungarian } from './linalg/hungarian';

export interface RunModel {
  features: string[];
  mean: number[];
  components: number[];
  keptComponents: number;
  transform: FittedTransform;
  centroids: number[];
  k: number;
}

export type { ClusterMatch } from '../schemas/steps';

/** Each centroid in original encoded units, keyed by feature name. */
export function centroidsByFeature(model: RunModel): Map<string, number>[] {
  const cols = model.features.length;
  const standardised = inverseProject(model.centroids, model.keptComponents, model.mean, model.components, cols);
  return Array.from({ length: model.k }, (_, c) => {
    const byName = new Map<string, number>();
    model.features.forEach((feature, j) => {
      const { mean, std } = model.transform.features[j];
      byName.set(feature, standardised[c * cols + j] * std + mean);
    });
    return byName;
  });
}

export function matchClusters(current: RunModel, previous: RunModel): ClusterMatch[] {
  const now = centroidsByFeature(current);
  const before = centroidsByFeature(previous);
  const scaleOf = new Map(current.transform.features.map((f) => [f.name, f.std]));
  const shared = current.features.filter((feature) => previous.features.includes(feature));
  if (shared.length === 0) return now.map((_, id) => ({ id, previousId: null, distance: null }));
  const cost = new Float64Array(current.k * previous.k);
  for (let i = 0; i < current.k; i++) {
    for (let j = 0; j < previous.k; j++) {
      let sum = 0;
      for (const feature of shared) {
        const d = (now[i].get(feature)! - before[j].get(feature)!) / scaleOf.get(feature)!;
        sum += d * d;
      }
      cost[i * previous.k + j] = Math.sqrt(sum);
    }
  }
  const { rowToCol } = hungarian(cost, current.k, previous.k);
  return Array.from({ length: current.k }, (_, id) => {
    const previousId = rowToCol[id] >= 0 ? rowToCol[id] : null;
    return { id, previousId, distance: previousId === null ? null : cost[id * previous.k + previousId] };
  });
}
