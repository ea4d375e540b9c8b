import { ApplicationFailure, Context, heartbeat } from '@temporalio/activity';
import { ZodError } from 'zod';
import { ConfigError, InputError } from '../common/errors';
import { readManifest, runStep } from '../core/store/step-store';
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
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    return ApplicationFailure.create({
      message: `invalid ${issue?.path.join('.') || 'value'}: ${issue?.message ?? error.message}`,
      type: 'ValidationError',
      nonRetryable: true,
    });
  }
  return error;
}

/** The running activity's context, or undefined outside an activity (unit tests call steps directly). */
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
export function activityContext(): {
  signal?: AbortSignal;
  progress: (details: Record<string, unknown>) => void;
  /** What the previous attempt last heartbeated (its resumable state), if this is a retry. */
  resumeDetails?: unknown;
} {
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
    const result = await runStep(storeDir, step, keyInputs, compute);
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

/** Loads a finished upstream step's output from its manifest (never trusts payloads for data). */
export async function loadStep<T>(ref: StepRef): Promise<{ dir: string; output: T; keyInputs: unknown }> {
  const manifest = await readManifest<T>(ref.dir);
  if (!manifest || manifest.key !== ref.key) {
    throw ApplicationFailure.create({
      message: `the checkpoint of step ${ref.step} is missing or changed at ${ref.dir}`,
      type: 'MissingCheckpoint',
      nonRetryable: true,
    });
  }
  return { dir: ref.dir, output: manifest.output, keyInputs: manifest.keyInputs };
}
