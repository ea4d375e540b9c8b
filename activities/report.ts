import { copyFile, mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { renderReport, renderSummaryTable } from '../core/report/render';
import { writeFileAtomic } from '../core/store/step-store';
import { Results, ResultsSchema } from '../schemas/results';
import { IngestOutput, MissingnessOutput, RunContextSchema, SplitOutput, StepRefSchema, StepReport } from '../schemas/steps';
import { CleaningModel, MODEL_FILES } from '../core/scoring';
import { FEATURE_SUMMARY_COPY, parse, parseConfigSafe } from './cleaning';
import type { DriftOutput } from './drift';
import type { CompareOutput, KFitOutput, MapOutput, PcaOutput, ScaleOutput } from './modelling';
import { loadStep, toActivityFailure } from './step';

const PublishInputSchema = RunContextSchema.extend({
  outDir: z.string().min(1),
  ingest: StepRefSchema,
  missingness: StepRefSchema,
  split: StepRefSchema,
  encode: StepRefSchema,
  scale: StepRefSchema,
  pca: StepRefSchema,
  sweep: z.array(StepRefSchema),
  final: StepRefSchema,
  kChosenBy: z.enum(['knee', 'fixed']),
  map: StepRefSchema,
  compare: StepRefSchema,
  drift: StepRefSchema,
  steps: z.array(z.object({ name: z.string(), seconds: z.number(), reused: z.boolean() })),
});

/**
 * Step 6: results.json (the output contract), the assignments (targeting lists) and report.html, published
 * into the output folder. Each file is written under a temporary name and renamed, so a reader never sees a
 * half-written result and a failed run leaves the previous run's files as they were.
 */
export async function publishResults(rawInput: unknown): Promise<StepReport & { summaryTable: string }> {
  const input = parse(PublishInputSchema, rawInput);
  const config = parseConfigSafe(input.config);
  try {
    const ingest = await loadStep<IngestOutput>(input.ingest);
    const missingness = await loadStep<MissingnessOutput>(input.missingness);
    const split = await loadStep<SplitOutput>(input.split);
    const scale = await loadStep<ScaleOutput>(input.scale);
    const pca = await loadStep<PcaOutput>(input.pca);
    const sweep = await Promise.all(input.sweep.map((ref) => loadStep<KFitOutput>(ref)));
    const final = await loadStep<KFitOutput>(input.final);
    const map = await loadStep<MapOutput>(input.map);
    const compare = await loadStep<CompareOutput>(input.compare);
    const drift = await loadStep<DriftOutput>(input.drift);

    const results: Results = ResultsSchema.parse({
      version: 1,
      dataset: config.dataset,
      createdAt: new Date().toISOString(),
      inputs: {
        population: { path: ingest.output.population.path, rows: ingest.output.population.rows, sha256: ingest.output.population.sha256 },
        customers: { path: ingest.output.customers.path, rows: ingest.output.customers.rows, sha256: ingest.output.customers.sha256 },
        featureSummary: ingest.output.featureSummary,
      },
      settings: { maxColumnMissingShare: config.maxColumnMissingShare, varianceTarget: config.pca.varianceTarget, alpha: config.alpha },
      droppedColumns: missingness.output.dropped,
      missingness: {
        columns: missingness.output.columns.map((c) => ({
          column: c.column,
          populationShare: c.populationShare,
          customerShare: c.customerShare,
          dropped: c.dropped,
        })),
        rowHistogram: missingness.output.rowHistogram,
        maxRowMissing: split.output.maxRowMissing,
      },
      heavyMissing: {
        populationShare: split.output.population.heavyShare,
        customerShare: split.output.customers.heavyShare,
        populationRows: split.output.population.heavyRows,
        customerRows: split.output.customers.heavyRows,
        divergence: split.output.divergence,
      },
      features: scale.output.features,
      pca: {
        explainedVarianceRatio: pca.output.explainedVarianceRatio,
        cumulativeVarianceRatio: pca.output.cumulativeVarianceRatio,
        keptComponents: pca.output.keptComponents,
        components: pca.output.components,
      },
      kSweep: sweep.map((s) => ({ k: s.output.k, sse: s.output.sse, silhouette: s.output.silhouette })).sort((a, b) => a.k - b.k),
      k: final.output.k,
      kChosenBy: input.kChosenBy,
      finalSse: final.output.sse,
      clusters: compare.output.clusters,
      overRepresented: compare.output.overRepresented,
      underRepresented: compare.output.underRepresented,
      steps: input.steps,
      previousRun: drift.output.previousOutDir
        ? { outDir: drift.output.previousOutDir, createdAt: drift.output.previousCreatedAt!, matches: drift.output.matches }
        : null,
    });

    await mkdir(join(input.outDir, 'assignments'), { recursive: true });
    for (const role of ['population', 'customers'] as const) {
      const target = join(input.outDir, 'assignments', `${role}.parquet`);
      await copyFile(join(map.dir, map.output[role]), `${target}.tmp`);
      await rename(`${target}.tmp`, target);
    }
    await publishModel(join(input.outDir, 'model'), {
      [MODEL_FILES.featureSummary]: join(ingest.dir, FEATURE_SUMMARY_COPY),
      [MODEL_FILES.encoding]: join(input.encode.dir, 'encoding.json'),
      [MODEL_FILES.transform]: join(scale.dir, scale.output.transform),
      [MODEL_FILES.pca]: join(pca.dir, pca.output.model),
      [MODEL_FILES.centroids]: join(final.dir, final.output.centroids),
    }, {
      columns: ingest.output.columns,
      keptColumns: split.output.keptColumns,
      maxRowMissing: split.output.maxRowMissing,
    });
    await writeFileAtomic(join(input.outDir, 'results.json'), JSON.stringify(results, null, 2));
    await writeFileAtomic(join(input.outDir, 'report.html'), renderReport(results));
    const over = results.clusters.filter((c) => c.representation === 'over').length;
    return {
      ref: { step: 'report', dir: input.outDir, key: '', reused: false, seconds: 0 },
      figures: { results: join(input.outDir, 'results.json'), report: join(input.outDir, 'report.html'), k: results.k, overRepresentedClusters: over },
      summaryTable: renderSummaryTable(results),
    };
  } catch (error) {
    throw toActivityFailure(error);
  }
}

/** The fitted transforms, so `segments score` can assign new files without refitting. */
async function publishModel(dir: string, copies: Record<string, string>, cleaning: CleaningModel): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, source] of Object.entries(copies)) {
    await copyFile(source, join(dir, `${name}.tmp`));
    await rename(join(dir, `${name}.tmp`), join(dir, name));
  }
  await writeFileAtomic(join(dir, MODEL_FILES.cleaning), JSON.stringify(cleaning, null, 1));
}

/** Reads a published results.json back (CLI `score`, tests). */
export async function readResults(outDir: string): Promise<Results> {
  return ResultsSchema.parse(JSON.parse(await readFile(join(outDir, 'results.json'), 'utf8')));
}
