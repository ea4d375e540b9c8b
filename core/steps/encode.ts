/** Step 2, encode: categoricals and mixed features re-encoded by the rules; levels fitted on the population. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineConfig } from '../../schemas/config';
import type { EncodingRules } from '../../schemas/encoding-rules';
import type { FeatureSummary } from '../../schemas/feature-summary';
import { MODEL_FILES } from '../../schemas/model-files';
import type { EncodeOutput, IngestOutput, SplitOutput } from '../../schemas/steps';
import { readFeatureSummary } from '../cleaning/feature-summary';
import { withDuckDb } from '../duckdb';
import { countUnseenLevels, fitEncoding, observedLevels, parquetRelation } from '../encoding';
import { loadEncodingRules, unsampledCategoricals, withObservedLevels } from '../encoding/rules';
import type { Loaded } from './runtime';

/**
 * The rules the encoding follows (from `rulesPath`, else built in or derived), checked against the feature
 * summary the ingest step kept (not the file on disk, which may have changed since).
 */
export function encodingRulesFor(ingest: Loaded<IngestOutput>, rulesPath: string | undefined): EncodingRules {
  return loadEncodingRules(rulesPath, summaryOf(ingest));
}

/** The feature summary the ingest step kept. */
export function summaryOf(ingest: Loaded<IngestOutput>): FeatureSummary {
  return readFeatureSummary(join(ingest.dir, MODEL_FILES.featureSummary));
}

/** What makes features fit to cluster: the config's rare-level rule and concentration check. */
export type FeatureFitRules = Pick<PipelineConfig, 'rareLevels' | 'concentration'>;

/**
 * Fits the encoding on the population's clean rows, writes encoding.json, counts customer levels it has not seen.
 * Categoricals without a written rule get theirs from the levels the population has (two -> binary). Rare one-hot
 * levels are folded or dropped and features a handful of rows dominate are dropped (core/encoding/rare-levels.ts).
 */
export async function encodeFeatures(
  split: Loaded<SplitOutput>,
  rules: EncodingRules,
  summary: FeatureSummary,
  fit: FeatureFitRules,
  workDir: string,
): Promise<EncodeOutput> {
  return withDuckDb({}, async (conn) => {
    const populationParquet = join(split.dir, split.output.population.clean);
    const unsampled = unsampledCategoricals(rules, summary, split.output.keptColumns);
    const sampled = unsampled.length ? withObservedLevels(rules, summary, await observedLevels(conn, populationParquet, unsampled)) : rules;
    const model = await fitEncoding(conn, {
      populationParquet,
      keptColumns: split.output.keptColumns,
      rules: sampled,
      rareLevels: fit.rareLevels,
      concentration: fit.concentration,
    });
    await writeFile(join(workDir, MODEL_FILES.encoding), JSON.stringify(model, null, 1));
    const unseen = await countUnseenLevels(conn, model, parquetRelation(join(split.dir, split.output.customers.clean)));
    return {
      model: MODEL_FILES.encoding,
      features: model.features.length,
      unseenCustomerLevels: unseen,
      rareLevels: model.rareLevels,
      concentratedFeatures: model.concentratedFeatures,
    };
  });
}
