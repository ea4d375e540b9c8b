/**
 * Damaged upstream checkpoints are recomputed, not fatal. A step verifies the checkpoints it loads (sizes and
 * SHA-256 of every file, core/store); when one no longer matches, the loading activity moves it aside and fails
 * once, non-retryably, with type DamagedCheckpoint naming the checkpoint's folder. The workflow then schedules the
 * step that made it again (same input, so the same key and folder: it finds no checkpoint and recomputes) and
 * then the failed step again. Why here and not in the activities: an activity re-running another step's work
 * would import it (activities never import each other) and hide the recomputation from the history; here it is
 * one more activity of the step it belongs to, visible in the UI.
 *
 * Replay: the recovery path is taken only after a DamagedCheckpoint failure, which no history recorded before it
 * existed holds (those runs failed on MissingCheckpoint); the patch marker keeps such histories replaying.
 */
import { ActivityFailure, ApplicationFailure, patched } from '@temporalio/workflow';
import type { StepReport } from '../schemas/steps';

/** Recoveries per scheduled step before its failure stands (each one recomputes a damaged upstream step). */
const MAX_RECOVERIES = 5;

export const DAMAGED_CHECKPOINT = 'DamagedCheckpoint';

/** The folder of the damaged checkpoint an activity failure names, if that is why it failed. */
export function damagedCheckpointDir(error: unknown): string | undefined {
  if (!(error instanceof ActivityFailure)) return undefined;
  const cause = error.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== DAMAGED_CHECKPOINT) return undefined;
  const details = cause.details?.[0] as { dir?: unknown } | undefined;
  return typeof details?.dir === 'string' ? details.dir : undefined;
}

export class CheckpointRecovery {
  /** How to schedule each finished step again, by its checkpoint folder. */
  private readonly recompute = new Map<string, () => Promise<unknown>>();

  /** Schedules a step; when it finds an upstream checkpoint damaged, recomputes that step and tries again. */
  async run<R extends StepReport>(schedule: () => Promise<R>): Promise<R> {
    for (let recoveries = 0; ; recoveries++) {
      try {
        const report = await schedule();
        if (report.ref.dir) this.recompute.set(report.ref.dir, () => this.run(schedule));
        return report;
      } catch (error) {
        const dir = damagedCheckpointDir(error);
        const again = dir === undefined ? undefined : this.recompute.get(dir);
        if (!again || recoveries >= MAX_RECOVERIES || !patched('recompute-damaged-checkpoints')) throw error;
        await again();
      }
    }
  }
}
