/**
 * The config's defaults, in one place: schemas/config.ts applies them when it parses a config, and the
 * workflow (which keeps zod out of its sandbox) reads the few it needs before the first step from here.
 */
export const CONFIG_DEFAULTS = {
  dataset: 'arvato',
  kMin: 2,
  kMax: 20,
  /**
   * Rows of each k-means init's sample (core/linalg/kmeans.ts reads its default from here). 32,768: at full size
   * (798,073 × 86, 4 sample fits per init) the sweep took 41.9 s instead of 70.1 s with 65,536 rows — the sample
   * (11 MiB as float32) stays in cache — for the same k, curve knee and final SSE (npm run bench, one sitting).
   */
  initSample: 32768,
} as const;
