/**
 * The production worker (worker/run-worker.ts) as a real process: started the way a container starts it,
 * polled by the jest dev server, stopped with a real signal.
 *
 * The child runs the TypeScript sources through the same SWC transform jest uses (a require hook, as
 * core/parallel/spawn.ts does for worker threads), so no build is needed. It loads a prebuilt workflow
 * bundle (worker/bundle.ts, the production path) holding one test workflow whose activity, `slowStep`,
 * runs for a given time, heartbeats, and stops when cancelled; the worker registers it next to the
 * project's steps. Each process gets a private task queue.
 */
import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWorkflowBundle } from '../worker/bundle';
import { DEFAULT_SHUTDOWN_GRACE_MS, WorkerConfigError, parseDuration, resolveWorkerSettings } from '../worker/run-worker';
import { testServerAddress } from './support/temporal';
import { TS_CHILD_PRELUDE } from './support/worker-process';

const projectRoot = path.resolve(__dirname, '..');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const FIXTURE_WORKFLOW = `
import { proxyActivities } from '@temporalio/workflow';

const { slowStep } = proxyActivities<{ slowStep(input: { ms: number; label: string }): Promise<string> }>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

export async function slowWorkflow(ms: number, label: string): Promise<string> {
  return slowStep({ ms, label });
}
`;

/** The child: TS require hook, the CLI's Runtime setup, runWorker with slowStep, the CLI's exit codes. */
const childEntry = (mainTs: string) => `
${TS_CHILD_PRELUDE}
const { Context } = require(${JSON.stringify(require.resolve('@temporalio/activity'))});
const { runWorker } = require(${JSON.stringify(mainTs)});

async function slowStep({ ms, label }) {
  const ctx = Context.current();
  const started = Date.now();
  console.log('slowStep ' + label + ' started');
  const beat = setInterval(() => ctx.heartbeat({ label, elapsedMs: Date.now() - started }), 200);
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      ctx.cancellationSignal.addEventListener('abort', () => { clearTimeout(timer); reject(ctx.cancellationSignal.reason); }, { once: true });
    });
    console.log('slowStep ' + label + ' done');
    return label + ' done';
  } catch (error) {
    // What a real step does when cancelled: record where it got to, then stop.
    ctx.heartbeat({ label, elapsedMs: Date.now() - started, stoppedBy: error.message });
    console.log('slowStep ' + label + ' cancelled: ' + error.message);
    throw error;
  } finally {
    clearInterval(beat);
  }
}

runWorker({ activities: { slowStep } })
  .then(() => 0, (error) => { console.error('worker failed: ' + (error && error.stack)); return 1; })
  .then((code) => process.exit(code));
`;

interface WorkerProcess {
  child: ChildProcess;
  taskQueue: string;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends the signal and resolves with the exit code and how long the process took to exit. */
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

let tempDir: string;
let bundlePath: string;
let entryPath: string;
let connection: Connection;
let client: Client;
const children: ChildProcess[] = [];
const handles: WorkflowHandle[] = [];

function startWorker(env: Record<string, string>): WorkerProcess {
  const { address, namespace } = testServerAddress();
  const taskQueue = `worker-shutdown-${randomUUID()}`;
  const child = spawn(process.execPath, [entryPath], {
    cwd: projectRoot,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      WORKFLOW_BUNDLE: bundlePath,
      SEGMENTS_WORKER_ACTIVITIES: '2',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );

  return {
    child,
    taskQueue,
    output: () => text,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(text)) {
            finish();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`worker output did not match ${pattern} within ${timeoutMs} ms:\n${text}`));
        }, timeoutMs);
        const onExit = () => {
          finish();
          if (!pattern.test(text)) reject(new Error(`worker exited before its output matched ${pattern}:\n${text}`));
        };
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop(signal, timeoutMs) {
      const sent = Date.now();
      child.kill(signal);
      const timeout = sleep(timeoutMs).then(() => undefined);
      const outcome = await Promise.race([exited, timeout]);
      if (!outcome) {
        child.kill('SIGKILL');
        throw new Error(`the worker did not exit within ${timeoutMs} ms of ${signal}:\n${text}`);
      }
      return { code: outcome.code, signal: outcome.signal, ms: outcome.at - sent };
    },
  };
}

beforeAll(async () => {
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'cs-worker-shutdown-'));
  // The fixture workflow lives outside the project; webpack resolves its imports through this link.
  symlinkSync(path.join(projectRoot, 'node_modules'), path.join(tempDir, 'node_modules'), 'dir');
  writeFileSync(path.join(tempDir, 'workflows.ts'), FIXTURE_WORKFLOW);
  entryPath = path.join(tempDir, 'worker-entry.js');
  writeFileSync(entryPath, childEntry(path.join(projectRoot, 'worker', 'run-worker.ts')));
  bundlePath = (await buildWorkflowBundle(path.join(tempDir, 'bundle', 'workflow-bundle.js'), { workflowsPath: path.join(tempDir, 'workflows.ts') })).path;
  const { address, namespace } = testServerAddress();
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace });
}, 120_000);

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  for (const handle of handles) await handle.terminate('test cleanup').catch(() => undefined);
  await connection?.close();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

describe('worker settings', () => {
  test('defaults, environment and bad values', () => {
    const defaults = resolveWorkerSettings({ env: {} });
    expect(defaults.taskQueue).toBe('customer-segments');
    expect(defaults.maxConcurrentActivities).toBeGreaterThanOrEqual(1);
    expect(defaults.shutdownGraceMs).toBe(DEFAULT_SHUTDOWN_GRACE_MS);
    expect(defaults.shutdownForceMs).toBeGreaterThan(defaults.shutdownGraceMs);
    expect(defaults.workflowBundle).toBeUndefined();

    const set = resolveWorkerSettings({
      env: {
        TEMPORAL_TASK_QUEUE: 'q',
        SEGMENTS_WORKER_ACTIVITIES: '3',
        SEGMENTS_WORKER_SHUTDOWN_GRACE: '2m',
        SEGMENTS_WORKER_SHUTDOWN_FORCE: 'off',
        WORKFLOW_BUNDLE: bundlePath,
      },
    });
    expect(set).toMatchObject({ taskQueue: 'q', maxConcurrentActivities: 3, shutdownGraceMs: 120_000, shutdownForceMs: undefined, workflowBundle: bundlePath });

    expect(parseDuration('45', 'x')).toBe(45_000);
    expect(parseDuration('1500ms', 'x')).toBe(1500);
    expect(parseDuration('1.5s', 'x')).toBe(1500);
    expect(() => parseDuration('soon', 'x')).toThrow(WorkerConfigError);
    expect(() => resolveWorkerSettings({ env: { SEGMENTS_WORKER_ACTIVITIES: '0' } })).toThrow(/SEGMENTS_WORKER_ACTIVITIES/);
    expect(() => resolveWorkerSettings({ env: { SEGMENTS_WORKER_ACTIVITIES: '2.5' } })).toThrow(/SEGMENTS_WORKER_ACTIVITIES/);
    expect(() => resolveWorkerSettings({ env: { SEGMENTS_WORKER_SHUTDOWN_GRACE: '10s', SEGMENTS_WORKER_SHUTDOWN_FORCE: '5s' } })).toThrow(/longer than the grace/);

    const missing = resolveWorkerSettings({ env: { WORKFLOW_BUNDLE: path.join(tempDir, 'nope.js') } });
    expect(missing.workflowBundle).toBeUndefined();
    expect(missing.warnings.join('\n')).toMatch(/does not exist; bundling the workflow code at start/);
  });

  test('the prebuilt bundle is a complete file', () => {
    expect(statSync(bundlePath).size).toBeGreaterThan(100_000);
  });
});

describe('graceful shutdown of a worker process', () => {
  test('an idle worker stops at once on SIGINT and exits 0', async () => {
    const worker = startWorker({ SEGMENTS_WORKER_SHUTDOWN_GRACE: '30s' });
    await worker.waitFor(/worker: polling .* task queue worker-shutdown-.*workflow code from .*workflow-bundle\.js/);
    const { code, ms } = await worker.stop('SIGINT', 15_000);
    expect({ code, output: worker.output() }).toMatchObject({ code: 0 });
    expect(worker.output()).toMatch(/SIGINT received — shutting down gracefully: no new tasks are taken; no steps in flight/);
    expect(worker.output()).toMatch(/worker: stopped gracefully/);
    // Nothing in flight: the 30 s grace time is not waited out.
    expect(ms).toBeLessThan(10_000);
  }, 90_000);

  test('SIGTERM while the worker still waits for the server stops it at once, exit 0', async () => {
    // Nothing listens on port 1: connectToTemporal keeps retrying (up to a minute).
    const worker = startWorker({ TEMPORAL_ADDRESS: '127.0.0.1:1' });
    await worker.waitFor(/worker: connecting to Temporal at 127\.0\.0\.1:1 /);
    await sleep(500);
    const { code, ms } = await worker.stop('SIGTERM', 15_000);
    expect({ code, output: worker.output() }).toMatchObject({ code: 0 });
    expect(worker.output()).toMatch(/worker: SIGTERM received while starting; stopping before polling/);
    expect(worker.output()).toMatch(/worker: stopped before connecting \(SIGTERM\)/);
    expect(ms).toBeLessThan(5_000);
  }, 60_000);

  test('a step in flight on SIGTERM finishes within the grace time; the worker waits for it, then exits 0', async () => {
    const worker = startWorker({ SEGMENTS_WORKER_SHUTDOWN_GRACE: '30s' });
    await worker.waitFor(/worker: polling/);
    const handle = await client.workflow.start('slowWorkflow', { taskQueue: worker.taskQueue, workflowId: `finishes-${randomUUID()}`, args: [3000, 'a'] });
    handles.push(handle);
    await worker.waitFor(/slowStep a started/);

    const { code, ms } = await worker.stop('SIGTERM', 25_000);
    const output = worker.output();
    expect({ code, output }).toMatchObject({ code: 0 });
    expect(output).toMatch(/SIGTERM received — shutting down gracefully: .*1 step in flight \(slowStep#\d+ \(finishes-/);
    expect(output).toMatch(/slowStep a done/);
    expect(output).toMatch(/worker: step slowStep#\d+ \(finishes-[^)]*\) finished during shutdown/);
    expect(output).toMatch(/worker: stopped gracefully .* after SIGTERM \(1 step finished\)/);
    expect(output).not.toMatch(/slowStep a cancelled|grace time over|\) cancelled \(/);
    // It waited for the step (≈3 s), not for the whole grace time.
    expect(ms).toBeGreaterThanOrEqual(1500);
    expect(ms).toBeLessThan(20_000);
    // The step's result reached Temporal before the worker left (the workflow itself now waits for
    // a worker to take its next workflow task).
    const history = await handle.fetchHistory();
    const completed = (history.events ?? []).filter((event) => event.activityTaskCompletedEventAttributes);
    expect(completed).toHaveLength(1);
    const result = completed[0].activityTaskCompletedEventAttributes!.result!.payloads![0];
    expect(defaultPayloadConverter.fromPayload(result)).toBe('a done');
  }, 90_000);

  test('a step still running when the grace time ends is cancelled, records its state, and the worker exits 0', async () => {
    const worker = startWorker({ SEGMENTS_WORKER_SHUTDOWN_GRACE: '2s', SEGMENTS_WORKER_SHUTDOWN_FORCE: '20s' });
    await worker.waitFor(/worker: polling/);
    const handle = await client.workflow.start('slowWorkflow', { taskQueue: worker.taskQueue, workflowId: `cancelled-${randomUUID()}`, args: [600_000, 'b'] });
    handles.push(handle);
    await worker.waitFor(/slowStep b started/);
    await sleep(500); // let a heartbeat or two through

    const { code, ms } = await worker.stop('SIGTERM', 30_000);
    const output = worker.output();
    expect({ code, output }).toMatchObject({ code: 0 });
    expect(output).toMatch(/1 step in flight .* may run up to 2 s more before being cancelled/);
    expect(output).toMatch(/worker: grace time over — cancelling 1 step: slowStep#\d+ \(cancelled-/);
    expect(output).toMatch(/slowStep b cancelled: WORKER_SHUTDOWN/);
    expect(output).toMatch(/worker: step slowStep#\d+ \(cancelled-[^)]*\) cancelled \(WORKER_SHUTDOWN\); Temporal will retry it/);
    expect(output).toMatch(/worker: stopped gracefully .* after SIGTERM \(1 step cancelled\)/);
    // The grace time was honoured (not cancelled at once), and the worker did not hang after it.
    expect(ms).toBeGreaterThanOrEqual(1800);
    expect(ms).toBeLessThan(15_000);

    // The attempt failed fast (no waiting for a heartbeat timeout) and Temporal holds it for a retry,
    // with the state the step recorded when it was cancelled.
    const description = await handle.describe();
    expect(description.status.name).toBe('RUNNING');
    const pending = description.raw.pendingActivities ?? [];
    expect(pending).toHaveLength(1);
    const activity = pending[0];
    expect(activity.activityType?.name).toBe('slowStep');
    expect(Number(activity.attempt)).toBe(2);
    expect(activity.lastFailure?.message ?? '').toMatch(/worker is shutting down/i);
    const details = (activity.heartbeatDetails?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p)) as Array<Record<string, unknown>>;
    expect(details[0]).toMatchObject({ label: 'b', stoppedBy: 'WORKER_SHUTDOWN' });
  }, 90_000);
});
