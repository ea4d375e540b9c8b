/** Step 4b, the final k-means: best of several seeded inits, the sweep's fit at k counting as the first — over core/steps/kmeans.ts. */
import { checkKFitsRows, fitFinalKMeans as fitFinal, fitKeyInputs, kFitFigures, sweepInitsToReuse } from '../core/steps/kmeans';
import { FinalKMeansInput, FinalKMeansInputSchema, KFitOutput, KFitOutputSchema, PcaOutputSchema, StepReport } from '../schemas/steps';
import { activityRuntime, checkpointedStep, failingNonRetryably, loadStep, parseInput, readConfig } from './runner';

export async function fitFinalKMeans(rawInput: FinalKMeansInput): Promise<StepReport> {
  const input = parseInput(FinalKMeansInputSchema, rawInput);
  const config = readConfig(input.config);
  const pca = await loadStep(input.pca, PcaOutputSchema);
  await failingNonRetryably(() => checkKFitsRows(input.k, pca.output.population.rows));
  const settings = { k: input.k, seed: config.seed, maxIterations: config.maxIterations, relativeTolerance: config.relativeTolerance, inits: config.finalInits };
  const keyInputs = fitKeyInputs(input.pca.key, settings);
  const fromSweep = input.sweep ? await sweepInitsToReuse(await loadStep(input.sweep, KFitOutputSchema), keyInputs, settings.inits) : undefined;
  const { ref, output } = await checkpointedStep<KFitOutput>(
    input.storeDir,
    'kmeans-final',
    { ...keyInputs, inits: settings.inits, silhouette: config.silhouetteSample },
    (workDir) => fitFinal(pca, settings, fromSweep, workDir, activityRuntime()),
  );
  return { ref, figures: kFitFigures(output) };
}
