import { z } from 'zod';
import { FeatureTypeSchema } from './feature-summary';
import { DivergenceSchema } from './results';

/**
 * What each step returns to the workflow: small JSON (paths, counts, statistics), never table rows.
 * File names are relative to the step's artifact folder (`dir`).
 */
export const StorageSchema = z.enum(['number', 'text']);

export const ColumnSpecSchema = z.object({
  name: z.string(),
  type: FeatureTypeSchema,
  storage: StorageSchema,
  missingCodes: z.array(z.string()),
});

export const StepRefSchema = z.object({
  step: z.string(),
  dir: z.string(),
  key: z.string(),
  reused: z.boolean(),
  seconds: z.number(),
});
export type StepRef = z.infer<typeof StepRefSchema>;

const InputFileSchema = z.object({ path: z.string(), rows: z.number().int(), sha256: z.string(), parquet: z.string() });

export const IngestOutputSchema = z.object({
  population: InputFileSchema,
  customers: InputFileSchema,
  featureSummary: z.object({ path: z.string(), sha256: z.string() }),
  columns: z.array(ColumnSpecSchema),
});
export type IngestOutput = z.infer<typeof IngestOutputSchema>;

const CellCountsSchema = z.object({ empty: z.number().int(), coded: z.number().int() });
export const RecodeOutputSchema = z.object({
  population: z.string(),
  customers: z.string(),
  columns: z.array(z.object({ name: z.string(), population: CellCountsSchema, customers: CellCountsSchema })),
  totals: z.object({ population: CellCountsSchema, customers: CellCountsSchema }),
});
export type RecodeOutput = z.infer<typeof RecodeOutputSchema>;

export const MissingnessOutputSchema = z.object({
  threshold: z.number(),
  columns: z.array(
    z.object({
      column: z.string(),
      populationMissing: z.number().int(),
      customerMissing: z.number().int(),
      populationShare: z.number(),
      customerShare: z.number(),
      dropped: z.boolean(),
    }),
  ),
  dropped: z.array(z.string()),
  kept: z.array(z.string()),
  rowHistogram: z.object({ population: z.array(z.number().int()), customers: z.array(z.number().int()) }),
});
export type MissingnessOutput = z.infer<typeof MissingnessOutputSchema>;

const SplitFileSchema = z.object({
  rows: z.number().int(),
  cleanRows: z.number().int(),
  heavyRows: z.number().int(),
  heavyShare: z.number(),
  clean: z.string(),
  heavy: z.string(),
});
export const SplitOutputSchema = z.object({
  maxRowMissing: z.number().int(),
  keptColumns: z.array(z.string()),
  population: SplitFileSchema,
  customers: SplitFileSchema,
  /** Clean vs heavy rows of the population on the columns with few missing values. */
  divergence: z.array(DivergenceSchema),
});
export type SplitOutput = z.infer<typeof SplitOutputSchema>;

/** Every activity gets the artifact store and the run's config; paths only, never data. */
export const RunContextSchema = z.object({
  storeDir: z.string().min(1),
  config: z.unknown(),
});

export const InputPathsSchema = z.object({
  population: z.string().min(1),
  customers: z.string().min(1),
  featureSummary: z.string().min(1),
});
export type InputPaths = z.infer<typeof InputPathsSchema>;

/** What an activity returns: where its checkpoint is, and a few figures for progress lines and the UI. */
export const StepReportSchema = z.object({
  ref: StepRefSchema,
  figures: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
});
export type StepReport = z.infer<typeof StepReportSchema>;
