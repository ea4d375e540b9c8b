/**
 * Step 4a″, choosing k: the sweep's SSE curve and the stability per k, through the one documented rule
 * (core/linalg/choose-k.ts). Written as a checkpoint so the report shows why this k.
 */
import type { PipelineConfig } from '../../schemas/config';
import type { KChoiceOutput } from '../../schemas/steps';
import { chooseK } from '../linalg/choose-k';

/** Unset `minClusterSize`: this share of the clean population rows (at least 1 row). */
export const DEFAULT_MIN_CLUSTER_SHARE = 0.005;

export function minClusterSizeFor(config: Pick<PipelineConfig, 'minClusterSize'>, cleanRows: number): number {
  return config.minClusterSize ?? Math.max(1, Math.ceil(cleanRows * DEFAULT_MIN_CLUSTER_SHARE));
}

export function chooseClusterCount(
  sweep: readonly { k: number; sse: number; clusterSizes?: number[] }[],
  stability: readonly { k: number; stability: number }[],
  config: Pick<PipelineConfig, 'minClusterSize' | 'stability'>,
  cleanRows: number,
): KChoiceOutput {
  const minClusterSize = minClusterSizeFor(config, cleanRows);
  const stabilityAt = new Map(stability.map((s) => [s.k, s.stability]));
  const points = sweep.map((p) => ({
    k: p.k,
    sse: p.sse,
    stability: stabilityAt.get(p.k) ?? null,
    smallestCluster: p.clusterSizes ? Math.min(...p.clusterSizes) : null,
  }));
  const choice = chooseK({
    ks: points.map((p) => p.k),
    sse: points.map((p) => p.sse),
    stability: points.map((p) => p.stability),
    // A checkpoint from before cluster sizes were recorded cannot rule a k out.
    smallestCluster: points.map((p) => p.smallestCluster ?? Number.MAX_SAFE_INTEGER),
    minClusterSize,
    minStability: config.stability.minStability,
    sensitivity: config.stability.kneeSensitivity,
  });
  return { ...choice, minStability: config.stability.minStability, minClusterSize, points };
}
