import { z } from 'zod';
import { PipelineConfigSchema } from './config';
import { FeatureTypeSchema } from './feature-summary';
import { ConcentratedFeatureSchema, RareLevelDecisionSchema } from './feature-fit';
import { ClusterSchema, ComponentSchema, KChoiceSchema, ContinuitySchema, DivergenceSchema, HeavyComparisonSchema, ValueChecksSchema } from './results';

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
  valueChecks: ValueChecksSchema,
});
export type RecodeOutput = z.infer<typeof RecodeOutputSchema>;

/**
 * A recode checkpoint's file for one input file when the recoded rows are not written out but read from the
 * ingest step's Parquet through these expressions (RecodeOutput's population/customers name such a file when it
 * ends in `.recode.json`; checkpoints from before name a `.parquet` file of the recoded rows).
 */
export const RecodePlanSchema = z.object({
  source: z.literal('ingest'),
  /** Per column of the ingest file (after its `row`), in order: its name and its recoded value as SQL. */
  columns: z.array(z.object({ name: z.string(), sql: z.string() })),
});
export type RecodePlan = z.infer<typeof RecodePlanSchema>;

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
  /** Which columns were compared and why (absent in checkpoints written before it existed). */
  comparison: HeavyComparisonSchema.nullable().default(null),
});
export type SplitOutput = z.infer<typeof SplitOutputSchema>;

/**
 * Every activity gets the artifact store and the run's config; paths only, never data. The workflow passes the
 * config the client parsed once (the CLI sends it with its defaults applied); each activity's input parse
 * validates it and yields the typed PipelineConfig — defaults filled in here for a client that sent a partial
 * one or a history recorded before. A bad config fails as runner.parseInput's one-line ConfigError.
 */
export const RunContextSchema = z.object({
  storeDir: z.string().min(1),
  config: PipelineConfigSchema.prefault({}),
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

// ---- Modelling steps' outputs (what each step's manifest holds; file names relative to its folder) ----

export const EncodeOutputSchema = z.object({
  /** encoding.json (schemas/model-files.ts EncodingModelSchema). */
  model: z.string(),
  features: z.number().int(),
  unseenCustomerLevels: z.array(z.object({ column: z.string(), rows: z.number().int(), values: z.array(z.string()) })),
  /** Rare one-hot levels folded or dropped, and features dropped as concentrated (absent in older checkpoints). */
  rareLevels: z.array(RareLevelDecisionSchema).optional(),
  concentratedFeatures: z.array(ConcentratedFeatureSchema).optional(),
});
export type EncodeOutput = z.infer<typeof EncodeOutputSchema>;

const MatrixFileSchema = z.object({ rows: z.number().int(), matrix: z.string(), rowIndex: z.string() });
export const ScaleOutputSchema = z.object({
  /** transform.json (FittedTransformSchema). */
  transform: z.string(),
  features: z.array(z.string()),
  population: MatrixFileSchema,
  customers: MatrixFileSchema,
});
export type ScaleOutput = z.infer<typeof ScaleOutputSchema>;

const ScoresFileSchema = z.object({ rows: z.number().int(), scores: z.string() });
export const PcaOutputSchema = z.object({
  /** pca.json (PcaModelFileSchema). */
  model: z.string(),
  keptComponents: z.number().int(),
  explainedVarianceRatio: z.array(z.number()),
  cumulativeVarianceRatio: z.array(z.number()),
  components: z.array(ComponentSchema),
  population: ScoresFileSchema,
  customers: ScoresFileSchema,
});
export type PcaOutput = z.infer<typeof PcaOutputSchema>;

/** One k-means fit: a sweep point or the final fit. */
export const KFitOutputSchema = z.object({
  k: z.number().int(),
  sse: z.number(),
  silhouette: z.number().nullable(),
  iterations: z.number().int(),
  converged: z.boolean(),
  /** centroids.json (CentroidsFileSchema). */
  centroids: z.string(),
  /** Population rows per cluster (absent in checkpoints written before it existed). */
  clusterSizes: z.array(z.number().int().nonnegative()).optional(),
  /** Final fit only: the population's cluster per clean row (int32). */
  assignments: z.string().optional(),
  /**
   * Seeded inits run (runs 0..inits-1), the best one's index and its SSE as k-means computed it. A refined sweep
   * point whose split start won (splitStart 'kept') has bestRun −1.
   */
  inits: z.number().int().optional(),
  bestRun: z.number().int().optional(),
  bestRunSse: z.number().optional(),
  /** Final fit or refined sweep point: inits taken over from the sweep's fit at the same k instead of being run again. */
  initsFromSweep: z.number().int().optional(),
  /**
   * Final fit with config continuity.keepPreviousK only: how the warm start from the previous run's centroids
   * fared ('kept': its fit is the model; 'not-kept': a seeded init was better by more than the tolerance;
   * 'unavailable': the data changed shape, nothing to start from).
   */
  warmStart: z.enum(['kept', 'not-kept', 'unavailable']).optional(),
  /** Refined sweep point that rose above k − 1: whether the fit from k − 1's centroids plus one (core/steps/sweep.ts) won. */
  splitStart: z.enum(['kept', 'not-kept']).optional(),
  /** Set when this result continued a crashed attempt's heartbeat state. */
  resumedFrom: z.object({ run: z.number().int(), iteration: z.number().int() }).optional(),
});
export type KFitOutput = z.infer<typeof KFitOutputSchema>;

/** Stability of the partition at one k (core/steps/stability.ts). */
export const StabilityOutputSchema = z.object({
  k: z.number().int(),
  /** The median ARI over the replicates (the rule's statistic), and the worst replicate's. */
  stability: z.number(),
  worstAgreement: z.number(),
  replicates: z.array(z.object({ replicate: z.number().int(), ari: z.number() })),
  sampleRows: z.number().int(),
  evaluationRows: z.number().int(),
  inits: z.number().int(),
});
export type StabilityOutput = z.infer<typeof StabilityOutputSchema>;

/** The k rule's decision (core/linalg/choose-k.ts) with its evidence per k. */
export const KChoiceOutputSchema = KChoiceSchema.extend({
  k: z.number().int(),
  /** The k whose stability the rule still needs (core/linalg/choose-k.ts); absent before stability was measured lazily. */
  unmeasured: z.array(z.number().int()).default([]),
  points: z.array(z.object({ k: z.number().int(), sse: z.number(), stability: z.number().nullable(), smallestCluster: z.number().int().nullable() })),
});
export type KChoiceOutput = z.infer<typeof KChoiceOutputSchema>;

export const MapOutputSchema = z.object({
  k: z.number().int(),
  population: z.string(),
  customers: z.string(),
  counts: z.array(z.object({ id: z.number().int(), populationCount: z.number().int(), customerCount: z.number().int() })),
});
export type MapOutput = z.infer<typeof MapOutputSchema>;

export const CompareOutputSchema = z.object({
  clusters: z.array(ClusterSchema),
  overRepresented: z.array(z.number().int()),
  underRepresented: z.array(z.number().int()),
});
export type CompareOutput = z.infer<typeof CompareOutputSchema>;

/** One of this run's clusters and the stable segment ID it gets (core/segment-identity.ts). */
export const SegmentMatchSchema = z.object({
  /** This run's cluster in fit order (the index of its centroid). */
  index: z.number().int().nonnegative(),
  /** The segment's stable ID. */
  id: z.number().int().nonnegative(),
  status: z.enum(['continued', 'new']),
  /** The previous segment it continues (its ID), or null for a new segment. */
  previousId: z.number().int().nullable(),
  /** Distance to the segment it continues; for a new segment, to the nearest previous segment (null without any). */
  distance: z.number().nullable(),
});
export type SegmentMatch = z.infer<typeof SegmentMatchSchema>;

/** A previous run's segment no cluster of this run continues. */
export const GoneSegmentSchema = z.object({
  /** The previous run's segment ID. */
  id: z.number().int().nonnegative(),
  /** Distance to the nearest of this run's clusters (null without any). */
  nearestDistance: z.number().nullable(),
});
export type GoneSegment = z.infer<typeof GoneSegmentSchema>;

export const SegmentIdentitySchema = z.object({
  /** One entry per cluster, in fit order: `segments[i].id` is cluster i's stable ID. */
  segments: z.array(SegmentMatchSchema),
  /** Previous segments nothing continues, in ID order. */
  gone: z.array(GoneSegmentSchema),
  /** The next unused ID (every ID handed out so far is below it). */
  nextId: z.number().int().nonnegative(),
  /** The threshold the matches were accepted with; null for a run without a previous one. */
  maxDistance: z.number().nullable(),
});
export type SegmentIdentity = z.infer<typeof SegmentIdentitySchema>;

/**
 * The previous run's folder is not part of this: its key holds the hash of the previous results.json, so the
 * same results in another folder reuse the checkpoint. The folder comes from the run's input instead
 * (PublishInput.previousOutDir), so results.json names the folder this run was given.
 */
export const DriftOutputSchema = z.object({
  /** When the previous run was created; null when there was no previous run to compare with. */
  previousCreatedAt: z.string().nullable(),
  /** Stable segment IDs of this run's centroids (first run: 0..k-1) and what became of the previous segments. */
  identity: SegmentIdentitySchema,
  /** results.json's `continuity` without the previous folder (added by the report step); null without a previous run. */
  continuity: ContinuitySchema.omit({ previousOutDir: true }).nullable(),
});
export type DriftOutput = z.infer<typeof DriftOutputSchema>;

// ---- Each activity's input: its parameter type is z.input of these, so the workflow's calls are type-checked ----

export const IngestInputSchema = RunContextSchema.extend({ inputs: InputPathsSchema });
export type IngestInput = z.input<typeof IngestInputSchema>;
export const RecodeInputSchema = RunContextSchema.extend({ ingest: StepRefSchema });
export type RecodeInput = z.input<typeof RecodeInputSchema>;
/** `ingest` is optional: when the workflow passes it, "nothing left to model" errors name the population file. */
export const MissingnessInputSchema = RunContextSchema.extend({ recode: StepRefSchema, ingest: StepRefSchema.optional() });
export type MissingnessInput = z.input<typeof MissingnessInputSchema>;
export const SplitInputSchema = RunContextSchema.extend({ recode: StepRefSchema, missingness: StepRefSchema, ingest: StepRefSchema.optional() });
export type SplitInput = z.input<typeof SplitInputSchema>;
export const EncodeInputSchema = RunContextSchema.extend({ ingest: StepRefSchema, split: StepRefSchema });
export type EncodeInput = z.input<typeof EncodeInputSchema>;
export const ScaleInputSchema = RunContextSchema.extend({ split: StepRefSchema, encode: StepRefSchema });
export type ScaleInput = z.input<typeof ScaleInputSchema>;
export const PcaInputSchema = RunContextSchema.extend({ scale: StepRefSchema });
export type PcaInput = z.input<typeof PcaInputSchema>;
export const SweepInputSchema = RunContextSchema.extend({ pca: StepRefSchema, k: z.number().int().min(1) });
/**
 * A sweep point refined near the knee (config refineInits inits): it continues the sweep's fit at the same k
 * (`from`), whose seeded inits count as its first ones.
 */
export const SweepKInputSchema = SweepInputSchema.extend({
  /**
   * `splitFrom`: the k − 1 point, when this point's SSE rose above it: one more fit starts from its centroids plus
   * one; `splitOnly`: no more seeded inits than `from` ran, only that fit; `final`: up to the final fit's inits (config
   * finalInits) instead of refineInits — the rule's k, whose final fit then has none left to run.
   */
  refine: z.object({ from: StepRefSchema, splitFrom: StepRefSchema.optional(), splitOnly: z.boolean().optional(), final: z.boolean().optional() }).optional(),
});
export type SweepKInput = z.input<typeof SweepKInputSchema>;
export const StabilityInputSchema = SweepInputSchema;
export type StabilityInput = z.input<typeof StabilityInputSchema>;
/** The sweep's fits and the stability measures, per k (same order). */
export const ChooseKInputSchema = RunContextSchema.extend({ pca: StepRefSchema, sweep: z.array(StepRefSchema).min(1), stability: z.array(StepRefSchema) });
export type ChooseKInput = z.input<typeof ChooseKInputSchema>;
/** The final fit may name the sweep's fit at its k: that one ran the same first seeded inits, so they are not run twice. */
export const FinalKMeansInputSchema = SweepInputSchema.extend({
  sweep: StepRefSchema.optional(),
  /**
   * config continuity.keepPreviousK: start one more fit from the previous run's centroids (carried into this run's
   * PCA space through the scale step's transform); absent otherwise and in histories before it.
   */
  warmStart: z.object({ previousOutDir: z.string().min(1), scale: StepRefSchema }).optional(),
});
export type FinalKMeansInput = z.input<typeof FinalKMeansInputSchema>;
export const MapInputSchema = RunContextSchema.extend({ split: StepRefSchema, scale: StepRefSchema, pca: StepRefSchema, final: StepRefSchema });
export type MapInput = z.input<typeof MapInputSchema>;
export const CompareInputSchema = RunContextSchema.extend({ scale: StepRefSchema, pca: StepRefSchema, final: StepRefSchema, map: StepRefSchema });
export type CompareInput = z.input<typeof CompareInputSchema>;
export const DriftInputSchema = RunContextSchema.extend({
  previousOutDir: z.string().optional(),
  /** The run took k from the previous run (config continuity.keepPreviousK); absent in histories before it. */
  kFromPrevious: z.boolean().optional(),
  scale: StepRefSchema,
  pca: StepRefSchema,
  final: StepRefSchema,
  compare: StepRefSchema,
});
export type DriftInput = z.input<typeof DriftInputSchema>;
/** What the workflow needs of the previous run before it picks k (config continuity.keepPreviousK). */
export const PreviousRunInputSchema = RunContextSchema.extend({ previousOutDir: z.string().min(1), scale: StepRefSchema });
export type PreviousRunInput = z.input<typeof PreviousRunInputSchema>;
export const PreviousRunReportSchema = z.object({
  /** Whether the folder holds a published run (results.json and its model). */
  found: z.boolean(),
  /** Its k (0 when not found). */
  k: z.number().int().nonnegative(),
  /** The same encoded features in the same order as this run's: its centroids can be carried over. */
  sameShape: z.boolean(),
});
export type PreviousRunReport = z.infer<typeof PreviousRunReportSchema>;
export const PublishInputSchema = RunContextSchema.extend({
  outDir: z.string().min(1),
  ingest: StepRefSchema,
  /** For the value checks' counts (optional: histories recorded before them do not pass it). */
  recode: StepRefSchema.optional(),
  missingness: StepRefSchema,
  split: StepRefSchema,
  encode: StepRefSchema,
  scale: StepRefSchema,
  pca: StepRefSchema,
  sweep: z.array(StepRefSchema),
  final: StepRefSchema,
  /** 'rule': the k rule over knee and stability (kChoice holds its evidence); 'knee': runs recorded before it; 'previous': config continuity.keepPreviousK. */
  kChosenBy: z.enum(['knee', 'fixed', 'rule', 'previous']),
  kChoice: StepRefSchema.optional(),
  map: StepRefSchema,
  compare: StepRefSchema,
  drift: StepRefSchema,
  /** The previous run's folder the drift step was given (its checkpoint does not hold it: see DriftOutputSchema). */
  previousOutDir: z.string().optional(),
  steps: z.array(z.object({ name: z.string(), seconds: z.number(), reused: z.boolean() })),
});
export type PublishInput = z.input<typeof PublishInputSchema>;

/** One line per segment for the workflow memo (what the Temporal UI shows without opening the report). */
export interface SegmentSummary {
  /** The stable segment ID (-1: the heavy-missing group). */
  id: number;
  persona: string;
  lift: number;
  verdict: 'over' | 'under' | 'neutral';
}

/**
 * What the report step returns besides its figures: the summary table the CLI prints and the segments by stable
 * ID with their personas (absent in histories recorded before stable IDs).
 */
export type PublishReport = StepReport & { summaryTable: string; segments?: SegmentSummary[] };
