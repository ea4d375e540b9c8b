/**
 * Step 5c, drift: this run's clusters matched to a previous run's (e.g. last month's), so segment identities
 * can be followed over time, and how each segment's shares moved. No previous run → nothing to match.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CentroidsFileSchema, FittedTransformSchema, MODEL_FILES, PcaModelFileSchema } from '../../schemas/model-files';
import { ResultsSchema } from '../../schemas/results';
import type { CompareOutput, DriftOutput, KFitOutput, PcaOutput, ScaleOutput } from '../../schemas/steps';
import { matchClusters, RunModel } from '../drift';
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

export async function compareWithPreviousRun({ scale, pca, final, compare }: DriftUpstream, previousDir: string | undefined): Promise<DriftOutput> {
  if (!previousDir) return { previousCreatedAt: null, matches: [] };
  const previousResults = await readJsonFile(join(previousDir, RESULTS_FILE), ResultsSchema);
  const current = await runModel(join(pca.dir, pca.output.model), join(scale.dir, scale.output.transform), join(final.dir, final.output.centroids));
  const modelDir = join(previousDir, 'model');
  const previous = await runModel(join(modelDir, MODEL_FILES.pca), join(modelDir, MODEL_FILES.transform), join(modelDir, MODEL_FILES.centroids));
  const matches = [...matchClusters(current, previous), { id: -1, previousId: -1, distance: null }];
  return {
    previousCreatedAt: previousResults.createdAt,
    matches: matches.map((match) => {
      const now = compare.output.clusters.find((c) => c.id === match.id);
      const before = previousResults.clusters.find((c) => c.id === match.previousId);
      return {
        ...match,
        populationShareChange: now && before ? now.populationShare - before.populationShare : null,
        customerShareChange: now && before ? now.customerShare - before.customerShare : null,
        previousLift: before ? before.lift : null,
      };
    }),
  };
}

/** A run's fitted PCA, transform and centroids, as the cluster matching reads them. */
async function runModel(pcaPath: string, transformPath: string, centroidsPath: string): Promise<RunModel> {
  const pcaFile = await readJsonFile(pcaPath, PcaModelFileSchema);
  const { k, centroids } = await readJsonFile(centroidsPath, CentroidsFileSchema);
  return { ...pcaFile, transform: await readJsonFile(transformPath, FittedTransformSchema), k, centroids };
}
