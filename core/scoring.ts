/**
 * Assigns a new file with the same columns to a finished run's segments, through the run's stored, fitted
 * transforms (encoding levels, imputation, scaling, PCA, centroids): nothing is refitted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { InputError } from '../common/errors';
import { readFeatureSummary } from './cleaning/feature-summary';
import { CentroidsFileSchema, CleaningModelSchema, EncodingModelSchema, FittedTransformSchema, MODEL_FILES, PcaModelFileSchema } from '../schemas/model-files';
import { writeAssignmentsParquet } from './assignments';
import { relabel } from './segment-identity';
import { validateCsvHeader } from './cleaning/csv-header';
import { loadRawCsv } from './cleaning/cleaning-steps';
import {
  NUMERIC_TYPES,
  copyToParquetSql,
  firstNonNumericCellSql,
  nonNumericCountsSql,
  recodeSelectSql,
  rowMissingCountExpr,
  splitSelectSql,
  typedSelectSql,
} from './cleaning/sql';
import { parquetRelation, queryOne, queryRows, toNumber, withDuckDb } from './duckdb';
import { exportMatrix, readRowIndex } from './encoding';
import { assignNearestInWorkers, projectRowsInWorkers } from './parallel';
import { readJsonFile } from './store/json';

export interface ScoreSummary {
  rows: number;
  heavyRows: number;
  clusterCounts: Record<string, number>;
  outPath: string;
}

/** A model file of the run, validated; unreadable or malformed is the user's to fix (InputError). */
async function readModelFile<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
  try {
    return await readJsonFile(path, schema);
  } catch (error) {
    throw new InputError(`cannot read the run's model: ${(error as Error).message}`, { file: path });
  }
}

export async function scoreFile(options: { modelDir: string; input: string; outPath: string }): Promise<ScoreSummary> {
  const { modelDir, input, outPath } = options;
  const summary = readFeatureSummary(join(modelDir, MODEL_FILES.featureSummary));
  const cleaning = await readModelFile(join(modelDir, MODEL_FILES.cleaning), CleaningModelSchema);
  const encoding = await readModelFile(join(modelDir, MODEL_FILES.encoding), EncodingModelSchema);
  const transform = await readModelFile(join(modelDir, MODEL_FILES.transform), FittedTransformSchema);
  const pca = await readModelFile(join(modelDir, MODEL_FILES.pca), PcaModelFileSchema);
  // segmentIds: each centroid's stable segment ID (models published before stable IDs: the centroid index is the ID).
  const { k, centroids, segmentIds } = await readModelFile(join(modelDir, MODEL_FILES.centroids), CentroidsFileSchema);

  const header = await validateCsvHeader(input, summary);
  const work = await mkdtemp(join(tmpdir(), 'segments-score-'));
  try {
    return await withDuckDb({}, async (conn) => {
      await loadRawCsv(conn, 'raw', input, header);
      // The run decided each column's storage; text where the run saw numbers is bad input here.
      const numberColumns = cleaning.columns.filter((c) => c.storage === 'number');
      const counts = await queryOne(conn, nonNumericCountsSql('raw', numberColumns));
      for (const column of numberColumns) {
        if (toNumber(counts[column.name]) === 0) continue;
        const [bad] = await queryRows(conn, firstNonNumericCellSql('raw', column.name, column.missingCodes));
        const kind = NUMERIC_TYPES.has(column.type) ? column.type : 'numeric in the fitted run';
        throw new InputError(`value "${String(bad.value)}" is not a number (the column is ${kind})`, {
          file: input,
          column: column.name,
          line: toNumber(bad.row) + 2,
        });
      }
      const typed = join(work, 'typed.parquet');
      await conn.run(copyToParquetSql(recodeSelectSql(`(${typedSelectSql('raw', cleaning.columns)})`, cleaning.columns), typed));
      const clean = join(work, 'clean.parquet');
      const heavy = join(work, 'heavy.parquet');
      await conn.run(copyToParquetSql(splitSelectSql(parquetRelation(typed), cleaning.keptColumns, cleaning.maxRowMissing, false), clean));
      await conn.run(
        copyToParquetSql(
          `SELECT "row" FROM ${parquetRelation(typed)} WHERE ${rowMissingCountExpr(cleaning.keptColumns)} > ${cleaning.maxRowMissing}`,
          heavy,
        ),
      );
      const matrix = await exportMatrix(conn, { model: encoding, transform, sourceParquet: clean, outPrefix: join(work, 'scored'), dtype: 'float32' });
      let clusters: Int32Array = new Int32Array(0);
      if (matrix.rows > 0) {
        // The worker threads read the matrix file slab by slab: it is never loaded whole (nor read on this thread).
        const data = { path: matrix.matrixPath, dtype: 'float32', rows: matrix.rows, cols: matrix.cols } as const;
        const scores = await projectRowsInWorkers(data, matrix.rows, matrix.cols, pca.mean, pca.components, pca.keptComponents);
        clusters = (await assignNearestInWorkers(scores, matrix.rows, pca.keptComponents, centroids, k)).assignments;
        if (segmentIds) relabel(clusters, segmentIds);
      }
      const rows = readRowIndex(matrix.rowsPath, matrix.rows);
      await writeAssignmentsParquet(conn, { rows, clusters, heavyParquet: heavy, outPath });
      const clusterCounts: Record<string, number> = {};
      for (const row of await queryRows(conn, `SELECT cluster, count(*) AS n FROM ${parquetRelation(outPath)} GROUP BY 1 ORDER BY 1`)) {
        clusterCounts[String(row.cluster)] = toNumber(row.n);
      }
      const total = Object.values(clusterCounts).reduce((a, b) => a + b, 0);
      return { rows: total, heavyRows: clusterCounts['-1'] ?? 0, clusterCounts, outPath };
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
