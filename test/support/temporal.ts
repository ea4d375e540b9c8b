import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { WORKFLOWS_PATH, createWorker } from '../../worker/create-worker';

const quietLogger = new DefaultLogger('WARN');
try {
  // Workers log every state change at INFO; tests only want warnings.
  Runtime.install({ logger: quietLogger });
} catch {
  // Already installed by an earlier test file in this process.
}

/** The dev server the jest global setup started (one per test run). */
export function testServerAddress(): { address: string; namespace: string } {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address) throw new Error('TEMPORAL_TEST_ADDRESS is not set: the jest global setup did not start a Temporal server');
  return { address, namespace: process.env.TEMPORAL_TEST_NAMESPACE ?? 'default' };
}

export interface TestTemporal {
  client: Client;
  taskQueue: string;
  /** Runs fn while a worker (the real one, real activities) polls a task queue private to this test. */
  withWorker<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function connectTestTemporal(): Promise<TestTemporal> {
  const { address, namespace } = testServerAddress();
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace });
  const taskQueue = `test-${randomUUID()}`;
  let bundle: { code: string } | undefined;
  return {
    client,
    taskQueue,
    async withWorker(fn) {
      // A worker runs until once; bundling the workflow code once keeps later workers quick to start.
      bundle ??= await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
      const worker = await createWorker({ connection: nativeConnection, namespace, taskQueue, workflowBundle: bundle });
      return worker.runUntil(fn());
    },
    async close() {
      await nativeConnection.close();
      await connection.close();
    },
  };
}
