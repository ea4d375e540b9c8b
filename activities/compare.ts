/** Step 5b, compare: cluster shares among customers vs the population, lift, CI, test; profiles — over core/steps/compare.ts. */
import { compareSegments as compare } from '../core/steps/compare';
import {
  CompareInput,
  CompareInputSchema,
  CompareOutput,
  KFitOutputSchema,
  MapOutputSchema,
  PcaOutputSchema,
  ScaleOutputSchema,
  StepReport,
} from '../schemas/steps';
import { checkpointedStep, loadStep, parseInput, readConfig } from './runner';

export async function compareSegments(rawInput: CompareInput): Promise<StepReport> {
  const input = parseInput(CompareInputSchema, rawInput);
  const config = readConfig(input.config);
  const upstream = {
    scale: await loadStep(input.scale, ScaleOutputSchema),
    pca: await loadStep(input.pca, PcaOutputSchema),
    final: await loadStep(input.final, KFitOutputSchema),
    map: await loadStep(input.map, MapOutputSchema),
  };
  const { ref, output } = await checkpointedStep<CompareOutput>(
    input.storeDir,
    'compare',
    { scale: input.scale.key, pca: input.pca.key, final: input.final.key, map: input.map.key, alpha: config.alpha },
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
