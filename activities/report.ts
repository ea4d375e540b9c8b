/** Step 6, report: results.json, the assignments, the model and report.html published atomically — over core/steps/report.ts. */
import { join } from 'node:path';
import { renderSummaryTable } from '../core/report/render';
import { buildResults, publishRun } from '../core/steps/report';
import {
  CompareOutputSchema,
  DriftOutputSchema,
  EncodeOutputSchema,
  IngestOutputSchema,
  KFitOutputSchema,
  MapOutputSchema,
  MissingnessOutputSchema,
  PcaOutputSchema,
  PublishInput,
  PublishInputSchema,
  PublishReport,
  ScaleOutputSchema,
  SplitOutputSchema,
} from '../schemas/steps';
import { failingNonRetryably, loadStep, loadSteps, parseInput, readConfig } from './runner';

export async function publishResults(rawInput: PublishInput): Promise<PublishReport> {
  const input = parseInput(PublishInputSchema, rawInput);
  const config = readConfig(input.config);
  return failingNonRetryably(async () => {
    const upstream = {
      ...(await loadSteps(input, {
        ingest: IngestOutputSchema,
        missingness: MissingnessOutputSchema,
        split: SplitOutputSchema,
        encode: EncodeOutputSchema,
        scale: ScaleOutputSchema,
        pca: PcaOutputSchema,
        final: KFitOutputSchema,
        map: MapOutputSchema,
        compare: CompareOutputSchema,
        drift: DriftOutputSchema,
      })),
      sweep: await Promise.all(input.sweep.map((ref) => loadStep(ref, KFitOutputSchema))),
    };
    const results = buildResults(upstream, config, { kChosenBy: input.kChosenBy, steps: input.steps });
    await publishRun(input.outDir, upstream, results);
    const over = results.clusters.filter((c) => c.representation === 'over').length;
    return {
      ref: { step: 'report', dir: input.outDir, key: '', reused: false, seconds: 0 },
      figures: { results: join(input.outDir, 'results.json'), report: join(input.outDir, 'report.html'), k: results.k, overRepresentedClusters: over },
      summaryTable: renderSummaryTable(results),
    };
  });
}
