/**
 * `segments worker`: a long-running worker for production (containers, several replicas).
 *
 * Configuration (environment; every value can also be passed as an option):
 *   TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE   the server (see temporal/connection.ts; unset → embedded dev server)
 *   TEMPORAL_TASK_QUEUE                     task queue to poll (default `customer-segments`)
 *   WORKFLOW_BUNDLE                         prebuilt workflow bundle (worker/bundle.ts); when the file is
 *                                           missing the workflow code is bundled at start instead
 *   SEGMENTS_WORKER_ACTIVITIES              steps run at once (default: the CPUs this process may use,
 *                                           cgroup CPU quota included — the heavy steps are CPU-bound)
 *   SEGMENTS_WORKER_SHUTDOWN_GRACE          on SIGTERM/SIGINT, how long in-flight steps may keep running
 *                                           before they are cancelled (default 30s; `45s`, `2m`, `1500ms`, bare
 *                                           number = seconds)
 *   SEGMENTS_WORKER_SHUTDOWN_FORCE          give up on steps that ignore cancellation this long after the
 *                                           signal (default grace + 15s; `off` waits for ever)
 *
 * Shutdown: the Temporal SDK's Runtime owns the signal handlers (its `shutdownSignals`: SIGINT, SIGTERM,
 * SIGQUIT, SIGUSR2 by default). On the first signal the worker stops polling; steps in flight keep
 * running for the grace time, then they are cancelled — their cancellation signal fires, they can
 * heartbeat their state, and the failed attempt is retried by Temporal on another worker. Finished steps
 * are checkpointed, so nothing completed is lost. runWorker logs each stage and returns once the worker
 * has stopped and its connections are closed; a second signal kills the process at once.
 *
 * Keep the container's stop timeout (compose `stop_grace_period`, k8s `terminationGracePeriodSeconds`)
 * above the force time, or the orchestrator kills the worker before it has reported its steps.
 */
import type { Context as ActivityContext } from '@temporalio/activity';
import { ActivityInterceptorsFactory, GracefulShutdownPeriodExpiredError, Runtime, Worker } from '@temporalio/worker';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { TASK_QUEUE } from '../common/constants';
import { ConnectToTemporalOptions, TemporalConnection, connectToTemporal } from '../temporal/connection';
import { createWorker } from './create-worker';

export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
/** Added to the grace time to get the default force time. */
export const DEFAULT_SHUTDOWN_FORCE_MARGIN_MS = 15_000;

type ActivityFunction = (...args: any[]) => Promise<unknown>;

export interface RunWorkerOptions {
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Progress lines (default: stderr). */
  log?: (message: string) => void;
  /** Overrides TEMPORAL_TASK_QUEUE. */
  taskQueue?: string;
  /** Overrides WORKFLOW_BUNDLE: path of a prebuilt workflow bundle. */
  workflowBundle?: string;
  /** Overrides SEGMENTS_WORKER_ACTIVITIES. */
  maxConcurrentActivities?: number;
  /** Overrides SEGMENTS_WORKER_SHUTDOWN_GRACE (milliseconds). */
  shutdownGraceMs?: number;
  /** Overrides SEGMENTS_WORKER_SHUTDOWN_FORCE (milliseconds; null = never force). */
  shutdownForceMs?: number | null;
  identity?: string;
  /** Activities registered next to the project's steps (tests register a slow one to exercise shutdown). */
  activities?: Record<string, ActivityFunction>;
  /** Aborting it shuts the worker down the same way as a signal (for embedding). */
  signal?: AbortSignal;
  /** Passed to connectToTemporal (dev-server options, timeouts). */
  connect?: Omit<ConnectToTemporalOptions, 'log' | 'env' | 'nativeConnection'>;
}

export interface WorkerSettings {
  taskQueue: string;
  maxConcurrentActivities: number;
  shutdownGraceMs: number;
  /** undefined: wait for ever for steps that ignore cancellation. */
  shutdownForceMs: number | undefined;
  /** An existing bundle file, or undefined to bundle at start. */
  workflowBundle: string | undefined;
  /** Where each value came from, for the start-up line. */
  warnings: string[];
}

export interface RunWorkerResult {
  /** What stopped the worker: a signal name, or 'abort' for options.signal. */
  stoppedBy: string | undefined;
  /** Steps that completed after the shutdown began (within the grace time). */
  finishedDuringShutdown: number;
  /** Steps cancelled by the shutdown (still running when the grace time ended). */
  cancelledByShutdown: number;
  /** Seconds from the shutdown request to the worker having stopped. */
  shutdownSeconds: number | undefined;
}

export class WorkerConfigError extends Error {}

import { cpuBudget } from '../core/parallel/machine';

export { cpuBudget };

/** `30`, `30s`, `1.5s`, `1500ms`, `2m` → milliseconds; a bare number is seconds. */
export function parseDuration(value: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(value);
  if (!match) throw new WorkerConfigError(`${name} must be a duration like 30s, 2m or 1500ms, got "${value}"`);
  const amount = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  return Math.round(amount * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000));
}

function formatDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Resolves the worker's settings from options and environment; throws WorkerConfigError on bad values. */
export function resolveWorkerSettings(options: RunWorkerOptions = {}): WorkerSettings {
  const env = options.env ?? process.env;
  const warnings: string[] = [];
  const nonEmpty = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };

  const taskQueue = options.taskQueue ?? nonEmpty('TEMPORAL_TASK_QUEUE') ?? TASK_QUEUE;

  let maxConcurrentActivities = options.maxConcurrentActivities;
  const activitiesEnv = nonEmpty('SEGMENTS_WORKER_ACTIVITIES');
  if (maxConcurrentActivities === undefined && activitiesEnv !== undefined) {
    maxConcurrentActivities = Number(activitiesEnv);
    if (!/^\d+$/.test(activitiesEnv)) maxConcurrentActivities = NaN;
  }
  if (maxConcurrentActivities === undefined) maxConcurrentActivities = cpuBudget();
  if (!Number.isInteger(maxConcurrentActivities) || maxConcurrentActivities < 1) {
    throw new WorkerConfigError(`SEGMENTS_WORKER_ACTIVITIES must be a whole number ≥ 1, got "${activitiesEnv ?? maxConcurrentActivities}"`);
  }

  const graceEnv = nonEmpty('SEGMENTS_WORKER_SHUTDOWN_GRACE');
  const shutdownGraceMs =
    options.shutdownGraceMs ?? (graceEnv !== undefined ? parseDuration(graceEnv, 'SEGMENTS_WORKER_SHUTDOWN_GRACE') : DEFAULT_SHUTDOWN_GRACE_MS);
  if (!Number.isFinite(shutdownGraceMs) || shutdownGraceMs < 0) {
    throw new WorkerConfigError(`the shutdown grace time must be ≥ 0 ms, got ${shutdownGraceMs}`);
  }

  let shutdownForceMs: number | undefined;
  const forceEnv = nonEmpty('SEGMENTS_WORKER_SHUTDOWN_FORCE');
  if (options.shutdownForceMs !== undefined) {
    shutdownForceMs = options.shutdownForceMs ?? undefined;
  } else if (forceEnv !== undefined && /^(off|none|never)$/i.test(forceEnv)) {
    shutdownForceMs = undefined;
  } else {
    shutdownForceMs =
      forceEnv !== undefined ? parseDuration(forceEnv, 'SEGMENTS_WORKER_SHUTDOWN_FORCE') : shutdownGraceMs + DEFAULT_SHUTDOWN_FORCE_MARGIN_MS;
  }
  if (shutdownForceMs !== undefined && shutdownForceMs <= shutdownGraceMs) {
    throw new WorkerConfigError(
      `SEGMENTS_WORKER_SHUTDOWN_FORCE (${formatDuration(shutdownForceMs)}) must be longer than the grace time (${formatDuration(shutdownGraceMs)}), ` +
        'or cancelled steps get no time to stop',
    );
  }

  let workflowBundle: string | undefined;
  const bundleSetting = options.workflowBundle ?? nonEmpty('WORKFLOW_BUNDLE');
  if (bundleSetting) {
    const file = path.resolve(bundleSetting);
    if (existsSync(file) && statSync(file).isFile()) workflowBundle = file;
    else warnings.push(`the workflow bundle ${file} (WORKFLOW_BUNDLE) does not exist; bundling the workflow code at start instead`);
  }

  return { taskQueue, maxConcurrentActivities, shutdownGraceMs, shutdownForceMs, workflowBundle, warnings };
}

interface InFlightStep {
  type: string;
  activityId: string;
  workflowId: string;
  attempt: number;
}

/** `sweepK#9 (segmentation-…, attempt 2)`: activity type and id, workflow id, attempt when retried. */
const describeStep = (step: InFlightStep) =>
  `${step.type}#${step.activityId} (${step.workflowId}${step.attempt > 1 ? `, attempt ${step.attempt}` : ''})`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The worker's shutdown: the steps in flight, when the shutdown began and what became of each step. */
class WorkerShutdown {
  readonly inFlight = new Map<string, InFlightStep>();
  readonly result: RunWorkerResult = { stoppedBy: undefined, finishedDuringShutdown: 0, cancelledByShutdown: 0, shutdownSeconds: undefined };
  startedAt: number | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: WorkerSettings,
    private readonly log: (message: string) => void,
    private readonly onStopRequested: () => void,
  ) {}

  /** The first signal (or abort) starts the shutdown and says what is in flight; later ones change nothing. */
  begin(cause: string, workerStarted: boolean): void {
    if (this.result.stoppedBy) return;
    this.result.stoppedBy = cause;
    this.startedAt = Date.now();
    this.onStopRequested();
    if (!workerStarted) {
      this.log(`worker: ${cause} received while starting; stopping before polling`);
      return;
    }
    const steps = [...this.inFlight.values()];
    const force = this.settings.shutdownForceMs === undefined ? '' : `; the worker gives up ${formatDuration(this.settings.shutdownForceMs)} after the signal`;
    this.log(
      `worker: ${cause} received — shutting down gracefully: no new tasks are taken; ` +
        (steps.length
          ? `${plural(steps.length, 'step')} in flight (${steps.map(describeStep).join(', ')}) may run up to ${formatDuration(this.settings.shutdownGraceMs)} more ` +
            `before being cancelled (a cancelled step heartbeats its state and Temporal retries it on another worker)${force}`
          : 'no steps in flight'),
    );
    if (steps.length) {
      this.graceTimer = setTimeout(() => {
        const left = [...this.inFlight.values()];
        if (left.length) this.log(`worker: grace time over — cancelling ${plural(left.length, 'step')}: ${left.map(describeStep).join(', ')}`);
      }, this.settings.shutdownGraceMs);
      this.graceTimer.unref();
    }
  }

  /** Logs what happens to each step once the shutdown has begun. */
  readonly stepLogger: ActivityInterceptorsFactory = (ctx: ActivityContext) => ({
    inbound: {
      // An arrow: `this` is the shutdown, not the interceptor object.
      execute: async (input, next) => {
        const workflowId = ctx.info.workflowExecution?.workflowId ?? 'no workflow';
        const key = Buffer.from(ctx.info.taskToken).toString('base64');
        const step: InFlightStep = { type: ctx.info.activityType, activityId: ctx.info.activityId, workflowId, attempt: ctx.info.attempt };
        this.inFlight.set(key, step);
        try {
          const output = await next(input);
          if (this.startedAt !== undefined) {
            this.result.finishedDuringShutdown++;
            this.log(`worker: step ${describeStep(step)} finished during shutdown`);
          }
          return output;
        } catch (error) {
          if (this.startedAt !== undefined) {
            const reason = (ctx.cancellationSignal.reason as { message?: string } | undefined)?.message;
            if (ctx.cancellationSignal.aborted && reason === 'WORKER_SHUTDOWN') {
              this.result.cancelledByShutdown++;
              this.log(`worker: step ${describeStep(step)} cancelled (${reason}); Temporal will retry it`);
            } else if (ctx.cancellationSignal.aborted) {
              this.log(`worker: step ${describeStep(step)} cancelled during shutdown (${reason ?? 'cancelled'})`);
            } else {
              this.log(`worker: step ${describeStep(step)} failed during shutdown: ${(error as Error).message}`);
            }
          }
          throw error;
        } finally {
          this.inFlight.delete(key);
        }
      },
    },
  });

  /** How the shutdown went, as one log line. */
  stoppedLine(): string {
    const { result } = this;
    const outcome = [
      result.finishedDuringShutdown ? `${plural(result.finishedDuringShutdown, 'step')} finished` : '',
      result.cancelledByShutdown ? `${plural(result.cancelledByShutdown, 'step')} cancelled` : '',
    ].filter(Boolean);
    return (
      `worker: stopped gracefully` +
      (result.shutdownSeconds !== undefined ? ` ${result.shutdownSeconds.toFixed(1)} s after ${result.stoppedBy}` : '') +
      (outcome.length ? ` (${outcome.join(', ')})` : '')
    );
  }

  /** Why the worker ended with an error: steps that ignored cancellation past the force time, or the error itself. */
  failedLine(error: unknown): string {
    if (!(error instanceof GracefulShutdownPeriodExpiredError)) return `worker: failed: ${(error as Error).message}`;
    const left = [...this.inFlight.values()];
    return (
      `worker: ${plural(left.length, 'step')} ignored cancellation for ${formatDuration(this.settings.shutdownForceMs ?? 0)} ` +
      `(${left.map(describeStep).join(', ') || 'unknown'}); exiting anyway — Temporal retries them after their heartbeat timeout`
    );
  }

  dispose(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
  }
}

/** The line a worker logs once it polls: where, as whom, how many steps at once, where its workflow code came from. */
function pollingLine(temporal: TemporalConnection, settings: WorkerSettings, identity: string | undefined, bundleStarted: number): string {
  return (
    `worker: polling ${temporal.address} (namespace ${temporal.namespace}, task queue ${settings.taskQueue}) as ${identity}; ` +
    `up to ${plural(settings.maxConcurrentActivities, 'step')} at once; workflow code ` +
    (settings.workflowBundle ? `from ${settings.workflowBundle}` : `bundled in ${((Date.now() - bundleStarted) / 1000).toFixed(1)} s`) +
    `; on SIGTERM/SIGINT steps get ${formatDuration(settings.shutdownGraceMs)} to finish`
  );
}

/**
 * Runs a worker until a shutdown signal (or options.signal) stops it, shutting down gracefully.
 * Resolves once the worker has stopped and the connections are closed; rejects if the worker fails
 * (including GracefulShutdownPeriodExpiredError when steps ignored cancellation past the force time).
 */
export async function runWorker(options: RunWorkerOptions = {}): Promise<RunWorkerResult> {
  const log = options.log ?? ((message: string) => console.error(message));
  const settings = resolveWorkerSettings(options);
  for (const warning of settings.warnings) log(`worker: warning: ${warning}`);

  let worker: Worker | undefined;
  let stopRequested!: () => void;
  const stopRequestedPromise = new Promise<undefined>((resolve) => (stopRequested = () => resolve(undefined)));
  const shutdown = new WorkerShutdown(settings, log, () => stopRequested());
  const { result } = shutdown;
  const beginShutdown = (cause: string) => shutdown.begin(cause, worker !== undefined);

  // The SDK's Runtime does the actual shutdown on these signals; this listener only records and logs it.
  // `once`: after the first signal the SDK removes its handlers too, so a second signal kills the process.
  const signals = Runtime.instance().options.shutdownSignals;
  const onSignal = (signal: NodeJS.Signals) => beginShutdown(signal);
  for (const signal of signals) process.once(signal, onSignal);
  const onAbort = () => {
    beginShutdown('abort');
    if (worker?.getState() === 'RUNNING') worker.shutdown();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let temporal: TemporalConnection | undefined;
  try {
    const address = (options.env ?? process.env).TEMPORAL_ADDRESS;
    log(`worker: connecting to ${address ? `Temporal at ${address}` : 'the local Temporal server (TEMPORAL_ADDRESS is not set)'} …`);
    // Waiting for the server (up to a minute of retries) must not delay a stop.
    const connecting = connectToTemporal({ ...options.connect, log, env: options.env, nativeConnection: true });
    temporal = await Promise.race([connecting, stopRequestedPromise]);
    if (!temporal) {
      connecting.then((late) => late.close()).catch(() => undefined);
      log(`worker: stopped before connecting (${result.stoppedBy})`);
      return result;
    }
    const bundleStarted = Date.now();
    if (!settings.workflowBundle) log('worker: bundling the workflow code (set WORKFLOW_BUNDLE to a prebuilt bundle to skip this)');
    const created = await createWorker({
      connection: await temporal.getNativeConnection(),
      namespace: temporal.namespace,
      taskQueue: settings.taskQueue,
      ...(settings.workflowBundle ? { workflowBundle: { codePath: settings.workflowBundle } } : {}),
      maxConcurrentActivities: settings.maxConcurrentActivities,
      identity: options.identity,
      extra: {
        activities: options.activities,
        shutdownGraceTime: settings.shutdownGraceMs,
        ...(settings.shutdownForceMs !== undefined ? { shutdownForceTime: settings.shutdownForceMs } : {}),
        interceptors: { activity: [shutdown.stepLogger] },
      },
    });
    worker = created;

    if (result.stoppedBy) {
      // A signal came while connecting or bundling: start and stop at once, so nothing is polled.
      await created.runUntil(Promise.resolve());
      log(`worker: stopped before polling (${result.stoppedBy})`);
      return result;
    }

    log(pollingLine(temporal, settings, created.options.identity, bundleStarted));
    try {
      await created.run();
    } catch (error) {
      log(shutdown.failedLine(error));
      throw error;
    }
    result.shutdownSeconds = shutdown.startedAt === undefined ? undefined : (Date.now() - shutdown.startedAt) / 1000;
    log(shutdown.stoppedLine());
    return result;
  } finally {
    shutdown.dispose();
    for (const signal of signals) process.off(signal, onSignal);
    options.signal?.removeEventListener('abort', onAbort);
    await temporal?.close();
  }
}

if (require.main === module) {
  // `node dist/worker/run-worker.js`: the same as `segments worker`, without the rest of the CLI.
  const { DefaultLogger } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  Runtime.install({ logger: new DefaultLogger((process.env.SEGMENTS_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN') });
  runWorker()
    .then(() => 0)
    .catch((error: unknown) => {
      console.error(`segments worker: ${(error as Error).message ?? String(error)}`);
      return 1;
    })
    // The native runtime keeps the event loop alive; the worker is done here.
    .then((code) => process.exit(code));
}
