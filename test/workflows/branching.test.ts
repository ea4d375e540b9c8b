/**
 * The workflow's branching with mocked activities on Temporal's time-skipping test server, in seconds:
 * fixed k vs the knee, last month's run or none, a failing step, cancellation. The real activities are
 * tested end to end on the dev server (test/workflow.test.ts); here only the orchestration is.
 *
 * The test server is io.temporal:temporal-test-server from Maven Central (scripts/install-test-server.sh,
 * which .ci/run runs), given to the SDK as an existing executable: the SDK's own download needs a host this
 * project cannot reach.
 */
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { ActivityFailure, WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as activities from '../../activities';
import { INDEXED_VALUE_TYPE, projectSearchAttributes } from '../../temporal/namespace-setup';
import type { StepReport } from '../../schemas/steps';
import { WORKFLOWS_PATH } from '../../worker/create-worker';
import type { SegmentationInput, SegmentationOutcome } from '../../workflows/segmentation';

const TEST_SERVER = process.env.TEMPORAL_TEST_SERVER_PATH ?? join(__dirname, '..', '..', '.tools', 'bin', 'temporal-test-server');

type Activities = typeof activities;
type Calls = { name: keyof Activities; input: Record<string, unknown> }[];

/** An SSE curve with its knee at k = 4. */
const SSE: Record<number, number> = { 2: 1000, 3: 700, 4: 400, 5: 370, 6: 350 };

function report(step: string, figures: StepReport['figures'] = {}): StepReport {
  return { ref: { step, dir: `/store/${step}`, key: `${step}-key`, reused: false, seconds: 1 }, figures };
}

/** Activities that record their input and answer with a plausible report; `override` replaces some. */
function mockActivities(calls: Calls, override: Partial<Record<keyof Activities, (input: never) => Promise<unknown>>> = {}): Activities {
  const base: Record<keyof Activities, (input: Record<string, unknown>) => Promise<unknown>> = {
    ingestData: async () => report('ingest'),
    recodeMissingCodes: async () => report('recode'),
    assessColumnMissingness: async () => report('missingness', { droppedColumns: 'A,B' }),
    splitByRowMissingness: async () => report('split', { populationHeavyShare: 0.1, customerHeavyShare: 0.25 }),
    encodeFeatures: async () => report('encode'),
    imputeAndScale: async () => report('scale'),
    fitPca: async () => report('pca'),
    // A refined point (input.refine) is another checkpoint: "-refined" in its key.
    sweepK: async (input) => report(`kmeans-k${input.k}${input.refine ? '-refined' : ''}`, { k: input.k as number, sse: SSE[input.k as number] }),
    measureStability: async (input) => report(`stability-k${input.k}`, { k: input.k as number, stability: 0.95 }),
    // The rule itself is core/linalg/choose-k.ts's (unit-tested); here it answers a k other than the knee (4) and,
    // until they are measured, asks for the stability at 4 and 5.
    chooseClusterCount: async (input) =>
      report('choose-k', { k: 5, knee: 4, stable: true, reason: 'test', unmeasured: [4, 5].filter((k) => !measuredKs(input).includes(k)).join(',') }),
    fitFinalKMeans: async (input) => report('kmeans-final', { k: input.k as number }),
    mapCustomers: async () => report('map'),
    compareSegments: async () => report('compare', { overRepresented: '1', underRepresented: '0' }),
    compareWithPreviousRun: async () => report('drift'),
    inspectPreviousRun: async () => ({ ...report('previous-run'), found: true, k: 6, sameShape: true }),
    publishResults: async () => ({ ...report('report', { k: 0 }), summaryTable: 'table' }),
  };
  const recorded = {} as Record<string, (input: Record<string, unknown>) => Promise<unknown>>;
  for (const name of Object.keys(base) as (keyof Activities)[]) {
    recorded[name] = async (input) => {
      calls.push({ name, input });
      return (override[name] ?? base[name])(input as never);
    };
  }
  return recorded as unknown as Activities;
}

/** The k whose stability the rule's input carries (by the mock's keys, "stability-k4-key"). */
function measuredKs(input: Record<string, unknown>): number[] {
  return ((input.stability ?? []) as { key: string }[]).map((ref) => Number(/stability-k(\d+)/.exec(ref.key)![1]));
}

let env: TestWorkflowEnvironment;
let workflowBundle: { code: string };

beforeAll(async () => {
  if (!existsSync(TEST_SERVER)) throw new Error(`no time-skipping test server at ${TEST_SERVER}: run scripts/install-test-server.sh`);
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // installed by an earlier test file in this process
  }
  const start = () => TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: TEST_SERVER } } });
  // The JVM starting on a busy machine misses the SDK's 5 s start-up wait now and then (twice in a row once, at
  // load 6): up to four attempts.
  env = await start().catch(start).catch(start).catch(start);
  // The workflow sets the project's search attributes, which a server must know first (the test server
  // implements adding them, not listing them, so ensureNamespaceSetup cannot be used here).
  const searchAttributes = Object.fromEntries(Object.entries(projectSearchAttributes()).map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]]));
  await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace ?? 'default', searchAttributes });
  workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
}, 120_000);

afterAll(async () => {
  await env?.teardown();
});

jest.setTimeout(60_000);

let run = 0;
const BASE_INPUT: SegmentationInput = {
  inputs: { population: '/data/pop.csv', customers: '/data/cust.csv', featureSummary: '/data/summary.csv' },
  storeDir: '/store',
  outDir: '/out',
  config: { kMin: 2, kMax: 6 },
};

/** Runs the workflow on a fresh task queue with the given activities; `during` sees the handle while it runs. */
async function runWorkflow(
  input: SegmentationInput,
  mocks: Activities,
  during?: (handle: Awaited<ReturnType<TestWorkflowEnvironment['client']['workflow']['start']>>) => Promise<void>,
) {
  const taskQueue = `branching-${++run}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: mocks });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start('segmentation', { taskQueue, workflowId: `branching-${run}`, args: [input] });
    if (during) await during(handle);
    const outcome = await handle.result().then(
      (value: SegmentationOutcome) => ({ value, error: undefined }),
      (error: unknown) => ({ value: undefined, error }),
    );
    const described = await handle.describe();
    return { ...outcome, searchAttributes: described.searchAttributes, memo: described.memo };
  });
}

const inputOf = (calls: Calls, name: keyof Activities) => calls.find((c) => c.name === name)?.input;

/** The sweep keys the rule saw on its n-th call (0-based). */
const ruleSweepKeys = (calls: Calls, n: number) => (calls.filter((c) => c.name === 'chooseClusterCount')[n].input.sweep as { key: string }[]).map((r) => r.key);

test('k by the k rule over the sweep and the stability where the rule needs it, the points near the knee refined; the final fit takes over the refined point at k', async () => {
  const calls: Calls = [];
  const { value } = await runWorkflow(BASE_INPUT, mockActivities(calls));
  expect(value!.k).toBe(5);
  // One sweep fit per k, all at once (the order they are scheduled in is the replay test's business), no stability yet.
  const sweepFits = calls.filter((c) => c.name === 'sweepK' && !c.input.refine);
  expect(sweepFits.map((c) => c.input.k as number).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6]);
  // The rule sees every k's fit in k order, after all of them finished.
  const rule = calls.findIndex((c) => c.name === 'chooseClusterCount');
  expect(calls[rule].input).toMatchObject({ sweep: [2, 3, 4, 5, 6].map((k) => ({ key: `kmeans-k${k}-key` })), stability: [] });
  expect(calls.slice(0, rule).map((c) => c.name).filter((name) => name === 'sweepK' || name === 'measureStability')).toEqual(Array(5).fill('sweepK'));
  // Then the knee's neighbours (3, 4, 5) and the rule's k (5) are refined, each continuing its sweep fit, once —
  // the rule's k first and with the final fit's inits; beside them the stability at the first k the rule asked for.
  const refits = calls.filter((c) => c.name === 'sweepK' && c.input.refine);
  expect(refits.map((c) => c.input.k as number).sort()).toEqual([3, 4, 5]);
  for (const refit of refits) {
    const final = refit.input.k === 5 ? { final: true } : {};
    expect(refit.input.refine).toEqual({ from: expect.objectContaining({ key: `kmeans-k${refit.input.k}-key` }), ...final });
  }
  // One stability measure a round, in the order the rule asks: 4 beside the refits, then 5 alone.
  expect(calls.filter((c) => c.name === 'measureStability').map((c) => c.input.k as number)).toEqual([4, 5]);
  // The rule decides again on the refined curve and the measures; the knee did not move, nothing more is refitted.
  const rules = calls.filter((c) => c.name === 'chooseClusterCount');
  expect(rules).toHaveLength(3);
  const refinedCurve = ['kmeans-k2-key', 'kmeans-k3-refined-key', 'kmeans-k4-refined-key', 'kmeans-k5-refined-key', 'kmeans-k6-key'];
  expect(ruleSweepKeys(calls, 1)).toEqual(refinedCurve);
  expect(ruleSweepKeys(calls, 2)).toEqual(refinedCurve);
  expect(rules[1].input.stability).toEqual([expect.objectContaining({ key: 'stability-k4-key' })]);
  expect(rules[2].input.stability).toEqual([4, 5].map((k) => expect.objectContaining({ key: `stability-k${k}-key` })));
  expect(inputOf(calls, 'fitFinalKMeans')).toMatchObject({ k: 5, sweep: { key: 'kmeans-k5-refined-key' } });
  expect(inputOf(calls, 'publishResults')).toMatchObject({ kChosenBy: 'rule', kChoice: { key: 'choose-k-key' }, sweep: refinedCurve.map((key) => ({ key })) });
  expect(value!.steps.every((s) => s.status === 'done')).toBe(true);
});

test('an unstable knee: the rule asks for the stability of the next k out, one a round, until it can choose', async () => {
  const calls: Calls = [];
  // The knee 4 and then 5 are unstable; 3 is stable (the rule: the nearest stable k, the larger first on ties).
  const stability: Record<number, number> = { 2: 0.9, 3: 0.9, 4: 0.5, 5: 0.5, 6: 0.9 };
  const measureStability = async (input: { k: number }) => report(`stability-k${input.k}`, { k: input.k, stability: stability[input.k] });
  const chooseClusterCount = async (input: Record<string, unknown>) => {
    const measured = measuredKs(input);
    const walk = [4, 5, 3];
    const needed = walk.slice(0, walk.findIndex((k) => measured.includes(k) && stability[k] >= 0.8) + 1 || walk.length).filter((k) => !measured.includes(k));
    const k = needed.length ? 4 : 3;
    return report(`choose-k-${measured.join('-') || 'none'}`, { k, knee: 4, stable: true, reason: 'test', unmeasured: needed.join(',') });
  };
  const { value } = await runWorkflow(BASE_INPUT, mockActivities(calls, { measureStability, chooseClusterCount }));
  expect(value!.k).toBe(3);
  // Round 1: 4 beside the refits (3, 4, 5; 4 with the final fit's inits); rounds 2 and 3: 5, then 3; never 2 or 6.
  expect(calls.filter((c) => c.name === 'measureStability').map((c) => c.input.k)).toEqual([4, 5, 3]);
  // Round 4: the rule's k is now 3, refined before with refineInits: again, with the final fit's.
  const refits = calls.filter((c) => c.name === 'sweepK' && c.input.refine).map((c) => [c.input.k, Boolean((c.input.refine as { final?: boolean }).final)]);
  expect(refits.slice(0, 3).sort()).toEqual([[3, false], [4, true], [5, false]]);
  expect(refits[3]).toEqual([3, true]);
  expect(calls.filter((c) => c.name === 'chooseClusterCount')).toHaveLength(5);
  expect(inputOf(calls, 'publishResults')).toMatchObject({ kChoice: { key: 'choose-k-3-4-5-key' } });
  expect(inputOf(calls, 'fitFinalKMeans')).toMatchObject({ k: 3, sweep: { key: 'kmeans-k3-refined-key' } });
});

test('a knee that moves after refinement gets its own neighbours refined, until it stays', async () => {
  const calls: Calls = [];
  // The rule's answers in turn: knee 5 on the sweep's curve, 3 once 4..6 are refined, 3 again once 2 is.
  const answers = [5, 3, 3];
  let asked = 0;
  const chooseClusterCount = async () => {
    const knee = answers[Math.min(asked++, answers.length - 1)];
    return report(`choose-k-${asked}`, { k: knee, knee, stable: true, reason: 'test' });
  };
  const { value } = await runWorkflow(BASE_INPUT, mockActivities(calls, { chooseClusterCount }));
  expect(value!.k).toBe(3);
  const rounds = calls.filter((c) => c.name === 'sweepK' && c.input.refine).map((c) => c.input.k as number);
  expect(rounds).toHaveLength(5);
  expect(rounds.slice(0, 3).sort()).toEqual([4, 5, 6]); // round 1: around the knee 5
  // round 2: around the knee 3, without 4 (refined already)
  expect(rounds.slice(3).sort()).toEqual([2, 3]);
  expect(calls.filter((c) => c.name === 'chooseClusterCount')).toHaveLength(3);
  expect(inputOf(calls, 'fitFinalKMeans')).toMatchObject({ k: 3, sweep: { key: 'kmeans-k3-refined-key' } });
  expect(inputOf(calls, 'publishResults')).toMatchObject({ kChoice: { key: 'choose-k-3-key' } });
});

test('a point whose SSE rises above the k before it is refitted from that point\'s centroids too, until the curve is monotone', async () => {
  const calls: Calls = [];
  // k = 6 lands above k = 5 in the sweep; refitted (from k = 5's centroids plus one) it is below.
  const sweepK = async (input: { k: number; refine?: unknown }) =>
    report(`kmeans-k${input.k}${input.refine ? '-refined' : ''}`, { k: input.k, sse: input.k === 6 && !input.refine ? 380 : SSE[input.k] - (input.refine ? 1 : 0) });
  const { value } = await runWorkflow(BASE_INPUT, mockActivities(calls, { sweepK }));
  expect(value!.k).toBe(5);
  const refits = calls.filter((c) => c.name === 'sweepK' && c.input.refine);
  // Round 1: the knee's neighbours 3, 4, 5 (plain) and the rising 6 (split from the sweep's k = 5 point); then the curve is monotone.
  expect(refits.map((c) => c.input.k as number).sort((a, b) => a - b)).toEqual([3, 4, 5, 6]);
  // 6 is not next to the knee (4): only the split start, no more seeded inits.
  expect(refits.find((c) => c.input.k === 6)!.input.refine).toEqual({ from: expect.objectContaining({ key: 'kmeans-k6-key' }), splitFrom: expect.objectContaining({ key: 'kmeans-k5-key' }), splitOnly: true });
  for (const k of [3, 4, 5]) expect(refits.find((c) => c.input.k === k)!.input.refine).not.toHaveProperty('splitFrom');
  // Two rounds: the refits with the stability at 4, then the stability at 5 (the mock rule asks for both).
  expect(calls.filter((c) => c.name === 'chooseClusterCount')).toHaveLength(3);
});

test('a rise fixed at k that leaves k + 1 above it ripples up the curve, one k per round, until the curve is monotone', async () => {
  const calls: Calls = [];
  // Unrefined, 5 and 6 sit above the optimum's curve (5 above 4); refitted from k − 1, each lands just below it.
  const sweepK = async (input: { k: number; refine?: { splitFrom?: unknown } }) => {
    const high: Record<number, number> = { 2: 1000, 3: 700, 4: 400, 5: 420, 6: 415 };
    const refined: Record<number, number> = { 2: 1000, 3: 699, 4: 399, 5: 398, 6: 397 };
    return report(`kmeans-k${input.k}${input.refine ? '-refined' : ''}`, { k: input.k, sse: input.refine ? refined[input.k] : high[input.k] });
  };
  const chooseClusterCount = async () => report('choose-k', { k: 3, knee: 3, stable: true, reason: 'test' });
  await runWorkflow(BASE_INPUT, mockActivities(calls, { sweepK, chooseClusterCount }));
  const refits = calls.filter((c) => c.name === 'sweepK' && c.input.refine).map((c) => ({ k: c.input.k as number, refine: c.input.refine as Record<string, unknown> }));
  // Round 1: 2, 3, 4 near the knee, 5 rising (6 at 415 is below 5's 420); round 2: 6 now rises above 5's 398.
  expect(refits.map((r) => r.k).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6]);
  expect(refits.find((r) => r.k === 6)!.refine).toMatchObject({ splitFrom: { key: 'kmeans-k5-refined-key' }, splitOnly: true });
  expect(calls.filter((c) => c.name === 'chooseClusterCount')).toHaveLength(3);
});

test('a fixed k wins over the knee; outside the swept range there is no sweep fit to take over', async () => {
  const calls: Calls = [];
  const { value } = await runWorkflow({ ...BASE_INPUT, config: { kMin: 2, kMax: 6, k: 9 } }, mockActivities(calls));
  expect(value!.k).toBe(9);
  expect(inputOf(calls, 'fitFinalKMeans')).toMatchObject({ k: 9 });
  expect(inputOf(calls, 'fitFinalKMeans')!.sweep).toBeUndefined();
  expect(inputOf(calls, 'publishResults')).toMatchObject({ kChosenBy: 'fixed' });
  // A fixed k needs no evidence for choosing it: no stability measures, no rule.
  expect(calls.map((c) => c.name)).not.toContain('measureStability');
  expect(calls.map((c) => c.name)).not.toContain('chooseClusterCount');
});

test('a monthly run matches last month; a run without a template has no previous run unless given one', async () => {
  const monthly = { ...BASE_INPUT, outDir: '/out/{YYYY-MM}', storeDir: '/store/{YYYY}', runMonth: '2026-01' };
  let calls: Calls = [];
  await runWorkflow(monthly, mockActivities(calls));
  expect(inputOf(calls, 'compareWithPreviousRun')).toMatchObject({ previousOutDir: '/out/2025-12', storeDir: '/store/2026' });
  expect(inputOf(calls, 'publishResults')).toMatchObject({ outDir: '/out/2026-01' });

  calls = [];
  await runWorkflow(BASE_INPUT, mockActivities(calls));
  expect(inputOf(calls, 'compareWithPreviousRun')!.previousOutDir).toBeUndefined();

  calls = [];
  await runWorkflow({ ...monthly, previousOutDir: '/elsewhere' }, mockActivities(calls));
  expect(inputOf(calls, 'compareWithPreviousRun')).toMatchObject({ previousOutDir: '/elsewhere' });
});

test('continuity.keepPreviousK: the previous k (in range, same data shape) wins over the k rule and the final fit warm-starts', async () => {
  const keep = { ...BASE_INPUT, previousOutDir: '/out/2025-12', config: { kMin: 2, kMax: 6, continuity: { keepPreviousK: true } } };
  let calls: Calls = [];
  const { value } = await runWorkflow(keep, mockActivities(calls));
  expect(value!.k).toBe(6);
  expect(inputOf(calls, 'inspectPreviousRun')).toMatchObject({ previousOutDir: '/out/2025-12', scale: { key: 'scale-key' } });
  // The sweep still runs: the report shows the SSE curve the kept k sits on.
  expect(calls.filter((c) => c.name === 'sweepK')).toHaveLength(5);
  // A kept k needs no evidence for choosing it: no stability measures, no rule.
  expect(calls.map((c) => c.name)).not.toContain('measureStability');
  expect(calls.map((c) => c.name)).not.toContain('chooseClusterCount');
  expect(inputOf(calls, 'publishResults')!.kChoice).toBeUndefined();
  expect(inputOf(calls, 'fitFinalKMeans')).toMatchObject({ k: 6, sweep: { key: 'kmeans-k6-key' }, warmStart: { previousOutDir: '/out/2025-12', scale: { key: 'scale-key' } } });
  expect(inputOf(calls, 'compareWithPreviousRun')).toMatchObject({ kFromPrevious: true });
  expect(inputOf(calls, 'publishResults')).toMatchObject({ kChosenBy: 'previous' });

  // The evidence says otherwise: the data changed shape, or the previous k is outside kMin..kMax → the k rule
  // (the rule, with stability where it needs it), no warm start.
  for (const previous of [{ found: true, k: 6, sameShape: false }, { found: true, k: 9, sameShape: true }, { found: false, k: 0, sameShape: false }]) {
    calls = [];
    const { value: afresh } = await runWorkflow(keep, mockActivities(calls, { inspectPreviousRun: async () => ({ ...report('previous-run'), ...previous }) }));
    expect(afresh!.k).toBe(5);
    expect(calls.filter((c) => c.name === 'measureStability')).toHaveLength(2);
    expect(inputOf(calls, 'fitFinalKMeans')!.warmStart).toBeUndefined();
    expect(inputOf(calls, 'compareWithPreviousRun')!.kFromPrevious).toBeUndefined();
    expect(inputOf(calls, 'publishResults')).toMatchObject({ kChosenBy: 'rule', kChoice: { key: 'choose-k-key' } });
  }

  // Off by default, and a fixed k wins: the previous run is not even looked at.
  for (const config of [{ kMin: 2, kMax: 6 }, { kMin: 2, kMax: 6, k: 3, continuity: { keepPreviousK: true } }]) {
    calls = [];
    await runWorkflow({ ...keep, config }, mockActivities(calls));
    expect(calls.map((c) => c.name)).not.toContain('inspectPreviousRun');
    expect(inputOf(calls, 'fitFinalKMeans')!.warmStart).toBeUndefined();
  }
});

test('a step that fails non-retryably fails the run, names the step, and nothing after it runs', async () => {
  const calls: Calls = [];
  const failing = mockActivities(calls, {
    mapCustomers: async () => {
      throw ApplicationFailure.create({ message: 'file x, line 3: bad value', type: 'InputError', nonRetryable: true });
    },
  });
  const { error, searchAttributes } = await runWorkflow(BASE_INPUT, failing);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const failure = (error as WorkflowFailedError).cause as ActivityFailure;
  expect(failure).toBeInstanceOf(ActivityFailure);
  expect(failure.cause?.message).toContain('bad value');
  expect(calls.filter((c) => c.name === 'mapCustomers')).toHaveLength(1);
  expect(calls.map((c) => c.name)).not.toContain('compareSegments');
  expect(searchAttributes.SegmentsOutcome).toEqual(['failed:map']);
});

test('cancelling the run cancels the running step and records the outcome', async () => {
  const calls: Calls = [];
  let started!: () => void;
  const pcaStarted = new Promise<void>((resolve) => (started = resolve));
  const mocks = mockActivities(calls, {
    fitPca: async () => {
      started();
      // Heartbeat until the cancellation arrives (a cancelled activity learns it from its heartbeat).
      for (;;) {
        Context.current().heartbeat();
        await Context.current().sleep(100);
      }
    },
  });
  const { error, searchAttributes } = await runWorkflow(BASE_INPUT, mocks, async (handle) => {
    await pcaStarted;
    await handle.cancel();
  });
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  expect(calls.map((c) => c.name)).not.toContain('sweepK');
  expect(searchAttributes.SegmentsOutcome).toEqual(['cancelled']);
});
