/** Step 2, encode: categoricals and mixed features re-encoded by the rules (data, not code) — over core/steps/encode.ts. */
import { unsampledCategoricals } from '../core/encoding/rules';
import { encodeFeatures as encode, encodingRulesFor, summaryOf } from '../core/steps/encode';
import { EncodeInput, EncodeInputSchema, EncodeOutput, IngestOutputSchema, SplitOutputSchema, StepReport } from '../schemas/steps';
import { checkpointedStep, failingNonRetryably, loadStep, parseInput } from './runner';

export async function encodeFeatures(rawInput: EncodeInput): Promise<StepReport> {
  const input = parseInput(EncodeInputSchema, rawInput);
  const { config } = input;
  const ingest = await loadStep(input.ingest, IngestOutputSchema);
  const split = await loadStep(input.split, SplitOutputSchema);
  // The rules themselves (built-in or from a file) are part of the key: editing them re-encodes.
  const rules = await failingNonRetryably(() => encodingRulesFor(ingest, config.encodingRules));
  const summary = summaryOf(ingest);
  // Categoricals without a written rule take theirs from their levels; naming them in the key keeps encodings
  // made before that (two one-hot columns for two levels) from being reused. Keys of fully written rules stay.
  const fromLevels = unsampledCategoricals(rules, summary, split.output.keptColumns);
  const { ref, output } = await checkpointedStep<EncodeOutput>(
    input.storeDir,
    'encode',
    {
      ingest: input.ingest.key,
      split: input.split.key,
      rules,
      ...(fromLevels.length ? { rulesFromLevels: fromLevels } : {}),
      rareLevels: config.rareLevels,
      concentration: config.concentration,
    },
    (workDir) => encode(split, rules, summary, { rareLevels: config.rareLevels, concentration: config.concentration }, workDir),
  );
  return {
    ref,
    figures: {
      features: output.features,
      unseenCustomerLevelColumns: output.unseenCustomerLevels.length,
      rareLevels: output.rareLevels?.length ?? 0,
      concentratedFeatures: output.concentratedFeatures?.length ?? 0,
    },
  };
}
