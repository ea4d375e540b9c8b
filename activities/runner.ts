/**
 * What every activity shares, in one place: parsing its input (the run's config with it), loading and validating
 * upstream checkpoints, running its compute as a checkpointed step with heartbeats, and turning "the input is
 * wrong" into a failure Temporal does not retry. Activity files import this and core, never each other.
 */
import { ApplicationFailure, Context, heartbeat, log } from '@temporalio/activity';
import { z, ZodError } from 'zod';
import { DataError, PathError, classifyError } from '../common/error-classification';
import { ConfigError, InputError } from '../common/errors';
import { validateConfig } from '../core/config/validate';
import type { Loaded, StepRuntime } from '../core/steps/runtime';
import { DamagedCheckpointError } from '../core/store/integrity';
import { loadCheckpoint, runStep } from '../core/store/step-store';
import type { StepRef } from '../schemas/steps';

/** How often a running step tells Temporal it is alive (its heartbeat timeout is a multiple of this). */
const HEARTBEAT_INTERVAL_MS = 5_000;

/** Turns "the input is wrong" into a failure Temporal will not retry; everything else stays retryable. */
export function toActivityFailure(error: unknown): unknown {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof InputError) {
    return ApplicationFailure.create({ message: error.message, type: 'InputError', nonRetryable: true, details: [error.location] });
  }
  if (error instanceof ConfigError) {
    return ApplicationFailure.create({ message: error.message, type: 'ConfigError', nonRetryable: true });
  }
  if (error instanceof DamagedCheckpointError) {
    // The workflow re-runs the step that made it (its checkpoint is moved aside, so that step recomputes) and
    // then this one: see workflows/checkpoint-recovery.ts.
    return ApplicationFailure.create({ message: error.message, type: 'DamagedCheckpoint', nonRetryable: true, details: [{ step: error.step, dir: error.dir }] });
  }
  if (error instanceof PathError) return ApplicationFailure.create({ message: error.message, type: 'PathError', nonRetryable: true, details: [{ path: error.path }] });
  if (error instanceof DataError) return ApplicationFailure.create({ message: error.message, type: 'DataError', nonRetryable: true });
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    return ApplicationFailure.create({
      message: `invalid ${issue?.path.join('.') || 'value'}: ${issue?.message ?? error.message}`,
      type: 'ValidationError',
      nonRetryable: true,
    });
  }
  // Path and data errors from Node or DuckDB: non-retryable, naming the path; transient ones stay retryable.
  const classified = classifyError(error);
  return classified === error ? error : toActivityFailure(classified);
}

/** Runs `work`, rethrowing bad-input errors as non-retryable failures. */
export async function failingNonRetryably<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toActivityFailure(error);
  }
}

/**
 * The activity's input, validated against its schema (a bad payload fails non-retryably). The run's config is
 * part of every input (schemas/steps.ts RunContextSchema): a bad one fails as a one-line ConfigError naming
 * the key, as the CLI reports it, not as zod's path.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  try {
    return schema.parse(input);
  } catch (error) {
    if (error instanceof ZodError && error.issues[0]?.path[0] === 'config') {
      try {
        validateConfig((input as { config?: unknown }).config ?? {}, "the run's config");
      } catch (configError) {
        throw toActivityFailure(configError);
      }
    }
    throw toActivityFailure(error);
  }
}

/** The running activity's context, or undefined outside an activity (unit tests call steps directly). */
/** The workflow run this activity works for, as the lineage records it (null outside an activity). */
export function publishingRun(): { namespace: string; workflowId: string; runId: string; workflowType: string; taskQueue: string } | null {
  const info = currentContext()?.info;
  if (!info?.workflowExecution) return null;
  return {
    namespace: info.workflowNamespace ?? info.namespace,
    workflowId: info.workflowExecution.workflowId,
    runId: info.workflowExecution.runId,
    workflowType: info.workflowType ?? 'unknown',
    taskQueue: info.taskQueue,
  };
}

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * The running activity's cancellation signal and a progress reporter that heartbeats (the SDK throttles
 * heartbeats, so calling it every iteration is fine). Outside an activity (unit tests) both are inert.
 */
export function activityRuntime(): StepRuntime {
  const context = currentContext();
  if (!context) return { progress: () => undefined };
  return {
    signal: context.cancellationSignal,
    progress: (details) => {
      lastDetails.set(context, details);
      context.heartbeat(details);
    },
    resumeDetails: context.info.heartbeatDetails,
  };
}

/** The latest progress details per running activity, re-sent by the keep-alive heartbeat so it never erases them. */
const lastDetails = new WeakMap<Context, Record<string, unknown>>();

/**
 * Runs one pipeline step as a checkpointed unit: reuse the stored result when the key matches, otherwise
 * compute into a temporary folder and commit it atomically. Heartbeats while it works.
 */
export async function checkpointedStep<T>(
  storeDir: string,
  step: string,
  keyInputs: unknown,
  compute: (workDir: string) => Promise<T>,
): Promise<{ ref: StepRef; output: T }> {
  const context = currentContext();
  const timer = context ? setInterval(() => heartbeat(lastDetails.get(context) ?? { step }), HEARTBEAT_INTERVAL_MS) : undefined;
  try {
    const result = await runStep(storeDir, step, keyInputs, compute, { warn: (message) => warn(message) });
    return {
      ref: { step, dir: result.dir, key: result.key, reused: result.reused, seconds: result.seconds },
      output: result.output,
    };
  } catch (error) {
    throw toActivityFailure(error);
  } finally {
    if (timer) clearInterval(timer);
  }
}

/**
 * Loads a finished upstream step's output from its manifest (never trusts payloads for data), validated
 * against the step's output schema: a checkpoint that is missing, changed or of another shape fails the run.
 */
export async function loadStep<S extends z.ZodType>(ref: StepRef, schema: S): Promise<Loaded<z.infer<S>> & { keyInputs: unknown }> {
  let manifest: Awaited<ReturnType<typeof loadCheckpoint>>;
  try {
    // Verifies every file against its recorded size and SHA-256; a damaged checkpoint is moved aside.
    manifest = await loadCheckpoint<unknown>(ref.step, ref.dir, ref.key, { warn });
  } catch (error) {
    throw toActivityFailure(error);
  }
  const parsed = schema.safeParse(manifest.output);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      message: `the checkpoint of step ${ref.step} does not hold a ${ref.step} output (${parsed.error.issues[0]?.message}) at ${ref.dir}`,
      type: 'MissingCheckpoint',
      nonRetryable: true,
    });
  }
  return { dir: ref.dir, output: parsed.data, keyInputs: manifest.keyInputs };
}

/** A warning in the activity's log (console outside an activity). */
function warn(message: string): void {
  if (currentContext()) log.warn(message);
  else console.warn(message);
}

/** Several upstream steps at once: `schemas` names each step (as the input names its ref) and its output schema. */
export async function loadSteps<S extends Record<string, z.ZodType>>(
  refs: { [K in keyof S]: StepRef },
  schemas: S,
): Promise<{ [K in keyof S]: Loaded<z.infer<S[K]>> }> {
  const loaded: Partial<Record<keyof S, Loaded<unknown>>> = {};
  for (const name of Object.keys(schemas) as (keyof S)[]) loaded[name] = await loadStep(refs[name], schemas[name]);
  return loaded as { [K in keyof S]: Loaded<z.infer<S[K]>> };
}
