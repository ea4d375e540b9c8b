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
import { failingNonRetryably, loadStep, parseInput, readConfig } from './runner';

export async function publishResults(rawInput: PublishInput): Promise<PublishReport> {
  const input = parseInput(PublishInputSchema, rawInput);
  const config = readConfig(input.config);
  return failingNonRetryably(async () => {
    const upstream = {
      ingest: await loadStep(input.ingest, IngestOutputSchema),
      missingness: await loadStep(input.missingness, MissingnessOutputSchema),
      split: await loadStep(input.split, SplitOutputSchema),
      encode: await loadStep(input.encode, EncodeOutputSchema),
      scale: await loadStep(input.scale, ScaleOutputSchema),
      pca: await loadStep(input.pca, PcaOutputSchema),
      sweep: await Promise.all(input.sweep.map((ref) => loadStep(ref, KFitOutputSchema))),
      final: await loadStep(input.final, KFitOutputSchema),
      map: await loadStep(input.map, MapOutputSchema),
      compare: await loadStep(input.compare, CompareOutputSchema),
      drift: await loadStep(input.drift, DriftOutputSchema),
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
