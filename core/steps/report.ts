/**
 * Step 6, report: results.json (the output contract), the assignments (targeting lists), the fitted model and
 * report.html, published into the output folder. Each file is written under a temporary name and renamed, so
 * a reader never sees a half-written result and a failed run leaves the previous run's files as they were.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineConfig } from '../../schemas/config';
import { CentroidsFileSchema, CleaningModel, MODEL_FILES } from '../../schemas/model-files';
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
import { relabelAssignmentsParquet } from '../assignments';
import { FILES } from '../cleaning/cleaning-steps';
import { withSegmentIds } from '../drift';
import { withDuckDb } from '../duckdb';
import { readJsonFile } from '../store/json';
import { renderReport } from '../report/render';
import { copyVerified, writeFileAtomic } from '../store/step-store';
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
  kChosenBy: 'knee' | 'fixed' | 'rule' | 'previous';
  /** The previous run's folder as this run was given it (the drift checkpoint does not hold it). */
  previousOutDir?: string;
  steps: { name: string; seconds: number; reused: boolean }[];
}

/** The output contract, from the steps' outputs. */
export function buildResults(up: ReportUpstream, config: PipelineConfig, facts: RunFacts): Results {
  const { ingest, missingness, split, scale, pca, final, compare, drift } = up;
  const byCentroid = segmentIdsByCentroid(drift);
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
    // Stable segment IDs (the drift step matched them with the previous run) replace the centroid indices.
    ...withSegmentIds(compare.output, byCentroid),
    steps: facts.steps,
    segmentIds: { byCentroid, nextId: drift.output.identity.nextId },
    continuity: drift.output.continuity && facts.previousOutDir ? { previousOutDir: facts.previousOutDir, ...drift.output.continuity } : null,
  });
}

/** Each centroid's stable segment ID, from the drift step. */
export function segmentIdsByCentroid(drift: Loaded<DriftOutput>): number[] {
  return drift.output.identity.segments.map((segment) => segment.id);
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
    ...(fit.inits !== undefined ? { inits: fit.inits } : {}),
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

/**
 * Publishes the assignments, the fitted model with its lineage, results.json and report.html into `outDir`. Every
 * file copied from a checkpoint is checked against the SHA-256 its manifest recorded before it replaces the
 * published one (copyVerified): a checkpoint damaged since it was loaded is never published.
 */
export async function publishRun(outDir: string, up: ReportUpstream, results: Results, lineage: LineageFacts): Promise<void> {
  const { ingest, split, encode, scale, pca, final, map } = up;
  const byCentroid = segmentIdsByCentroid(up.drift);
  await mkdir(join(outDir, 'assignments'), { recursive: true });
  // The targeting lists carry the stable segment IDs (the map step wrote centroid indices): each map file is
  // copied verified (copyVerified), relabelled from that copy, and the relabelled file renamed into place.
  await withDuckDb({}, async (conn) => {
    for (const role of FILES) {
      const target = join(outDir, 'assignments', `${role}.parquet`);
      const verified = `${target}.verified.tmp`;
      try {
        await copyVerified('map', map.dir, map.output[role], verified);
        await relabelAssignmentsParquet(conn, { sourcePath: verified, outPath: `${target}.tmp`, byCentroid });
        await rename(`${target}.tmp`, target);
      } finally {
        await rm(verified, { force: true });
      }
    }
  });
  await publishModel(
    join(outDir, 'model'),
    {
      [MODEL_FILES.featureSummary]: { step: 'ingest', dir: ingest.dir, name: MODEL_FILES.featureSummary },
      [MODEL_FILES.encoding]: { step: 'encode', dir: encode.dir, name: encode.output.model },
      [MODEL_FILES.transform]: { step: 'scale', dir: scale.dir, name: scale.output.transform },
      [MODEL_FILES.pca]: { step: 'pca', dir: pca.dir, name: pca.output.model },
    },
    { columns: ingest.output.columns, keptColumns: split.output.keptColumns, maxRowMissing: split.output.maxRowMissing },
  );
  // The published centroids carry their segment IDs, so `segments score` labels new files the same way: read from
  // a verified copy of the final fit's centroids.
  const verifiedCentroids = join(outDir, 'model', `${MODEL_FILES.centroids}.verified.tmp`);
  try {
    await copyVerified('kmeans', final.dir, final.output.centroids, verifiedCentroids);
    const centroids = await readJsonFile(verifiedCentroids, CentroidsFileSchema);
    await writeFileAtomic(join(outDir, 'model', MODEL_FILES.centroids), JSON.stringify({ ...centroids, segmentIds: byCentroid }));
  } finally {
    await rm(verifiedCentroids, { force: true });
  }
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
async function publishModel(dir: string, copies: Record<string, { step: string; dir: string; name: string }>, cleaning: CleaningModel): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, source] of Object.entries(copies)) await copyVerified(source.step, source.dir, source.name, join(dir, name));
  await writeFileAtomic(join(dir, MODEL_FILES.cleaning), JSON.stringify(cleaning, null, 1));
}
