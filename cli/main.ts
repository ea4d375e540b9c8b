/**
 * `segments`: the command line, on commander (chosen over yargs and clipanion by a measured comparison: the
 * fastest `--help` and the smallest install, one-line errors with suggestions; figures in the commit message).
 *
 * Every command checks its arguments before it connects to (or starts) a Temporal server. Exit codes:
 *   0 succeeded · 1 the run failed, was cancelled, terminated or timed out (or the command failed) ·
 *   2 usage (unknown command or option, bad value, missing file) · 3 no such workflow or schedule ·
 *   4 the CLI is not built (bin/segments.js before `npm run build`) · 130 / 143 interrupted (SIGINT / SIGTERM).
 *
 * The heavy modules (Temporal worker, DuckDB, the generator) load inside the commands that need them, so
 * `--help`, usage errors and client-only commands start quickly.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import type { PipelineConfigInput } from '../schemas/config';
import { versionString } from './version';

export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, notBuilt: 4, sigint: 130, sigterm: 143 } as const;

/** A bad argument found after parsing (a missing file, a bad config): exit 2, like commander's own errors. */
export class UsageError extends Error {}
class NotFoundError extends Error {}

const log = (message: string) => console.error(message);

// ---- value parsers: each throws InvalidArgumentError, which commander turns into a one-line usage error ----

function wholeNumber(min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `expected a whole number ≥ ${min}` : `expected a whole number from ${min} to ${max}`);
    }
    return parsed;
  };
}

/** YYYY-MM-DD (a real calendar date) or a full ISO timestamp. */
export function parseDate(value: string): Date {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (day) {
    const [year, month, date] = day.slice(1).map(Number);
    const parsed = new Date(Date.UTC(year, month - 1, date));
    if (month < 1 || month > 12 || parsed.getUTCMonth() !== month - 1 || parsed.getUTCDate() !== date) {
      throw new InvalidArgumentError(`"${value}" is not a calendar date (month 01-12, day within the month; format YYYY-MM-DD)`);
    }
    return parsed;
  }
  const parsed = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(parsed.getTime())) throw new InvalidArgumentError(`expected a date as YYYY-MM-DD, got "${value}"`);
  return parsed;
}

function parseMonth(value: string): string {
  const match = /^(\d{4})-(\d{2})$/.exec(value);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 12) throw new InvalidArgumentError('expected a month as YYYY-MM');
  return value;
}

function parseCatchupWindow(value: string): string {
  if (!/^\s*\d+(\.\d+)?\s*(ms|s|m|h|d|days?|hours?|minutes?|w|weeks?)\s*$/i.test(value)) {
    throw new InvalidArgumentError('expected a duration such as "30 days", "12h" or "90m"');
  }
  return value.trim();
}

// ---- checks before any connection ----

function requireFile(path: string, option: string): string {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`${option} ${path}: no such file`);
  return path;
}

function requireDir(path: string, option: string): string {
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new UsageError(`${option} ${path}: no such folder`);
  return path;
}

/**
 * Makes an output folder the command line names (unless it holds a month template, filled per run), before any
 * server is sought: a folder that cannot be made or written (under /proc, a file in the way, no permission)
 * fails at once as a usage error naming the flag and the folder, instead of after connecting.
 */
async function requireWritableDir(path: string | undefined, option: string, role: string): Promise<void> {
  if (path === undefined || /\{(YYYY-MM|YYYY|MM)\}/.test(path)) return;
  const { ensureWritableDir } = await import('../core/store/paths');
  try {
    await ensureWritableDir(path, role);
  } catch (error) {
    throw new UsageError(`${option} ${path}: ${(error as Error).message}`);
  }
}

async function readConfig(path: string | undefined, k: number | undefined): Promise<PipelineConfigInput> {
  let config: PipelineConfigInput = {};
  if (path) {
    try {
      config = JSON.parse(readFileSync(path, 'utf8')) as PipelineConfigInput;
    } catch (error) {
      throw new UsageError(`--config ${path}: ${(error as Error).message}`);
    }
  }
  if (k !== undefined) config.k = k;
  const { validateConfig } = await import('../core/config/validate');
  try {
    // One line naming the file (or --k) and the key; unknown keys with the nearest valid one.
    validateConfig(config, path ? `--config ${path}` : 'config', k !== undefined ? { k: '--k' } : {});
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return config;
}

/** Input paths may hold {YYYY-MM} (schedules); only paths without a placeholder can be checked now. */
function requireInputs(options: { population: string; customers: string; features: string }): void {
  for (const [name, path] of [['--population', options.population], ['--customers', options.customers], ['--features', options.features]] as const) {
    if (!/\{(YYYY-MM|YYYY|MM)\}/.test(path)) requireFile(path, name);
  }
}

// ---- Temporal ----

async function withClient<T>(
  work: (client: Client, temporal: import('../temporal/connection').TemporalConnection) => Promise<T>,
  devServer?: import('../temporal/connection').ConnectToTemporalOptions['devServer'],
): Promise<T> {
  const [{ Client }, { connectToTemporal }] = await Promise.all([import('@temporalio/client'), import('../temporal/connection')]);
  const temporal = await connectToTemporal({ log, ...(devServer ? { devServer } : {}) });
  try {
    return await work(new Client({ connection: temporal.connection, namespace: temporal.namespace }), temporal);
  } finally {
    await temporal.close();
  }
}

/**
 * The SDK's own logs only at WARN and above (ERROR for commands that follow a run: its failure line says what
 * failed, the SDK's multi-line "Activity failed" warnings only repeat it). Only commands that host a worker
 * need the runtime; it also owns SIGINT/SIGTERM there, for the worker's graceful shutdown.
 */
async function installWorkerRuntime(defaultLevel: 'WARN' | 'ERROR' = 'WARN'): Promise<void> {
  const { DefaultLogger, Runtime } = await import('@temporalio/worker');
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.SEGMENTS_LOG_LEVEL as 'WARN' | undefined) ?? defaultLevel) });
  } catch {
    /* installed already */
  }
}

/** Client-only commands end at once on Ctrl-C / SIGTERM (the 'exit' handlers stop an embedded server this process started). */
function exitOnSignals(): void {
  process.once('SIGINT', () => {
    console.error('interrupted');
    process.exit(EXIT.sigint);
  });
  process.once('SIGTERM', () => process.exit(EXIT.sigterm));
}

/** The task queue runs go to: TEMPORAL_TASK_QUEUE (the one `segments worker` polls too), else customer-segments. */
function taskQueueFromEnv(): string | undefined {
  return process.env.TEMPORAL_TASK_QUEUE?.trim() || undefined;
}

function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

interface FollowArgs {
  json: boolean;
  detach: boolean;
  worker: boolean;
}

/** Follows a started run (hosting a worker unless told not to); returns the exit code. */
async function follow(
  temporal: import('../temporal/connection').TemporalConnection,
  handle: import('@temporalio/client').WorkflowHandleWithFirstExecutionRunId,
  args: FollowArgs,
): Promise<number> {
  const { followRun, formatStepLine } = await import('./run');
  const { summariseFailure, formatFailure } = await import('./failure');
  const url = temporal.uiUrl ? `${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows/${handle.workflowId}` : undefined;
  if (args.detach) {
    if (args.json) printJson({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, ui: url ?? null });
    else console.log(`workflow ${handle.workflowId} started${url ? ` — ${url}` : ''}\nfollow it: segments status ${handle.workflowId}`);
    return EXIT.ok;
  }
  if (!args.json) console.log(`workflow ${handle.workflowId} started${url ? ` — ${url}` : ''}`);
  const followAndPrint = async (): Promise<number> => {
    try {
      const outcome = await followRun(handle, (step) => {
        if (!args.json) console.log(formatStepLine(step));
      });
      const reused = outcome.steps.filter((s) => s.reused).map((s) => s.name);
      if (args.json) {
        printJson({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, status: 'COMPLETED', k: outcome.k, outDir: outcome.outDir, reusedSteps: reused, steps: outcome.steps });
      } else {
        console.log(`\n${outcome.summaryTable}\n`);
        console.log(`results: ${outcome.outDir}/results.json\nreport:  ${outcome.outDir}/report.html`);
      }
      return EXIT.ok;
    } catch (error) {
      const failure = summariseFailure(error);
      if (args.json) printJson({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, status: failure.kind, failure });
      else console.error(formatFailure(failure));
      if (failure.kind === 'failed' && !args.json) console.error(`resume it from ${failure.step ?? 'the failed step'}, reusing the finished steps: segments retry ${handle.workflowId}`);
      return EXIT.failed;
    }
  };
  if (!args.worker) return followAndPrint();
  // The runtime shuts the worker down on SIGINT/SIGTERM; the run itself goes on in Temporal. A signal that comes
  // while the worker is still being created (bundling the workflow code) ends the process at once.
  let interruptedBy: NodeJS.Signals | undefined;
  let workerRunning = false;
  const interrupted = () =>
    console.error(`interrupted: ${handle.workflowId} goes on without this process's worker — segments status ${handle.workflowId}, segments cancel ${handle.workflowId}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interruptedBy ??= signal;
      if (workerRunning) return;
      interrupted();
      process.exit(signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
    });
  }
  const { createWorker } = await import('../worker/create-worker');
  const description = await handle.describe();
  const worker = await createWorker({ connection: await temporal.getNativeConnection(), namespace: temporal.namespace, taskQueue: description.taskQueue });
  workerRunning = true;
  try {
    return await worker.runUntil(followAndPrint());
  } catch (error) {
    if (!interruptedBy) throw error;
    interrupted();
    return interruptedBy === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
  }
}

// ---- the program ----

type SetExit = (code: number) => void;

/** The paths and settings of a run (run, schedule create); a schedule's paths may hold {YYYY-MM}. */
function addRunInputOptions(command: Command, scheduled: boolean): Command {
  const month = scheduled ? ' (may hold {YYYY-MM})' : '';
  return command
    .requiredOption(`--population <${scheduled ? 'path' : 'file'}>`, `${scheduled ? 'population CSV' : 'general population CSV'}${month}`)
    .requiredOption(`--customers <${scheduled ? 'path' : 'file'}>`, `customers CSV${scheduled ? month : ' (same columns)'}`)
    .requiredOption(`--features <${scheduled ? 'path' : 'file'}>`, 'feature summary CSV')
    .requiredOption('--out <dir>', scheduled ? 'output folder per run, e.g. /data/out/{YYYY-MM}' : 'output folder (results.json, report.html, assignments/)')
    .option('--store <dir>', `checkpoint store (default <out>/artifacts${scheduled ? ', month filled in' : ''})`)
    .option('--config <file>', scheduled ? 'pipeline config JSON' : 'pipeline config JSON (see schemas/config.ts)')
    .option('--k <n>', 'fix the number of clusters', wholeNumber(1));
}

/** How a command that starts a run follows it (run, retry). */
function addFollowOptions(command: Command, what: 'run' | 'retry'): Command {
  return command
    .option('--detach', what === 'run' ? 'start the run and return (prints the workflow id)' : 'start the retry and return')
    .option('--no-worker', what === 'run' ? 'do not run a worker in this process (separate workers poll the task queue)' : 'do not run a worker in this process')
    .option('--json', what === 'run' ? 'machine-readable output (with --detach: workflow id, run id, UI link)' : 'machine-readable output');
}

/**
 * Connects (or starts the embedded server), starts a run with `start` and follows it, hosting a worker unless
 * told not to; returns the exit code.
 */
async function startAndFollow(
  args: FollowArgs,
  start: (client: Client, temporal: import('../temporal/connection').TemporalConnection) => Promise<import('@temporalio/client').WorkflowHandleWithFirstExecutionRunId>,
  workerLogLevel: 'WARN' | 'ERROR' = 'ERROR',
  devServer?: import('../temporal/connection').ConnectToTemporalOptions['devServer'],
): Promise<number> {
  if (args.worker) await installWorkerRuntime(workerLogLevel);
  else exitOnSignals();
  return withClient(async (client, temporal) => follow(temporal, await start(client, temporal), args), devServer);
}

export function buildProgram(setExit: SetExit): Command {
  const program = new Command('segments')
    .description('Customer segments: which segments of the general population the customers come from (durable on Temporal).')
    .option('-V, --version', 'print the version (package version and git commit) and exit')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Without TEMPORAL_ADDRESS the commands start (and reuse) an embedded Temporal dev server with its data in .temporal/.
Exit codes: 0 succeeded, 1 run failed/cancelled/terminated (or the command failed), 2 usage, 3 no such workflow or schedule, 130/143 interrupted.
Each command has its own help: segments <command> --help`,
    );
  addRunCommands(program, setExit);
  addAuditCommands(program, setExit);
  addModelCommands(program);
  addScheduleCommands(program, setExit);
  addServerCommands(program);
  return program;
}

/** run, retry, demo: the commands that start a run and follow it. */
function addRunCommands(program: Command, setExit: SetExit): void {
  addFollowOptions(addRunInputOptions(program.command('run'), false), 'run')
    .description('run the pipeline over two files; follows it step by step (or --detach)')
    .option('--previous <dir>', "an earlier run's output folder: its segments keep their IDs in this run (new and gone ones are listed)")
    .action(async (o) => {
      requireInputs(o);
      const config = await readConfig(o.config, o.k);
      if (o.previous) requireDir(o.previous, '--previous');
      // The store first: when it cannot be made, no output folder is left behind either.
      await requireWritableDir(o.store, '--store', 'checkpoint folder');
      await requireWritableDir(o.out, '--out', 'output folder');
      const args = { json: o.json, detach: o.detach, worker: o.worker && !o.detach };
      const { startRun } = await import('./run');
      const runInputs = { population: o.population, customers: o.customers, featureSummary: o.features, outDir: o.out, storeDir: o.store, config };
      setExit(await startAndFollow(args, (client) => startRun({ client, ...runInputs, previousOutDir: o.previous, taskQueue: taskQueueFromEnv() })));
    });

  addFollowOptions(program.command('retry'), 'retry')
    .description('resume a failed, cancelled or terminated run from the step it stopped at, reusing every finished step')
    .argument('<workflow-id>', 'the run to resume (hand-started or scheduled)')
    .option('--previous <dir>', "match clusters with this run's output instead (e.g. to fix a bad --previous)")
    .addHelpText(
      'after',
      '\nThe retry is a new run of the same workflow id over the same input and checkpoint store (its month pinned):\nevery step that finished before returns its checkpoint ("reused checkpoint"), the failed step computes again.',
    )
    .action(async (workflowId: string, o) => {
      if (o.previous) requireDir(o.previous, '--previous');
      const args = { json: o.json, detach: o.detach, worker: o.worker && !o.detach };
      const { planRetry, startRetry } = await import('./retry');
      setExit(
        await startAndFollow(args, async (client) => {
          const plan = await planRetry(client, workflowId, { previousOutDir: o.previous });
          if (!o.json) console.log(`retrying ${workflowId} (run ${plan.original.runId}, ${plan.original.status.name.toLowerCase()} at ${plan.fromStep}); checkpoints in ${plan.input.storeDir}`);
          return startRetry(client, plan);
        }),
      );
    });

  program
    .command('demo')
    .description('generate demo data, start the embedded server and a worker, run the whole pipeline')
    .option('--population-rows <n>', 'population rows', wholeNumber(1), 200_000)
    .option('--customer-rows <n>', 'customer rows (default: the real files’ ratio)', wholeNumber(1))
    .option('--out <dir>', 'output folder', 'demo-output')
    .option('--config <file>', 'pipeline config JSON')
    .option('--k <n>', 'fix the number of clusters', wholeNumber(1))
    .option('--port <n>', 'embedded dev server port (a server already there is reused)', wholeNumber(1, 65535), 7233)
    .option('--ui-port <n>', 'UI port (default 8233, or port + 1000)', wholeNumber(1, 65535))
    .option('--db <file>', 'SQLite file of the embedded dev server (default .temporal/dev.db)')
    .action(async (o) => {
      const config = await readConfig(o.config, o.k);
      await installWorkerRuntime();
      const dataDir = await demoData(o.populationRows, o.customerRows);
      const devServer = { port: o.port, ...(o.uiPort ? { uiPort: o.uiPort } : {}), ...(o.db ? { dbFilename: resolve(o.db) } : {}) };
      const { startRun } = await import('./run');
      const files = { population: 'Udacity_AZDIAS_Subset.csv', customers: 'Udacity_CUSTOMERS_Subset.csv', featureSummary: 'AZDIAS_Feature_Summary.csv' };
      const runInputs = { population: resolve(dataDir, files.population), customers: resolve(dataDir, files.customers), featureSummary: resolve(dataDir, files.featureSummary) };
      setExit(await startAndFollow({ json: false, detach: false, worker: true }, (client) => startRun({ client, ...runInputs, outDir: resolve(o.out), config }), 'WARN', devServer));
    });
}

/** The demo's data in demo-data/, generated once per size (a marker file names the size it holds). */
async function demoData(populationRows: number, customerRowsOption: number | undefined): Promise<string> {
  const { writeFileSync } = await import('node:fs');
  const { generateDataset } = await import('../tools/generator');
  const dataDir = resolve('demo-data');
  const customerRows = customerRowsOption ?? Math.round((populationRows * 191_652) / 891_221);
  const marker = resolve(dataDir, `.generated-${populationRows}-${customerRows}`);
  if (!existsSync(marker)) {
    console.log(`generating demo data (${populationRows.toLocaleString('en-US')} + ${customerRows.toLocaleString('en-US')} rows) in ${dataDir} …`);
    await generateDataset({ outDir: dataDir, populationRows, customerRows });
    writeFileSync(marker, new Date().toISOString());
  }
  return dataDir;
}

/** status, cancel, runs: what runs are doing and did. */
function addAuditCommands(program: Command, setExit: SetExit): void {
  program
    .command('status')
    .description("follow a run's progress until it ends; exit 0 if it succeeded, 1 if it failed or was cancelled")
    .argument('<workflow-id>')
    .option('--once', 'report the current state and return')
    .option('--interval <seconds>', 'seconds between polls', wholeNumber(1, 3600), 1)
    .option('--json', 'print the final state as JSON (nothing else on stdout)')
    .action(async (workflowId: string, o) => {
      exitOnSignals();
      const { watchStatus, statusEndLine } = await import('./audit');
      const tty = Boolean(process.stdout.isTTY) && !o.json;
      const result = await withClient((client) =>
        watchStatus(client, workflowId, {
          follow: !o.once,
          pollMs: o.interval * 1000,
          // On a terminal the line is redrawn in place; piped, each change is a line of its own (no \r frames).
          write: (line) => {
            if (o.json) return;
            process.stdout.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
          },
          warn: (line) => process.stderr.write(`${tty ? '\n' : ''}${line}\n`),
        }),
      );
      if (o.json) printJson(result);
      else {
        if (tty) process.stdout.write('\n');
        console.log(statusEndLine(result));
      }
      setExit(result.status === 'COMPLETED' || (o.once && result.status === 'RUNNING') ? EXIT.ok : EXIT.failed);
    });

  program
    .command('cancel')
    .description('request cancellation of a run (its running steps are cancelled too)')
    .argument('<workflow-id>')
    .action(async (workflowId: string) => {
      exitOnSignals();
      await withClient(async (client) => {
        await client.workflow.getHandle(workflowId).cancel();
        console.log(`cancellation requested for ${workflowId}; segments status ${workflowId} shows when it has stopped`);
      });
    });

  program
    .command('runs')
    .description('past runs from Temporal visibility, newest first')
    .option('--month <YYYY-MM>', 'only runs for this month', parseMonth)
    .option('--outcome <outcome>', 'only runs whose outcome starts with this: succeeded, failed, failed:drift, cancelled, terminated, running')
    .option('--dataset <name>', 'only runs of this dataset (config "dataset")')
    .option('--limit <n>', 'runs per page', wholeNumber(1, 1000), 20)
    .option('--page <n>', 'which page (1 = newest)', wholeNumber(1), 1)
    .option('--json', 'machine-readable output')
    .action(async (o) => {
      exitOnSignals();
      const { listRuns, formatRuns } = await import('./audit');
      const listing = await withClient((client) => listRuns(client, { month: o.month, outcome: o.outcome, dataset: o.dataset, limit: o.limit, page: o.page }));
      if (o.json) printJson(listing);
      else console.log(formatRuns(listing));
    });
}

/** score, generate: a finished run's model applied to a file; demo data in the real format. */
function addModelCommands(program: Command): void {
  program
    .command('score')
    .description("assign a file's rows to a finished run's segments through its stored, fitted model")
    .requiredOption('--run <dir>', "a finished run's output folder (holds model/)")
    .requiredOption('--input <file>', 'CSV with the same columns')
    .requiredOption('--out <file.parquet>', 'where to write row → cluster')
    .action(async (o) => {
      requireDir(resolve(o.run, 'model'), '--run (its model/ folder)');
      requireFile(o.input, '--input');
      const { scoreFile } = await import('../core/scoring');
      const scored = await scoreFile({ modelDir: resolve(o.run, 'model'), input: resolve(o.input), outPath: resolve(o.out) });
      console.log(`scored ${scored.rows.toLocaleString('en-US')} rows (${scored.heavyRows.toLocaleString('en-US')} heavy-missing) → ${scored.outPath}`);
      for (const [cluster, count] of Object.entries(scored.clusterCounts)) console.log(`  cluster ${cluster.padStart(3)}: ${count.toLocaleString('en-US')}`);
    });

  program
    .command('generate')
    .description('write demo data in the real format (population, customers, feature summary, truth)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--population-rows <n>', 'population rows', wholeNumber(1))
    .option('--customer-rows <n>', 'customer rows', wholeNumber(1))
    .option('--seed <n>', 'random seed', wholeNumber(0))
    .action(async (o) => {
      const { generateDataset } = await import('../tools/generator');
      const summary = await generateDataset({ outDir: resolve(o.out), populationRows: o.populationRows, customerRows: o.customerRows, seed: o.seed });
      console.log(`wrote ${summary.populationRows.toLocaleString('en-US')} population and ${summary.customerRows.toLocaleString('en-US')} customer rows to ${summary.outDir} in ${summary.seconds.toFixed(1)}s`);
    });
}

/** The schedule's id option (every schedule subcommand). */
const scheduleIdOption = () => new Option('--id <schedule-id>', 'schedule id').default('segments-monthly');

/** What a start does while a run of the schedule is still going. */
function overlapOption(fallback: string | undefined, what: string): Option {
  const option = new Option('--overlap <policy>', what).choices(['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all']);
  return fallback ? option.default(fallback) : option;
}

/** Runs `work` on schedule `id`; a missing schedule is exit 3 with how to create it. */
async function scheduleNotFound<T>(id: string, work: () => Promise<T>): Promise<T> {
  const { ScheduleNotFoundError } = await import('@temporalio/client');
  try {
    return await work();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError || /workflow not found for ID: temporal-sys-scheduler/.test(String((error as Error).message))) {
      throw new NotFoundError(`no schedule "${id}" — create it with \`segments schedule create …\`${id === 'segments-monthly' ? ' (or pass --id)' : ''}`);
    }
    throw error;
  }
}

/** schedule create | describe | pause | unpause | delete | trigger | backfill: the monthly re-segmentation. */
function addScheduleCommands(program: Command, setExit: SetExit): void {
  const schedule = program.command('schedule').description('the monthly re-segmentation (a Temporal Schedule)');
  schedule.action(() => {
    schedule.outputHelp({ error: true });
    setExit(EXIT.usage);
  });
  addScheduleSetup(schedule);
  addScheduleControls(schedule);
}

/** schedule create, describe. */
function addScheduleSetup(schedule: Command): void {
  addRunInputOptions(schedule.command('create'), true)
    .description('create the monthly schedule; paths may hold {YYYY-MM} (also {YYYY}, {MM}), filled per run')
    .option('--day-of-month <n>', 'day of each run', wholeNumber(1, 31), 1)
    .option('--hour <n>', 'UTC hour of each run', wholeNumber(0, 23), 2)
    .option('--catchup-window <duration>', 'how far back missed runs are caught up, e.g. "30 days"', parseCatchupWindow, '30 days')
    .option('--paused', 'create it paused')
    .option('--json', 'print the schedule as JSON')
    .addOption(scheduleIdOption())
    .action(async (o) => {
      requireInputs(o);
      const config = await readConfig(o.config, o.k);
      exitOnSignals();
      const { createSchedule, scheduleSummary, formatScheduleSummary } = await import('./schedule');
      await withClient(async (client) => {
        await createSchedule({
          client,
          scheduleId: o.id,
          population: o.population,
          customers: o.customers,
          featureSummary: o.features,
          outDir: o.out,
          storeDir: o.store,
          config,
          dayOfMonth: o.dayOfMonth,
          hour: o.hour,
          catchupWindow: o.catchupWindow,
          paused: o.paused,
          taskQueue: taskQueueFromEnv(),
        });
        const summary = await scheduleSummary(client, o.id);
        if (o.json) printJson(summary);
        else console.log(formatScheduleSummary(summary));
      });
    });

  schedule
    .command('describe')
    .description('when the schedule runs, what it reads and writes, its recent runs')
    .addOption(scheduleIdOption())
    .option('--json', 'machine-readable output')
    .action(async (o) => {
      exitOnSignals();
      const { scheduleSummary, formatScheduleSummary } = await import('./schedule');
      const summary = await withClient((client) => scheduleNotFound(o.id, () => scheduleSummary(client, o.id)));
      if (o.json) printJson(summary);
      else console.log(formatScheduleSummary(summary));
    });
}

/** schedule pause, unpause, delete, trigger, backfill. */
function addScheduleControls(schedule: Command): void {
  for (const action of ['pause', 'unpause', 'delete'] as const) {
    schedule
      .command(action)
      .description(action === 'delete' ? 'delete the schedule (its past runs stay in the history)' : `${action} the schedule`)
      .addOption(scheduleIdOption())
      .action(async (o) => {
        exitOnSignals();
        await withClient((client) =>
          scheduleNotFound(o.id, async () => {
            const handle = client.schedule.getHandle(o.id);
            if (action === 'pause') await handle.pause('paused from the CLI');
            else if (action === 'unpause') await handle.unpause('unpaused from the CLI');
            else await handle.delete();
          }),
        );
        console.log(`schedule ${o.id} ${action === 'delete' ? 'deleted' : `${action}d`}`);
      });
  }

  schedule
    .command('trigger')
    .description('start a run now (for the current month)')
    .addOption(scheduleIdOption())
    .addOption(overlapOption(undefined, "what if a run of the schedule is still going (default: the schedule's policy, skip)"))
    .action(async (o) => {
      exitOnSignals();
      const { OVERLAP_POLICIES } = await import('./schedule');
      await withClient((client) => scheduleNotFound(o.id, () => client.schedule.getHandle(o.id).trigger(o.overlap ? OVERLAP_POLICIES[o.overlap as keyof typeof OVERLAP_POLICIES] : undefined)));
      console.log(`schedule ${o.id} triggered${o.overlap ? ` (overlap ${o.overlap})` : ''}`);
    });

  schedule
    .command('backfill')
    .description('run the schedule for past months: every month from --from to --to, one after another, each on its own files')
    .requiredOption('--from <YYYY-MM-DD>', 'first day covered', parseDate)
    .requiredOption('--to <YYYY-MM-DD>', 'last day covered', parseDate)
    .addOption(scheduleIdOption())
    .addOption(overlapOption('buffer-all', 'what if a run is still going: buffer-all queues each month behind the previous'))
    .action(async (o) => {
      const to = o.to as Date;
      const from = o.from as Date;
      // --to YYYY-MM-DD names a day: cover it whole.
      const endOfDay = to.getUTCHours() === 0 && to.getUTCMinutes() === 0 && to.getUTCSeconds() === 0 ? new Date(to.getTime() + 86_399_999) : to;
      if (endOfDay < from) throw new UsageError(`--to ${to.toISOString().slice(0, 10)} is before --from ${from.toISOString().slice(0, 10)}`);
      exitOnSignals();
      const { backfillSchedule, OVERLAP_POLICIES } = await import('./schedule');
      const months = await withClient((client) => scheduleNotFound(o.id, () => backfillSchedule(client, o.id, from, endOfDay, OVERLAP_POLICIES[o.overlap as keyof typeof OVERLAP_POLICIES])));
      console.log(`schedule ${o.id}: backfill of ${months.join(', ')} requested (overlap ${o.overlap}); segments runs lists them as they run`);
    });
}

/** server, worker: the persistent dev server and a stand-alone worker. */
function addServerCommands(program: Command): void {
  program
    .command('server')
    .description('the persistent dev server in the foreground (UI on :8233 by default)')
    .option('--port <n>', 'frontend port', wholeNumber(1, 65535), 7233)
    .option('--ui-port <n>', 'UI port (default port + 1000)', wholeNumber(1, 65535))
    .option('--db <file>', 'SQLite file (default .temporal/dev.db)')
    .action(async (o) => {
      const { startDevServer } = await import('../temporal/dev-server');
      // Ctrl-C stops the server, also while it is still starting.
      let server: import('../temporal/dev-server').DevServerHandle | undefined;
      let stopRequested = false;
      const stop = () => {
        stopRequested = true;
        void server?.stop();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      server = await startDevServer({ log, stopOnProcessExit: true, port: o.port, ...(o.uiPort ? { uiPort: o.uiPort } : o.port !== 7233 ? { uiPort: o.port + 1000 } : {}), ...(o.db ? { dbFilename: resolve(o.db) } : {}) });
      if (stopRequested) return void (await server.stop());
      console.log(`Temporal dev server on ${server.address} (data: ${server.dbFilename})`);
      if (server.uiUrl) console.log(`UI: ${server.uiUrl}`);
      console.log('Ctrl-C stops it.');
      await server.exited;
    });

  program
    .command('worker')
    .description('a worker against TEMPORAL_ADDRESS or the local server (graceful shutdown on SIGTERM; settings in worker/run-worker.ts)')
    .option('--task-queue <name>', 'task queue to poll (default TEMPORAL_TASK_QUEUE or customer-segments)')
    .option('--give-up-after <seconds>', 'stop waiting for the server after this many seconds (default: wait, with backoff, until it answers)')
    .action(async (o) => {
      await installWorkerRuntime();
      const { runWorker } = await import('../worker/run-worker');
      const giveUp = o.giveUpAfter === undefined ? Infinity : Number(o.giveUpAfter) * 1000;
      if (!(giveUp > 0)) throw new UsageError(`--give-up-after must be a positive number of seconds, got "${o.giveUpAfter}"`);
      await runWorker({ log, connect: { connectTimeoutMs: giveUp, logAttempts: true }, ...(o.taskQueue ? { taskQueue: o.taskQueue } : {}) });
    });
}

/** Every command: usage errors as one line naming the fix, exit 2 (commander's own exit is overridden). */
function configureErrors(command: Command, path: string): void {
  command.exitOverride();
  command.configureOutput({
    outputError: (message, write) => write(`segments${path ? ` ${path}` : ''}: ${message.replace(/^error: /, '').trimEnd()} — see: segments${path ? ` ${path}` : ''} --help\n`),
  });
  for (const sub of command.commands) configureErrors(sub, path ? `${path} ${sub.name()}` : sub.name());
}

/** Runs the CLI and returns its exit code. */
export async function cli(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    console.log(versionString());
    return EXIT.ok;
  }
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => (exitCode = code));
  configureErrors(program, '');
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportError(error);
  }
}

async function reportError(error: unknown): Promise<number> {
  if (error instanceof UsageError) {
    console.error(`segments: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof NotFoundError) {
    console.error(`segments: ${error.message}`);
    return EXIT.notFound;
  }
  const [{ WorkflowNotFoundError }, { RetryRefused }] = await Promise.all([import('@temporalio/common'), import('./retry')]);
  if (error instanceof WorkflowNotFoundError || (error as { name?: string }).name === 'WorkflowNotFoundError') {
    console.error(`segments: no workflow "${(error as { workflowId?: string }).workflowId ?? ''}" — \`segments runs\` lists the runs`);
    return EXIT.notFound;
  }
  if (error instanceof RetryRefused) {
    console.error(`segments: ${error.message}`);
    return EXIT.usage;
  }
  const failure = error as Error & { cause?: Error };
  let message = failure?.message ?? String(error);
  for (let cause = failure?.cause; cause; cause = (cause as Error & { cause?: Error }).cause) message += `\n  caused by: ${cause.message}`;
  console.error(`segments: ${message}`);
  return EXIT.failed;
}

/** Entry point of bin/segments.js: runs, then exits (native connections would keep the event loop alive). */
export function runCli(argv: string[]): void {
  // `segments status ID | head -3`: a closed pipe ends the command quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
    throw error;
  });
  cli(argv)
    .catch(reportError)
    .then((code) => process.exit(code));
}
