/** Step 3a, scale: impute and standardise, fitted on the population's clean rows — over core/steps/scale.ts. */
import { imputeAndScale as scale, MATRIX_DTYPE } from '../core/steps/scale';
import { EncodeOutputSchema, ScaleInput, ScaleInputSchema, ScaleOutput, SplitOutputSchema, StepReport } from '../schemas/steps';
import { checkpointedStep, loadStep, parseInput } from './runner';

export async function imputeAndScale(rawInput: ScaleInput): Promise<StepReport> {
  const input = parseInput(ScaleInputSchema, rawInput);
  const split = await loadStep(input.split, SplitOutputSchema);
  const encode = await loadStep(input.encode, EncodeOutputSchema);
  const { ref, output } = await checkpointedStep<ScaleOutput>(
    input.storeDir,
    'scale',
    { split: input.split.key, encode: input.encode.key, dtype: MATRIX_DTYPE },
    (workDir) => scale(split, encode, workDir),
  );
  return { ref, figures: { features: output.features.length, populationRows: output.population.rows, customerRows: output.customers.rows } };
}
