import type { DuckDBConnection } from '@duckdb/node-api';
import { open, rm } from 'node:fs/promises';
import { quoteLiteral } from './duckdb';

/**
 * The targeting list: one row per input data row, `row` (0-based index in the input file) and `cluster`
 * (-1 for the heavy-missing group). Clean rows come from typed arrays; heavy rows from the split's Parquet.
 */
export async function writeAssignmentsParquet(
  conn: DuckDBConnection,
  options: { rows: Int32Array; clusters: Int32Array; heavyParquet: string; outPath: string },
): Promise<void> {
  const { rows, clusters } = options;
  if (rows.length !== clusters.length) throw new Error(`rows (${rows.length}) and clusters (${clusters.length}) differ in length`);
  // A plain CSV hand-off is the fastest way into DuckDB from Node here (no per-value N-API calls).
  const csvPath = `${options.outPath}.rows.csv`;
  try {
    await writeRowsCsv(csvPath, rows, clusters);
    await conn.run(
      `COPY (
         SELECT "row"::BIGINT AS "row", cluster::INTEGER AS cluster FROM read_csv(${quoteLiteral(csvPath)}, header=true, columns={'row': 'BIGINT', 'cluster': 'INTEGER'})
         UNION ALL
         SELECT "row"::BIGINT, -1 FROM read_parquet(${quoteLiteral(options.heavyParquet)})
         ORDER BY "row"
       ) TO ${quoteLiteral(options.outPath)} (FORMAT parquet, COMPRESSION zstd)`,
    );
  } finally {
    await rm(csvPath, { force: true });
  }
}

/** Rows per piece of the CSV hand-off: each piece is formatted and written on its own, so the event loop breathes. */
const CSV_PIECE_ROWS = 65536;

/**
 * Writes `row,cluster` lines piece by piece (one await per piece): formatting millions of lines in one go held
 * the event loop for seconds at 2.7M rows (heartbeats and queries wait meanwhile).
 */
async function writeRowsCsv(path: string, rows: Int32Array, clusters: Int32Array): Promise<void> {
  const file = await open(path, 'w');
  try {
    await file.write('row,cluster\n');
    for (let start = 0; start < rows.length; start += CSV_PIECE_ROWS) {
      const end = Math.min(rows.length, start + CSV_PIECE_ROWS);
      let piece = '';
      for (let i = start; i < end; i++) piece += `${rows[i]},${clusters[i]}\n`;
      await file.write(piece);
    }
  } finally {
    await file.close();
  }
}

/**
 * A targeting list with centroid indices replaced by stable segment IDs (`byCentroid[c]`; −1 stays −1), written
 * to `outPath` (Parquet, same columns and row order).
 */
export async function relabelAssignmentsParquet(
  conn: DuckDBConnection,
  options: { sourcePath: string; outPath: string; byCentroid: readonly number[] },
): Promise<void> {
  const { byCentroid } = options;
  if (byCentroid.some((id) => !Number.isInteger(id) || id < 0)) throw new Error(`segment IDs must be non-negative integers: ${byCentroid.join(', ')}`);
  const cases = byCentroid.map((id, c) => `WHEN ${c} THEN ${id}`).join(' ');
  // Any other value would be a centroid the model does not have: fail instead of writing a wrong ID.
  const cluster = `(CASE cluster WHEN -1 THEN -1 ${cases} ELSE error('cluster ' || cluster || ' is not one of the ${byCentroid.length} centroids') END)::INTEGER`;
  await conn.run(
    `COPY (SELECT "row", ${cluster} AS cluster FROM read_parquet(${quoteLiteral(options.sourcePath)}) ORDER BY "row")
     TO ${quoteLiteral(options.outPath)} (FORMAT parquet, COMPRESSION zstd)`,
  );
}
