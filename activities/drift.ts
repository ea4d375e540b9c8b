/** Step 5c, drift: stable segment IDs from the previous run's segments; new and gone segments — over core/steps/drift.ts. */
import { compareWithPreviousRun as drift, findPreviousRun, inspectPreviousRun as inspect } from '../core/steps/drift';
import {
  CompareOutputSchema,
  DriftInput,
  DriftInputSchema,
  DriftOutput,
  KFitOutputSchema,
  PcaOutputSchema,
  PreviousRunInput,
  PreviousRunInputSchema,
  PreviousRunReport,
  ScaleOutputSchema,
  StepReport,
} from '../schemas/steps';
import { checkpointedStep, loadStep, loadSteps, parseInput } from './runner';

/**
 * Before k is picked (config continuity.keepPreviousK): the previous run's k and whether its centroids fit this
 * run's features. Reads two small JSON files; not checkpointed (the previous folder may change between runs).
 */
export async function inspectPreviousRun(rawInput: PreviousRunInput): Promise<StepReport & PreviousRunReport> {
  const input = parseInput(PreviousRunInputSchema, rawInput);
  const previous = await inspect(input.previousOutDir, await loadStep(input.scale, ScaleOutputSchema));
  return {
    ...previous,
    ref: { step: 'previous-run', dir: '', key: '', reused: false, seconds: 0 },
    figures: { previousRun: input.previousOutDir, ...previous },
  };
}

export async function compareWithPreviousRun(rawInput: DriftInput): Promise<StepReport> {
  const input = parseInput(DriftInputSchema, rawInput);
  const { config } = input;
  const previous = await findPreviousRun(input.previousOutDir);
  const upstream = await loadSteps(input, { scale: ScaleOutputSchema, pca: PcaOutputSchema, final: KFitOutputSchema, compare: CompareOutputSchema });
  const settings = { maxDistance: config.continuity.maxDistance, kFromPrevious: input.kFromPrevious ?? false };
  const { ref, output } = await checkpointedStep<DriftOutput>(
    input.storeDir,
    'drift',
    // identity: the output holds stable segment IDs since version 1 (older checkpoints held unthresholded matches).
    { compare: input.compare.key, final: input.final.key, previous: previous?.resultsHash ?? null, ...settings, identity: 1 },
    () => drift(upstream, previous?.dir, settings),
  );
  const continuity = output.continuity;
  return {
    ref,
    // The folder as given to this run: a reused checkpoint may have been computed against a copy elsewhere.
    figures:
      previous && continuity
        ? {
            previousRun: previous.dir,
            continued: continuity.segments.filter((s) => s.status === 'continued' && s.id >= 0).length,
            new: continuity.segments.filter((s) => s.status === 'new').map((s) => s.id).join(',') || 'none',
            gone: continuity.gone.map((g) => g.id).join(',') || 'none',
          }
        : { previousRun: 'none', segments: output.identity.segments.length },
  };
}
