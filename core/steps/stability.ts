/**
 * Step 4a′, stability at one k (the workflow runs one per k, beside the sweep): do fits on two subsamples of the
 * population's PCA scores label a fixed evaluation sample alike? The median adjusted Rand index over the
 * replicates (core/linalg/stability.ts) is the k rule's evidence that the partition at k is real
 * (core/linalg/choose-k.ts). Subsample fits run in a worker thread, one replicate at a time.
 */
import { join } from 'node:path';
import type { PipelineConfig } from '../../schemas/config';
import type { PcaOutput, StabilityOutput } from '../../schemas/steps';
import { replicateAgreement, stabilityScore, type SubsampleFit, worstAgreement } from '../linalg/stability';
import { kmeansBestOf } from '../parallel/kmeans-best-of';
import { acquireScoresMatrixAsync } from '../store/arrays';
import { matrixView } from '../wasm/kernel';
import type { Loaded, StepRuntime } from './runtime';

/**
 * The seed the subsamples and the evaluation sample are drawn with: fixed, not the config's seed — which rows are
 * compared is part of the measure's definition (like a fixed test set), so every config seed measures the same
 * thing. The fits on the subsamples are seeded by the config's seed.
 */
export const STABILITY_SAMPLE_SEED = 0x5eed_57ab;

export type StabilitySettings = Pick<PipelineConfig, 'seed' | 'maxIterations' | 'relativeTolerance' | 'stability'> & { k: number };

export async function measureStability(pca: Loaded<PcaOutput>, settings: StabilitySettings, runtime: StepRuntime): Promise<StabilityOutput> {
  const rows = pca.output.population.rows;
  const dims = pca.output.keptComponents;
  const { k, stability } = settings;
  const lease = await acquireScoresMatrixAsync(join(pca.dir, pca.output.population.scores), rows, dims);
  try {
    const data = matrixView(lease.matrix);
    let fitSeedOffset = 0;
    const fit: SubsampleFit = async (subsample, m, d, kk, _drawSeed, inits) => {
      // Fits seeded by the config's seed (one stream per subsample), the draw by the fixed sample seed.
      const seed = settings.seed + 7919 * ++fitSeedOffset;
      const options = {
        k: kk,
        seed,
        maxIterations: settings.maxIterations,
        relativeTolerance: settings.relativeTolerance,
        inits,
        initCandidates: stability.initCandidates,
        initSample: stability.initSample,
      };
      return kmeansBestOf(subsample, m, d, options, { signal: runtime.signal, progress: () => undefined });
    };
    const replicates: StabilityOutput['replicates'] = [];
    for (let replicate = 0; replicate < stability.replicates; replicate++) {
      const options = { k, seed: STABILITY_SAMPLE_SEED, replicate, sampleRows: stability.sampleRows, inits: stability.inits, evaluationRows: stability.evaluationRows };
      const agreement = await replicateAgreement(data, rows, dims, options, fit);
      replicates.push({ replicate, ari: agreement.ari });
      runtime.progress({ kind: 'stability', k, replicatesDone: replicate + 1 });
    }
    return {
      k,
      stability: stabilityScore(replicates.map((r) => r.ari)),
      worstAgreement: worstAgreement(replicates.map((r) => r.ari)),
      replicates,
      sampleRows: Math.min(rows, stability.sampleRows),
      evaluationRows: Math.min(rows, stability.evaluationRows),
      inits: stability.inits,
    };
  } finally {
    lease.release();
  }
}
