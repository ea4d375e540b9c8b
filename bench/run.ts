/**
 * One benchmark repetition: the whole segmentation workflow through Temporal with a fresh artifact store (a new
 * temporary outDir), exactly as `segments run` does it, then the figures the bench reports: per-step seconds
 * (the workflow's progress) and wall times (the workflow history), peak RSS, and the quality checks.
 */
import { ACTIVITY_STEPS } from '../cli/steps';
import { Client, WorkflowHandle } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { followRun, startRun } from '../cli/run';
import { queryRows, quoteLiteral, toNumber, withDuckDb } from '../core/duckdb';
import { datasetInputs, TRUTH_POPULATION_FILE } from '../tools/generator';
import { kmeans, KMeansAlgorithm, resolveAlgorithm } from '../core/linalg';
import { adjustedRandIndex } from '../core/stats/agreement';
import { acquireScoresMatrix } from '../core/store/arrays';
import { matrixView, WasmArena } from '../core/wasm/kernel';
import { PipelineConfigInput, parseConfig } from '../schemas/config';
import { createWorker } from '../worker/create-worker';
import type { StepProgress } from '../workflows/progress';
import { Floors, measureFloors } from './floors';
import { ChildWorker, RssSampler, resetHwm, vmHwmBytes } from './processes';

export interface Dataset {
  dir: string;
  populationRows: number;
  customerRows: number;
  seed: number;
}

export interface RunContext {
  client: Client;
  nativeConnection: NativeConnection;
  namespace: string;
  workflowBundle: { code: string };
  children: ChildWorker[];
  config: PipelineConfigInput;
  /** Keep the temporary outDir (artifacts, results) instead of deleting it. */
  keep: boolean;
  /** Activities the in-process worker runs at once (default: one per core). */
  slots?: number;
}

export interface StepFigures {
  name: string;
  /** The step's own seconds from the workflow's progress (for `sweep`: the sum over its k activities). */
  seconds: number;
  /** First activity scheduled → last activity completed, from the workflow history. */
  wallSeconds: number | null;
  /** Largest sampled RSS of the bench process while the step's activities ran. */
  peakRss: number | null;
  /** Longest stall of the bench process's event loop (shared with the in-process worker) while the step ran, ms. */
  maxStallMs: number | null;
  activities: number;
  reused: boolean;
  figures: Record<string, number | string | boolean>;
  /** The step's floor measured in the same run (bench/floors.ts), and `seconds` as a multiple of it. */
  floorSeconds: number | null;
  timesFloor: number | null;
}

export interface LloydCheck {
  k: number;
  seed: number;
  /** The pipeline's algorithm (Elkan, or Hamerly when Elkan's bounds would not fit). */
  pruned: { algorithm: string; sse: number; iterations: number; seconds: number };
  lloyd: { sse: number; iterations: number; seconds: number };
  /** |SSE_pruned − SSE_lloyd| / SSE_lloyd. */
  relativeDifference: number;
  withinTolerance: boolean;
  sameAssignments: boolean;
}

export interface RunFigures {
  workflowId: string;
  outDir: string;
  populationRows: number;
  customerRows: number;
  totalSeconds: number;
  rowsPerSecond: number;
  loadAverage: { start: number[]; end: number[] };
  steps: StepFigures[];
  /** Each sweepK activity: k, the worker that ran it, started → completed seconds. */
  sweep: { k: number; worker: string; seconds: number }[];
  /** Activities completed per worker identity. */
  activitiesByWorker: Record<string, { all: number; sweep: number }>;
  memory: { sampledMaxRss: number; vmHwm: number | null; hwmReset: boolean; children: { pid: number; vmHwm: number | null }[] };
  /** Event-loop delay of the bench process, whose loop the in-process worker (workflow tasks, queries, heartbeats) shares. */
  eventLoopDelayMs: { max: number; p99: number; mean: number };
  quality: {
    keptComponents: number;
    explainedVariance: number;
    k: number;
    finalSse: number;
    ari: number;
    ariRows: number;
    /** Share of population rows whose heavy-missing status (cluster −1) matches the planted heavy flag. */
    heavyAgreement: number;
    lloyd: LloydCheck;
  };
  /** Each step's floor on the same data, measured right after the run in this process. */
  floors: Floors;
}


const LLOYD_TOLERANCE = 0.001;
const LOOP_RESOLUTION_MS = 20;

// long because: one measured run (worker, workflow, resource sampling, figures) whose sampler and worker share its lifetime; left whole while issue 12 changes the benchmark
export async function runOnce(ctx: RunContext, data: Dataset, label: string): Promise<RunFigures> {
  const outDir = await mkdtemp(join(tmpdir(), 'segments-bench-'));
  try {
    const worker = await createWorker({
      connection: ctx.nativeConnection,
      namespace: ctx.namespace,
      workflowBundle: ctx.workflowBundle,
      identity: `bench-${process.pid}`,
      ...(ctx.slots ? { maxConcurrentActivities: ctx.slots } : {}),
    });
    const hwmReset = [resetHwm('self'), ...ctx.children.map((c) => resetHwm(c.pid))].every(Boolean);
    const loadStart = loadavg();
    const sampler = new RssSampler(100);
    const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loopDelay.enable();
    const started = performance.now();
    let totalSeconds = 0;
    const handle = await startRun({
      client: ctx.client,
      ...datasetInputs(data.dir),
      outDir,
      config: ctx.config,
    });
    const outcome = await worker.runUntil(
      followRun(handle, (step) => console.error(`  ${label} ${step.name.padEnd(12)} ${step.status} ${(step.seconds ?? 0).toFixed(1)}s`)).then((o) => {
        totalSeconds = (performance.now() - started) / 1000;
        return o;
      }),
    );
    const sampledMaxRss = sampler.stop();
    loopDelay.disable();
    const vmHwm = vmHwmBytes('self') ?? null;
    const children = ctx.children.map((c) => ({ pid: c.pid, vmHwm: vmHwmBytes(c.pid) ?? null }));
    const loadEnd = loadavg();

    const history = await activityHistory(handle);
    const floors = await measureFloors(outDir);
    const steps = outcome.steps.map((s) => stepFigures(s, history, sampler, floors));
    const figures = (name: string) => outcome.steps.find((s) => s.name === name)?.figures ?? {};
    const quality = {
      keptComponents: Number(figures('pca').keptComponents),
      explainedVariance: Number(figures('pca').explainedVariance),
      k: outcome.k,
      finalSse: Number(figures('kmeans').sse),
      ...(await agreementWithTruth(outDir, data)),
      lloyd: await lloydCheck(outDir, outcome.k, ctx.config),
    };
    const activitiesByWorker: RunFigures['activitiesByWorker'] = {};
    for (const a of history) {
      const entry = (activitiesByWorker[a.identity] ??= { all: 0, sweep: 0 });
      entry.all++;
      if (a.type === 'sweepK') entry.sweep++;
    }
    return {
      workflowId: handle.workflowId,
      outDir,
      populationRows: data.populationRows,
      customerRows: data.customerRows,
      totalSeconds,
      rowsPerSecond: (data.populationRows + data.customerRows) / totalSeconds,
      loadAverage: { start: loadStart, end: loadEnd },
      steps,
      sweep: history
        .filter((a) => a.type === 'sweepK')
        .map((a) => ({ k: a.k ?? -1, worker: a.identity, seconds: (a.completedMs - a.startedMs) / 1000 }))
        .sort((x, y) => x.k - y.k),
      activitiesByWorker,
      memory: { sampledMaxRss, vmHwm, hwmReset, children },
      // The histogram holds whole timer intervals: the delay is what exceeds the resolution.
      eventLoopDelayMs: {
        max: Math.max(0, loopDelay.max / 1e6 - LOOP_RESOLUTION_MS),
        p99: Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
        mean: Math.max(0, loopDelay.mean / 1e6 - LOOP_RESOLUTION_MS),
      },
      quality,
      floors,
    };
  } finally {
    if (!ctx.keep) await rm(outDir, { recursive: true, force: true });
  }
}

interface ActivityRecord {
  type: string;
  identity: string;
  scheduledMs: number;
  startedMs: number;
  completedMs: number;
  /** The `k` of a sweepK activity's input. */
  k?: number;
}

function eventMs(time: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(time?.seconds ?? 0) * 1000 + (time?.nanos ?? 0) / 1e6;
}

/** Completed activities with their schedule/complete times and the worker identity that ran them. */
async function activityHistory(handle: WorkflowHandle): Promise<ActivityRecord[]> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, { type: string; ms: number; startedMs?: number; k?: number }>();
  const records: ActivityRecord[] = [];
  for (const event of history.events ?? []) {
    const ms = eventMs(event.eventTime);
    const s = event.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(event.eventId), { type: s.activityType?.name ?? '?', ms, k: inputK(s.input?.payloads?.[0]?.data) });
    const st = event.activityTaskStartedEventAttributes;
    const started = st ? scheduled.get(String(st.scheduledEventId)) : undefined;
    if (started) started.startedMs = ms;
    const c = event.activityTaskCompletedEventAttributes;
    const origin = c ? scheduled.get(String(c.scheduledEventId)) : undefined;
    if (c && origin) {
      records.push({ type: origin.type, identity: c.identity ?? '?', scheduledMs: origin.ms, startedMs: origin.startedMs ?? origin.ms, completedMs: ms, k: origin.k });
    }
  }
  return records;
}

/** `k` from a JSON activity input payload, if it has one. */
function inputK(data: Uint8Array | null | undefined): number | undefined {
  try {
    const k = (JSON.parse(Buffer.from(data ?? []).toString('utf8')) as { k?: unknown }).k;
    return typeof k === 'number' ? k : undefined;
  } catch {
    return undefined;
  }
}

function stepFigures(step: StepProgress, history: ActivityRecord[], sampler: RssSampler, floors: Floors): StepFigures {
  const mine = history.filter((a) => (ACTIVITY_STEPS[a.type] ?? a.type) === step.name);
  const from = Math.min(...mine.map((a) => a.scheduledMs));
  const to = Math.max(...mine.map((a) => a.completedMs));
  return {
    name: step.name,
    seconds: step.seconds ?? 0,
    wallSeconds: mine.length ? (to - from) / 1000 : null,
    peakRss: mine.length ? (sampler.maxBetween(from, to) ?? null) : null,
    maxStallMs: mine.length ? sampler.maxStallBetween(from, to) : null,
    activities: mine.length,
    reused: step.reused ?? false,
    figures: step.figures ?? {},
    ...timesFloor(step.seconds ?? 0, floors.steps[step.name]?.seconds),
  };
}

/** The step's own seconds as a multiple of its floor (none for steps without one). */
export function timesFloor(seconds: number, floor: number | undefined): { floorSeconds: number | null; timesFloor: number | null } {
  if (floor === undefined || !Number.isFinite(floor)) return { floorSeconds: null, timesFloor: null };
  return { floorSeconds: floor, timesFloor: floor > 0 ? seconds / floor : null };
}

/** ARI of the clean population rows' clusters against the planted segments, and the heavy split's agreement. */
export async function agreementWithTruth(outDir: string, data: Dataset): Promise<{ ari: number; ariRows: number; heavyAgreement: number }> {
  const assignments = join(outDir, 'assignments', 'population.parquet');
  const truth = join(data.dir, TRUTH_POPULATION_FILE);
  const rows = await withDuckDb({}, (conn) =>
    queryRows(
      conn,
      `SELECT a.cluster, t.segment, t.heavy
         FROM read_parquet(${quoteLiteral(assignments)}) a
         JOIN read_csv(${quoteLiteral(truth)}, delim=';', header=true, columns={'row': 'BIGINT', 'segment': 'INTEGER', 'heavy': 'INTEGER'}) t USING ("row")
        ORDER BY "row"`,
    ),
  );
  if (rows.length !== data.populationRows) throw new Error(`assignments cover ${rows.length} of ${data.populationRows} population rows`);
  const clusters: number[] = [];
  const segments: number[] = [];
  let heavyMatches = 0;
  for (const r of rows) {
    const cluster = toNumber(r.cluster);
    if ((cluster === -1) === (toNumber(r.heavy) === 1)) heavyMatches++;
    if (cluster >= 0) {
      clusters.push(cluster);
      segments.push(toNumber(r.segment));
    }
  }
  return { ari: adjustedRandIndex(clusters, segments), ariRows: clusters.length, heavyAgreement: heavyMatches / rows.length };
}

/**
 * "SSE within 0.1 % of a plain Lloyd run from the same init": k-means on the run's PCA scores with the final k,
 * seeded alike (so the same k-means++ init), once as the pipeline runs it (its algorithm and tolerance) and once
 * with plain Lloyd run to its fixed point (tolerance 0): the difference covers both the pruning and the early stop.
 */
async function lloydCheck(outDir: string, k: number, configInput: PipelineConfigInput): Promise<LloydCheck> {
  const config = parseConfig(configInput);
  const pcaRoot = join(outDir, 'artifacts', 'pca');
  const keys = (await readdir(pcaRoot)).filter((name) => !name.startsWith('.'));
  if (keys.length !== 1) throw new Error(`expected one PCA checkpoint in ${pcaRoot}, found ${keys.length}`);
  const manifest = JSON.parse(await readFile(join(pcaRoot, keys[0], 'manifest.json'), 'utf8')) as {
    output: { keptComponents: number; population: { rows: number; scores: string } };
  };
  const { keptComponents: q, population } = manifest.output;
  const lease = acquireScoresMatrix(join(pcaRoot, keys[0], population.scores), population.rows, q);
  const { matrix } = lease;
  const scores = matrixView(matrix);
  const wasm = { arena: new WasmArena(matrix.memory), matrix };
  const options = { k, seed: config.seed, maxIterations: config.maxIterations, relativeTolerance: config.relativeTolerance };
  const timed = (algorithm: KMeansAlgorithm) => {
    const t = performance.now();
    const tolerance = algorithm === 'lloyd' ? { relativeTolerance: 0 } : {};
    const result = kmeans(scores, population.rows, q, { ...options, ...tolerance, algorithm }, { wasm });
    return { result, seconds: (performance.now() - t) / 1000 };
  };
  const prunedAlgorithm = resolveAlgorithm(undefined, population.rows, k);
  const hamerly = timed(prunedAlgorithm);
  const lloyd = timed('lloyd');
  lease.release();
  const relativeDifference = Math.abs(hamerly.result.sse - lloyd.result.sse) / lloyd.result.sse;
  const a = hamerly.result.assignments;
  const b = lloyd.result.assignments;
  let sameAssignments = a.length === b.length;
  for (let i = 0; sameAssignments && i < a.length; i++) sameAssignments = a[i] === b[i];
  const summary = (r: { result: { sse: number; iterations: number }; seconds: number }) => ({ sse: r.result.sse, iterations: r.result.iterations, seconds: r.seconds });
  return {
    k,
    seed: config.seed,
    pruned: { algorithm: prunedAlgorithm, ...summary(hamerly) },
    lloyd: summary(lloyd),
    relativeDifference,
    withinTolerance: relativeDifference <= LLOYD_TOLERANCE,
    sameAssignments,
  };
}
