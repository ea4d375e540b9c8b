/**
 * The split step alone on a finished run's ingest, recode and missingness checkpoints: timed as a whole (wall,
 * process CPU, VmHWM) and, with --queries, query by query; its output files' rows hashed in row order (and compared
 * with a reference split folder when given), to tune the step without the whole workflow.
 *
 *   node dist/bench/split-step.js --store STOREDIR [--out DIR] [--reference SPLITDIR] [--repeat N] [--queries] [--compare-share S]
 *
 * STOREDIR is an artifact store (holding ingest/, recode/, missingness/ with one checkpoint each); SPLITDIR a split
 * checkpoint (its manifest.json and files). --out keeps the files, with a manifest.json holding the output, so the
 * folder can serve as a reference. --compare-share sets heavyComparison.maxMissingShare (default 0.05).
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DEFAULT_HEAVY_COMPARISON, splitRows } from '../core/cleaning/cleaning-steps';
import { quoteLiteral, withDuckDb } from '../core/duckdb';
import type { IngestOutput, MissingnessOutput, RecodeOutput, SplitOutput } from '../schemas/steps';
import { vmHwmBytes } from './processes';

async function onlyCheckpoint<T>(store: string, step: string): Promise<{ dir: string; output: T }> {
  const root = join(store, step);
  const keys = readdirSync(root).filter((name) => !name.startsWith('.'));
  if (keys.length !== 1) throw new Error(`expected one ${step} checkpoint under ${root}, found ${keys.length}`);
  const dir = join(root, keys[0]);
  return { dir, output: (JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { output: T }).output };
}

/** A connection whose run / runAndReadAll calls are timed one by one (the SQL's first words name each). */
function timedConnection(conn: DuckDBConnection, log: { sql: string; seconds: number }[]): DuckDBConnection {
  const timed = <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      try {
        return await call(...args);
      } finally {
        log.push({ sql: String(args[0]).replace(/\s+/g, ' ').slice(0, 110), seconds: (performance.now() - started) / 1000 });
      }
    };
  return new Proxy(conn, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if ((name === 'run' || name === 'runAndReadAll') && typeof value === 'function') return timed((value as (...a: unknown[]) => Promise<unknown>).bind(target));
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * SHA-256 of a Parquet file's rows in `row` order (each row as its values' text, tab-separated) plus its column
 * names and types: equal when the content is, whatever the encoding or row groups.
 */
async function rowsHash(conn: DuckDBConnection, path: string): Promise<string> {
  const hash = createHash('sha256');
  const file = `read_parquet(${quoteLiteral(path)})`;
  const described = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${file}`)).getRowsJS();
  hash.update(described.map((r) => `${String(r[0])}:${String(r[1])}`).join(',') + '\n');
  const result = await conn.stream(`SELECT * FROM ${file} ORDER BY "row"`);
  for await (const rows of result.yieldRowsJs()) for (const row of rows) hash.update(row.map((v) => (v === null ? '\\N' : String(v))).join('\t') + '\n');
  return hash.digest('hex');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: 'string' },
      out: { type: 'string' },
      reference: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      queries: { type: 'boolean', default: false },
      'compare-share': { type: 'string' },
    },
  });
  if (!values.store) throw new Error('--store STOREDIR is required');
  const ingested = await onlyCheckpoint<IngestOutput>(values.store, 'ingest');
  const recode = await onlyCheckpoint<RecodeOutput>(values.store, 'recode');
  const missingness = await onlyCheckpoint<MissingnessOutput>(values.store, 'missingness');
  const reference = values.reference
    ? { dir: values.reference, output: (JSON.parse(await readFile(join(values.reference, 'manifest.json'), 'utf8')) as { output: SplitOutput }).output }
    : null;
  const comparison = { ...DEFAULT_HEAVY_COMPARISON, ...(values['compare-share'] ? { maxMissingShare: Number(values['compare-share']) } : {}) };
  const maxRowMissing = reference?.output.maxRowMissing ?? Math.floor(0.3 * missingness.output.kept.length);
  for (let r = 0; r < Number(values.repeat); r++) {
    const out = values.out ?? (await mkdtemp(join(tmpdir(), 'split-step-')));
    await mkdir(out, { recursive: true });
    const log: { sql: string; seconds: number }[] = [];
    const started = performance.now();
    const cpu = process.cpuUsage();
    const output = await withDuckDb({}, (conn) =>
      splitRows(values.queries ? timedConnection(conn, log) : conn, { ...recode, ingested }, missingness.output, maxRowMissing, out, comparison),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpuUsed = process.cpuUsage(cpu);
    const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
    let verdict = '';
    if (reference) {
      const same = JSON.stringify(output) === JSON.stringify(reference.output);
      const differing: string[] = [];
      await withDuckDb({}, async (conn) => {
        for (const role of ['population', 'customers'] as const) {
          for (const kind of ['clean', 'heavy'] as const) {
            const mine = await rowsHash(conn, join(out, output[role][kind]));
            const theirs = await rowsHash(conn, join(reference.dir, reference.output[role][kind]));
            if (mine !== theirs) differing.push(output[role][kind]);
          }
        }
      });
      verdict = `, output JSON ${same ? 'identical' : 'DIFFERS'}, rows ${differing.length ? `DIFFER: ${differing.join(' ')}` : 'identical'} to the reference`;
    }
    console.log(
      `split: ${seconds.toFixed(2)} s (process CPU ${cpuSeconds.toFixed(2)} s), ${output.population.rows}+${output.customers.rows} rows, ` +
        `${output.divergence.length} compared, VmHWM ${((vmHwmBytes() ?? NaN) / 2 ** 30).toFixed(2)} GiB${verdict}`,
    );
    for (const entry of log) console.log(`  ${entry.seconds.toFixed(2)} s  ${entry.sql}`);
    if (values.out) await writeFile(join(out, 'manifest.json'), JSON.stringify({ output }, null, 1));
    else await rm(out, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
