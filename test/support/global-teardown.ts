/** Jest global teardown: stops the dev server that global-setup started (if it started one). */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { DevServerHandle } from '../../temporal/dev-server';
import { GLOBAL_KEY, STATE_FILE, TestServerState, alive } from './server-state';


const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));


function isDevServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev');
  } catch {
    return alive(pid); // no /proc (macOS): trust the pid file
  }
}

async function killPid(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < 10_000 && alive(pid); waited += 100) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

export default async function globalTeardown(): Promise<void> {
  const state: TestServerState | undefined = existsSync(STATE_FILE)
    ? (JSON.parse(readFileSync(STATE_FILE, 'utf8')) as TestServerState)
    : undefined;
  const handle = (globalThis as Record<string, unknown>)[GLOBAL_KEY] as DevServerHandle | undefined;
  if (handle) await handle.stop();
  else if (state?.pid) await killPid(state.pid);
  delete (globalThis as Record<string, unknown>)[GLOBAL_KEY];

  if (state) {
    // Dev servers that tests started and never stopped: they would keep jest from exiting.
    const pidDir = path.join(state.tempDir, 'pids');
    const leaked = existsSync(pidDir) ? readdirSync(pidDir).map(Number).filter((pid) => pid && isDevServer(pid)) : [];
    if (leaked.length) {
      process.stderr.write(`[temporal] stopping ${leaked.length} dev server(s) a test left running: pid ${leaked.join(', ')}\n`);
      await Promise.all(leaked.map(killPid));
    }
    rmSync(state.tempDir, { recursive: true, force: true });
  }
  rmSync(STATE_FILE, { force: true });
}
