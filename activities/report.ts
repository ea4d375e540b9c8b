/** Step 6, report: results.json, the assignments, the model and report.html published atomically — over core/steps/report.ts. */
import { join } from 'node:path';
import { renderSummaryTable } from '../core/report/render';
import { buildResults, publishRun } from '../core/steps/report';
import {
  CompareOutputSchema,
  DriftOutputSchema,
  EncodeOutputSchema,
  IngestOutputSchema,
  KChoiceOutputSchema,
  KFitOutputSchema,
  MapOutputSchema,
  MissingnessOutputSchema,
  PcaOutputSchema,
  PublishInput,
  PublishInputSchema,
  PublishReport,
  RecodeOutputSchema,
  ScaleOutputSchema,
  SplitOutputSchema,
} from '../schemas/steps';
import { failingNonRetryably, loadStep, loadSteps, parseInput, publishingRun } from './runner';

export async function publishResults(rawInput: PublishInput): Promise<PublishReport> {
  const input = parseInput(PublishInputSchema, rawInput);
  const { config } = input;
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
      recode: input.recode ? await loadStep(input.recode, RecodeOutputSchema) : undefined,
      sweep: await Promise.all(input.sweep.map((ref) => loadStep(ref, KFitOutputSchema))),
      kChoice: input.kChoice ? await loadStep(input.kChoice, KChoiceOutputSchema) : undefined,
    };
    const results = buildResults(upstream, config, { kChosenBy: input.kChosenBy, steps: input.steps, previousOutDir: input.previousOutDir });
    const refs = [input.ingest, input.missingness, input.split, input.encode, input.scale, input.pca, ...input.sweep, ...(input.kChoice ? [input.kChoice] : []), input.final, input.map, input.compare, input.drift];
    await publishRun(input.outDir, upstream, results, {
      config,
      temporal: publishingRun(),
      steps: refs.map((ref) => ({ name: ref.step, key: ref.key, reused: ref.reused })),
    });
    const over = results.clusters.filter((c) => c.representation === 'over').length;
    return {
      ref: { step: 'report', dir: input.outDir, key: '', reused: false, seconds: 0 },
      figures: { results: join(input.outDir, 'results.json'), report: join(input.outDir, 'report.html'), k: results.k, overRepresentedClusters: over },
      summaryTable: renderSummaryTable(results),
      segments: results.clusters.map((c) => ({ id: c.id, persona: c.persona, lift: Number(c.lift.toFixed(3)), verdict: c.representation })),
    };
  });
}
