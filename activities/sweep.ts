/** Step 4a, the k sweep: one point of the elbow curve per activity (the workflow runs one per k) — over core/steps/sweep.ts. */
import { checkKFitsRows, fitKeyInputs, kFitFigures } from '../core/steps/kmeans';
import { fitSweepPoint } from '../core/steps/sweep';
import { KFitOutput, PcaOutputSchema, StepReport, SweepInput, SweepInputSchema } from '../schemas/steps';
import { activityRuntime, checkpointedStep, failingNonRetryably, loadStep, parseInput, readConfig } from './runner';

export async function sweepK(rawInput: SweepInput): Promise<StepReport> {
  const input = parseInput(SweepInputSchema, rawInput);
  const config = readConfig(input.config);
  const pca = await loadStep(input.pca, PcaOutputSchema);
  await failingNonRetryably(() => checkKFitsRows(input.k, pca.output.population.rows));
  const settings = { k: input.k, seed: config.seed, maxIterations: config.maxIterations, relativeTolerance: config.relativeTolerance, inits: config.sweepInits };
  const step = `kmeans-k${String(input.k).padStart(2, '0')}`;
  const { ref, output } = await checkpointedStep<KFitOutput>(
    input.storeDir,
    step,
    { ...fitKeyInputs(input.pca.key, settings), inits: settings.inits, silhouette: config.silhouetteSample },
    (workDir) => fitSweepPoint(pca, { ...settings, silhouetteSample: config.silhouetteSample }, workDir, activityRuntime()),
  );
  return { ref, figures: kFitFigures(output) };
}
