/** Step 5c, drift: this run's clusters matched to the previous run's; drift in shares — over core/steps/drift.ts. */
import { compareWithPreviousRun as drift, findPreviousRun } from '../core/steps/drift';
import {
  CompareOutputSchema,
  DriftInput,
  DriftInputSchema,
  DriftOutput,
  KFitOutputSchema,
  PcaOutputSchema,
  ScaleOutputSchema,
  StepReport,
} from '../schemas/steps';
import { checkpointedStep, loadSteps, parseInput } from './runner';

export async function compareWithPreviousRun(rawInput: DriftInput): Promise<StepReport> {
  const input = parseInput(DriftInputSchema, rawInput);
  const previous = await findPreviousRun(input.previousOutDir);
  const upstream = await loadSteps(input, { scale: ScaleOutputSchema, pca: PcaOutputSchema, final: KFitOutputSchema, compare: CompareOutputSchema });
  const { ref, output } = await checkpointedStep<DriftOutput>(
    input.storeDir,
    'drift',
    { compare: input.compare.key, final: input.final.key, previous: previous?.resultsHash ?? null },
    () => drift(upstream, previous?.dir),
  );
  const largest = output.matches
    .filter((m) => m.customerShareChange !== null)
    .sort((a, b) => Math.abs(b.customerShareChange!) - Math.abs(a.customerShareChange!))[0];
  return {
    ref,
    // The folder as given to this run: a reused checkpoint may have been computed against a copy elsewhere.
    figures: previous && output.previousCreatedAt !== null
      ? { previousRun: previous.dir, largestCustomerShareChange: largest ? `cluster ${largest.id}: ${(largest.customerShareChange! * 100).toFixed(1)} pts` : 'none' }
      : { previousRun: 'none' },
  };
}
