import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * The start of a child process's `node -e` script: `.ts` files compile through the SWC transform jest uses (no
 * build needed), and the Temporal runtime logs warnings only.
 */
export const TS_REQUIRE_HOOK = `
const fs = require('node:fs');
const Module = require('node:module');
const swc = require(${JSON.stringify(require.resolve('@swc/core'))});
Module._extensions['.ts'] = function (module, filename) {
  const out = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename, swcrc: false, configFile: false, sourceMaps: 'inline',
    module: { type: 'commonjs' }, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  });
  module._compile(out.code, filename);
};
`;

export const TS_CHILD_PRELUDE = `
${TS_REQUIRE_HOOK}
const { DefaultLogger, Runtime } = require(${JSON.stringify(require.resolve('@temporalio/worker'))});
Runtime.install({ logger: new DefaultLogger('WARN') });
`;

/**
 * A real worker in its own process (the project's worker, real activities), running the TypeScript sources
 * through the SWC transform jest uses, so tests can kill it like a crashed machine.
 */
export function spawnWorkerProcess(options: { address: string; namespace: string; taskQueue: string }): ChildProcess {
  const workerTs = join(__dirname, '..', '..', 'worker', 'create-worker.ts');
  const entry = `
${TS_CHILD_PRELUDE}
const { NativeConnection } = require(${JSON.stringify(require.resolve('@temporalio/worker'))});
const { createWorker } = require(${JSON.stringify(workerTs)});
(async () => {
  const connection = await NativeConnection.connect({ address: ${JSON.stringify(options.address)} });
  const worker = await createWorker({ connection, namespace: ${JSON.stringify(options.namespace)}, taskQueue: ${JSON.stringify(options.taskQueue)} });
  console.log('worker ready');
  await worker.run();
})().catch((e) => { console.error(e); process.exit(1); });
`;
  return spawn(process.execPath, ['-e', entry], { stdio: ['ignore', 'pipe', 'pipe'] });
}

export function waitForOutput(child: ChildProcess, text: string, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "${text}" from the worker process within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited (${code}) before "${text}":\n${seen}`));
    });
  });
}
