import { z } from 'zod';

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
  /** Feature names of the group (same order as levels). */
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
});
export type EncodingModel = z.infer<typeof EncodingModelSchema>;

export function parseEncodingModel(input: unknown): EncodingModel {
  return EncodingModelSchema.parse(input);
}

/** Index of a feature by name; throws when the model has no such feature. */
export function featureIndex(model: EncodingModel, name: string): number {
  const index = model.features.findIndex((feature) => feature.name === name);
  if (index < 0) throw new Error(`the encoding has no feature "${name}"`);
  return index;
}
