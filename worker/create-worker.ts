import { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { cpuBudget } from '../core/parallel/machine';
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
  /** Steps run at once (default: the cores). */
  maxConcurrentActivities?: number;
  /** Anything else the production worker sets (shutdown times, interceptors, extra activities for tests). */
  extra?: Partial<Omit<WorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'workflowsPath' | 'workflowBundle'>>;
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
    ...workflowSource,
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? cpuBudget(),
    ...(options.identity ? { identity: options.identity } : {}),
    ...options.extra,
    activities: { ...activities, ...options.extra?.activities },
  });
}
