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
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_NAMESPACE } from '../../common/constants';
import { connectWithRetry } from '../../temporal/connection';
import { DEV_SERVER_PID_DIR_ENV, startDevServer } from '../../temporal/dev-server';
import { ensureNamespaceSetup } from '../../temporal/namespace-setup';
import { GLOBAL_KEY, STATE_FILE, STATE_PREFIX, TestServerState, alive } from './server-state';


const log = (message: string) => process.stderr.write(`[temporal] ${message}\n`);


function isDevServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev');
  } catch {
    return false;
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
      const pidDir = path.join(state.tempDir, 'pids');
      const pids = [state.pid, ...(existsSync(pidDir) ? readdirSync(pidDir).map(Number) : [])];
      for (const pid of pids) if (pid && isDevServer(pid)) process.kill(pid, 'SIGKILL');
      rmSync(state.tempDir, { recursive: true, force: true });
    } catch {
      /* unreadable or already gone */
    }
    rmSync(file, { force: true });
  }
}

export default async function globalSetup(): Promise<void> {
  reapStaleServers();
  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'customer-segments-temporal-'));
  // Every dev server started from now on (here or by a test) registers its pid here, so the
  // teardown can stop servers a test leaked: they would otherwise keep jest from exiting.
  const pidDir = path.join(tempDir, 'pids');
  mkdirSync(pidDir);
  process.env[DEV_SERVER_PID_DIR_ENV] = pidDir;
  writeState({ address: '', namespace: '', tempDir }); // lets a later run clean up if this one dies

  const external = process.env.TEMPORAL_TEST_ADDRESS;
  if (external) {
    const namespace = process.env.TEMPORAL_TEST_NAMESPACE || DEFAULT_NAMESPACE;
    const connection = await connectWithRetry(external, 60_000);
    try {
      await ensureNamespaceSetup(connection, { namespace, log });
    } finally {
      await connection.close();
    }
    writeState({ address: external, namespace, tempDir });
    exportAddress(external, namespace);
    log(`using the Temporal server at ${external} (TEMPORAL_TEST_ADDRESS), namespace ${namespace}`);
    return;
  }

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
  writeState({ pid: server.pid, address: server.address, namespace: server.namespace, tempDir });
  (globalThis as Record<string, unknown>)[GLOBAL_KEY] = server;
  exportAddress(server.address, server.namespace);
  log(`test server ${server.address} (pid ${server.pid}) ready in ${(server.startupMs / 1000).toFixed(1)} s`);
}

function writeState(state: TestServerState): void {
  writeFileSync(STATE_FILE, JSON.stringify(state));
}

function exportAddress(address: string, namespace: string): void {
  process.env.TEMPORAL_TEST_ADDRESS = address;
  process.env.TEMPORAL_TEST_NAMESPACE = namespace;
  process.env.TEMPORAL_ADDRESS = address;
  process.env.TEMPORAL_NAMESPACE = namespace;
}
