/**
 * Quality bench (issue 9, not a jest test): the whole workflow on planted-truth data, data seeds × config seeds.
 * For every data set: is the chosen k the same whatever the config seed, how well do the clusters recover the
 * planted segments (ARI), is the final SSE within 0.2 % of the best of 50 seeded inits of our own k-means on the
 * same PCA scores (the yardstick), is the sweep's SSE curve monotone, does any cluster fall below the minimum size,
 * and does every planted over-/under-represented segment get the right verdict.
 *
 *   npm run build && node dist/bench/quality.js [--rows 150000] [--data-seeds 1,2,3] [--config-seeds 42,1,2]
 *                                               [--yardstick-inits 50] [--k-max N] [--data DIR] [--out FILE.json] [--keep]
 *                                               [--work DIR]   (a kept work folder: its checkpoints are reused)
 *
 * The config seeds of one data set share one checkpoint store: the steps up to PCA do not depend on the seed and
 * run once; the sweep, the stability fan-out and the final fit run per seed.
 * Temporal: a private in-memory dev server on a free port (TEMPORAL_CLI_PATH points at the CLI binary).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { followRun, startRun } from '../cli/run';
import { queryRows, quoteLiteral, toNumber, withDuckDb } from '../core/duckdb';
import { defaultThreads } from '../core/parallel';
import { kmeansBestOf } from '../core/parallel/kmeans-best-of';
import { INERT_RUNTIME } from '../core/steps/runtime';
import { acquireScoresMatrixAsync } from '../core/store/arrays';
import { parseConfig } from '../schemas/config';
import { ResultsSchema, type Results } from '../schemas/results';
import { connectToTemporal } from '../temporal/connection';
import { findProjectRoot } from '../temporal/project-root';
import { datasetInputs, TRUTH_FILE, TRUTH_POPULATION_FILE, type Truth } from '../tools/generator';
import { createWorker, WORKFLOWS_PATH } from '../worker/create-worker';
import { ensureDataset } from './datasets';
import { agreementWithTruth } from './run';
import type { Dataset } from './run';

interface QualityRun {
  dataSeed: number;
  configSeed: number;
  k: number;
  kReason: string | null;
  ari: number;
  finalSse: number;
  yardstickSse: number;
  /** (final − yardstick) / yardstick. */
  sseAboveYardstick: number;
  sseCurveMonotone: boolean;
  /** The sweep's SSE per k as the report shows it (refined points near the knee included), and the knee. */
  curve: { k: number; sse: number }[];
  knee: number | null;
  smallestCluster: number;
  verdicts: { segment: number; planted: 'over' | 'under'; cluster: number | null; got: string | null; lift: number | null; right: boolean }[];
  seconds: number;
}

function seedList(value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  return value.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isSafeInteger(n)) throw new Error(`not a seed: "${s}"`);
    return n;
  });
}

/** The PCA checkpoint of a store (one: the config seed does not change it). */
async function pcaScores(storeDir: string): Promise<{ path: string; rows: number; dims: number }> {
  const root = join(storeDir, 'pca');
  const keys = (await readdir(root)).filter((name) => !name.startsWith('.'));
  if (keys.length !== 1) throw new Error(`expected one PCA checkpoint in ${root}, found ${keys.length}`);
  const manifest = JSON.parse(await readFile(join(root, keys[0], 'manifest.json'), 'utf8')) as {
    output: { keptComponents: number; population: { rows: number; scores: string } };
  };
  return { path: join(root, keys[0], manifest.output.population.scores), rows: manifest.output.population.rows, dims: manifest.output.keptComponents };
}

/** The best SSE of `inits` seeded inits of our own k-means at k on the run's PCA scores (seeds unrelated to the run's). */
async function yardstick(storeDir: string, k: number, inits: number): Promise<number> {
  const scores = await pcaScores(storeDir);
  const lease = await acquireScoresMatrixAsync(scores.path, scores.rows, scores.dims);
  try {
    const config = parseConfig({});
    const options = { k, seed: 7_777_777, maxIterations: config.maxIterations, relativeTolerance: config.relativeTolerance, inits, threads: defaultThreads() };
    return (await kmeansBestOf(lease.matrix, scores.rows, scores.dims, options, INERT_RUNTIME)).sse;
  } finally {
    lease.release();
  }
}

/** Each planted over-/under-represented segment: the cluster most of its rows fall in, and that cluster's verdict. */
async function verdicts(outDir: string, data: Dataset, results: Results): Promise<QualityRun['verdicts']> {
  const truth = JSON.parse(await readFile(join(data.dir, TRUTH_FILE), 'utf8')) as Truth;
  const rows = await withDuckDb({}, (conn) =>
    queryRows(
      conn,
      `SELECT t.segment, a.cluster, count(*) AS n
         FROM read_parquet(${quoteLiteral(join(outDir, 'assignments', 'population.parquet'))}) a
         JOIN read_csv(${quoteLiteral(join(data.dir, TRUTH_POPULATION_FILE))}, delim=';', header=true, columns={'row': 'BIGINT', 'segment': 'INTEGER', 'heavy': 'INTEGER'}) t USING ("row")
        WHERE t.segment >= 0 AND a.cluster >= 0
        GROUP BY ALL ORDER BY n DESC`,
    ),
  );
  const majority = new Map<number, number>();
  for (const r of rows) if (!majority.has(toNumber(r.segment))) majority.set(toNumber(r.segment), toNumber(r.cluster));
  const planted: [number, 'over' | 'under'][] = [...truth.overRepresented.map((s) => [s, 'over'] as [number, 'over']), ...truth.underRepresented.map((s) => [s, 'under'] as [number, 'under'])];
  return planted.map(([segment, want]) => {
    const cluster = majority.get(segment) ?? null;
    const found = results.clusters.find((c) => c.id === cluster);
    // The verdict the run reports: the clean-row view when results.json has it, else the all-row one.
    const view = (found as { cleanRows?: { representation: string; lift: number } } | undefined)?.cleanRows ?? found;
    return { segment, planted: want, cluster, got: view?.representation ?? null, lift: view?.lift ?? null, right: view?.representation === want };
  });
}

function isMonotone(sweep: Results['kSweep']): boolean {
  const sorted = [...sweep].sort((a, b) => a.k - b.k);
  return sorted.every((p, i) => i === 0 || p.sse <= sorted[i - 1].sse);
}

// long because: the quality script read top to bottom (arguments, data seeds × config seeds, runs, yardstick, table), like the other bench scripts
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      'data-seeds': { type: 'string' },
      'config-seeds': { type: 'string' },
      'yardstick-inits': { type: 'string' },
      'k-max': { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      work: { type: 'string' },
    },
  });
  const root = findProjectRoot();
  const rows = Number((values.rows ?? '150000').replace(/_/g, ''));
  if (!Number.isSafeInteger(rows) || rows < 1000) throw new Error(`--rows must be a whole number ≥ 1000, got ${values.rows}`);
  const dataSeeds = seedList(values['data-seeds'], [1, 2, 3]);
  const configSeeds = seedList(values['config-seeds'], [42, 1, 2]);
  const yardstickInits = Number(values['yardstick-inits'] ?? 50);
  const kMax = values['k-max'] === undefined ? undefined : Number(values['k-max']);
  // The yardstick depends on the PCA scores (one per data set) and k only: computed once per (data set, k).
  const yardsticks = new Map<string, number>();
  const dataRoot = resolve(values.data ?? join(root, 'bench-data'));
  const outFile = resolve(values.out ?? join(root, 'bench-output', `quality-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));
  console.log(`quality bench: ${rows.toLocaleString('en-US')} rows, data seeds ${dataSeeds.join(',')} × config seeds ${configSeeds.join(',')}${kMax ? `, kMax ${kMax}` : ''}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const temporal = await connectToTemporal({ log: (message) => console.error(message), devServer: { port: 0, ephemeral: true, ui: false } });
  const runs: QualityRun[] = [];
  // --work DIR: reuse the checkpoints of an earlier bench's kept folder (the steps a run shares are not redone).
  const work = values.work ? resolve(values.work) : await mkdtemp(join(tmpdir(), 'segments-quality-'));
  try {
    const nativeConnection = await temporal.getNativeConnection();
    const client = new Client({ connection: temporal.connection, namespace: temporal.namespace });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
    const worker = await createWorker({ connection: nativeConnection, namespace: temporal.namespace, workflowBundle, identity: `quality-${process.pid}` });
    await worker.runUntil(async () => {
      for (const dataSeed of dataSeeds) {
        const data = await ensureDataset(dataRoot, rows, dataSeed);
        const storeDir = join(work, `data${dataSeed}`, 'store');
        for (const configSeed of configSeeds) {
          const outDir = join(work, `data${dataSeed}`, `seed${configSeed}`);
          const started = performance.now();
          const handle = await startRun({
            client,
            ...datasetInputs(data.dir),
            outDir,
            storeDir,
            config: { seed: configSeed, ...(kMax !== undefined ? { kMax } : {}) },
          });
          const outcome = await followRun(handle, () => undefined);
          const seconds = (performance.now() - started) / 1000;
          const results = ResultsSchema.parse(JSON.parse(await readFile(join(outDir, 'results.json'), 'utf8')));
          const { ari } = await agreementWithTruth(outDir, data);
          const yardstickKey = `${dataSeed}:${outcome.k}`;
          if (!yardsticks.has(yardstickKey)) yardsticks.set(yardstickKey, await yardstick(storeDir, outcome.k, yardstickInits));
          const best = yardsticks.get(yardstickKey)!;
          const run: QualityRun = {
            dataSeed,
            configSeed,
            k: outcome.k,
            kReason: (results as { kChoice?: { reason: string } }).kChoice?.reason ?? null,
            ari,
            finalSse: results.finalSse,
            yardstickSse: best,
            sseAboveYardstick: (results.finalSse - best) / best,
            sseCurveMonotone: isMonotone(results.kSweep),
            curve: results.kSweep.map((p) => ({ k: p.k, sse: p.sse })),
            knee: (results as { kChoice?: { knee: number | null } }).kChoice?.knee ?? null,
            smallestCluster: Math.min(...results.clusters.filter((c) => c.id >= 0).map((c) => c.populationCount)),
            verdicts: await verdicts(outDir, data, results),
            seconds,
          };
          runs.push(run);
          console.error(
            `data ${dataSeed} seed ${configSeed}: k ${run.k}, ARI ${run.ari.toFixed(3)}, SSE ${(run.sseAboveYardstick * 100).toFixed(3)} % vs best of ${yardstickInits}, ` +
              `curve ${run.sseCurveMonotone ? 'monotone' : 'NOT monotone'}, smallest cluster ${run.smallestCluster}, verdicts ${run.verdicts.filter((v) => v.right).length}/${run.verdicts.length}, ${seconds.toFixed(0)} s`,
          );
          mkdirSync(dirname(outFile), { recursive: true });
          writeFileSync(outFile, JSON.stringify({ rows, dataSeeds, configSeeds, yardstickInits, loadAverageEnd: loadavg(), runs }, null, 1));
        }
      }
    });
  } finally {
    await temporal.close();
    if (!values.keep && !values.work) await rm(work, { recursive: true, force: true });
    else console.error(`kept ${work}`);
  }
  console.log(table(runs, yardstickInits));
  console.log(`load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}; JSON: ${outFile}`);
  const oneK = new Map<number, Set<number>>();
  for (const r of runs) (oneK.get(r.dataSeed) ?? oneK.set(r.dataSeed, new Set()).get(r.dataSeed)!).add(r.k);
  if ([...oneK.values()].some((ks) => ks.size > 1)) process.exitCode = 1;
}

function table(runs: QualityRun[], inits: number): string {
  const head = `| data seed | config seed | k | ARI | final SSE vs best of ${inits} | SSE curve | smallest cluster | verdicts right | time |`;
  const rule = '|---|---|---|---|---|---|---|---|---|';
  const lines = runs.map(
    (r) =>
      `| ${r.dataSeed} | ${r.configSeed} | ${r.k} | ${r.ari.toFixed(3)} | ${r.sseAboveYardstick >= 0 ? '+' : ''}${(r.sseAboveYardstick * 100).toFixed(3)} % | ${r.sseCurveMonotone ? 'monotone' : 'not monotone'} | ${r.smallestCluster} | ${r.verdicts.filter((v) => v.right).length}/${r.verdicts.length} | ${r.seconds.toFixed(0)} s |`,
  );
  return [head, rule, ...lines].join('\n');
}

main()
  .catch((error: unknown) => {
    console.error(`quality bench: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 1;
  })
  .finally(() => process.exit(process.exitCode ?? 0));
