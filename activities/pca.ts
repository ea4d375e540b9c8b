/** Step 3b, PCA: covariance + eigen decomposition, both files projected — over core/steps/pca.ts. */
import { join } from 'node:path';
import { fitPca as pca, SCORES_DTYPE } from '../core/steps/pca';
import { stepKey } from '../core/store/step-store';
import { PcaInput, PcaInputSchema, PcaOutput, ScaleOutputSchema, StepReport } from '../schemas/steps';
import { activityRuntime, checkpointedStep, loadStep, parseInput } from './runner';

export async function fitPca(rawInput: PcaInput): Promise<StepReport> {
  const input = parseInput(PcaInputSchema, rawInput);
  const { config } = input;
  const scale = await loadStep(input.scale, ScaleOutputSchema);
  const keyInputs = {
    scale: input.scale.key,
    varianceTarget: config.pca.varianceTarget,
    components: config.pca.components,
    interpret: config.pca.interpret,
    scoresDtype: SCORES_DTYPE,
  };
  // Outside the attempt's temporary folder, so the next attempt finds it after a crash.
  const resumeFile = join(input.storeDir, 'pca', `.resume-${stepKey('pca', keyInputs)}.cov`);
  const { ref, output } = await checkpointedStep<PcaOutput>(input.storeDir, 'pca', keyInputs, (workDir) =>
    pca(scale, config.pca, workDir, resumeFile, activityRuntime()),
  );
  return {
    ref,
    figures: {
      keptComponents: output.keptComponents,
      explainedVariance: output.cumulativeVarianceRatio[output.keptComponents - 1],
      pc1: output.explainedVarianceRatio[0],
    },
  };
}
