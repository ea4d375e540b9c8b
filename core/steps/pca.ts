/**
 * Step 3b, PCA: covariance (resumable: persisted after every batch of chunks) + eigen decomposition; the kept
 * components chosen by a variance target or a fixed count; both files projected onto them.
 *
 * Memory: the matrices are never loaded whole. The worker threads read the scaled matrix files a chunk at a
 * time (covariance: two passes; projection: one) and write the scores straight into the scores files, so the
 * step holds a few chunks per thread whatever the row count (it held matrix + scores: 2.3 GB at 2.7M rows).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MODEL_FILES, PcaModelFile } from '../../schemas/model-files';
import type { PcaOutput, ScaleOutput } from '../../schemas/steps';
import { FILES } from '../cleaning/cleaning-steps';
import { chooseComponentCount, interpretComponent, pcaFromCovariance } from '../linalg';
import { MatrixFile, projectRowsToFile } from '../parallel';
import { CovarianceProgress, resumableCovariance } from '../parallel/resumable-covariance';
import { MATRIX_DTYPE } from './scale';
import type { Loaded, StepRuntime } from './runtime';

/**
 * PCA scores are stored as float32: half the memory and disk of float64 (0.28 GB at full size), and the
 * 7 significant digits are far more than clustering needs; the k-means kernel promotes them to float64 exactly.
 */
export const SCORES_DTYPE = 'float32';

/** Features named per component when the report interprets it. */
const INTERPRET_FEATURES = 8;

export interface PcaSettings {
  varianceTarget: number;
  components?: number;
  interpret: number;
}

/**
 * `resumeFile` holds the covariance state between attempts: outside the attempt's temporary folder, so the
 * next attempt finds it after a crash (with the position from `runtime.resumeDetails`).
 */
export async function fitPca(
  scale: Loaded<ScaleOutput>,
  settings: PcaSettings,
  workDir: string,
  resumeFile: string,
  runtime: StepRuntime,
): Promise<PcaOutput> {
  const cols = scale.output.features.length;
  const matrixFile = (role: (typeof FILES)[number]): MatrixFile => ({
    path: join(scale.dir, scale.output[role].matrix),
    dtype: MATRIX_DTYPE,
    rows: scale.output[role].rows,
    cols,
  });
  const { mean, covariance } = await covarianceWithCheckpoints(matrixFile('population'), resumeFile, runtime);
  const model = pcaFromCovariance(covariance, cols);
  const q = chooseComponentCount(model.cumulativeVarianceRatio, { varianceTarget: settings.varianceTarget, components: settings.components });
  const components = model.components.subarray(0, q * cols);
  const file: PcaModelFile = { features: scale.output.features, mean: Array.from(mean), components: Array.from(components), keptComponents: q };
  await writeFile(join(workDir, MODEL_FILES.pca), JSON.stringify(file));
  const projected = {} as Record<(typeof FILES)[number], PcaOutput['population']>;
  for (const role of FILES) {
    const rows = scale.output[role].rows;
    // Stored as float32 (SCORES_DTYPE), each score rounded once from its float64 sum.
    await projectRowsToFile(matrixFile(role), rows, cols, mean, components, q, { path: join(workDir, `${role}.scores`), dtype: SCORES_DTYPE }, {
      signal: runtime.signal,
      onProgress: (done) => runtime.progress({ phase: `project ${role}`, done, rows }),
    });
    projected[role] = { rows, scores: `${role}.scores` };
  }
  const interpreted = Array.from({ length: Math.min(settings.interpret, q) }, (_, index) => ({
    index,
    explainedVarianceRatio: model.explainedVarianceRatio[index],
    ...interpretComponent(components.subarray(index * cols, (index + 1) * cols), scale.output.features, INTERPRET_FEATURES),
  }));
  return {
    model: MODEL_FILES.pca,
    keptComponents: q,
    explainedVarianceRatio: Array.from(model.explainedVarianceRatio),
    cumulativeVarianceRatio: Array.from(model.cumulativeVarianceRatio),
    components: interpreted,
    population: projected.population,
    customers: projected.customers,
  };
}

/** What the PCA step reports as progress during the covariance pass: the position to resume from. */
interface PcaResumeState {
  kind: 'pca';
  chunksDone: number;
  chunks: number;
  mean: number[];
}

/**
 * The covariance pass, persisted after every batch of chunks (state file + progress with the position), so a
 * retry after a crash continues where the accumulation stopped. The file goes once the step is done.
 */
async function covarianceWithCheckpoints(data: MatrixFile, resumeFile: string, runtime: StepRuntime) {
  const details = runtime.resumeDetails as PcaResumeState | undefined;
  let resume: CovarianceProgress | undefined;
  if (details?.kind === 'pca' && existsSync(resumeFile)) {
    const bytes = await readFile(resumeFile);
    resume = { ...details, state: new Uint8Array(bytes).buffer };
  }
  await mkdir(dirname(resumeFile), { recursive: true });
  const result = await resumableCovariance(data, data.rows, data.cols, {
    resume,
    signal: runtime.signal,
    onBatch: async ({ chunksDone, chunks, mean, state }) => {
      await writeFile(`${resumeFile}.tmp`, Buffer.from(state));
      await rename(`${resumeFile}.tmp`, resumeFile);
      runtime.progress({ kind: 'pca', chunksDone, chunks, mean } satisfies PcaResumeState);
    },
  });
  await rm(resumeFile, { force: true });
  return result;
}
