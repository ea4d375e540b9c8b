/**
 * State shared by global-setup.ts and global-teardown.ts: both run in jest's parent process but as separately
 * loaded modules, so the server handle travels on globalThis and, as a fallback, as a small JSON file keyed by
 * the jest process id.
 */
import os from 'node:os';
import path from 'node:path';

export interface TestServerState {
  /** The global server's pid, when this setup started one. */
  pid?: number;
  address: string;
  namespace: string;
  /** Holds the global server's DB and, in pids/, every dev server started during the run. */
  tempDir: string;
}

export const STATE_PREFIX = 'customer-segments-jest-temporal-';
export const STATE_FILE = path.join(os.tmpdir(), `${STATE_PREFIX}${process.pid}.json`);
export const GLOBAL_KEY = '__customerSegmentsTemporalTestServer__';

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
