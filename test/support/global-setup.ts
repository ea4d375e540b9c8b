/**
 * Jest global setup: ONE Temporal dev server for the whole run (in-process tests then connect to
 * process.env.TEMPORAL_TEST_ADDRESS / TEMPORAL_TEST_NAMESPACE).
 *
 * - If TEMPORAL_TEST_ADDRESS is already set (CI started its own server), it is reused: the search
 *   attributes are registered there if missing, and nothing is started.
 * - Otherwise a dev server starts on free ports with a throw-away database in a temp dir, the
 *   project's search attributes registered and a 400-day retention. The CLI binary is found
 *   (TEMPORAL_CLI_PATH, .tools/bin/temporal, PATH) or, if missing, built with Go.
 *
 * TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE are pointed at the same server, so code under test that
 * calls connectToTemporal() talks to the test server, never to a developer's own one.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_NAMESPACE } from '../../common/constants';
import { connectWithRetry } from '../../temporal/connection';
import { startDevServer } from '../../temporal/dev-server';
import { ensureNamespaceSetup } from '../../temporal/namespace-setup';

/**
 * Shared with global-teardown.ts: both run in jest's parent process but as separately loaded
 * modules, so the server handle travels on globalThis and, as a fallback, as a small JSON file
 * keyed by the jest process id.
 */
interface TestServerState {
  pid: number;
  address: string;
  namespace: string;
  tempDir: string;
}
const STATE_PREFIX = 'customer-segments-jest-temporal-';
const STATE_FILE = path.join(os.tmpdir(), `${STATE_PREFIX}${process.pid}.json`);
const GLOBAL_KEY = '__customerSegmentsTemporalTestServer__';

const log = (message: string) => process.stderr.write(`[temporal] ${message}\n`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops test servers left behind by jest runs that were killed before their teardown. */
function reapStaleServers(): void {
  for (const name of readdirSync(os.tmpdir())) {
    const match = name.startsWith(STATE_PREFIX) && /-(\d+)\.json$/.exec(name);
    if (!match || alive(Number(match[1]))) continue;
    const file = path.join(os.tmpdir(), name);
    try {
      const state = JSON.parse(readFileSync(file, 'utf8')) as TestServerState;
      const cmdline = existsSync(`/proc/${state.pid}/cmdline`) ? readFileSync(`/proc/${state.pid}/cmdline`, 'utf8') : '';
      if (cmdline.includes('start-dev') && cmdline.includes(state.tempDir)) process.kill(state.pid, 'SIGKILL');
      rmSync(state.tempDir, { recursive: true, force: true });
    } catch {
      /* unreadable or already gone */
    }
    rmSync(file, { force: true });
  }
}

export default async function globalSetup(): Promise<void> {
  reapStaleServers();
  const external = process.env.TEMPORAL_TEST_ADDRESS;
  if (external) {
    const namespace = process.env.TEMPORAL_TEST_NAMESPACE || DEFAULT_NAMESPACE;
    const connection = await connectWithRetry(external, 60_000);
    try {
      await ensureNamespaceSetup(connection, { namespace, log });
    } finally {
      await connection.close();
    }
    process.env.TEMPORAL_TEST_NAMESPACE = namespace;
    process.env.TEMPORAL_ADDRESS = external;
    process.env.TEMPORAL_NAMESPACE = namespace;
    log(`using the Temporal server at ${external} (TEMPORAL_TEST_ADDRESS), namespace ${namespace}`);
    return;
  }

  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'customer-segments-temporal-'));
  let server;
  try {
    server = await startDevServer({
      dbFilename: path.join(tempDir, 'test.db'),
      port: 0,
      ui: false,
      log: (m) => {
        // Keep the run quiet unless the CLI has to be built (long) or something is wrong.
        if (/build|Go |go:|warning|still/i.test(m)) log(m);
      },
    });
  } catch (err) {
    rmSync(tempDir, { recursive: true, force: true });
    throw err;
  }
  const state: TestServerState = { pid: server.pid, address: server.address, namespace: server.namespace, tempDir };
  writeFileSync(STATE_FILE, JSON.stringify(state));
  (globalThis as Record<string, unknown>)[GLOBAL_KEY] = server;

  process.env.TEMPORAL_TEST_ADDRESS = server.address;
  process.env.TEMPORAL_TEST_NAMESPACE = server.namespace;
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_NAMESPACE = server.namespace;
  log(`test server ${server.address} (pid ${server.pid}) ready in ${(server.startupMs / 1000).toFixed(1)} s`);
}
