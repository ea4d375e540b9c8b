/** Step 5b, compare: cluster shares among customers vs the population, lift, CI, test; profiles — over core/steps/compare.ts. */
import { compareSegments as compare } from '../core/steps/compare';
import { CompareInput, CompareInputSchema, CompareOutput, KFitOutputSchema, MapOutputSchema, PcaOutputSchema, ScaleOutputSchema, StepReport } from '../schemas/steps';
import { checkpointedStep, loadSteps, parseInput } from './runner';

export async function compareSegments(rawInput: CompareInput): Promise<StepReport> {
  const input = parseInput(CompareInputSchema, rawInput);
  const { config } = input;
  const upstream = await loadSteps(input, { scale: ScaleOutputSchema, pca: PcaOutputSchema, final: KFitOutputSchema, map: MapOutputSchema });
  const { ref, output } = await checkpointedStep<CompareOutput>(
    input.storeDir,
    'compare',
    // verdicts among the clean rows, profiles from member means, personas: checkpoints made otherwise are not reused.
    { scale: input.scale.key, pca: input.pca.key, final: input.final.key, map: input.map.key, alpha: config.alpha, views: 'clean-rows+all-rows', profiles: 'member-means', persona: 1 },
    () => compare(upstream, config.alpha),
  );
  return {
    ref,
    figures: {
      overRepresented: output.overRepresented.join(',') || 'none',
      underRepresented: output.underRepresented.join(',') || 'none',
    },
  };
}
