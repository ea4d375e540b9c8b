/**
 * `segments`: the command line. Each command is a small function; the heavy lifting is in the workflow.
 *   segments demo                      generate demo data, start the embedded server + a worker, run
 *   segments run --population P --customers C --features F --out DIR [--config FILE] [--k N] [--detach]
 *   segments score --run DIR --input FILE --out FILE.parquet
  segments status WORKFLOW_ID | segments cancel WORKFLOW_ID | segments runs
  segments schedule create --population P --customers C --features F --out DIR [--day-of-month 1] [--hour 2] [--catchup-window "30 days"] [--id ID]
  segments schedule describe|pause|unpause|trigger|delete [--id ID]
  segments schedule backfill --from YYYY-MM-DD --to YYYY-MM-DD [--id ID]
  segments generate --out DIR [--population-rows N] [--customer-rows M] [--seed S]
 *   segments status ID | cancel ID | runs     watch, cancel, list runs (from Temporal visibility)
 *   segments schedule create|describe|pause|unpause|trigger|backfill|delete   the monthly re-segmentation
 *   segments server                    the persistent dev server in the foreground (UI on :8233)
 *   segments worker                    a worker against TEMPORAL_ADDRESS or the local server
 */
import { Client, ScheduleOverlapPolicy } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateDataset } from '../core/generator';
import { scoreFile } from '../core/scoring';
import { PipelineConfigInput } from '../schemas/config';
import { connectToTemporal } from '../temporal/connection';
import { startDevServer } from '../temporal/dev-server';
import { runWorker } from '../worker/main';
import { createWorker } from '../worker/worker';
import { listRuns, watchStatus } from './audit';
import { followRun, formatStepLine, startRun } from './run';
import { DEFAULT_SCHEDULE_ID, createSchedule, describeSchedule } from './schedule';

const USAGE = `usage:
  segments demo [--population-rows N] [--customer-rows M] [--out DIR]
  segments run --population FILE --customers FILE --features FILE --out DIR [--config FILE] [--k N] [--previous DIR] [--detach] [--no-worker]
  segments score --run DIR --input FILE --out FILE.parquet
  segments status WORKFLOW_ID | segments cancel WORKFLOW_ID | segments runs
  segments schedule create --population P --customers C --features F --out DIR [--day-of-month 1] [--hour 2] [--catchup-window "30 days"] [--id ID]
  segments schedule describe|pause|unpause|trigger|delete [--id ID]
  segments schedule backfill --from YYYY-MM-DD --to YYYY-MM-DD [--id ID]
  segments generate --out DIR [--population-rows N] [--customer-rows M] [--seed S]
  segments server
  segments worker

Without TEMPORAL_ADDRESS the commands start (and reuse) an embedded Temporal dev server with its data in .temporal/.`;

const log = (message: string) => console.error(message);

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  return parsed;
}

class UsageError extends Error {}

function readConfigFile(path: string | undefined): PipelineConfigInput {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PipelineConfigInput;
  } catch (error) {
    throw new UsageError(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
}

interface RunArgs {
  population: string;
  customers: string;
  featureSummary: string;
  outDir: string;
  config: PipelineConfigInput;
  detach: boolean;
  worker: boolean;
  previousOutDir?: string;
}

/** Starts the workflow, runs a worker in this process unless told not to, prints steps as they finish. */
async function runPipeline(args: RunArgs): Promise<void> {
  const temporal = await connectToTemporal({ log });
  try {
    const client = new Client({ connection: temporal.connection, namespace: temporal.namespace });
    const handle = await startRun({ client, ...args });
    console.log(`workflow ${handle.workflowId} started${temporal.uiUrl ? ` — ${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows/${handle.workflowId}` : ''}`);
    if (args.detach) return;
    const follow = () =>
      followRun(handle, (step) => console.log(formatStepLine(step))).then((outcome) => {
        console.log(`\n${outcome.summaryTable}\n`);
        console.log(`results: ${outcome.outDir}/results.json\nreport:  ${outcome.outDir}/report.html`);
      });
    if (!args.worker) return await follow();
    const worker = await createWorker({ connection: await temporal.getNativeConnection(), namespace: temporal.namespace });
    await worker.runUntil(follow());
  } finally {
    await temporal.close();
  }
}

/** Runs `work` with a client of the configured (or embedded) server; for commands that only talk to Temporal. */
async function withClient(work: (client: Client) => Promise<void>): Promise<void> {
  const temporal = await connectToTemporal({ log });
  try {
    await work(new Client({ connection: temporal.connection, namespace: temporal.namespace }));
  } finally {
    await temporal.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      population: { type: 'string' },
      customers: { type: 'string' },
      features: { type: 'string' },
      out: { type: 'string' },
      config: { type: 'string' },
      run: { type: 'string' },
      previous: { type: 'string' },
      input: { type: 'string' },
      k: { type: 'string' },
      seed: { type: 'string' },
      'population-rows': { type: 'string' },
      'customer-rows': { type: 'string' },
      id: { type: 'string' },
      'day-of-month': { type: 'string' },
      hour: { type: 'string' },
      'catchup-window': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      paused: { type: 'boolean', default: false },
      detach: { type: 'boolean', default: false },
      'no-worker': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const config = readConfigFile(values.config);
  const k = integer(values.k, 'k');
  if (k !== undefined) config.k = k;

  switch (command) {
    case 'generate': {
      if (!values.out) throw new UsageError('generate needs --out DIR');
      const summary = await generateDataset({
        outDir: resolve(values.out),
        populationRows: integer(values['population-rows'], 'population-rows'),
        customerRows: integer(values['customer-rows'], 'customer-rows'),
        seed: integer(values.seed, 'seed'),
      });
      console.log(`wrote ${summary.populationRows.toLocaleString('en-US')} population and ${summary.customerRows.toLocaleString('en-US')} customer rows to ${summary.outDir} in ${summary.seconds.toFixed(1)}s`);
      return;
    }
    case 'demo': {
      const dataDir = resolve('demo-data');
      const populationRows = integer(values['population-rows'], 'population-rows') ?? 200_000;
      const customerRows = integer(values['customer-rows'], 'customer-rows') ?? Math.round((populationRows * 191_652) / 891_221);
      const marker = resolve(dataDir, `.generated-${populationRows}-${customerRows}`);
      if (!existsSync(marker)) {
        console.log(`generating demo data (${populationRows.toLocaleString('en-US')} + ${customerRows.toLocaleString('en-US')} rows) in ${dataDir} …`);
        await generateDataset({ outDir: dataDir, populationRows, customerRows });
        writeFileSync(marker, new Date().toISOString());
      }
      await runPipeline({
        population: resolve(dataDir, 'Udacity_AZDIAS_Subset.csv'),
        customers: resolve(dataDir, 'Udacity_CUSTOMERS_Subset.csv'),
        featureSummary: resolve(dataDir, 'AZDIAS_Feature_Summary.csv'),
        outDir: resolve(values.out ?? 'demo-output'),
        config,
        detach: false,
        worker: true,
      });
      return;
    }
    case 'run': {
      const missing = ['population', 'customers', 'features', 'out'].filter((name) => !values[name as keyof typeof values]);
      if (missing.length) throw new UsageError(`run needs ${missing.map((m) => `--${m}`).join(', ')}`);
      await runPipeline({
        population: values.population!,
        customers: values.customers!,
        featureSummary: values.features!,
        outDir: values.out!,
        config,
        detach: values.detach!,
        worker: !values['no-worker'] && !values.detach,
        previousOutDir: values.previous,
      });
      return;
    }
    case 'score': {
      if (!values.run || !values.input || !values.out) throw new UsageError('score needs --run DIR --input FILE --out FILE.parquet');
      const scored = await scoreFile({ modelDir: resolve(values.run, 'model'), input: resolve(values.input), outPath: resolve(values.out) });
      console.log(`scored ${scored.rows.toLocaleString('en-US')} rows (${scored.heavyRows.toLocaleString('en-US')} heavy-missing) → ${scored.outPath}`);
      for (const [cluster, count] of Object.entries(scored.clusterCounts)) console.log(`  cluster ${cluster.padStart(3)}: ${count.toLocaleString('en-US')}`);
      return;
    }
    case 'status':
    case 'cancel': {
      const workflowId = positionals[0];
      if (!workflowId) throw new UsageError(`${command} needs a workflow id`);
      await withClient(async (client) => {
        if (command === 'cancel') {
          await client.workflow.getHandle(workflowId).cancel();
          console.log(`cancellation requested for ${workflowId}`);
          return;
        }
        const status = await watchStatus(client, workflowId, (line) => process.stdout.write(`\r${line}`));
        process.stdout.write('\n');
        if (status !== 'COMPLETED') process.exitCode = 1;
      });
      return;
    }
    case 'runs':
      await withClient(async (client) => console.log(await listRuns(client)));
      return;
    case 'schedule': {
      const action = positionals[0];
      const scheduleId = values.id ?? DEFAULT_SCHEDULE_ID;
      await withClient(async (client) => {
        const handle = client.schedule.getHandle(scheduleId);
        switch (action) {
          case 'create': {
            const missing = ['population', 'customers', 'features', 'out'].filter((name) => !values[name as keyof typeof values]);
            if (missing.length) throw new UsageError(`schedule create needs ${missing.map((m) => `--${m}`).join(', ')} (paths may hold {YYYY-MM})`);
            await createSchedule({
              client,
              scheduleId,
              population: values.population!,
              customers: values.customers!,
              featureSummary: values.features!,
              outDir: values.out!,
              config,
              dayOfMonth: integer(values['day-of-month'], 'day-of-month'),
              hour: integer(values.hour, 'hour'),
              catchupWindow: values['catchup-window'],
              paused: values.paused,
            });
            console.log(await describeSchedule(client, scheduleId));
            return;
          }
          case 'describe':
            console.log(await describeSchedule(client, scheduleId));
            return;
          case 'pause':
          case 'unpause':
            await (action === 'pause' ? handle.pause('paused from the CLI') : handle.unpause('unpaused from the CLI'));
            console.log(`schedule ${scheduleId} ${action}d`);
            return;
          case 'trigger':
            await handle.trigger(ScheduleOverlapPolicy.SKIP); // the schedule's policy: a run already going means this one is skipped
            console.log(`schedule ${scheduleId} triggered`);
            return;
          case 'backfill': {
            if (!values.from || !values.to) throw new UsageError('schedule backfill needs --from YYYY-MM-DD --to YYYY-MM-DD');
            await handle.backfill({ start: new Date(values.from), end: new Date(values.to) });
            console.log(`schedule ${scheduleId} backfilled ${values.from} .. ${values.to}`);
            return;
          }
          case 'delete':
            await handle.delete();
            console.log(`schedule ${scheduleId} deleted`);
            return;
          default:
            throw new UsageError('schedule needs one of create | describe | pause | unpause | trigger | backfill | delete');
        }
      });
      return;
    }
    case 'server': {
      const server = await startDevServer({ log, stopOnProcessExit: true });
      console.log(`Temporal dev server on ${server.address} (data: ${server.dbFilename})`);
      if (server.uiUrl) console.log(`UI: ${server.uiUrl}`);
      console.log('Ctrl-C stops it.');
      const stop = () => void server.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await server.exited;
      return;
    }
    case 'worker': {
      // Graceful shutdown on SIGINT/SIGTERM, prebuilt bundle from WORKFLOW_BUNDLE, settings from the environment (worker/main.ts).
      await runWorker({ log });
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

// The SDK's own logs (webpack bundling, worker state) only at WARN and above: the CLI prints its own progress.
Runtime.install({ logger: new DefaultLogger((process.env.SEGMENTS_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN') });

main(process.argv.slice(2))
  .then(() => 0)
  .catch((error: unknown) => {
    if (error instanceof UsageError) {
      console.error(error.message);
      return 2;
    }
    const failure = error as Error & { cause?: Error };
    // A failed workflow carries the step's own message in its cause chain.
    let message = failure.message ?? String(error);
    for (let cause = failure.cause; cause; cause = (cause as Error & { cause?: Error }).cause) message += `\n  caused by: ${cause.message}`;
    console.error(`segments: ${message}`);
    return 1;
  })
  // Native connections and the Temporal runtime keep the event loop alive; a CLI command is done here.
  .then((code) => process.exit(code));
