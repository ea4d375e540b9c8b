/** Step 2, encode: categoricals and mixed features re-encoded by the rules (data, not code) — over core/steps/encode.ts. */
import { encodeFeatures as encode, encodingRulesFor } from '../core/steps/encode';
import { EncodeInput, EncodeInputSchema, EncodeOutput, IngestOutputSchema, SplitOutputSchema, StepReport } from '../schemas/steps';
import { checkpointedStep, failingNonRetryably, loadStep, parseInput, readConfig } from './runner';

export async function encodeFeatures(rawInput: EncodeInput): Promise<StepReport> {
  const input = parseInput(EncodeInputSchema, rawInput);
  const config = readConfig(input.config);
  const ingest = await loadStep(input.ingest, IngestOutputSchema);
  const split = await loadStep(input.split, SplitOutputSchema);
  // The rules themselves (built-in or from a file) are part of the key: editing them re-encodes.
  const rules = await failingNonRetryably(() => encodingRulesFor(ingest, config.encodingRules));
  const { ref, output } = await checkpointedStep<EncodeOutput>(
    input.storeDir,
    'encode',
    { ingest: input.ingest.key, split: input.split.key, rules },
    (workDir) => encode(split, rules, workDir),
  );
  return { ref, figures: { features: output.features, unseenCustomerLevelColumns: output.unseenCustomerLevels.length } };
}
