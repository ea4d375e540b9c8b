import type { DuckDBConnection } from '@duckdb/node-api';
import { rm, writeFile } from 'node:fs/promises';
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
  const lines: string[] = ['row,cluster'];
  for (let i = 0; i < rows.length; i++) lines.push(`${rows[i]},${clusters[i]}`);
  await writeFile(csvPath, lines.join('\n') + '\n');
  try {
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
