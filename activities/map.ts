/** Step 5a, map: customers through the same fitted pipeline to the nearest centroid — over core/steps/map.ts. */
import { mapCustomers as map } from '../core/steps/map';
import { KFitOutputSchema, MapInput, MapInputSchema, MapOutput, PcaOutputSchema, ScaleOutputSchema, SplitOutputSchema, StepReport } from '../schemas/steps';
import { activityRuntime, checkpointedStep, loadSteps, parseInput } from './runner';

export async function mapCustomers(rawInput: MapInput): Promise<StepReport> {
  const input = parseInput(MapInputSchema, rawInput);
  const upstream = await loadSteps(input, { split: SplitOutputSchema, scale: ScaleOutputSchema, pca: PcaOutputSchema, final: KFitOutputSchema });
  const { ref, output } = await checkpointedStep<MapOutput>(
    input.storeDir,
    'map',
    { split: input.split.key, scale: input.scale.key, pca: input.pca.key, final: input.final.key },
    (workDir) => map(upstream, workDir, activityRuntime()),
  );
  return { ref, figures: { k: output.k, customersMapped: output.counts.reduce((sum, c) => sum + c.customerCount, 0) } };
}
