/**
 * Export benchmark (not a jest test): synthetic 800k-row clean population with the real 79 kept columns,
 * then fitEncoding -> fitImputeScale -> exportMatrix, with timings and peak RSS.
 *
 *   npx tsc --outDir /tmp/encbuild --rootDir . --module commonjs --target ES2022 --esModuleInterop \
 *     --resolveJsonModule --skipLibCheck --strict test/encoding/bench-export.ts
 *   NODE_PATH=$PWD/node_modules node /tmp/encbuild/test/encoding/bench-export.js gen /tmp/encbench 800000
 *   NODE_PATH=$PWD/node_modules node /tmp/encbuild/test/encoding/bench-export.js run /tmp/encbench float32 [threads] [memoryLimit]
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { builtinArvatoEncodingRules } from '../../core/encoding/rules';
import { encodedParquetRelation, exportMatrix, fitEncoding, fitImputeScale, readMatrix, type MatrixDtype } from '../../core/encoding';
import { ARVATO_KEPT_COLUMNS, writeSyntheticArvatoParquet } from './synthetic';

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const peak = (): string => mib(process.resourceUsage().maxRSS * 1024);
let cpuMark = process.cpuUsage();
/** CPU seconds (all threads of the process, DuckDB's included) since the previous call. */
const cpu = (): string => {
  const used = process.cpuUsage(cpuMark);
  cpuMark = process.cpuUsage();
  return `${((used.user + used.system) / 1e6).toFixed(2)} s cpu`;
};

async function main(): Promise<void> {
  const [mode, dir = '/tmp/encbench', arg2, arg3, arg4] = process.argv.slice(2);
  mkdirSync(dir, { recursive: true });
  const parquet = join(dir, 'population.parquet');
  if (mode === 'gen') {
    const rows = Number(arg2 ?? 800000);
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const t0 = performance.now();
    await writeSyntheticArvatoParquet(conn, parquet, rows, { missingShare: 0.04 });
    console.log(`generated ${rows} rows x ${ARVATO_KEPT_COLUMNS.length} columns in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${mib(statSync(parquet).size)}`);
    const customerRows = Math.round(rows * 0.178); // ~142k customers per ~798k population rows
    await writeSyntheticArvatoParquet(conn, join(dir, 'customers.parquet'), customerRows, { missingShare: 0.08, seed: 0.17 });
    console.log(`generated ${customerRows} customer rows`);
    return;
  }
  if (mode !== 'run' || !existsSync(parquet)) throw new Error('usage: gen DIR ROWS | run DIR float32|float64 [threads] [memoryLimit]');
  const dtype = (arg2 ?? 'float32') as MatrixDtype;
  const threads = arg3 ? Number(arg3) : undefined;
  const memoryLimit = arg4;
  const options: Record<string, string> = {};
  if (threads) options.threads = String(threads);
  if (memoryLimit) options.memory_limit = memoryLimit;
  const instance = await DuckDBInstance.create(':memory:', options);
  const conn = await instance.connect();
  const kept = ARVATO_KEPT_COLUMNS.map((column) => column.name);
  console.log(`start: rss ${mib(process.memoryUsage().rss)} (threads ${threads ?? 'default'}, memory_limit ${memoryLimit ?? 'default'})`);

  cpu();
  let t = performance.now();
  const model = await fitEncoding(conn, { populationParquet: parquet, keptColumns: kept, rules: builtinArvatoEncodingRules() });
  console.log(`fitEncoding: ${((performance.now() - t) / 1000).toFixed(2)} s, ${model.features.length} features, ${model.populationRows} rows, ${cpu()}, peak rss ${peak()}`);

  t = performance.now();
  const transform = await fitImputeScale(conn, { model, encodedRelationSql: encodedParquetRelation(model, parquet) });
  console.log(`fitImputeScale: ${((performance.now() - t) / 1000).toFixed(2)} s, constant ${transform.constantFeatures.length}, ${cpu()}, peak rss ${peak()}`);

  t = performance.now();
  const duckdb = threads || memoryLimit ? { threads, memoryLimit } : undefined;
  const out = await exportMatrix(conn, { model, transform, sourceParquet: parquet, outPrefix: join(dir, `population-${dtype}`), dtype, duckdb });
  const exportSeconds = (performance.now() - t) / 1000;
  console.log(
    `exportMatrix(${dtype}): ${exportSeconds.toFixed(2)} s, ${out.rows} x ${out.cols}, ${mib(statSync(out.matrixPath).size)} written, ${cpu()}, peak rss ${peak()}, rss now ${mib(process.memoryUsage().rss)}`,
  );
  const s = out.stats;
  console.log(`  waiting on DuckDB ${s.queryWaitSeconds.toFixed(2)} s, copying ${s.copySeconds.toFixed(2)} s, writing ${s.writeSeconds.toFixed(2)} s`);

  const customers = join(dir, 'customers.parquet');
  if (existsSync(customers)) {
    const c = await exportMatrix(conn, { model, transform, sourceParquet: customers, outPrefix: join(dir, `customers-${dtype}`), dtype });
    console.log(`exportMatrix(customers, ${dtype}): ${c.stats.seconds.toFixed(2)} s, ${c.rows} x ${c.cols}, peak rss ${peak()}`);
  }

  t = performance.now();
  const matrix = readMatrix(out.matrixPath, out.rows, out.cols, dtype, { shared: true });
  console.log(`readMatrix(shared): ${((performance.now() - t) / 1000).toFixed(2)} s, ${matrix.length} values, peak rss ${peak()}`);
  conn.closeSync();
  instance.closeSync();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
