import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { duckDbMachineSettings } from './parallel/machine';

export interface DuckDbOptions {
  /** DuckDB's memory cap, e.g. '4GB' (default: from the machine, see duckDbMachineSettings). Spills to `tempDirectory` beyond it. */
  memoryLimit?: string;
  /** Default: the cores this process may use. */
  threads?: number;
  tempDirectory?: string;
}

/**
 * Runs `work` on a fresh in-memory DuckDB whose tables come from and go to Parquet files: every step's state
 * lives in its artifacts, never in a database shared between steps, so any step can run on any worker.
 */
export async function withDuckDb<T>(options: DuckDbOptions, work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const machine = duckDbMachineSettings();
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(options.threads ?? machine.threads),
    memory_limit: options.memoryLimit ?? machine.memoryLimit,
    ...(options.tempDirectory ? { temp_directory: options.tempDirectory } : {}),
  });
  const conn = await instance.connect();
  try {
    return await work(conn);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Double-quoted identifier; embedded quotes doubled. Safe for names like `CAMEO_DEUG_2015=8`. */
export function quoteIdent(name: string): string {
  if (name.includes('\u0000')) throw new Error(`identifier contains a NUL character: ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}

/** Single-quoted string literal; embedded quotes doubled. */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new Error(`string literal contains a NUL character: ${JSON.stringify(value)}`);
  return `'${value.replace(/'/g, "''")}'`;
}

/** `read_parquet('<path>')`, usable after FROM. */
export function parquetRelation(path: string): string {
  return `read_parquet(${quoteLiteral(path)})`;
}

export async function queryRows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

export async function queryOne(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>> {
  const rows = await queryRows(conn, sql);
  if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}: ${sql.slice(0, 200)}`);
  return rows[0];
}

/** Numbers from DuckDB arrive as bigint for integer types; this normalises either. */
export function toNumber(value: unknown): number {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (value === null || value === undefined) return NaN;
  return Number(value);
}
