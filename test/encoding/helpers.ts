import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export interface TestDb {
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  dir: string;
  close(): void;
}

/** An in-memory DuckDB plus a temp directory, both cleaned up by close(). */
export async function openTestDb(): Promise<TestDb> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  const dir = mkdtempSync(join(tmpdir(), 'encoding-test-'));
  return {
    instance,
    conn,
    dir,
    close() {
      conn.closeSync();
      instance.closeSync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** COPY (select) TO '<dir>/<name>.parquet'. */
export async function writeParquet(db: TestDb, name: string, selectSql: string): Promise<string> {
  const path = join(db.dir, `${name}.parquet`);
  await db.conn.run(`COPY (${selectSql}) TO '${path.replace(/'/g, "''")}' (FORMAT parquet)`);
  return path;
}

export async function rowsOf(db: TestDb, sql: string): Promise<Record<string, unknown>[]> {
  return (await db.conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}
