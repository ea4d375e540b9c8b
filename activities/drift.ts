import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ClusterMatch, RunModel, matchClusters } from '../core/drift';
import type { FittedTransform } from '../core/encoding';
import { MODEL_FILES } from '../core/scoring';
import { sha256File } from '../core/store/step-store';
import { ResultsSchema } from '../schemas/results';
import { RunContextSchema, StepRefSchema, StepReport } from '../schemas/steps';
import { parse } from './cleaning';
import type { CompareOutput, KFitOutput, PcaModelFile, PcaOutput, ScaleOutput } from './modelling';
import { checkpointedStep, loadStep } from './step';

export interface DriftOutput {
  previousOutDir: string | null;
  previousCreatedAt: string | null;
  matches: (ClusterMatch & { populationShareChange: number | null; customerShareChange: number | null; previousLift: number | null })[];
}

const DriftInputSchema = RunContextSchema.extend({
  previousOutDir: z.string().optional(),
  scale: StepRefSchema,
  pca: StepRefSchema,
  final: StepRefSchema,
  compare: StepRefSchema,
});

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/**
 * Step 5c: this run's clusters matched to the previous run's (e.g. last month's), so segment identities can be
 * followed over time, and how each segment's shares moved. No previous run → nothing to match.
 */
export async function compareWithPreviousRun(rawInput: unknown): Promise<StepReport> {
  const input = parse(DriftInputSchema, rawInput);
  const previousDir = input.previousOutDir && existsSync(join(input.previousOutDir, 'results.json')) ? input.previousOutDir : undefined;
  const previousHash = previousDir ? await sha256File(join(previousDir, 'results.json')) : null;
  const scale = await loadStep<ScaleOutput>(input.scale);
  const pca = await loadStep<PcaOutput>(input.pca);
  const final = await loadStep<KFitOutput>(input.final);
  const compare = await loadStep<CompareOutput>(input.compare);
  const { ref, output } = await checkpointedStep<DriftOutput>(
    input.storeDir,
    'drift',
    { compare: input.compare.key, final: input.final.key, previous: previousHash },
    async () => {
      if (!previousDir) return { previousOutDir: null, previousCreatedAt: null, matches: [] };
      const previousResults = ResultsSchema.parse(await readJson(join(previousDir, 'results.json')));
      const model = async (pcaPath: string, transformPath: string, centroidsPath: string): Promise<RunModel> => {
        const pcaFile = await readJson<PcaModelFile>(pcaPath);
        const { k, centroids } = await readJson<{ k: number; centroids: number[] }>(centroidsPath);
        return { ...pcaFile, transform: await readJson<FittedTransform>(transformPath), k, centroids };
      };
      const current = await model(join(pca.dir, pca.output.model), join(scale.dir, scale.output.transform), join(final.dir, final.output.centroids));
      const modelDir = join(previousDir, 'model');
      const previous = await model(join(modelDir, MODEL_FILES.pca), join(modelDir, MODEL_FILES.transform), join(modelDir, MODEL_FILES.centroids));
      const matches = [...matchClusters(current, previous), { id: -1, previousId: -1, distance: null }];
      return {
        previousOutDir: previousDir,
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
    },
  );
  const largest = output.matches
    .filter((m) => m.customerShareChange !== null)
    .sort((a, b) => Math.abs(b.customerShareChange!) - Math.abs(a.customerShareChange!))[0];
  return {
    ref,
    figures: output.previousOutDir
      ? { previousRun: output.previousOutDir, largestCustomerShareChange: largest ? `cluster ${largest.id}: ${(largest.customerShareChange! * 100).toFixed(1)} pts` : 'none' }
      : { previousRun: 'none' },
  };
}
