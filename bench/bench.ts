/**
 * `npm run bench`: the whole segmentation workflow on generated data through a Temporal dev server, timed step by
 * step, with peak memory and quality figures, printed as a table and written as JSON to compare commits.
 *
 *   npm run bench -- [--rows N] [--repeat R] [--scaling | --sizes N,N,…] [--k N] [--workers N]
 *                    [--seed S] [--data DIR] [--out FILE.json] [--keep]
 *
 * --rows       population rows (default 891,221); customers scaled by 191,652 / 891,221
 * --scaling    runs 100k, 300k, 891,221 and 3 × 891,221 population rows and fits time against rows
 * --sizes      the same with your own population sizes
 * --repeat     repetitions per size (default 1); the tables show medians
 * --k          fixed k (passed to the pipeline config; the k sweep still runs)
 * --workers    extra `segments worker` processes next to the bench's own in-process worker
 * --slots      activities each worker runs at once (default one per core); `--slots 1` with and without
 *              `--workers 1` shows the sweep fanning out over worker processes on a machine this small
 * --seed       generator seed (default 1); data are generated once per size and seed under --data
 * --data       data folder (default bench-data/ in the project)
 * --out        JSON output (default bench-output/bench-<timestamp>.json in the project)
 * --keep       keep each repetition's temporary outDir (artifacts, results) instead of deleting it
 * --busy       N CPU-bound busy loops (processes) beside the pipeline: every repetition runs twice, without
 *              and with the loops (interleaved, so both see the same machine), and the bench prints the slowdown
 *
 * Every step is also shown as a multiple of its floor (bench/floors.ts), measured on the same data in the same run.
 *
 * Temporal: TEMPORAL_ADDRESS when set, otherwise a private in-memory dev server on a free port (so no other
 * worker on a shared server picks up the bench's activities); TEMPORAL_CLI_PATH points at the CLI binary.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { TASK_QUEUE } from '../common/constants';
import { DEFAULT_POPULATION_ROWS } from '../tools/generator';
import type { PipelineConfigInput } from '../schemas/config';
import { connectToTemporal } from '../temporal/connection';
import { findProjectRoot } from '../temporal/project-root';
import { WORKFLOWS_PATH } from '../worker/create-worker';
import { ChildWorker, startBusyLoops, startChildWorker } from './processes';
import { SizeSummary, scalingTable, sizeTable, slowdownTable, summarise } from './report';
import { ensureDataset } from './datasets';
import { Dataset, RunFigures, runOnce } from './run';

const SCALING_SIZES = [100_000, 300_000, DEFAULT_POPULATION_ROWS, 3 * DEFAULT_POPULATION_ROWS];

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0 || (n === 0 && name !== 'workers' && name !== 'seed')) throw new Error(`--${name} must be a whole number, got "${value}"`);
  return n;
}

function gitCommit(root: string): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: null, dirty: null };
  }
}

// long because: the benchmark script read top to bottom (arguments, data, runs, figures, report); left whole while issue 12 changes the benchmark
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      scaling: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      repeat: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      k: { type: 'string' },
      workers: { type: 'string' },
      slots: { type: 'string' },
      seed: { type: 'string' },
      keep: { type: 'boolean', default: false },
      busy: { type: 'string' },
    },
  });
  const root = findProjectRoot();
  const sizes = values.sizes
    ? values.sizes.split(',').map((s) => positiveInt(s.trim(), 'sizes', 0))
    : values.scaling
      ? SCALING_SIZES
      : [positiveInt(values.rows, 'rows', DEFAULT_POPULATION_ROWS)];
  const repeat = positiveInt(values.repeat, 'repeat', 1);
  const extraWorkers = positiveInt(values.workers, 'workers', 0);
  const slots = values.slots === undefined ? undefined : positiveInt(values.slots, 'slots', 1);
  const seed = positiveInt(values.seed, 'seed', 1);
  const busy = values.busy === undefined ? 0 : positiveInt(values.busy, 'busy', 1);
  const config: PipelineConfigInput = values.k !== undefined ? { k: positiveInt(values.k, 'k', 0) } : {};
  const dataRoot = resolve(values.data ?? join(root, 'bench-data'));
  const outFile = resolve(values.out ?? join(root, 'bench-output', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));

  const environment = {
    ...gitCommit(root),
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? null,
    loadAverageAtStart: loadavg(),
    startedAt: new Date().toISOString(),
    argv: process.argv.slice(2),
  };
  console.log(
    `customer-segments bench — commit ${environment.commit?.slice(0, 10) ?? 'unknown'}${environment.dirty ? ' (uncommitted changes)' : ''}, ` +
      `node ${environment.node}, ${environment.cpus} cpus, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  console.log(`sizes ${sizes.map((s) => s.toLocaleString('en-US')).join(', ')}; ${repeat} repetition(s); workers: 1 in-process + ${extraWorkers} process(es), ${slots ?? 'one per core'} activities at once each; config ${JSON.stringify(config)}`);
  console.log(busy ? `--busy ${busy}: each repetition runs without, then with ${busy} busy loop(s) beside it\n` : '');

  const datasets: Dataset[] = [];
  for (const size of sizes) datasets.push(await ensureDataset(dataRoot, size, seed));

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const temporal = await connectToTemporal({
    log: (message) => console.error(message),
    devServer: { port: 0, ephemeral: true, ui: false },
  });
  const children: ChildWorker[] = [];
  const summaries: SizeSummary[] = [];
  const busySummaries: SizeSummary[] = [];
  const write = (extra: Record<string, unknown> = {}) => {
    mkdirSync(dirname(outFile), { recursive: true });
    const busyPart = busy ? { busy: { loops: busy, sizes: busySummaries } } : {};
    writeFileSync(outFile, JSON.stringify({ environment, options: { sizes, repeat, extraWorkers, slots: slots ?? null, seed, config, busy }, temporal: temporal.address, sizes: summaries, ...busyPart, ...extra }, null, 1));
  };
  try {
    console.error(`Temporal at ${temporal.address} (${temporal.mode})`);
    const nativeConnection = await temporal.getNativeConnection();
    const client = new Client({ connection: temporal.connection, namespace: temporal.namespace });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
    const server = { connection: temporal.connection, address: temporal.address, namespace: temporal.namespace, taskQueue: TASK_QUEUE };
    for (let i = 0; i < extraWorkers; i++) children.push(await startChildWorker(root, server, `worker ${i + 1}`, slots));

    const ctx = { client, nativeConnection, namespace: temporal.namespace, workflowBundle, children, config, keep: values.keep, slots };
    for (const data of datasets) {
      const runs: RunFigures[] = [];
      const busyRuns: RunFigures[] = [];
      for (let r = 0; r < repeat; r++) {
        const label = `[${data.populationRows.toLocaleString('en-US')} rows, run ${r + 1}/${repeat}]`;
        runs.push(await runOnce(ctx, data, label));
        console.error(`  ${label} ${runs[r].totalSeconds.toFixed(1)} s`);
        if (r === 0) summaries.push(summarise(runs));
        else summaries[summaries.length - 1] = summarise(runs);
        if (busy) {
          const loops = startBusyLoops(busy);
          try {
            busyRuns.push(await runOnce(ctx, data, `${label} busy ${busy}`));
          } finally {
            await loops.stop();
          }
          console.error(`  ${label} busy ${busy}: ${busyRuns[r].totalSeconds.toFixed(1)} s`);
          if (r === 0) busySummaries.push(summarise(busyRuns));
          else busySummaries[busySummaries.length - 1] = summarise(busyRuns);
        }
        write();
      }
      console.log(`${sizeTable(summaries[summaries.length - 1])}\n`);
      if (busy) {
        console.log(`with ${busy} busy loop(s) beside the pipeline:\n${sizeTable(busySummaries[busySummaries.length - 1])}\n`);
        console.log(`${slowdownTable(summaries[summaries.length - 1], busySummaries[busySummaries.length - 1], busy)}\n`);
      }
    }
    if (summaries.length > 1) {
      const { text, fit } = scalingTable(summaries);
      console.log(`${text}\n`);
      write({ scalingFit: fit });
    }
    if ([...summaries, ...busySummaries].some((s) => s.runs.some((r) => !r.quality.lloyd.withinTolerance))) process.exitCode = 1;
    console.log(`JSON: ${outFile}`);
  } finally {
    const childHwm = await Promise.all(children.map((c) => c.stop()));
    if (children.length) console.error(`worker processes' VmHWM at exit: ${childHwm.map((b) => (b ? `${(b / 2 ** 30).toFixed(2)} GiB` : 'n/a')).join(', ')}`);
    await temporal.close();
  }
}

main()
  .catch((error: unknown) => {
    const failure = error as Error & { cause?: Error };
    let message = failure.stack ?? String(error);
    for (let cause = failure.cause; cause; cause = (cause as Error & { cause?: Error }).cause) message += `\n  caused by: ${cause.message}`;
    console.error(`bench: ${message}`);
    process.exitCode = 1;
  })
  // Native connections and the Temporal runtime keep the event loop alive.
  .finally(() => process.exit(process.exitCode ?? 0));
