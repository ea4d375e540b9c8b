/**
 * Month-to-month continuity: this run's clusters compared with the previous run's segments, so a segment keeps its
 * identity (core/segment-identity.ts) across re-segmentations, with the drift in shares.
 *
 * Centroids are compared in original encoded units standardised by *this* run's transform, on the features both
 * runs have: the distance is the root-mean-square difference over those features, in population standard
 * deviations.
 */
import type { FittedTransform } from '../schemas/model-files';
import { inverseProject } from './linalg/pca';
import type { ClusterResult, Continuity } from '../schemas/results';
import type { SegmentIdentity } from '../schemas/steps';
import { assignSegmentIds } from './segment-identity';

/** The heavy-missing group's ID in every run (its rows are not clustered). */
const HEAVY_MISSING_ID = -1;

export interface RunModel {
  features: string[];
  mean: number[];
  components: number[];
  keptComponents: number;
  transform: FittedTransform;
  centroids: number[];
  k: number;
}

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

/**
 * Distances between this run's centroids (rows) and the previous run's (columns), row-major: RMS over the shared
 * features of the difference in this run's population sd. `sharedFeatures` = 0 means nothing can be compared.
 */
export function centroidDistances(current: RunModel, previous: RunModel): { distances: Float64Array; sharedFeatures: number } {
  const now = centroidsByFeature(current);
  const before = centroidsByFeature(previous);
  const previousFeatures = new Set(previous.features);
  const shared = current.features
    .map((feature, j) => ({ feature, std: current.transform.features[j].std }))
    .filter(({ feature }) => previousFeatures.has(feature));
  const distances = new Float64Array(current.k * previous.k);
  if (shared.length === 0) return { distances, sharedFeatures: 0 };
  for (let i = 0; i < current.k; i++) {
    for (let j = 0; j < previous.k; j++) {
      let sum = 0;
      for (const { feature, std } of shared) {
        const d = (now[i].get(feature)! - before[j].get(feature)!) / std;
        sum += d * d;
      }
      distances[i * previous.k + j] = Math.sqrt(sum / shared.length);
    }
  }
  return { distances, sharedFeatures: shared.length };
}

/**
 * Stable segment IDs for this run: continued where a previous segment is within `maxDistance`, new otherwise.
 * `previousIds[c]` is the ID of the previous run's centroid c. Without shared features nothing continues.
 */
export function matchSegments(
  current: RunModel,
  previous: RunModel,
  previousIds: readonly number[],
  previousNextId: number | undefined,
  maxDistance: number,
): SegmentIdentity & { sharedFeatures: number } {
  if (previousIds.length !== previous.k) throw new RangeError(`the previous run has ${previous.k} centroids but ${previousIds.length} segment IDs`);
  const { distances, sharedFeatures } = centroidDistances(current, previous);
  if (sharedFeatures === 0) {
    // Nothing comparable: every cluster is new, every previous segment gone.
    const identity = assignSegmentIds({ distances: new Float64Array(0), k: current.k, previousIds: [], previousNextId: Math.max(previousNextId ?? 0, ...previousIds.map((id) => id + 1)), maxDistance });
    return { ...identity, gone: [...previousIds].sort((a, b) => a - b).map((id) => ({ id, nearestDistance: null })), sharedFeatures };
  }
  return { ...assignSegmentIds({ distances, k: current.k, previousIds, previousNextId, maxDistance }), sharedFeatures };
}

/**
 * The previous run's centroids carried into this run's PCA space (for a warm start), or null when the encoded
 * features differ (the data changed shape: another column set or other one-hot levels). Each previous centroid is
 * taken back to original encoded units through the previous run's PCA and scaling, standardised with this run's
 * scaling and projected onto this run's components: k × keptComponents, row-major.
 */
export function warmStartCentroids(
  previous: RunModel,
  current: Pick<RunModel, 'features' | 'mean' | 'components' | 'keptComponents' | 'transform'>,
): Float64Array | null {
  const cols = current.features.length;
  if (previous.features.length !== cols || previous.features.some((feature, j) => feature !== current.features[j])) return null;
  const original = centroidsByFeature(previous);
  const q = current.keptComponents;
  const out = new Float64Array(previous.k * q);
  for (let c = 0; c < previous.k; c++) {
    const centred = current.features.map((feature, j) => {
      const { mean, std } = current.transform.features[j];
      return (original[c].get(feature)! - mean) / std - current.mean[j];
    });
    for (let p = 0; p < q; p++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += centred[j] * current.components[p * cols + j];
      out[c * q + p] = s;
    }
  }
  return out;
}

// ---- what a run reports about continuity --------------------------------------------------------------------------

/** What continuity needs of a run's published results (results.json). */
export interface PublishedRun {
  createdAt: string;
  k: number;
  clusters: ReadonlyArray<Pick<ClusterResult, 'id' | 'populationShare' | 'customerShare' | 'lift' | 'persona'>>;
  segmentIds?: { byCentroid: number[]; nextId: number };
}

/** The stable IDs of a published run's centroids and its next free ID (runs before stable IDs: the centroid indices). */
export function publishedSegmentIds(run: Pick<PublishedRun, 'k' | 'segmentIds'>): { byCentroid: number[]; nextId: number } {
  return run.segmentIds ?? { byCentroid: Array.from({ length: run.k }, (_, c) => c), nextId: run.k };
}

/**
 * results.json's `continuity` (but the previous folder, which the report step adds) from this run's identity and
 * clusters (ids = centroid indices, −1 the heavy-missing group) and the previous run's published results. Share changes: now minus before, a new segment counting as 0
 * before; the heavy-missing group always continues itself.
 */
export function continuityOf(options: {
  identity: SegmentIdentity;
  clusters: ReadonlyArray<Pick<ClusterResult, 'id' | 'populationShare' | 'customerShare'>>;
  previous: PublishedRun;
  kFromPrevious: boolean;
  warmStart: Continuity['warmStart'];
}): Omit<Continuity, 'previousOutDir'> {
  const { identity, clusters, previous } = options;
  const before = new Map(previous.clusters.map((c) => [c.id, c]));
  const now = new Map(clusters.map((c) => [c.id, c]));
  const entry = (index: number, id: number, status: 'continued' | 'new', previousId: number | null, distance: number | null) => {
    const cluster = now.get(index);
    if (!cluster) throw new Error(`no cluster ${index} in this run's comparison`);
    const old = previousId === null ? undefined : before.get(previousId);
    return {
      id,
      status,
      previousId,
      distance,
      populationShareChange: cluster.populationShare - (old?.populationShare ?? 0),
      customerShareChange: cluster.customerShare - (old?.customerShare ?? 0),
      previousLift: old ? old.lift : null,
    };
  };
  const segments = identity.segments.map((s) => entry(s.index, s.id, s.status, s.previousId, s.distance));
  if (now.has(HEAVY_MISSING_ID)) segments.push(entry(HEAVY_MISSING_ID, HEAVY_MISSING_ID, 'continued', HEAVY_MISSING_ID, null));
  return {
    previousCreatedAt: previous.createdAt,
    maxDistance: identity.maxDistance ?? 0,
    kFromPrevious: options.kFromPrevious,
    warmStart: options.warmStart,
    segments,
    gone: identity.gone.map((g) => {
      const old = before.get(g.id);
      return {
        id: g.id,
        nearestDistance: g.nearestDistance,
        previousPopulationShare: old?.populationShare ?? 0,
        previousCustomerShare: old?.customerShare ?? 0,
        previousLift: old?.lift ?? 0,
        previousPersona: old?.persona ?? '',
      };
    }),
  };
}

/**
 * A run's clusters and verdict lists with centroid indices replaced by stable IDs (the heavy-missing group keeps
 * −1), ordered by ID; a cluster's all-row view (`allRows`) is relabelled with it.
 */
export function withSegmentIds<C extends { id: number; allRows?: { id: number } }>(
  comparison: { clusters: C[]; overRepresented: number[]; underRepresented: number[] },
  byCentroid: readonly number[],
): { clusters: C[]; overRepresented: number[]; underRepresented: number[] } {
  const idOf = (index: number): number => {
    if (index === HEAVY_MISSING_ID) return index;
    const id = byCentroid[index];
    if (id === undefined) throw new RangeError(`cluster ${index} has no segment ID (${byCentroid.length} centroids)`);
    return id;
  };
  return {
    clusters: comparison.clusters.map((c) => ({ ...c, id: idOf(c.id), ...(c.allRows ? { allRows: { ...c.allRows, id: idOf(c.allRows.id) } } : {}) })).sort((a, b) => a.id - b.id),
    overRepresented: comparison.overRepresented.map(idOf),
    underRepresented: comparison.underRepresented.map(idOf),
  };
}
