/**
 * Runs `segments …` as a user would, in its own process: cli/main.ts through the SWC transform jest uses (no
 * build needed), against the jest global setup's dev server (TEMPORAL_ADDRESS is set by the setup).
 */
import { Client, Connection } from '@temporalio/client';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TS_REQUIRE_HOOK } from './worker-process';

const MAIN_TS = join(__dirname, '..', '..', 'cli', 'main.ts');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export function spawnSegments(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): ChildProcess {
  const entry = `${TS_REQUIRE_HOOK}\nrequire(${JSON.stringify(MAIN_TS)}).runCli(${JSON.stringify(args)});`;
  return spawn(process.execPath, ['-e', entry], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd });
}

export function collect(child: ChildProcess, timeoutMs = 300_000): Promise<CliResult> {
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`segments did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, signal, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
    });
  });
}

export function segments(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs?: number): Promise<CliResult> {
  return collect(spawnSegments(args, env), timeoutMs);
}

/** Resolves once the child has printed `text` (stdout or stderr). */
export function waitForText(child: ChildProcess, text: string | RegExp, timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${text} within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (typeof text === 'string' ? seen.includes(text) : text.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ${text}:\n${seen}`));
    });
  });
}

/**
 * What a CLI end-to-end test file sets up: a folder, a task queue and a dataset of its own (its runs are found by
 * `SegmentsDataset`), the env every command gets, and config.json with a small, quick run (k fixed at 3).
 */
export function cliTestSetup(name: string) {
  const root = mkdtempSync(join(tmpdir(), `segments-${name}-`));
  const taskQueue = `${name}-test-${process.pid}-${Date.now()}`;
  const dataset = `${name}-${Date.now()}`;
  const configFile = join(root, 'config.json');
  writeFileSync(configFile, JSON.stringify({ dataset, kMin: 2, kMax: 4, k: 3, finalInits: 1, silhouetteSample: 200 }));
  return { root, taskQueue, dataset, configFile, env: { TEMPORAL_TASK_QUEUE: taskQueue, SEGMENTS_LOG_LEVEL: 'ERROR' } };
}

/** A client on the jest global setup's dev server (TEMPORAL_TEST_ADDRESS). */
export async function connectTestClient(): Promise<{ client: Client; connection: Connection }> {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address) throw new Error('TEMPORAL_TEST_ADDRESS is not set: the jest global setup did not start a Temporal server');
  const connection = await Connection.connect({ address });
  return { connection, client: new Client({ connection, namespace: process.env.TEMPORAL_TEST_NAMESPACE ?? 'default' }) };
}
