/**
 * The config's defaults, in one place: schemas/config.ts applies them when it parses a config, and the
 * workflow (which keeps zod out of its sandbox) reads the few it needs before the first step from here.
 */
export const CONFIG_DEFAULTS = {
  dataset: 'arvato',
  kMin: 2,
  kMax: 20,
  /** Rows of each k-means init's sample (core/linalg/kmeans.ts reads its default from here). */
  initSample: 65536,
} as const;
