/**
 * Determinism: recorded histories of real runs replay against today's workflow code. A change that would
 * break runs in flight (reordered activities, new commands on an old path) fails here. Record new fixtures
 * with `RECORD_HISTORIES=1 npx jest test/workflow.test.ts` when a change is deliberately incompatible
 * (and version the workflow with patched() so runs in flight keep working).
 */
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WORKFLOWS_PATH } from '../worker/create-worker';

const HISTORIES = join(__dirname, 'fixtures', 'histories');

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // installed already
}

const files = readdirSync(HISTORIES).filter((name) => name.endsWith('.json'));

test('there are recorded histories to replay', () => {
  expect(files.length).toBeGreaterThan(0);
});

test.each(files)('%s replays deterministically', async (file) => {
  const history = historyFromJSON(JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')));
  await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, file)).resolves.toBeUndefined();
});
