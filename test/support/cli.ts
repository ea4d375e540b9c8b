/**
 * Runs `segments …` as a user would, in its own process: cli/main.ts through the SWC transform jest uses (no
 * build needed), against the jest global setup's dev server (TEMPORAL_ADDRESS is set by the setup).
 */
import { ChildProcess, spawn } from 'node:child_process';
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
