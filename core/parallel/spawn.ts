/**
 * Starting the numeric worker thread from both layouts the project runs in:
 *
 *  - compiled (`tsc` → dist/, commonjs): this file is dist/core/parallel/spawn.js and the entry is its sibling
 *    worker-entry.js, started directly;
 *  - TypeScript sources (jest with @swc/jest, or any TS runner): this file is spawn.ts and Node cannot run
 *    worker-entry.ts by itself, so the worker is started from a tiny `eval` bootstrap that registers a
 *    require hook compiling `.ts` files with @swc/core (the same compiler jest uses; a devDependency) and then
 *    requires worker-entry.ts. Only the worker's own .ts modules go through the hook; node_modules load as usual.
 *
 * The choice is made from this module's own file name, so there is nothing to configure. Set
 * SEGMENTS_WORKER_ENTRY to an absolute path to override the entry (.js runs directly, .ts via the hook).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TransferListItem, Worker } from 'node:worker_threads';

const TS_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Module = require('node:module');
const entry = workerData.__entry;
const swc = require(require.resolve('@swc/core', { paths: [entry] }));
if (!Module._extensions['.ts']) {
  Module._extensions['.ts'] = function (module, filename) {
    const source = fs.readFileSync(filename, 'utf8');
    const out = swc.transformSync(source, {
      filename,
      swcrc: false,
      configFile: false,
      sourceMaps: 'inline',
      module: { type: 'commonjs' },
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    });
    module._compile(out.code, filename);
  };
}
require(entry);
`;

export function workerEntryPath(): string {
  const override = process.env.SEGMENTS_WORKER_ENTRY;
  if (override) return override;
  const js = join(__dirname, 'worker-entry.js');
  if (__filename.endsWith('.js') && existsSync(js)) return js;
  return join(__dirname, 'worker-entry.ts');
}

/** Starts a worker running core/parallel/worker-entry with `workerData` (shared arrays inside are shared). */
export function spawnWorker(workerData: Record<string, unknown>, transferList?: TransferListItem[]): Worker {
  const entry = workerEntryPath();
  if (entry.endsWith('.ts')) {
    return new Worker(TS_BOOTSTRAP, { eval: true, workerData: { ...workerData, __entry: entry }, transferList });
  }
  return new Worker(entry, { workerData, transferList });
}
