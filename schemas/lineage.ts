import { z } from 'zod';

/**
 * DIR/model/lineage.json — where a published model came from: the exact inputs (hashes, row counts), the
 * config it ran with, the code that produced it and the Temporal run that published it. With it, a scored
 * file can be traced back to the data and code behind its segments.
 */
const InputFileSchema = z.object({ path: z.string(), sha256: z.string(), rows: z.number().int().nonnegative() });
const RowSplitSchema = z.object({ total: z.number().int().nonnegative(), clean: z.number().int().nonnegative(), heavy: z.number().int().nonnegative() });

export const LineageSchema = z.object({
  version: z.literal(1),
  createdAt: z.string(),
  dataset: z.string(),
  code: z.object({
    package: z.string(),
    version: z.string(),
    /** The git commit of the code that ran, when known (a checkout, or SEGMENTS_GIT_COMMIT in an image). */
    gitCommit: z.string().nullable(),
  }),
  /** The Temporal run that published the model (null when published outside a workflow, e.g. a unit test). */
  temporal: z
    .object({
      namespace: z.string(),
      workflowId: z.string(),
      runId: z.string(),
      workflowType: z.string(),
      taskQueue: z.string(),
    })
    .nullable(),
  inputs: z.object({
    population: InputFileSchema,
    customers: InputFileSchema,
    featureSummary: z.object({ path: z.string(), sha256: z.string() }),
  }),
  /** Rows per file after the split: clean rows are modelled, heavy-missing rows form their own group. */
  rows: z.object({ population: RowSplitSchema, customers: RowSplitSchema }),
  /** The config as the run used it (defaults filled in). */
  config: z.record(z.string(), z.unknown()),
  /** Each step's checkpoint key (a content hash of its inputs) and whether it was reused. */
  steps: z.array(z.object({ name: z.string(), key: z.string(), reused: z.boolean() })),
  /** sha256 of every other file in model/. */
  files: z.record(z.string(), z.string()),
});

export type Lineage = z.infer<typeof LineageSchema>;
