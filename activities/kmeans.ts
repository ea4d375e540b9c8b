/**
 * Step 4, k-means: the k sweep (one activity per k: a point of the elbow curve, over core/steps/sweep.ts) and
 * the final fit (best of several seeded inits, the sweep's fit at k counting as the first, over core/steps/kmeans.ts).
 */
import { centroidsOf, checkKFitsRows, fitFinalKMeans as fitFinal, fitKeyInputs, kFitFigures, kmeansSettings, sweepInitsToReuse } from '../core/steps/kmeans';
import { chooseClusterCount as choose } from '../core/steps/choose-k';
import { findPreviousRun, previousCentroidsHere } from '../core/steps/drift';
import { measureStability as measure } from '../core/steps/stability';
import { fitSweepPoint } from '../core/steps/sweep';
import type { PipelineConfig } from '../schemas/config';
import {
  ChooseKInput,
  ChooseKInputSchema,
  FinalKMeansInput,
  FinalKMeansInputSchema,
  KChoiceOutput,
  KFitOutput,
  KFitOutputSchema,
  PcaOutputSchema,
  ScaleOutputSchema,
  StabilityInput,
  StabilityInputSchema,
  StabilityOutput,
  StabilityOutputSchema,
  StepRef,
  StepReport,
  SweepKInput,
  SweepKInputSchema,
} from '../schemas/steps';
import { activityRuntime, checkpointedStep, failingNonRetryably, loadStep, parseInput } from './runner';

/** The config, the PCA step and the fit's settings (k must not exceed the clean rows), and the fit's checkpoint key. */
async function prepareFit(input: { config: PipelineConfig; pca: StepRef; k: number }, inits: (config: PipelineConfig) => number) {
  const { config } = input;
  const pca = await loadStep(input.pca, PcaOutputSchema);
  await failingNonRetryably(() => checkKFitsRows(input.k, pca.output.population.rows));
  const settings = kmeansSettings(config, input.k, inits(config));
  const keyInputs = {
    ...fitKeyInputs(input.pca.key, settings),
    inits: settings.inits,
    silhouette: config.silhouetteSample,
    // Part of the output since the k rule (clusterSizes): checkpoints without it are not reused.
    clusterSizes: true,
  };
  return { config, pca, settings, keyInputs };
}

/**
 * A point of the elbow curve. Refined (input.refine): it continues an earlier fit at k (`from`) up to config
 * refineInits seeded inits (finalInits with `final`), or, `splitOnly`, keeps that fit's inits and adds only the split start.
 */
export async function sweepK(rawInput: SweepKInput): Promise<StepReport> {
  const input = parseInput(SweepKInputSchema, rawInput);
  const from = input.refine ? await loadStep(input.refine.from, KFitOutputSchema) : undefined;
  const inits = (config: PipelineConfig) =>
    !input.refine
      ? config.sweepInits
      : input.refine.splitOnly
        ? (from!.output.inits ?? config.sweepInits)
        : Math.max(input.refine.final ? config.finalInits : config.refineInits, config.sweepInits, from!.output.inits ?? 0);
  const { config, pca, settings, keyInputs } = await prepareFit(input, inits);
  const done = from ? await sweepInitsToReuse(from, fitKeyInputs(input.pca.key, settings), settings.inits) : undefined;
  const lower = input.refine?.splitFrom ? await loadStep(input.refine.splitFrom, KFitOutputSchema) : undefined;
  const splitFrom = lower ? await centroidsOf(lower) : undefined;
  const step = `kmeans-k${String(input.k).padStart(2, '0')}`;
  const splitKey = input.refine?.splitFrom ? { splitFrom: input.refine.splitFrom.key } : {};
  const { ref, output } = await checkpointedStep<KFitOutput>(input.storeDir, step, { ...keyInputs, ...splitKey }, (workDir) =>
    fitSweepPoint(pca, { ...settings, silhouetteSample: config.silhouetteSample, done, splitFrom }, workDir, activityRuntime()),
  );
  return { ref, figures: kFitFigures(output) };
}

export async function fitFinalKMeans(rawInput: FinalKMeansInput): Promise<StepReport> {
  const input = parseInput(FinalKMeansInputSchema, rawInput);
  const { config, pca, settings, keyInputs } = await prepareFit(input, (config) => config.finalInits);
  const sweep = input.sweep ? await loadStep(input.sweep, KFitOutputSchema) : undefined;
  const fromSweep = sweep ? await sweepInitsToReuse(sweep, fitKeyInputs(input.pca.key, settings), settings.inits) : undefined;
  // config continuity.keepPreviousK: one more fit from the previous run's centroids (part of the key: the previous
  // results' hash and the tolerance; without a warm start the key is what it always was).
  const previous = input.warmStart ? await findPreviousRun(input.warmStart.previousOutDir) : undefined;
  const warm =
    input.warmStart && previous
      ? {
          centroids: await previousCentroidsHere(previous.dir, await loadStep(input.warmStart.scale, ScaleOutputSchema), pca, input.k),
          tolerance: config.continuity.warmStartTolerance,
        }
      : undefined;
  const warmKey = warm ? { warmStart: { previous: previous!.resultsHash, tolerance: warm.tolerance, scale: input.warmStart!.scale.key } } : {};
  const { ref, output } = await checkpointedStep<KFitOutput>(input.storeDir, 'kmeans-final', { ...keyInputs, ...warmKey }, (workDir) =>
    fitFinal(pca, settings, fromSweep, workDir, activityRuntime(), warm),
  );
  return { ref, figures: kFitFigures(output) };
}

/** Stability of the partition at one k (one activity per k, beside the sweep's fit at k). */
export async function measureStability(rawInput: StabilityInput): Promise<StepReport> {
  const input = parseInput(StabilityInputSchema, rawInput);
  const { config } = input;
  const pca = await loadStep(input.pca, PcaOutputSchema);
  await failingNonRetryably(() => checkKFitsRows(input.k, pca.output.population.rows));
  const settings = { k: input.k, seed: config.seed, maxIterations: config.maxIterations, relativeTolerance: config.relativeTolerance, stability: config.stability };
  const keyInputs = { pca: input.pca.key, ...settings };
  const step = `stability-k${String(input.k).padStart(2, '0')}`;
  const { ref, output } = await checkpointedStep<StabilityOutput>(input.storeDir, step, keyInputs, () => measure(pca, settings, activityRuntime()));
  return { ref, figures: { k: output.k, stability: output.stability } };
}

/** The k rule over the sweep and the stability measures: the chosen k, the knee, and why (a checkpoint the report reads). */
export async function chooseClusterCount(rawInput: ChooseKInput): Promise<StepReport> {
  const input = parseInput(ChooseKInputSchema, rawInput);
  const { config } = input;
  const pca = await loadStep(input.pca, PcaOutputSchema);
  const sweep = await Promise.all(input.sweep.map((ref) => loadStep(ref, KFitOutputSchema)));
  const stability = await Promise.all(input.stability.map((ref) => loadStep(ref, StabilityOutputSchema)));
  const keyInputs = {
    sweep: input.sweep.map((ref) => ref.key),
    stability: input.stability.map((ref) => ref.key),
    minClusterSize: config.minClusterSize ?? null,
    rule: config.stability,
  };
  const { ref, output } = await checkpointedStep<KChoiceOutput>(input.storeDir, 'choose-k', keyInputs, async () =>
    choose(
      sweep.map((s) => s.output),
      stability.map((s) => s.output),
      config,
      pca.output.population.rows,
    ),
  );
  return { ref, figures: { k: output.k, knee: output.knee ?? 'none', stable: output.stable, reason: output.reason, unmeasured: output.unmeasured.join(',') } };
}
