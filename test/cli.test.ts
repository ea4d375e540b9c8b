/**
 * The README's commands as a user runs them — `segments …` in its own process against the real dev server of
 * the jest global setup: help, version, usage errors, generate, run (hosting its worker), run --detach, worker,
 * status, runs, score, retry (after a failed step, and after a killed worker and a cancel), cancel, server.
 * Asserts on output and exit codes. Small generated data (6,000 + 1,500 rows) keeps it quick.
 */
import { Client, Connection } from '@temporalio/client';
import { ChildProcess, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from '../temporal/dev-server';
import { cliTestSetup, collect, connectTestClient, segments, spawnSegments, waitForText } from './support/cli';

jest.setTimeout(10 * 60_000);

/** Every command of this file talks to the test server and puts runs on a task queue of its own. */
const { root, taskQueue, env, dataset, configFile } = cliTestSetup('cli');
const data = join(root, 'data');
const inputs = () => ['--population', join(data, 'Udacity_AZDIAS_Subset.csv'), '--customers', join(data, 'Udacity_CUSTOMERS_Subset.csv'), '--features', join(data, 'AZDIAS_Feature_Summary.csv')];

let client: Client;
let connection: Connection;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  ({ client, connection } = await connectTestClient());
});

afterAll(async () => {
  worker?.kill('SIGKILL');
  await connection?.close();
});

async function startWorker(): Promise<ChildProcess> {
  const child = spawnSegments(['worker'], env);
  await waitForText(child, 'polling');
  return child;
}

function stopWorker(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Activity seconds per step from the history (scheduled → closed), to quote what a retry took per step. */
async function activitySeconds(workflowId: string, runId?: string): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const scheduled = new Map<string, { type: string; at: number }>();
  const seconds: Record<string, number> = {};
  for (const event of history.events ?? []) {
    const at = Number(event.eventTime?.seconds ?? 0) * 1000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6);
    const attrs = event.activityTaskScheduledEventAttributes;
    if (attrs) scheduled.set(String(event.eventId), { type: attrs.activityType?.name ?? '?', at });
    const done = event.activityTaskCompletedEventAttributes;
    if (done) {
      const start = scheduled.get(String(done.scheduledEventId));
      if (start) seconds[start.type] = Math.max(seconds[start.type] ?? 0, (at - start.at) / 1000);
    }
  }
  return seconds;
}

describe('help, version and usage errors (no server needed)', () => {
  test('--help, -h and help print the usage and exit 0; each command has its own help', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const result = await segments(args);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: segments');
      for (const command of ['run', 'retry', 'status', 'cancel', 'runs', 'score', 'generate', 'schedule', 'server', 'worker']) expect(result.stdout).toContain(command);
      expect(result.stdout).toMatch(/Exit codes: 0 succeeded, 1 .*2 usage/);
    }
    const run = await segments(['run', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: segments run');
    expect(run.stdout).toContain('--store <dir>');
    expect(run.stdout).toContain('--previous <dir>');
    const backfill = await segments(['schedule', 'backfill', '-h']);
    expect(backfill.code).toBe(0);
    expect(backfill.stdout).toContain('Usage: segments schedule backfill');
    expect(backfill.stdout).toContain('buffer-all');
    for (const command of [['status'], ['runs'], ['retry'], ['score'], ['cancel'], ['schedule', 'describe'], ['schedule', 'trigger'], ['server'], ['worker'], ['generate']]) {
      const help = await segments([...command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: segments ${command.join(' ')}`);
    }
  });

  test('--version prints the package version and the git commit', async () => {
    const result = await segments(['--version']);
    expect(result.code).toBe(0);
    const version = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version as string;
    expect(result.stdout).toContain(`customer-segments ${version}`);
    const git = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: join(__dirname, '..') });
    if (git.status === 0) expect(result.stdout).toContain(git.stdout.toString().trim());
  });

  test('unknown commands, unknown flags and bad values: one line naming the fix, exit 2, before any server is sought', async () => {
    // No reachable server and no CLI to start one: any attempt to connect would fail or hang, not exit 2.
    const offline = { TEMPORAL_ADDRESS: '127.0.0.1:1', TEMPORAL_CLI_PATH: '/nonexistent/temporal' };
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate'], /unknown command 'frobnicate'.*segments --help/],
      [['runs', '--bogus'], /unknown option '--bogus'.*segments runs --help/],
      [['run', ...inputs(), '--out', join(root, 'x'), '--bogus'], /unknown option '--bogus'/],
      [['runs', '--month', '2026-13'], /'--month <YYYY-MM>' argument '2026-13' is invalid\. expected a month as YYYY-MM/],
      [['runs', '--limit', 'lots'], /--limit/],
      [['schedule', 'backfill', '--from', '2026-13-01', '--to', '2026-02-01'], /"2026-13-01" is not a calendar date.*YYYY-MM-DD/],
      [['schedule', 'backfill', '--from', '2026-02-30', '--to', '2026-03-01'], /not a calendar date/],
      [['schedule', 'backfill', '--from', '2026-03-01', '--to', '2026-01-01'], /--to 2026-01-01 is before --from 2026-03-01/],
      [['schedule', 'trigger', '--overlap', 'sometimes'], /Allowed choices are skip, buffer-one, buffer-all/],
      [['schedule', 'create', '--population', 'p', '--customers', 'c', '--features', 'f', '--out', 'o', '--hour', '25'], /--hour <n>.*from 0 to 23/],
      [['status'], /missing required argument 'workflow-id'/],
      [['run', '--population', join(root, 'missing.csv'), '--customers', 'c', '--features', 'f', '--out', 'o'], /--population .*missing\.csv: no such file/],
      [['run', ...inputs(), '--out', join(root, 'x'), '--k', 'three'], /--k <n>.*expected a whole number/],
    ];
    // The inputs must exist for the checks that come after the file check.
    mkdirSync(data, { recursive: true });
    for (const name of ['Udacity_AZDIAS_Subset.csv', 'Udacity_CUSTOMERS_Subset.csv', 'AZDIAS_Feature_Summary.csv']) if (!existsSync(join(data, name))) writeFileSync(join(data, name), '');
    for (const [args, pattern] of cases) {
      const result = await segments(args, offline, 30_000);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(pattern);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stdout).toBe('');
    }
    const bad = join(root, 'bad-config.json');
    writeFileSync(bad, JSON.stringify({ kMin: 'two' }));
    const config = await segments(['run', ...inputs(), '--out', join(root, 'x'), '--config', bad], offline, 30_000);
    expect(config.code).toBe(2);
    expect(config.stderr).toContain(`--config ${bad}`);
  });

  test('bin/segments.js before a build says to run npm run build (no MODULE_NOT_FOUND stack)', () => {
    const fake = mkdtempSync(join(tmpdir(), 'segments-unbuilt-'));
    mkdirSync(join(fake, 'bin'));
    copyFileSync(join(__dirname, '..', 'bin', 'segments.js'), join(fake, 'bin', 'segments.js'));
    const result = spawnSync(process.execPath, [join(fake, 'bin', 'segments.js'), '--help']);
    expect(result.status).toBe(4);
    expect(result.stderr.toString()).toContain('npm run build');
    expect(result.stderr.toString()).not.toContain('MODULE_NOT_FOUND');
  });
});

describe('against the dev server', () => {
  const good = join(root, 'out-good');
  let failedId: string;

  test('generate writes the demo files', async () => {
    const result = await segments(['generate', '--out', data, '--population-rows', '6000', '--customer-rows', '1500', '--seed', '11']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/wrote 6,000 population and 1,500 customer rows/);
    expect(readFileSync(join(data, 'Udacity_AZDIAS_Subset.csv'), 'utf8').split('\n').length).toBeGreaterThan(6000);
  });

  test('run hosts a worker, prints each step and the results; the store is <out>/artifacts', async () => {
    const result = await segments(['run', ...inputs(), '--out', good, '--config', configFile], env);
    expect(result.stderr).not.toContain('Error');
    expect(result.code).toBe(0);
    for (const step of ['ingest', 'recode', 'missingness', 'split', 'encode', 'scale', 'pca', 'sweep', 'kmeans', 'map', 'compare', 'drift', 'report']) {
      expect(result.stdout).toMatch(new RegExp(`✓ ${step}\\b`));
    }
    expect(result.stdout).toContain(`results: ${good}/results.json`);
    expect(existsSync(join(good, 'results.json'))).toBe(true);
    expect(existsSync(join(good, 'artifacts', 'ingest'))).toBe(true);
  });

  test('score assigns a file through the finished run', async () => {
    const out = join(root, 'scored.parquet');
    const result = await segments(['score', '--run', good, '--input', join(data, 'Udacity_CUSTOMERS_Subset.csv'), '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/scored 1,500 rows/);
    expect(existsSync(out)).toBe(true);
  });

  test('status of a run with no worker warns, --once returns, and SIGTERM ends a watching status at once', async () => {
    const lonely = { ...env, TEMPORAL_TASK_QUEUE: `${taskQueue}-nobody` };
    const started = await segments(['run', ...inputs(), '--out', join(root, 'out-lonely'), '--config', configFile, '--detach', '--json'], lonely);
    expect(started.code).toBe(0);
    const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
    try {
      const once = await segments(['status', workflowId, '--once'], env);
      expect(once.code).toBe(0);
      expect(once.stderr).toContain(`no worker polls task queue "${taskQueue}-nobody"`);
      expect(once.stdout).toMatch(/RUNNING/);

      const watching = spawnSegments(['status', workflowId], env);
      await waitForText(watching, 'RUNNING');
      const sent = Date.now();
      watching.kill('SIGTERM');
      const ended = await collect(watching, 30_000);
      expect(ended.code).toBe(143);
      expect(Date.now() - sent).toBeLessThan(5_000);
    } finally {
      await client.workflow.getHandle(workflowId).terminate('test over');
    }
  });

  test('run --detach --json; status follows it line by line to a failure at drift (exit 1, root cause named); retry resumes from drift', async () => {
    worker = await startWorker();
    const bad = join(root, 'bad-previous');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'results.json'), JSON.stringify({ not: 'a results file' }));
    const out = join(root, 'out-drift');
    const started = await segments(['run', ...inputs(), '--out', out, '--config', configFile, '--previous', bad, '--detach', '--json'], env);
    expect(started.code).toBe(0);
    const detached = JSON.parse(started.stdout) as { workflowId: string; runId: string };
    expect(detached.workflowId).toMatch(/^segmentation-/);
    failedId = detached.workflowId;

    const status = await segments(['status', failedId], env);
    expect(status.code).toBe(1);
    expect(status.stdout).not.toContain('\r');
    const lines = status.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(2); // one line per change, not frames
    expect(lines[lines.length - 1]).toMatch(/^✗ drift failed — ValidationError: /);
    expect(status.stdout).toMatch(/failed:drift +FAILED/);

    const json = await segments(['status', failedId, '--json'], env);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as { status: string; outcome: string; failure: { step: string; type: string } };
    expect(parsed).toMatchObject({ status: 'FAILED', outcome: 'failed:drift', failure: { step: 'drift', type: 'ValidationError' } });

    // Fixed: match against the good run instead. Every step before drift comes from its checkpoint.
    const retry = await segments(['retry', failedId, '--previous', good, '--no-worker'], env);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain(`retrying ${failedId}`);
    expect(retry.stdout).toContain('failed at drift');
    for (const step of ['ingest', 'recode', 'missingness', 'split', 'encode', 'scale', 'pca', 'sweep', 'kmeans', 'map', 'compare']) {
      expect(retry.stdout).toMatch(new RegExp(`✓ ${step} .*\\(reused checkpoint\\)`));
    }
    expect(retry.stdout).toMatch(/✓ drift +[\d.]+s {2}previousRun=/);
    expect(retry.stdout).not.toMatch(/✓ drift .*reused/);
    expect(retry.stdout).toContain(`results: ${out}/results.json`);
    const perStep = await activitySeconds(failedId);
    const before = await activitySeconds(failedId, detached.runId);
    console.log(`retry after a failed drift: ${retry.seconds.toFixed(1)} s for the command; activity seconds ${JSON.stringify(perStep)}; in the failed run ${JSON.stringify(before)}`);
    const final = await segments(['status', failedId], env);
    expect(final.code).toBe(0);
    expect(final.stdout.trim().split('\n').pop()).toBe(`results: ${out}/results.json`);
  });

  test('runs lists runs newest first on SQLite visibility (no ORDER BY), with filters, paging and --json', async () => {
    const table = await segments(['runs', '--dataset', dataset], env);
    expect(table.code).toBe(0);
    expect(table.stderr).not.toContain('order by');
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^workflow id +status +month +k +outcome/);
    expect(table.stdout).toContain('succeeded');
    expect(table.stdout).toContain('failed:drift');
    const all = JSON.parse((await segments(['runs', '--dataset', dataset, '--json'], env)).stdout) as { runs: Array<{ workflowId: string; startTime: string; outcome: string }>; total: number };
    expect(all.total).toBe(4); // good, lonely (terminated, never picked up: found by the attributes set at start), failed, its retry
    const starts = all.runs.map((r) => r.startTime);
    expect([...starts].sort().reverse()).toEqual(starts);
    const failed = JSON.parse((await segments(['runs', '--dataset', dataset, '--outcome', 'failed', '--json'], env)).stdout) as typeof all;
    expect(failed.runs.map((r) => r.outcome)).toEqual(['failed:drift']);
    const terminated = JSON.parse((await segments(['runs', '--dataset', dataset, '--outcome', 'terminated', '--json'], env)).stdout) as typeof all;
    expect(terminated.total).toBe(1);
    const month = new Date().toISOString().slice(0, 7);
    const byMonth = JSON.parse((await segments(['runs', '--dataset', dataset, '--month', month, '--json'], env)).stdout) as typeof all;
    expect(byMonth.total).toBe(3); // the run no worker picked up has no month yet (the workflow sets it)
    const none = await segments(['runs', '--dataset', dataset, '--month', '1999-01'], env);
    expect(none.stdout.trim()).toBe('no runs found');
    const page2 = await segments(['runs', '--dataset', dataset, '--limit', '1', '--page', '2', '--json'], env);
    expect((JSON.parse(page2.stdout) as typeof all).runs.map((r) => r.workflowId)).toEqual([all.runs[1].workflowId]);
    const paged = await segments(['runs', '--dataset', dataset, '--limit', '1'], env);
    expect(paged.stdout).toMatch(/page 1 of \d+ .*--page 2/);
  });

  test('a run whose worker was killed, then cancelled: no pending activities, stage and outcome agree; retry reuses the finished steps', async () => {
    const slowConfig = join(root, 'config-slow.json');
    writeFileSync(slowConfig, JSON.stringify({ dataset, kMin: 2, kMax: 14, finalInits: 1, silhouetteSample: 200 }));
    const out = join(root, 'out-killed');
    const started = await segments(['run', ...inputs(), '--out', out, '--config', slowConfig, '--detach', '--json'], env);
    const { workflowId, runId } = JSON.parse(started.stdout) as { workflowId: string; runId: string };
    const handle = client.workflow.getHandle(workflowId);
    // Kill the worker once the sweep runs (earlier steps checkpointed).
    for (;;) {
      const progress = await handle.query<{ stage: string }>('progress').catch(() => ({ stage: '' }));
      if (progress.stage === 'sweep') break;
      if ((await handle.describe()).status.name !== 'RUNNING') throw new Error('the run ended before its sweep');
      await new Promise((r) => setTimeout(r, 200));
    }
    await stopWorker(worker);
    const cancel = await segments(['cancel', workflowId], env);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain(`cancellation requested for ${workflowId}`);
    // A new worker processes the cancellation; the killed worker's step is given up after its heartbeat timeout.
    worker = await startWorker();
    const status = await segments(['status', workflowId], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/cancelled:sweep +CANCELLED/);
    expect(status.stdout).not.toMatch(/failed:sweep/);
    expect(status.stdout.trim().split('\n').pop()).toMatch(/^✗ sweep cancelled/);
    const description = await handle.describe();
    expect(description.status.name).toBe('CANCELLED');
    expect((description.searchAttributes as Record<string, unknown[]>).SegmentsOutcome).toEqual(['cancelled']);
    expect(description.raw.pendingActivities ?? []).toHaveLength(0);

    const retry = await segments(['retry', workflowId, '--no-worker'], env);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('cancelled at sweep');
    for (const step of ['ingest', 'recode', 'missingness', 'split', 'encode', 'scale', 'pca']) {
      expect(retry.stdout).toMatch(new RegExp(`✓ ${step} .*\\(reused checkpoint\\)`));
    }
    expect(retry.stdout).toMatch(/✓ report/);
    const perStep = await activitySeconds(workflowId);
    const before = await activitySeconds(workflowId, runId);
    console.log(`retry after a killed worker and a cancel: ${retry.seconds.toFixed(1)} s for the command; activity seconds ${JSON.stringify(perStep)}; in the cancelled run ${JSON.stringify(before)}`);
    const runs = JSON.parse((await segments(['runs', '--dataset', dataset, '--outcome', 'cancelled', '--json'], env)).stdout) as { runs: Array<{ workflowId: string }> };
    expect(runs.runs.map((r) => r.workflowId)).toEqual([workflowId]);
  });

  test('Ctrl-C ends a run that hosts its worker at once (exit 130); the run goes on in Temporal', async () => {
    const lonely = { ...env, TEMPORAL_TASK_QUEUE: `${taskQueue}-interrupted` };
    const run = spawnSegments(['run', ...inputs(), '--out', join(root, 'out-interrupted'), '--config', configFile], lonely);
    const started = await waitForText(run, 'started');
    const workflowId = /workflow (\S+) started/.exec(started)![1];
    await new Promise((r) => setTimeout(r, 1000));
    const sent = Date.now();
    const exited = collect(run, 60_000);
    run.kill('SIGINT');
    const result = await exited;
    expect(result.code).toBe(130);
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(result.stderr).toContain(`interrupted: ${workflowId} goes on`);
    expect((await client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
    await client.workflow.getHandle(workflowId).terminate('interrupted by the test');
    // A terminated run resumes too (this retry hosts its worker, on the original's task queue).
    const retry = await segments(['retry', workflowId], env);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toMatch(/\(run \S+, terminated at \w+\)/);
    expect(retry.stdout).toContain(`results: ${join(root, 'out-interrupted')}/results.json`);
  });

  test('retry refuses a run that completed, and names an unknown workflow', async () => {
    const completed = await segments(['retry', failedId, '--no-worker'], env);
    expect(completed.code).toBe(2);
    expect(completed.stderr).toContain('completed; nothing to retry');
    const unknown = await segments(['status', 'no-such-run'], env);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('no workflow "no-such-run"');
  });

  test('worker stops gracefully on SIGTERM', async () => {
    const child = worker!;
    const exited = collect(child, 60_000);
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code).toBe(0);
    worker = undefined;
  });

  test('server runs a dev server in the foreground until Ctrl-C', async () => {
    const port = await getFreePort();
    const server = spawnSegments(['server', '--port', String(port), '--db', join(root, 'server.db')], { TEMPORAL_ADDRESS: '' });
    await waitForText(server, `Temporal dev server on 127.0.0.1:${port}`, 120_000);
    const probe = await segments(['runs'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    expect(probe.code).toBe(0);
    expect(probe.stdout.trim()).toBe('no runs found');
    const exited = collect(server, 60_000);
    server.kill('SIGINT');
    const result = await exited;
    expect(result.code).toBe(0);
  });
});
