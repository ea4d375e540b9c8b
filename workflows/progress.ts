/** Progress bookkeeping shared by the workflow (query handler) and the CLI (display). No Node APIs. */
export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

export interface StepProgress {
  name: string;
  status: StepStatus;
  seconds?: number;
  reused?: boolean;
  figures?: Record<string, number | string | boolean>;
  error?: string;
}

export interface RunProgress {
  stage: string;
  stepsDone: number;
  stepsTotal: number;
  steps: StepProgress[];
}

export function summariseProgress(steps: StepProgress[]): RunProgress {
  const running = steps.find((s) => s.status === 'running');
  const failed = steps.find((s) => s.status === 'failed');
  const cancelled = steps.find((s) => s.status === 'cancelled');
  const stepsDone = steps.filter((s) => s.status === 'done').length;
  return {
    // A cancelled run reads cancelled:<step>, like its SegmentsOutcome (cancelled), never failed:<step>.
    stage: cancelled ? `cancelled:${cancelled.name}` : failed ? `failed:${failed.name}` : running ? running.name : stepsDone === steps.length ? 'done' : 'pending',
    stepsDone,
    stepsTotal: steps.length,
    steps,
  };
}

/**
 * The live progress as Temporal markdown, shown as the run's current details in the UI: a list, one step per
 * item (lines joined by a single newline would render as one paragraph).
 */
export function progressMarkdown(steps: StepProgress[]): string {
  return steps
    .map((s) => {
      const mark = s.status === 'done' ? '✅' : s.status === 'running' ? '⏳' : s.status === 'failed' ? '❌' : s.status === 'cancelled' ? '⊘' : '▫️';
      const time = s.seconds !== undefined ? ` ${s.seconds.toFixed(1)} s${s.reused ? ' (reused)' : ''}` : '';
      return `- ${mark} **${s.name}**${time}`;
    })
    .join('\n');
}
