/**
 * What a step's compute needs from whoever runs it (an activity, or a unit test): cancellation, a progress
 * reporter (an activity heartbeats it, so resumable state goes through it) and the state the previous attempt
 * last reported. Core never reaches for Temporal itself; the activity passes these in.
 */
export interface StepRuntime {
  signal?: AbortSignal;
  progress: (details: Record<string, unknown>) => void;
  /** What the previous attempt last reported through `progress`, if this is a retry. */
  resumeDetails?: unknown;
}

/** For callers outside an activity (tests, tools): no cancellation, progress goes nowhere. */
export const INERT_RUNTIME: StepRuntime = { progress: () => undefined };

/** An upstream step's finished checkpoint: its folder (file names in `output` are relative to it) and output. */
export interface Loaded<T> {
  dir: string;
  output: T;
}
