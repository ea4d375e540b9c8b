import { z } from 'zod';
import { ConcentratedFeatureSchema, RareLevelDecisionSchema } from './feature-fit';

/**
 * DIR/results.json — the output contract other tools read.
 *
 * Two views of each group's share (core/stats/representation.ts compareSegmentViews):
 *  - the verdict view (each cluster's top-level shares, lift, CI, p-value, representation): a cluster's share is of
 *    its file's *clean* (clusterable) rows, so the clusters' shares sum to 1 per file and a lift answers "which
 *    segments do customers come from", free of the heavy-missing group's different share in the two files; the
 *    heavy-missing group (id -1) has its share of *all* rows and its own lift against the population;
 *  - `allRows`: every group's share of all rows of its file (clusters plus id -1 sum to 1). When customers hold
 *    more heavy-missing rows than the population, every cluster's all-row lift is scaled down by the same factor,
 *    so it is reported, not used for verdicts. Results written before the clean view have no `allRows` and their
 *    top-level fields are the all-row view.
 * One Bonferroni family covers the k clusters and the heavy-missing group.
 */
export const ColumnMissingSchema = z.object({
  column: z.string(),
  populationShare: z.number().min(0).max(1),
  customerShare: z.number().min(0).max(1),
  dropped: z.boolean(),
});

export const HistogramSchema = z.object({
  /** bins[i] = number of rows with exactly i missing values (over the kept columns). */
  population: z.array(z.number().int().nonnegative()),
  customers: z.array(z.number().int().nonnegative()),
});

export const DivergenceSchema = z.object({
  column: z.string(),
  /** Jensen-Shannon divergence (base 2, in [0, 1]) between the column's value distribution in clean vs heavy rows. */
  jensenShannon: z.number().min(0),
  /** Total variation distance in [0, 1]. */
  totalVariation: z.number().min(0),
});

/**
 * How the heavy-missing rows were compared with the clean rows: which columns, chosen how, and why a fallback
 * (or nothing) was compared.
 */
export const HeavyComparisonSchema = z.object({
  /** Columns whose population missing share is at most this are compared (config heavyComparison.maxMissingShare). */
  maxMissingShare: z.number(),
  /** How many columns were compared. */
  columns: z.number().int().nonnegative(),
  /** 'threshold': the columns under maxMissingShare; 'least-missing': none was, so the least-missing kept columns; 'none': nothing could be compared. */
  selection: z.enum(['threshold', 'least-missing', 'none']),
  /** Why the comparison is not the usual one, for people (null when it is). */
  note: z.string().nullable(),
});

/** Customer values of an encoded column that the population fit has no level for (they encode as unknown). */
export const UnseenLevelsSchema = z.object({
  column: z.string(),
  /** Customer rows holding such a value. */
  rows: z.number().int().nonnegative(),
  /** The most frequent such values (at most 20). */
  values: z.array(z.string()),
});

/** Values outside a column's domain or of extreme magnitude, per file (see core/cleaning/domains.ts). */
export const ValueCheckCountsSchema = z.object({ outOfDomain: z.number().int().min(0), extreme: z.number().int().min(0) });
export const ValueChecksSchema = z.object({
  /** 'missing': such values were treated as missing; 'fail': the run stops at the first one. */
  policy: z.enum(['missing', 'fail']),
  maxAbsValue: z.number(),
  /** Where the domains came from: 'built-in Arvato domains', a file, or 'none' (magnitude only). */
  domainSource: z.string(),
  /** Only the columns where something was found. */
  columns: z.array(
    z.object({
      column: z.string(),
      domain: z.string(),
      population: ValueCheckCountsSchema,
      customers: ValueCheckCountsSchema,
      /** The smallest and largest such value. */
      range: z.string(),
    }),
  ),
});
export type ValueChecks = z.infer<typeof ValueChecksSchema>;

export const FeatureWeightSchema = z.object({ feature: z.string(), weight: z.number() });

export const ComponentSchema = z.object({
  index: z.number().int().nonnegative(),
  explainedVarianceRatio: z.number(),
  top: z.array(FeatureWeightSchema),
  bottom: z.array(FeatureWeightSchema),
});

export const ProfileFeatureSchema = z.object({
  feature: z.string(),
  /** The members' mean in original units (the centroid's, inverse-projected, in results before member means). */
  value: z.number(),
  populationMean: z.number(),
  /** (value - mean) / std, in standard deviations of the population. */
  zScore: z.number(),
  description: z.string(),
});

/** A group's share comparison in one view (see the top of this file). */
export const ShareViewSchema = z.object({
  id: z.number().int(),
  populationCount: z.number().int().nonnegative(),
  customerCount: z.number().int().nonnegative(),
  populationShare: z.number(),
  customerShare: z.number(),
  lift: z.number(),
  liftCi: z.tuple([z.number(), z.number()]),
  pValue: z.number().min(0).max(1),
  representation: z.enum(['over', 'under', 'neutral']),
});

/** A cluster (id -1 = the heavy-missing group): its clean-row share comparison, the all-row view and what sets it apart. */
export const ClusterSchema = ShareViewSchema.extend({
  /** The same comparison over all rows of each file (absent in results written before the clean-row verdicts). */
  allRows: ShareViewSchema.optional(),
  /** Features that set the cluster's members apart from the population mean, largest |z| first (empty for -1). */
  profile: z.array(ProfileFeatureSchema),
  /**
   * The segment in plain words, from its most distinctive features (core/stats/persona.ts), e.g. "older, wealthy,
   * financially prudent, rational, rural". Empty in results written before personas existed.
   */
  persona: z.string().default(''),
});

export const KSweepPointSchema = z.object({
  k: z.number().int(),
  sse: z.number(),
  silhouette: z.number().nullable(),
  /** Stability of the partition at k (median subsample-pair ARI over the replicates); null or absent where not measured: the rule measures it only where it needs it (the knee, then outward until a k is stable), none with a fixed k. */
  stability: z.number().nullable().optional(),
  /** The sweep fit's smallest cluster (population rows; absent in older runs). */
  smallestCluster: z.number().int().nullable().optional(),
  /** Seeded inits behind the point: the sweep's (1), or refineInits where it was refined near the knee (absent in older runs). */
  inits: z.number().int().optional(),
});

/**
 * Why this k (core/linalg/choose-k.ts): the kneedle knee of the SSE curve, the k whose partition is stable
 * (median replicate ARI ≥ minStability) with no cluster below minClusterSize, the run of stable k the choice is in.
 */
export const KChoiceSchema = z.object({
  knee: z.number().int().nullable(),
  eligible: z.array(z.number().int()),
  run: z.array(z.number().int()),
  /** false: no k was stable; k is the knee and the report says the partition is not reproducible. */
  stable: z.boolean(),
  reason: z.string(),
  minStability: z.number(),
  minClusterSize: z.number().int(),
});

/** Features fit to cluster (core/encoding/rare-levels.ts): what the encoding folded or dropped, and why. */
export const FeatureFitSchema = z.object({
  rareLevels: z.array(RareLevelDecisionSchema),
  concentratedFeatures: z.array(ConcentratedFeatureSchema),
});

export const SegmentIdsSchema = z.object({ byCentroid: z.array(z.number().int().nonnegative()), nextId: z.number().int().nonnegative() });

/**
 * How this run's segments relate to the previous run's. A cluster continues a previous segment (and keeps its ID)
 * when a minimum-cost assignment pairs their centroids and the pair is within `maxDistance`: the root-mean-square
 * difference over the standardised encoded features both runs have, in this run's population standard deviations
 * (config continuity.maxDistance). Any other cluster is a new segment with an ID never used before; a previous
 * segment nothing continues is gone. The heavy-missing group (-1) always continues itself.
 */
export const ContinuitySchema = z.object({
  previousOutDir: z.string(),
  previousCreatedAt: z.string(),
  maxDistance: z.number(),
  /** k taken from the previous run (config continuity.keepPreviousK) rather than chosen afresh. */
  kFromPrevious: z.boolean().default(false),
  /**
   * The final fit's warm start from the previous centroids: 'kept' (its fit won), 'not-kept' (a seeded init was
   * better by more than continuity.warmStartTolerance), 'unavailable' (the data changed shape), 'off' (not asked for).
   */
  warmStart: z.enum(['kept', 'not-kept', 'unavailable', 'off']).default('off'),
  segments: z.array(
    z.object({
      id: z.number().int(),
      status: z.enum(['continued', 'new']),
      /** The previous segment continued (same ID), null for a new one. */
      previousId: z.number().int().nullable(),
      /** Centroid distance to the segment continued; for a new one, to the nearest previous segment. */
      distance: z.number().nullable(),
      /** Share now minus share before (a new segment: its share; before = 0). */
      populationShareChange: z.number(),
      customerShareChange: z.number(),
      previousLift: z.number().nullable(),
    }),
  ),
  gone: z.array(
    z.object({
      id: z.number().int(),
      /** Distance to the nearest of this run's segments. */
      nearestDistance: z.number().nullable(),
      previousPopulationShare: z.number(),
      previousCustomerShare: z.number(),
      previousLift: z.number(),
      previousPersona: z.string(),
    }),
  ),
});
export type Continuity = z.infer<typeof ContinuitySchema>;

export const ResultsSchema = z.object({
  version: z.literal(1),
  dataset: z.string(),
  createdAt: z.string(),
  inputs: z.object({
    population: z.object({ path: z.string(), rows: z.number().int(), sha256: z.string() }),
    customers: z.object({ path: z.string(), rows: z.number().int(), sha256: z.string() }),
    featureSummary: z.object({ path: z.string(), sha256: z.string() }),
  }),
  /** The settings the figures depend on (thresholds drawn in the report). */
  settings: z.object({
    maxColumnMissingShare: z.number(),
    varianceTarget: z.number(),
    alpha: z.number(),
  }),
  droppedColumns: z.array(z.string()),
  /** Absent when the run's publish step was not given the recode step (runs recorded before value checks). */
  valueChecks: ValueChecksSchema.optional(),
  missingness: z.object({
    columns: z.array(ColumnMissingSchema),
    rowHistogram: HistogramSchema,
    maxRowMissing: z.number().int(),
  }),
  heavyMissing: z.object({
    populationShare: z.number(),
    customerShare: z.number(),
    populationRows: z.number().int(),
    customerRows: z.number().int(),
    divergence: z.array(DivergenceSchema),
    /** Absent in results written before it existed. */
    comparison: HeavyComparisonSchema.nullable().default(null),
  }),
  /** Per encoded column, customer values the population fit has not seen (empty: none). */
  unseenCustomerLevels: z.array(UnseenLevelsSchema).default([]),
  features: z.array(z.string()),
  pca: z.object({
    explainedVarianceRatio: z.array(z.number()),
    cumulativeVarianceRatio: z.array(z.number()),
    keptComponents: z.number().int(),
    components: z.array(ComponentSchema),
  }),
  kSweep: z.array(KSweepPointSchema),
  k: z.number().int(),
  /** 'rule': knee and stability (kChoice); 'knee': the SSE knee alone (runs before the rule); 'fixed': config k; 'previous': kept from the previous run (config continuity.keepPreviousK). */
  kChosenBy: z.enum(['knee', 'fixed', 'rule', 'previous']),
  /** The k rule's decision; null when k was fixed, kept from the previous run or chosen before the rule existed. */
  kChoice: KChoiceSchema.nullable().default(null),
  /** Absent in results written before it existed. */
  featureFit: FeatureFitSchema.optional(),
  finalSse: z.number(),
  clusters: z.array(ClusterSchema),
  overRepresented: z.array(z.number().int()),
  underRepresented: z.array(z.number().int()),
  steps: z.array(
    z.object({ name: z.string(), seconds: z.number(), reused: z.boolean() }),
  ),
  /**
   * Stable segment IDs (`clusters[].id`, the assignments, over/underRepresented all use them): `byCentroid[c]` is
   * the ID of the model's centroid c; `nextId` is above every ID handed out so far, so the next run never reuses
   * one. Absent in results written before stable IDs (there the IDs are the centroid indices).
   */
  segmentIds: SegmentIdsSchema.optional(),
  /**
   * Month to month (the previous run, e.g. last month's): which segments continued, which are new and which are
   * gone, with their share changes. Null without a previous run.
   */
  continuity: ContinuitySchema.nullable().default(null),
});

export type Results = z.infer<typeof ResultsSchema>;
export type ClusterResult = z.infer<typeof ClusterSchema>;
