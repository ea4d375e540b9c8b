/**
 * Step 6, report: results.json (the output contract), the assignments (targeting lists), the fitted model and
 * report.html, published into the output folder. Each file is written under a temporary name and renamed, so
 * a reader never sees a half-written result and a failed run leaves the previous run's files as they were.
 */
import { copyFile, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineConfig } from '../../schemas/config';
import { CleaningModel, MODEL_FILES } from '../../schemas/model-files';
import { Results, ResultsSchema } from '../../schemas/results';
import type {
  CompareOutput,
  DriftOutput,
  EncodeOutput,
  IngestOutput,
  KChoiceOutput,
  KFitOutput,
  MapOutput,
  MissingnessOutput,
  PcaOutput,
  RecodeOutput,
  ScaleOutput,
  SplitOutput,
} from '../../schemas/steps';
import { FILES } from '../cleaning/steps';
import { renderReport } from '../report/render';
import { writeFileAtomic } from '../store/step-store';
import { codeVersion, writeLineage } from '../lineage';
import type { Lineage } from '../../schemas/lineage';
import type { Loaded } from './runtime';

/** Every finished step the report reads. */
export interface ReportUpstream {
  ingest: Loaded<IngestOutput>;
  recode?: Loaded<RecodeOutput>;
  missingness: Loaded<MissingnessOutput>;
  split: Loaded<SplitOutput>;
  encode: Loaded<EncodeOutput>;
  scale: Loaded<ScaleOutput>;
  pca: Loaded<PcaOutput>;
  sweep: Loaded<KFitOutput>[];
  /** The k rule's decision (absent: fixed k, or a run recorded before the rule). */
  kChoice?: Loaded<KChoiceOutput>;
  final: Loaded<KFitOutput>;
  map: Loaded<MapOutput>;
  compare: Loaded<CompareOutput>;
  drift: Loaded<DriftOutput>;
}

export interface RunFacts {
  kChosenBy: 'knee' | 'fixed' | 'rule';
  /** The previous run's folder as this run was given it (the drift checkpoint does not hold it). */
  previousOutDir?: string;
  steps: { name: string; seconds: number; reused: boolean }[];
}

/** The output contract, from the steps' outputs. */
export function buildResults(up: ReportUpstream, config: PipelineConfig, facts: RunFacts): Results {
  const { ingest, missingness, split, scale, pca, final, compare, drift } = up;
  return ResultsSchema.parse({
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
    valueChecks: up.recode?.output.valueChecks,
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
      comparison: split.output.comparison,
    },
    unseenCustomerLevels: up.encode.output.unseenCustomerLevels,
    features: scale.output.features,
    pca: {
      explainedVarianceRatio: pca.output.explainedVarianceRatio,
      cumulativeVarianceRatio: pca.output.cumulativeVarianceRatio,
      keptComponents: pca.output.keptComponents,
      components: pca.output.components,
    },
    kSweep: up.sweep.map((s) => sweepPoint(s.output, up.kChoice?.output)).sort((a, b) => a.k - b.k),
    k: final.output.k,
    kChosenBy: facts.kChosenBy,
    kChoice: up.kChoice ? kChoiceOf(up.kChoice.output) : null,
    featureFit: { rareLevels: up.encode.output.rareLevels ?? [], concentratedFeatures: up.encode.output.concentratedFeatures ?? [] },
    finalSse: final.output.sse,
    clusters: compare.output.clusters,
    overRepresented: compare.output.overRepresented,
    underRepresented: compare.output.underRepresented,
    steps: facts.steps,
    previousRun:
      drift.output.previousCreatedAt !== null && facts.previousOutDir
        ? { outDir: facts.previousOutDir, createdAt: drift.output.previousCreatedAt, matches: drift.output.matches }
        : null,
  });
}

/** A point of the elbow curve, with the k rule's evidence at that k when the rule ran. */
function sweepPoint(fit: KFitOutput, choice: KChoiceOutput | undefined): Results['kSweep'][number] {
  const evidence = choice?.points.find((p) => p.k === fit.k);
  return {
    k: fit.k,
    sse: fit.sse,
    silhouette: fit.silhouette,
    ...(evidence ? { stability: evidence.stability } : {}),
    ...(fit.clusterSizes ? { smallestCluster: Math.min(...fit.clusterSizes) } : {}),
  };
}

function kChoiceOf(choice: KChoiceOutput): NonNullable<Results['kChoice']> {
  const { knee, eligible, run, stable, reason, minStability, minClusterSize } = choice;
  return { knee, eligible, run, stable, reason, minStability, minClusterSize };
}

/** What the lineage manifest records besides what the steps' outputs hold. */
export interface LineageFacts {
  config: PipelineConfig;
  /** The Temporal run publishing the model (null outside a workflow). */
  temporal: Lineage['temporal'];
  /** Each step's checkpoint key. */
  steps: Lineage['steps'];
}

/** Publishes the assignments, the fitted model with its lineage, results.json and report.html into `outDir`. */
export async function publishRun(outDir: string, up: ReportUpstream, results: Results, lineage: LineageFacts): Promise<void> {
  const { ingest, split, encode, scale, pca, final, map } = up;
  await mkdir(join(outDir, 'assignments'), { recursive: true });
  for (const role of FILES) {
    const target = join(outDir, 'assignments', `${role}.parquet`);
    await copyFile(join(map.dir, map.output[role]), `${target}.tmp`);
    await rename(`${target}.tmp`, target);
  }
  await publishModel(
    join(outDir, 'model'),
    {
      [MODEL_FILES.featureSummary]: join(ingest.dir, MODEL_FILES.featureSummary),
      [MODEL_FILES.encoding]: join(encode.dir, encode.output.model),
      [MODEL_FILES.transform]: join(scale.dir, scale.output.transform),
      [MODEL_FILES.pca]: join(pca.dir, pca.output.model),
      [MODEL_FILES.centroids]: join(final.dir, final.output.centroids),
    },
    { columns: ingest.output.columns, keptColumns: split.output.keptColumns, maxRowMissing: split.output.maxRowMissing },
  );
  await writeLineage(join(outDir, 'model'), {
    createdAt: results.createdAt,
    dataset: results.dataset,
    code: codeVersion(),
    temporal: lineage.temporal,
    inputs: {
      population: { path: ingest.output.population.path, sha256: ingest.output.population.sha256, rows: ingest.output.population.rows },
      customers: { path: ingest.output.customers.path, sha256: ingest.output.customers.sha256, rows: ingest.output.customers.rows },
      featureSummary: ingest.output.featureSummary,
    },
    rows: {
      population: { total: split.output.population.rows, clean: split.output.population.cleanRows, heavy: split.output.population.heavyRows },
      customers: { total: split.output.customers.rows, clean: split.output.customers.cleanRows, heavy: split.output.customers.heavyRows },
    },
    config: lineage.config as unknown as Record<string, unknown>,
    steps: lineage.steps,
  });
  await writeFileAtomic(join(outDir, 'results.json'), JSON.stringify(results, null, 2));
  await writeFileAtomic(join(outDir, 'report.html'), renderReport(results));
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
