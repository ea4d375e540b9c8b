/**
 * The segmentation workflow: one durable activity per analysis step. Activities exchange checkpoint
 * references (folders + keys) and figures, never rows, so histories stay small whatever the data size.
 * What the run shows about itself (progress, search attributes, memo) is the tracker's (run-tracker.ts).
 */
import {
  CancellationScope,
  CancelledFailure,
  ActivityCancellationType,
  ActivityFunctionWithOptions,
  ApplicationFailure,
  isCancellation,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import { kneeOfCurveV1 } from '../core/linalg/knee-v1';
import type { PipelineConfigInput } from '../schemas/config';
import { CONFIG_DEFAULTS } from '../schemas/config-defaults';
import type { StepRef, StepReport } from '../schemas/steps';
import type { StepProgress } from './progress';
import { fillMonth, monthOf, previousMonth } from './run-month';
import { CheckpointRecovery, DAMAGED_CHECKPOINT } from './checkpoint-recovery';
import { RunTracker } from './run-tracker';

export { progressQuery } from './run-tracker';

export interface SegmentationInput {
  inputs: { population: string; customers: string; featureSummary: string };
  /** Where checkpoints live (content-addressed, shared by runs over the same inputs). */
  storeDir: string;
  /** Where results.json, the assignments and report.html are published. */
  outDir: string;
  /** The config: the CLI sends it parsed, defaults applied; other clients may send part of it (each activity's input parse fills the defaults). */
  config: PipelineConfigInput;
  /** The run to match clusters with; default: the same outDir template filled with the previous month. */
  previousOutDir?: string;
  /** The month this run is for (YYYY-MM); default: the scheduled time, else the start time. Fills `{YYYY-MM}` in paths. */
  runMonth?: string;
}

export interface SegmentationOutcome {
  outDir: string;
  steps: StepProgress[];
  k: number;
  summaryTable: string;
}

export const STEP_NAMES = ['ingest', 'recode', 'missingness', 'split', 'encode', 'scale', 'pca', 'sweep', 'kmeans', 'map', 'compare', 'drift', 'report'] as const;
type StepName = (typeof STEP_NAMES)[number];

/** Errors no retry can fix: bad files, bad config, lost checkpoints. */
const NON_RETRYABLE = ['InputError', 'ConfigError', 'ValidationError', 'MissingCheckpoint', 'PathError', 'DataError', DAMAGED_CHECKPOINT];

/**
 * I/O-bound steps (DuckDB over files): quick retries. Heartbeat timeouts are short because every step
 * heartbeats from a free event loop (DuckDB and the numeric loops run on other threads): a crashed worker's
 * step is retried elsewhere within seconds.
 */
const io = proxyActivities<typeof activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** CPU-bound steps (PCA, k-means): longer timeouts, fewer attempts; they heartbeat while they compute. */
const compute = proxyActivities<typeof activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Each step's one-line summary, shown next to its activity in the Temporal UI. */
const SUMMARIES: Record<StepName, string> = {
  ingest: 'Validate the feature summary and both files; load them typed',
  recode: 'Missing and unknown codes → NULL',
  missingness: 'Missing share per column; drop the outlier columns',
  split: 'Heavy-missing rows aside; compare them with the clean rows',
  encode: 'Binary, one-hot and engineered features (levels fitted on the population)',
  scale: 'Impute and standardise (fitted on the population); export float matrices',
  pca: 'PCA: covariance, eigen decomposition, projection',
  sweep: 'Elbow curve, k = {k}: k-means fit whose SSE and silhouette place k = {k} on the curve that picks k',
  kmeans: 'Final k-means, k = {k}, best of several seeded inits',
  map: 'Customers through the same fitted pipeline to the nearest centroid',
  compare: 'Cluster shares: customers vs population, lift, CI, test; profiles',
  drift: 'Stable segment IDs: match the previous run; new and gone segments',
  report: 'Publish results.json, assignments and report.html',
};

/** How a run's activities take a cancellation (see segmentation()); `summary` replaces the step's one. */
interface CallOptions {
  k?: number;
  cancellationType?: ActivityCancellationType;
  summary?: string;
}

/** The stability activities' summary (they belong to the sweep step). */
const STABILITY_SUMMARY = 'Stability, k = {k}: agreement (ARI) of fits on fixed subsample pairs, evidence for the k rule';
const CHOOSE_K_SUMMARY = 'Choose k: the kneedle knee of the SSE curve and the stability per k, one documented rule';

/** The run's recovery of damaged checkpoints (checkpoint-recovery.ts); set at the start of each run. */
let recovery: CheckpointRecovery;

/** Schedules one activity with its step's summary (`{k}` filled in); a damaged upstream checkpoint is recomputed first. */
function call<A, R extends StepReport>(activity: ActivityFunctionWithOptions<(input: A) => Promise<R>>, name: StepName, input: A, options: CallOptions = {}): Promise<R> {
  const { k, cancellationType, summary } = options;
  return recovery.run(() =>
    activity.executeWithOptions({ summary: (summary ?? SUMMARIES[name]).replace('{k}', String(k)), ...(cancellationType ? { cancellationType } : {}) }, [input]),
  );
}

export async function segmentation(input: SegmentationInput): Promise<SegmentationOutcome> {
  const run = resolveRun(input);
  recovery = new CheckpointRecovery();
  const tracker = new RunTracker<StepName>(STEP_NAMES, run);
  // On cancellation the run waits until each running step has acknowledged it (activities heartbeat and watch
  // their cancellation signal), so a cancelled run ends with no pending activities. Patched: histories recorded
  // before cancelled without waiting.
  const cancellation: CallOptions = patched('wait-for-activity-cancellation') ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {};
  const step = <A, R extends StepReport>(name: StepName, activity: ActivityFunctionWithOptions<(input: A) => Promise<R>>, args: A) =>
    tracker.step(name, () => call(activity, name, args, cancellation));
  const context = { storeDir: run.storeDir, config: input.config };

  const ingest = await step('ingest', io.ingestData, { ...context, inputs: run.inputs });
  const recode = await step('recode', io.recodeMissingCodes, { ...context, ingest: ingest.ref });
  const missingness = await step('missingness', io.assessColumnMissingness, { ...context, ingest: ingest.ref, recode: recode.ref });
  const split = await step('split', io.splitByRowMissingness, { ...context, ingest: ingest.ref, recode: recode.ref, missingness: missingness.ref });
  const encode = await step('encode', io.encodeFeatures, { ...context, ingest: ingest.ref, split: split.ref });
  const scale = await step('scale', io.imputeAndScale, { ...context, split: split.ref, encode: encode.ref });
  const pca = await step('pca', compute.fitPca, { ...context, scale: scale.ref });
  const ks = kRange(input.config);
  const { sweep, k, kChosenBy, previousK, kChoice } = await settleK(tracker, context, { pca: pca.ref, scale: scale.ref }, ks, run.previousOutDir, cancellation);
  tracker.chose(k);
  // The sweep's fit at this k already ran the first seeded inits: the final fit continues after them.
  const sweepAtK = ks.includes(k) ? sweep.points[ks.indexOf(k)].ref : undefined;
  // With k kept from the previous run, the final fit also starts from the previous centroids.
  const warmStart = previousK !== undefined ? { warmStart: { previousOutDir: run.previousOutDir!, scale: scale.ref } } : {};
  const final = await tracker.step('kmeans', () => call(compute.fitFinalKMeans, 'kmeans', { ...context, pca: pca.ref, k, sweep: sweepAtK, ...warmStart }, { ...cancellation, k }));
  const fitted = { scale: scale.ref, pca: pca.ref, final: final.ref };
  const map = await step('map', io.mapCustomers, { ...context, ...fitted, split: split.ref });
  const compare = await step('compare', io.compareSegments, { ...context, ...fitted, map: map.ref });
  const drift = await step('drift', io.compareWithPreviousRun, {
    ...context,
    ...fitted,
    compare: compare.ref,
    previousOutDir: run.previousOutDir,
    ...(previousK !== undefined ? { kFromPrevious: true } : {}),
  });
  const report = await step('report', io.publishResults, {
    ...context,
    ...fitted,
    ...{ ingest: ingest.ref, recode: recode.ref, missingness: missingness.ref, split: split.ref, encode: encode.ref, map: map.ref, compare: compare.ref, drift: drift.ref },
    sweep: sweep.points.map((p) => p.ref),
    kChosenBy,
    ...(kChoice ? { kChoice: kChoice.ref } : {}),
    outDir: run.outDir,
    // The drift checkpoint does not hold the previous folder (equal results elsewhere reuse it): named here.
    previousOutDir: run.previousOutDir,
    steps: tracker.finishedSteps(),
  });

  tracker.succeeded({
    results: { outDir: run.outDir, k, ...report.figures },
    heavyMissing: { population: split.figures.populationHeavyShare, customers: split.figures.customerHeavyShare },
    droppedColumns: missingness.figures.droppedColumns,
    // By stable segment ID (the compare step counts centroids in fit order). A report step recorded before
    // stable IDs returned no segments: its run keeps the compare step's lists.
    overRepresented: report.segments ? idsWith(report.segments, 'over') : compare.figures.overRepresented,
    underRepresented: report.segments ? idsWith(report.segments, 'under') : compare.figures.underRepresented,
    // Segments by their stable IDs, each with its persona: who they are without opening the report.
    segments: report.segments ?? [],
    continuity: drift.figures,
  });
  return { outDir: run.outDir, steps: tracker.steps, k, summaryTable: report.summaryTable };
}

/** "3,7": the segments with a verdict, by lift as the report lists them ("none" without any). */
function idsWith(segments: { id: number; lift: number; verdict: string }[], verdict: string): string {
  const ids = segments.filter((s) => s.verdict === verdict).sort((a, b) => b.lift - a.lift || a.id - b.id).map((s) => s.id);
  return ids.join(',') || 'none';
}

/** The run's month and its paths with `{YYYY-MM}` filled in; the previous run to match (explicit, or last month's output). */
function resolveRun(input: SegmentationInput) {
  if (!input?.inputs || !input.storeDir || !input.outDir) {
    throw ApplicationFailure.nonRetryable('segmentation needs inputs, storeDir and outDir', 'ValidationError');
  }
  const runMonth = input.runMonth ?? monthOf(scheduledTime() ?? workflowInfo().startTime);
  const fill = (path: string) => fillMonth(path, runMonth);
  const { population, customers, featureSummary } = input.inputs;
  return {
    runMonth,
    dataset: typeof input.config?.dataset === 'string' ? input.config.dataset : CONFIG_DEFAULTS.dataset,
    storeDir: fill(input.storeDir),
    outDir: fill(input.outDir),
    inputs: { population: fill(population), customers: fill(customers), featureSummary: fill(featureSummary) },
    previousOutDir: input.previousOutDir ?? (input.outDir.includes('{YYYY-MM}') ? fillMonth(input.outDir, previousMonth(runMonth)) : undefined),
  };
}

/** When a schedule started this run, the time it was scheduled for (backfills get their own month). */
function scheduledTime(): Date | undefined {
  const value = workflowInfo().searchAttributes?.TemporalScheduledStartTime?.[0];
  return value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
}

/**
 * The previous run's k for config continuity.keepPreviousK, or undefined when the evidence says to choose afresh:
 * no published previous run, the data changed shape (other encoded features: its centroids mean nothing here), or
 * its k is outside this run's kMin..kMax.
 */
async function keptPreviousK(args: Parameters<typeof io.inspectPreviousRun>[0], ks: number[]): Promise<number | undefined> {
  const previous = await recovery.run(() => io.inspectPreviousRun.executeWithOptions({ summary: 'Previous run: its k and whether its centroids fit this run (continuity.keepPreviousK)' }, [args]));
  return previous.found && previous.sameShape && ks.includes(previous.k) ? previous.k : undefined;
}

/** The sweep (always run: the report shows the SSE curve), this run's k and why it is that k. */
interface SettledK {
  sweep: SweepResult;
  k: number;
  kChosenBy: 'fixed' | 'previous' | 'rule' | 'knee';
  /** The previous run's k when config continuity.keepPreviousK kept it. */
  previousK?: number;
  /** The k rule's decision (its checkpoint holds the evidence the report shows). */
  kChoice?: StepReport;
}

/**
 * k, unless the config fixes it: config continuity.keepPreviousK keeps the previous run's k (when its data had the
 * same shape and its k is in range); otherwise one documented rule over the SSE knee and the stability of the
 * partition per k (measured beside the sweep, one activity per k), decided in an activity that writes its evidence
 * for the report. The previous run is asked within the sweep step (the step that settles k), so its failure is that
 * step's; a kept k needs no stability fan-out. Patched: runs recorded before 'k-choice-stability' took the knee of
 * the SSE curve alone (knee-v1), and histories recorded before 'continuity-keep-previous-k' never asked.
 */
async function settleK(
  tracker: RunTracker<StepName>,
  context: { storeDir: string; config: PipelineConfigInput },
  refs: { pca: StepRef; scale: StepRef },
  ks: number[],
  previousOutDir: string | undefined,
  cancellation: CallOptions,
): Promise<SettledK> {
  const { config } = context;
  const kRule = patched('k-choice-stability');
  const keepPrevious = config.k === undefined && config.continuity?.keepPreviousK === true && previousOutDir !== undefined;
  let previousK: number | undefined;
  const sweep = await tracker.step('sweep', async () => {
    const started = Date.now(); // the workflow clock: deterministic on replay
    if (keepPrevious && patched('continuity-keep-previous-k')) previousK = await keptPreviousK({ ...context, previousOutDir: previousOutDir!, scale: refs.scale }, ks);
    const withRule = kRule && config.k === undefined && previousK === undefined;
    // Stability measured only where the rule needs it (nearest the knee first), not at every k. Patched: runs
    // recorded before measured it beside every sweep fit.
    const lazyStability = withRule && patched('stability-where-the-rule-needs-it');
    const swept = await elbowSweep(context, refs.pca, ks, cancellation, withRule && !lazyStability);
    return withRule ? refineNearKnee(context, refs.pca, ks, swept, cancellation, started, lazyStability) : swept;
  });
  if (config.k !== undefined) return { sweep, k: config.k, kChosenBy: 'fixed' };
  if (previousK !== undefined) return { sweep, k: previousK, kChosenBy: 'previous', previousK };
  if (!kRule || !sweep.kChoice) return { sweep, k: kneeOfCurveV1(ks, sweep.points.map((p) => Number(p.figures.sse))).k, kChosenBy: 'knee' };
  return { sweep, k: Number(sweep.kChoice.figures.k), kChosenBy: 'rule', kChoice: sweep.kChoice };
}

/**
 * Rounds of refits beyond the swept range's length: near the knee the knee settles in one or two
 * (bench/quality.ts); a rise fixed at k can make k + 1 rise (its k − 1 point got lower), one k per round, so the
 * curve's length bounds that ripple. Measuring stability where the rule needs it adds at most one round per k.
 */
const EXTRA_REFINE_ROUNDS = 3;
/**
 * Stability activities per round: the k the rule needs first (the knee, in the first round beside the refits).
 * One, not the next k too in case the knee is unstable: measured at full size, a second stability activity made
 * the first round (the rule's k refitted with 10 inits on one core, its neighbours and the measures on the other)
 * ~2 s longer; an unstable knee costs a short round per further k instead.
 */
const STABILITY_PER_ROUND = 1;
const REFINE_SUMMARY = 'Elbow curve, k = {k}, refined near the knee: more seeded inits, continuing the sweep\'s fit';

/**
 * The k rule (chooseClusterCount), with the sweep points that decide it refitted until they are the optimum's.
 * The sweep fits each k once (one seeded init), cheap over the whole range; the knee, though, is decided by the
 * points next to it, and one init that lands above the optimum's SSE there moves the knee — that made k depend
 * on the seed (same data, seeds 42 / 1 / 2 → k 9 / 9 / 10). So the points around the knee and the chosen k are
 * refitted once with config refineInits inits that continue their sweep fit, and any point whose SSE rises above
 * the k − 1 point's (it missed its optimum: SSE never rises with k at the optimum) is refitted also from the
 * k − 1 point's centroids plus one, which cannot end above it (core/steps/sweep.ts). The rule decides again after
 * each round, until nothing is left to refit (a bounded number of rounds). The final fit takes the refined
 * fit at its k over as its first inits, so the refinement at the chosen k costs nothing extra; the rule's k is
 * refitted with all of the final fit's inits (`finalAtK`).
 * With `lazyStability` the sweep measured no stability: each round also measures it at the k the rule still needs
 * (kChoice's `unmeasured`, nearest the knee first), beside the refits — on the planted data the knee alone, instead
 * of all 19 k (the rule's k is the same: core/linalg/choose-k.ts).
 */
async function refineNearKnee(
  context: { storeDir: string; config: PipelineConfigInput },
  pca: StepRef,
  ks: number[],
  sweep: SweepResult,
  cancellation: CallOptions,
  started: number,
  lazyStability: boolean,
): Promise<SweepResult> {
  const points = [...sweep.points];
  const stability = [...sweep.stability];
  // k → how it was refined: 'final' with the final fit's inits (the rule's k), else with refineInits.
  const refined = new Map<number, 'refine' | 'final'>();
  // The rule's k refitted with the final fit's inits: the final fit takes them all over and runs none itself, and
  // the round's longest refit (k, 10 inits) balances the others (its neighbours and the stability measures) on two
  // cores. Patched: runs recorded before refined the rule's k with refineInits.
  const finalAtK = lazyStability && patched('refine-rule-k-with-final-inits');
  const choose = () =>
    call(compute.chooseClusterCount, 'sweep', { ...context, pca, sweep: points.map((p) => p.ref), stability: stability.map((p) => p.ref) }, { ...cancellation, summary: CHOOSE_K_SUMMARY });
  let kChoice = await choose();
  const rounds = (lazyStability ? 2 * ks.length : ks.length) + EXTRA_REFINE_ROUNDS;
  for (let round = 0; round < rounds; round++) {
    const targets = refineTargets(ks, points, kChoice, refined, finalAtK);
    const measure = lazyStability ? unmeasuredKs(kChoice).slice(0, STABILITY_PER_ROUND) : [];
    if (targets.length === 0 && measure.length === 0) break;
    const refit = ({ k, rising, nearKnee, final }: RefineTarget) => {
      const i = ks.indexOf(k);
      // A rise away from the knee needs only the split start (one fit from a good start), not more seeded inits.
      const refine = {
        from: points[i].ref,
        ...(rising ? { splitFrom: points[i - 1].ref } : {}),
        ...(rising && !nearKnee ? { splitOnly: true } : {}),
        ...(final ? { final: true } : {}),
      };
      return call(compute.sweepK, 'sweep', { ...context, pca, k, refine }, { ...cancellation, k, summary: REFINE_SUMMARY });
    };
    const stable = (k: number) => call(compute.measureStability, 'sweep', { ...context, pca, k }, { ...cancellation, k, summary: STABILITY_SUMMARY });
    const settled = await settleAll([...targets.map(refit), ...measure.map(stable)], cancellation, 'the run was cancelled while the sweep was refined');
    targets.forEach(({ k, nearKnee, final }, i) => {
      points[ks.indexOf(k)] = settled[i];
      if (nearKnee) refined.set(k, final ? 'final' : 'refine');
    });
    stability.push(...settled.slice(targets.length));
    stability.sort((a, b) => Number(a.figures.k) - Number(b.figures.k));
    kChoice = await choose();
  }
  return { ...sweepReport(ks, points, stability, started), kChoice };
}

/** The k whose stability the rule still needs, nearest the knee first (the choice's figure `unmeasured`, "9,10"). */
function unmeasuredKs(kChoice: StepReport): number[] {
  const list = String(kChoice.figures.unmeasured ?? '');
  return list ? list.split(',').map(Number) : [];
}

interface RefineTarget {
  k: number;
  /** Its SSE is above the k − 1 point's: refitted from that point's centroids too. */
  rising: boolean;
  /** Next to the knee or the rule's k, not refined yet: refitted with more seeded inits. */
  nearKnee: boolean;
  /** The rule's k: refitted with the final fit's inits. */
  final: boolean;
}

/**
 * The k to refit next: the knee's neighbours and the rule's k (once each; the rule's k again with the final fit's
 * inits when `finalAtK` and it had fewer), and every k whose SSE rises above the k before it.
 */
function refineTargets(ks: number[], points: StepReport[], kChoice: StepReport, refined: Map<number, 'refine' | 'final'>, finalAtK: boolean): RefineTarget[] {
  const k = Number(kChoice.figures.k);
  const knee = Number(kChoice.figures.knee); // 'none' → NaN: refine around the rule's k instead
  const centre = Number.isFinite(knee) ? knee : k;
  const sse = points.map((p) => Number(p.figures.sse));
  const nearKnee = new Set([centre - 1, centre, centre + 1, k]);
  const due = (candidate: number) => nearKnee.has(candidate) && (!refined.has(candidate) || (finalAtK && candidate === k && refined.get(candidate) !== 'final'));
  return ks
    .map((candidate, i) => ({ k: candidate, rising: i > 0 && sse[i] > sse[i - 1], nearKnee: due(candidate), final: finalAtK && candidate === k }))
    .filter((t) => t.rising || t.nearKnee)
    // The longest refit first (the rule's k, with the most inits), so the shorter ones fill the other cores around it.
    .sort((a, b) => Number(b.final) - Number(a.final) || a.k - b.k);
}

/** The k values to sweep: config kMin..kMax (the ingest step has validated them; defaults from schemas/config-defaults.ts). */
function kRange(config: PipelineConfigInput): number[] {
  const kMin = typeof config.kMin === 'number' ? config.kMin : CONFIG_DEFAULTS.kMin;
  const kMax = typeof config.kMax === 'number' ? config.kMax : CONFIG_DEFAULTS.kMax;
  return Array.from({ length: Math.max(0, kMax - kMin + 1) }, (_, i) => kMin + i);
}

/** The sweep step's report: its fits and, with the k rule, its stability measures (each in k order) and the rule's decision. */
type SweepResult = StepReport & { points: StepReport[]; stability: StepReport[]; kChoice?: StepReport };

/** One step's report for the sweep's activities: its time the fan-out's wall time (a fully reused sweep: its original compute time). */
function sweepReport(ks: number[], points: StepReport[], stability: StepReport[], started: number): SweepResult {
  const reused = [...points, ...stability].every((p) => p.ref.reused);
  const activitySeconds = [...points, ...stability].reduce((sum, p) => sum + p.ref.seconds, 0);
  const seconds = reused ? activitySeconds : (Date.now() - started) / 1000;
  return {
    ref: { step: 'sweep', dir: '', key: points.map((p) => p.ref.key).join(','), reused, seconds },
    figures: { ks: `${ks[0]}..${ks[ks.length - 1]}`, activitySeconds },
    points,
    stability,
  };
}

/**
 * Every activity of a fan-out, in order. With cancellation waited for, every one settles before this returns (a
 * cancellation reaches each running activity; none is left pending), and an activity timed out on a dead worker
 * during a cancel does not turn the cancel into a failure.
 */
async function settleAll<T>(calls: Promise<T>[], cancellation: CallOptions, cancelledWhile: string): Promise<T[]> {
  if (cancellation.cancellationType) {
    const failed = (await Promise.allSettled(calls)).filter((f): f is PromiseRejectedResult => f.status === 'rejected');
    // When the run itself was cancelled, every activity that ended (even by a heartbeat timeout) ends as part of it.
    if (failed.length && CancellationScope.current().consideredCancelled) throw new CancelledFailure(cancelledWhile);
    if (failed.length) throw (failed.find((f) => isCancellation(f.reason)) ?? failed[0]).reason;
  }
  return Promise.all(calls);
}

/**
 * The elbow: one k-means activity per k, all scheduled at once so every worker (and core) takes a share.
 * Reported as one step: its points in k order, its time the fan-out's wall time.
 */
async function elbowSweep(
  context: { storeDir: string; config: PipelineConfigInput },
  pca: StepRef,
  ks: number[],
  cancellation: CallOptions,
  withStability: boolean,
): Promise<SweepResult> {
  const started = Date.now(); // the workflow clock: deterministic on replay
  // Largest k first: they take longest, so the small ones fill the cores at the end instead of one big fit
  // running alone (longest-processing-time-first). Patched so that histories recorded before still replay.
  const order = patched('sweep-largest-k-first') ? [...ks].sort((a, b) => b - a) : ks;
  const fit = (k: number) => call(compute.sweepK, 'sweep', { ...context, pca, k }, { ...cancellation, k });
  const stable = (k: number) => call(compute.measureStability, 'sweep', { ...context, pca, k }, { ...cancellation, k, summary: STABILITY_SUMMARY });
  const fits = order.map(async (k) => [k, await fit(k)] as const);
  const measures = withStability ? order.map(async (k) => [k, await stable(k)] as const) : [];
  const settled = await settleAll([...fits, ...measures], cancellation, 'the run was cancelled during the k sweep');
  const byK = new Map(settled.slice(0, fits.length));
  const stabilityByK = new Map(settled.slice(fits.length));
  const points = ks.map((k) => byK.get(k)!);
  const stability = withStability ? ks.map((k) => stabilityByK.get(k)!) : [];
  return sweepReport(ks, points, stability, started);
}
