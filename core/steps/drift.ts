/**
 * Step 5c, drift: stable segment IDs. This run's clusters matched to a previous run's segments (e.g. last
 * month's): within config continuity.maxDistance a cluster keeps the previous ID, otherwise it is a new segment
 * (an ID never used before); previous segments nothing continues are gone; with the share changes of each.
 * No previous run: IDs 0..k-1 in fit order.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CentroidsFileSchema, FittedTransformSchema, MODEL_FILES, PcaModelFileSchema } from '../../schemas/model-files';
import type { Continuity } from '../../schemas/results';
import { ResultsSchema } from '../../schemas/results';
import type { CompareOutput, DriftOutput, KFitOutput, PcaOutput, PreviousRunReport, ScaleOutput } from '../../schemas/steps';
import { continuityOf, matchSegments, publishedSegmentIds, RunModel, warmStartCentroids } from '../drift';
import { firstRunIdentity } from '../segment-identity';
import { readJsonFile } from '../store/json';
import { sha256File } from '../store/step-store';
import type { Loaded } from './runtime';

const RESULTS_FILE = 'results.json';

/** The previous run's output folder and the hash of its results (part of the drift step's key), if it has results. */
export async function findPreviousRun(previousOutDir: string | undefined): Promise<{ dir: string; resultsHash: string } | undefined> {
  if (!previousOutDir || !existsSync(join(previousOutDir, RESULTS_FILE))) return undefined;
  return { dir: previousOutDir, resultsHash: await sha256File(join(previousOutDir, RESULTS_FILE)) };
}

export interface DriftUpstream {
  scale: Loaded<ScaleOutput>;
  pca: Loaded<PcaOutput>;
  final: Loaded<KFitOutput>;
  compare: Loaded<CompareOutput>;
}

export interface DriftSettings {
  /** config continuity.maxDistance: RMS centroid distance (population sd) within which a segment continues. */
  maxDistance: number;
  /** Whether the run took k from the previous run (config continuity.keepPreviousK, decided by the workflow). */
  kFromPrevious: boolean;
}

export async function compareWithPreviousRun(up: DriftUpstream, previousDir: string | undefined, settings: DriftSettings): Promise<DriftOutput> {
  const { scale, pca, final, compare } = up;
  const current = await runModel(join(pca.dir, pca.output.model), join(scale.dir, scale.output.transform), join(final.dir, final.output.centroids));
  if (!previousDir) return { previousCreatedAt: null, identity: firstRunIdentity(current.k), continuity: null };
  const previousResults = await readJsonFile(join(previousDir, RESULTS_FILE), ResultsSchema);
  const previous = await previousRunModel(previousDir);
  const previousIds = publishedSegmentIds(previousResults);
  const identity = matchSegments(current, previous, previousIds.byCentroid, previousIds.nextId, settings.maxDistance);
  const warmStart: Continuity['warmStart'] = final.output.warmStart ?? 'off';
  const continuity = continuityOf({ identity, clusters: compare.output.clusters, previous: previousResults, kFromPrevious: settings.kFromPrevious, warmStart });
  const { segments, gone, nextId, maxDistance } = identity;
  return { previousCreatedAt: previousResults.createdAt, identity: { segments, gone, nextId, maxDistance }, continuity };
}

/** A published run's fitted PCA, transform and centroids (its `model/` folder), as the matching reads them. */
export async function previousRunModel(previousDir: string): Promise<RunModel> {
  const modelDir = join(previousDir, 'model');
  return runModel(join(modelDir, MODEL_FILES.pca), join(modelDir, MODEL_FILES.transform), join(modelDir, MODEL_FILES.centroids));
}

/** A run's fitted PCA, transform and centroids, as the cluster matching reads them. */
export async function runModel(pcaPath: string, transformPath: string, centroidsPath: string): Promise<RunModel> {
  const pcaFile = await readJsonFile(pcaPath, PcaModelFileSchema);
  const { k, centroids } = await readJsonFile(centroidsPath, CentroidsFileSchema);
  return { ...pcaFile, transform: await readJsonFile(transformPath, FittedTransformSchema), k, centroids };
}

/**
 * What the workflow needs of the previous run before it picks k (config continuity.keepPreviousK): its k, and
 * whether this run's encoded features are the same as its (so its centroids can be carried over).
 */
export async function inspectPreviousRun(previousDir: string, scale: Loaded<ScaleOutput>): Promise<PreviousRunReport> {
  const previous = await findPreviousRun(previousDir);
  if (!previous) return { found: false, k: 0, sameShape: false };
  const model = await previousRunModel(previous.dir);
  const features = scale.output.features;
  const sameShape = model.features.length === features.length && model.features.every((feature, j) => feature === features[j]);
  return { found: true, k: model.k, sameShape };
}

/**
 * The previous run's centroids in this run's PCA space, for the final fit's warm start; null when the data
 * changed shape (other encoded features) or the previous run has another k.
 */
export async function previousCentroidsHere(previousDir: string, scale: Loaded<ScaleOutput>, pca: Loaded<PcaOutput>, k: number): Promise<Float64Array | null> {
  const previous = await previousRunModel(previousDir);
  if (previous.k !== k) return null;
  const here = await fittedSpace(join(pca.dir, pca.output.model), join(scale.dir, scale.output.transform));
  return warmStartCentroids(previous, here);
}

/** A run's PCA and scaling without its centroids: the space a warm start's centroids are carried into. */
async function fittedSpace(pcaPath: string, transformPath: string): Promise<Omit<RunModel, 'centroids' | 'k'>> {
  const pcaFile = await readJsonFile(pcaPath, PcaModelFileSchema);
  return { ...pcaFile, transform: await readJsonFile(transformPath, FittedTransformSchema) };
}
