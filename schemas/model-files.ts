import { z } from 'zod';
import { ConcentratedFeatureSchema, RareLevelDecisionSchema } from './feature-fit';
import { ColumnSpecSchema } from './steps';

/**
 * The files a run publishes in `<out>/model/` (and its steps keep in their checkpoints): everything
 * `segments score` needs to assign new files to the run's segments without refitting.
 */
export const MODEL_FILES = {
  featureSummary: 'feature-summary.csv',
  cleaning: 'cleaning.json',
  encoding: 'encoding.json',
  transform: 'transform.json',
  pca: 'pca.json',
  centroids: 'centroids.json',
} as const;

/** cleaning.json: the run's column decisions (storage per column, kept columns, the heavy-missing threshold). */
export const CleaningModelSchema = z.object({
  columns: z.array(ColumnSpecSchema),
  keptColumns: z.array(z.string()),
  maxRowMissing: z.number().int(),
});
export type CleaningModel = z.infer<typeof CleaningModelSchema>;

/**
 * The fitted encoding (JSON-serialisable): which output features exist, in which order, and how each is
 * computed from the cleaned columns. Fitted on the population; applied unchanged to every other file so the
 * feature columns always line up.
 */

export const FEATURE_KINDS = ['numeric', 'binary', 'onehot', 'derived', 'flag'] as const;
/**
 * numeric: a kept ordinal / numeric column (median-imputed);
 * binary:  a two-level column mapped to 0/1 (mode-imputed);
 * onehot:  one level of a one-hot group (the group is imputed together with the group's most frequent level);
 * derived: an ordinal output of a derive rule (median-imputed);
 * flag:    a 0/1 output of a derive rule (mode-imputed).
 */
export const FeatureKindSchema = z.enum(FEATURE_KINDS);
export type FeatureKind = z.infer<typeof FeatureKindSchema>;

export const SqlTypeSchema = z.enum(['DOUBLE', 'SMALLINT', 'UTINYINT']);
export type SqlType = z.infer<typeof SqlTypeSchema>;

export const SourceColumnSchema = z.object({
  name: z.string().min(1),
  /** DuckDB type of the column in the cleaned Parquet (DOUBLE, VARCHAR, ...). */
  duckdbType: z.string().min(1),
  /** number: matched numerically (8.0 = "8"); text: matched as strings. */
  kind: z.enum(['number', 'text']),
});
export type SourceColumn = z.infer<typeof SourceColumnSchema>;

export const EncodedFeatureSchema = z.object({
  /** Output column name, e.g. ALTERSKATEGORIE_GROB, CAMEO_DEUG_2015=8, WOHNLAGE_RURAL. */
  name: z.string().min(1),
  /** The cleaned column it comes from. */
  source: z.string().min(1),
  kind: FeatureKindSchema,
  sqlType: SqlTypeSchema,
  /** onehot: the level (as text, "8" / "W"). */
  level: z.string().optional(),
  /** onehot "(other)" feature: the rare levels folded into it (see core/encoding/rare-levels.ts). */
  levels: z.array(z.string()).optional(),
  /** binary: level -> 0/1; derived / flag: value -> output (null = missing). */
  map: z.record(z.string(), z.number().nullable()).optional(),
  /** One line for reports: what the feature means. */
  description: z.string(),
  /** numeric: the population's observed range, and whether its values are whole numbers (checked on the first rows). */
  range: z.object({ min: z.number(), max: z.number(), integral: z.boolean() }).optional(),
});
export type EncodedFeature = z.infer<typeof EncodedFeatureSchema>;

export const OneHotGroupSchema = z.object({
  source: z.string().min(1),
  /** Levels seen in the population, sorted (numerically when all numeric). */
  levels: z.array(z.string()),
  /** Population rows per level (same order). */
  counts: z.array(z.number().int().nonnegative()),
  /**
   * Feature names of the group: one per kept level (in `levels` order), then `SOURCE=(other)` when rare levels were
   * folded. Rare levels stay in `levels` (they are known values, not unseen ones).
   */
  features: z.array(z.string()),
  /** A level not in `levels`: all zeros in the group, or NULL in every column (imputed as missing). */
  unknownLevels: z.enum(['zeros', 'missing']),
});
export type OneHotGroup = z.infer<typeof OneHotGroupSchema>;

export const EncodingModelSchema = z.object({
  version: z.literal(1),
  /** Kept columns of the cleaned files, in file order, with their storage type. */
  sourceColumns: z.array(SourceColumnSchema),
  /** Output features in matrix column order. */
  features: z.array(EncodedFeatureSchema).min(1),
  groups: z.array(OneHotGroupSchema),
  /** Kept columns with a drop rule. */
  dropped: z.array(z.object({ column: z.string(), reason: z.string() })),
  /** The rule's reason per kept column (documents the decisions in the run's artefacts). */
  reasons: z.record(z.string(), z.string()),
  /** Population rows the levels were fitted on. */
  populationRows: z.number().int().nonnegative(),
  /** Observations worth reporting, e.g. population values no map covers. */
  notes: z.array(z.string()),
  /** Rare one-hot levels folded or dropped, with the reason (see core/encoding/rare-levels.ts). */
  rareLevels: z.array(RareLevelDecisionSchema).default([]),
  /** Features dropped because a handful of rows dominate their standardised values, with the reason. */
  concentratedFeatures: z.array(ConcentratedFeatureSchema).default([]),
});
export type EncodingModel = z.infer<typeof EncodingModelSchema>;

/**
 * Imputation + standardisation fitted on the population's clean encoded rows only, then applied unchanged
 * to every file. Per feature: the fill value for missing cells, and the mean / std of the feature AFTER
 * imputation (population std, ddof 0), so (x - mean) / std has mean 0 and std 1 on the population.
 */
export const TransformFeatureSchema = z.object({
  name: z.string(),
  kind: FeatureKindSchema,
  /**
   * numeric / derived: the population median; binary / flag: the most frequent value (0 on a tie);
   * onehot: 1 for the group's most frequent level, 0 for its other levels.
   */
  fill: z.number(),
  mean: z.number(),
  /** Population std after imputation; 1 when the feature is constant (see `constant`). */
  std: z.number().positive(),
  /** Population cells that were missing (and got `fill`). */
  missing: z.number().int().nonnegative(),
  constant: z.boolean(),
});
export type TransformFeature = z.infer<typeof TransformFeatureSchema>;

export const FittedTransformSchema = z.object({
  version: z.literal(1),
  /** Population rows fitted on. */
  rows: z.number().int().positive(),
  /** Same order as the encoding model's features. */
  features: z.array(TransformFeatureSchema).min(1),
  /** Features with zero variance in the population (std stored as 1; they standardise to 0). */
  constantFeatures: z.array(z.string()),
});
export type FittedTransform = z.infer<typeof FittedTransformSchema>;

/** pca.json: the centring mean and the kept components (keptComponents x features, row-major). */
export const PcaModelFileSchema = z.object({
  features: z.array(z.string()),
  mean: z.array(z.number()),
  components: z.array(z.number()),
  keptComponents: z.number().int().positive(),
});
export type PcaModelFile = z.infer<typeof PcaModelFileSchema>;

/** centroids.json: k centroids in PCA-score space (k x dims, row-major). */
export const CentroidsFileSchema = z.object({
  k: z.number().int().positive(),
  dims: z.number().int().positive(),
  centroids: z.array(z.number()),
  /**
   * The published model only: each centroid's stable segment ID (results.json segmentIds.byCentroid), so
   * `segments score` labels rows the way the run's assignments do. Absent: the centroid index is the ID.
   */
  segmentIds: z.array(z.number().int().nonnegative()).optional(),
});
export type CentroidsFile = z.infer<typeof CentroidsFileSchema>;
