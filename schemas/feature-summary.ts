import { z } from 'zod';

/**
 * The feature summary's shape (parsing and reading it: core/cleaning/feature-summary.ts): one row per data column with its information level, type and the codes that mean
 * "missing or unknown". Format (the original study's AZDIAS_Feature_Summary.csv):
 *   attribute;information_level;type;missing_or_unknown
 *   AGER_TYP;person;categorical;[-1,0]
 */
export const FEATURE_TYPES = ['categorical', 'ordinal', 'numeric', 'mixed', 'interval'] as const;
export const FeatureTypeSchema = z.enum(FEATURE_TYPES);
export type FeatureType = z.infer<typeof FeatureTypeSchema>;

export const FeatureSchema = z.object({
  attribute: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier (letters, digits, _)'),
  informationLevel: z.string().min(1),
  type: FeatureTypeSchema,
  /** Codes as they appear in the data files, as strings: "-1", "0", "9", "X", "XX". */
  missingCodes: z.array(z.string().min(1)),
});
export type Feature = z.infer<typeof FeatureSchema>;

export const FeatureSummarySchema = z.object({
  features: z.array(FeatureSchema).min(1),
});
export type FeatureSummary = z.infer<typeof FeatureSummarySchema>;
