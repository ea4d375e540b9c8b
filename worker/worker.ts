import { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { availableParallelism } from 'node:os';
import * as activities from '../activities';
import { TASK_QUEUE } from '../common/constants';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue?: string;
  /** Prebuilt workflow bundle (production: a file from `segments bundle`; tests: code bundled once); otherwise bundled at start. */
  workflowBundle?: { codePath: string } | { code: string };
  identity?: string;
}

/**
 * The worker runs every step. The heavy steps are CPU-bound and use worker threads or DuckDB's own threads,
 * so a worker takes as many activities at once as the machine has cores, no more.
 */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const workflowSource: Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'> = options.workflowBundle
    ? { workflowBundle: options.workflowBundle }
    : { workflowsPath: WORKFLOWS_PATH };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    activities,
    ...workflowSource,
    maxConcurrentActivityTaskExecutions: Math.max(1, availableParallelism()),
    ...(options.identity ? { identity: options.identity } : {}),
  });
}
