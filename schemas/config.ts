import { z } from 'zod';
import { CONFIG_DEFAULTS } from './config-defaults';

/** PCA settings (strict: an unknown key is an error, not silently ignored). */
export const PcaConfigSchema = z
  .object({
    /** Keep the fewest components whose cumulative explained variance reaches this. */
    varianceTarget: z.number().gt(0).max(1).default(0.9),
    /** Or a fixed count (wins over varianceTarget). */
    components: z.number().int().positive().optional(),
    /** How many components the report interprets. */
    interpret: z.number().int().positive().default(3),
  })
  .strict()
  .prefault({});

/**
 * Checks of the values themselves (core/cleaning/domains.ts): a value outside its column's known domain (99 in a
 * 1-5 scale, a negative count) or of extreme magnitude (|x| > maxAbsValue, e.g. 1e308, which overflows the
 * variance) is counted per column and, by `policy`, treated as missing ('missing', the default) or fails the
 * run naming file, column and line ('fail').
 */
export const ValueChecksSchema = z
  .object({
    policy: z.enum(['missing', 'fail']).default('missing'),
    /** A JSON file of column domains ({"COLUMN": {"values": [1,2,3]} | {"min": 0, "max": 10, "integer": true}}). Unset: the built-in Arvato domains when the summary is Arvato's. */
    domains: z.string().optional(),
    /** Any number of larger magnitude is extreme, in every numeric column. */
    maxAbsValue: z.number().positive().default(1e9),
  })
  .strict()
  .prefault({});

/** Month to month: how this run's segments relate to the previous run's (workflow input previousOutDir / `run --previous`). */
export const ContinuityConfigSchema = z
  .object({
    /**
     * A cluster keeps a previous segment's ID when their centroids are at most this far apart: the root-mean-square
     * difference over the standardised encoded features, in population standard deviations. Farther: a new segment
     * with a new ID. The default sits between the month-to-month noise of one segment's centroid and the distance
     * between different segments (measured on the generator at 20k rows: 0.025-0.031 sd vs 0.48 sd; README).
     */
    maxDistance: z.number().positive().default(0.25),
    /**
     * Keep the previous run's k, and start the final fit from its centroids besides the seeded inits, when the data
     * have the same shape (the same encoded features) and the previous k is in kMin..kMax. The warm-started fit is
     * kept unless a seeded init's SSE is lower by more than `warmStartTolerance` (relative). Off by default: k is
     * chosen afresh each run. A fixed `k` wins over it.
     */
    keepPreviousK: z.boolean().default(false),
    warmStartTolerance: z.number().min(0).lt(1).default(0.005),
  })
  .strict()
  .prefault({});

/**
 * Everything a run can be tuned by. Defaults reproduce the original study's choices; every field is
 * validated here so a bad value fails the run before any work (non-retryably).
 */
export const PipelineConfigSchema = z
  .object({
    /** A label for the data set (search attribute, report title). */
    dataset: z.string().min(1).default(CONFIG_DEFAULTS.dataset),
    /** Columns whose population missing share exceeds this are dropped (the published 6 fall out anywhere in ~0.18-0.34). */
    maxColumnMissingShare: z.number().gt(0).lt(1).default(0.3),
    /**
     * A row is heavy-missing when it misses more than this many of the kept columns. Unset: derived from
     * `maxRowMissingShare` x kept columns, so other data sets get a sensible split too.
     */
    maxRowMissing: z.number().int().min(0).optional(),
    maxRowMissingShare: z.number().gt(0).lt(1).default(0.3),
    /**
     * The heavy-missing rows are compared with the clean rows on the kept columns missing at most
     * `maxMissingShare` of the population (well-filled columns compare values, not who misses them). When no
     * column qualifies (generic data), the `fallbackColumns` least-missing ones are compared, over their
     * non-missing values, and results.json and the report say so.
     */
    heavyComparison: z
      .object({
        maxMissingShare: z.number().min(0).max(1).default(0.05),
        fallbackColumns: z.number().int().positive().default(10),
      })
      .strict()
      .prefault({}),
    /** Encoding rules file (JSON, see schemas/encoding-rules.ts). Unset: the built-in rules when the summary is Arvato's, else derived from the summary's types. */
    encodingRules: z.string().optional(),
    pca: PcaConfigSchema,
    kMin: z.number().int().min(2).default(CONFIG_DEFAULTS.kMin),
    kMax: z.number().int().min(2).default(CONFIG_DEFAULTS.kMax),
    /** Fix k instead of picking it at the knee of the SSE curve. */
    k: z.number().int().min(2).optional(),
    /**
     * k-means inits for the final fit (best SSE kept). Each starts from the best of `initCandidates` sample fits
     * (k-means++ and k-means on the 65,536-row init sample), so an init is cheap next to its full-data iterations.
     */
    finalInits: z.number().int().positive().default(10),
    /**
     * Inits per k in the sweep (best kept). With `initCandidates` sample fits behind each, one init already finds
     * the optimum's SSE in practice (monotone curves on the planted data; bench/quality.ts); the final fit takes
     * the sweep's inits over as its first ones.
     */
    sweepInits: z.number().int().positive().default(1),
    /**
     * Inits of a sweep point refined near the knee (the sweep's inits count among them): the points next to the
     * knee decide it, so they are fitted until their SSE is the optimum's, whatever the seed (see
     * workflows/segmentation.ts, refineNearKnee). The rule's k is refitted with `finalInits` instead: the final fit
     * takes all of them over.
     */
    refineInits: z.number().int().positive().default(5),
    /** Sample fits per init; the full data start from the one with the lowest sample SSE (see core/linalg/kmeans.ts). */
    initCandidates: z.number().int().positive().default(4),
    /** Rows of each init's sample, which its `initCandidates` fits run on (all rows when there are fewer); why 32,768: schemas/config-defaults.ts. */
    initSample: z.number().int().min(2).default(CONFIG_DEFAULTS.initSample),
    /**
     * Rare one-hot levels (core/encoding/rare-levels.ts): a level with fewer than `minCount` population rows or
     * a share below `minShare` is folded into an "(other)" level (`action` "other"; dropped when the fold is rare
     * too) or dropped ("drop"). Each decision is recorded with its reason in encoding.json and results.json.
     */
    rareLevels: z
      .object({
        minShare: z.number().min(0).lt(1).default(0.001),
        minCount: z.number().int().min(0).default(30),
        action: z.enum(['other', 'drop']).default('other'),
      })
      .strict()
      .prefault({}),
    /**
     * A feature whose `rows` most extreme population rows hold more than `maxShare` of its squared deviations is
     * dropped (a handful of rows would dominate its standardised values), with the share as the reason.
     */
    concentration: z
      .object({ rows: z.number().int().positive().default(25), maxShare: z.number().gt(0).max(1).default(0.5) })
      .strict()
      .prefault({}),
    /**
     * Smallest cluster (population rows) a model may have: a sweep k whose fit leaves a smaller one is not chosen,
     * and a final fit that does is reported as such. Unset: 0.5 % of the clean population rows.
     */
    minClusterSize: z.number().int().positive().optional(),
    /**
     * Stability of the partition at a k (core/linalg/stability.ts), the k rule's guard (core/linalg/choose-k.ts),
     * measured where the rule needs it (the knee, then outward until a k is stable):
     * `replicates` pairs of fits on fixed subsamples of `sampleRows` rows, each fit the best of `inits` inits
     * that start from the best of `initCandidates` k-means fits on `initSample` rows (strong fits: a weak fit's
     * local optimum reads as instability); stability = the median ARI of the replicates' labelings of
     * `evaluationRows` rows; a k is stable from `minStability` on. The subsamples are drawn with a fixed seed (not
     * `seed`): which rows are compared is part of the measure, like a fixed test set; the fits are seeded by `seed`.
     */
    stability: z
      .object({
        replicates: z.number().int().positive().default(3),
        sampleRows: z.number().int().positive().default(5_000),
        evaluationRows: z.number().int().positive().default(5_000),
        inits: z.number().int().positive().default(1),
        initCandidates: z.number().int().positive().default(8),
        initSample: z.number().int().positive().default(2_000),
        minStability: z.number().gt(0).max(1).default(0.8),
        /** Kneedle's sensitivity S on the SSE curve. */
        kneeSensitivity: z.number().min(0).default(1),
      })
      .strict()
      .prefault({}),
    maxIterations: z.number().int().positive().default(300),
    /**
     * Convergence: stop when SSE improves by less than this fraction between iterations. 1e-4 ends the fit
     * within a few 1e-5 of the SSE a run to the fixed point reaches (npm run bench checks this against plain
     * Lloyd), several iterations sooner.
     */
    relativeTolerance: z.number().positive().default(1e-4),
    /** Rows sampled for silhouette scores (exact within the sample: cost grows with its square). */
    silhouetteSample: z.number().int().positive().default(2000),
    /** Significance level for over/under-representation (Bonferroni-corrected over clusters). */
    alpha: z.number().gt(0).lt(1).default(0.05),
    seed: z.number().int().default(42),
    valueChecks: ValueChecksSchema,
    continuity: ContinuityConfigSchema,
  })
  // Unknown keys are errors: a typo (maxColumMissingShare) must not run silently with the default.
  .strict()
  .refine((config) => config.kMax >= config.kMin, { message: 'kMax must be >= kMin', path: ['kMax'] });

export type PipelineConfig = z.infer<typeof PipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof PipelineConfigSchema>;

export function parseConfig(input: unknown): PipelineConfig {
  return PipelineConfigSchema.parse(input ?? {});
}
