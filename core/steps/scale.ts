/** Step 3a, scale: imputation and standardisation fitted on the population's clean rows; both files exported as float matrices. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EncodingModelSchema, MODEL_FILES } from '../../schemas/model-files';
import type { EncodeOutput, ScaleOutput, SplitOutput } from '../../schemas/steps';
import { withDuckDb } from '../duckdb';
import { canCodeEncoding, codedImputeScale, encodeSelectSql, exportMatrix, fitImputeScale, parquetRelation } from '../encoding';
import { readJsonFile } from '../store/json';
import type { Loaded } from './runtime';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CodedScaleResult, EncodingModel } from '../encoding';

/** The scaled matrices' element type (float32 is plenty for PCA's covariance, which accumulates in float64). */
export const MATRIX_DTYPE = 'float32';

/**
 * Reads the population once (source columns as codes: codedImputeScale), fits on it, writes its matrix from
 * the codes, then streams the customers through the same fit. Byte-identical to fitImputeScale + exportMatrix.
 */
export async function imputeAndScale(
  split: Loaded<SplitOutput>,
  encode: Loaded<EncodeOutput>,
  workDir: string,
  onPhases?: (seconds: CodedScaleResult['seconds']) => void,
): Promise<ScaleOutput> {
  const model = await readJsonFile(join(encode.dir, encode.output.model), EncodingModelSchema);
  return withDuckDb({}, async (conn) => {
    if (!canCodeEncoding(model)) return imputeAndScaleBySql(conn, model, split, workDir);
    const result = await codedImputeScale(conn, {
      model,
      populationParquet: join(split.dir, split.output.population.clean),
      populationOutPrefix: join(workDir, 'population'),
      others: [{ sourceParquet: join(split.dir, split.output.customers.clean), outPrefix: join(workDir, 'customers') }],
      dtype: MATRIX_DTYPE,
    });
    onPhases?.(result.seconds);
    await writeFile(join(workDir, MODEL_FILES.transform), JSON.stringify(result.transform, null, 1));
    const exported = (role: 'population' | 'customers', rows: number): ScaleOutput['population'] => ({ rows, matrix: `${role}.matrix`, rowIndex: `${role}.rows` });
    return {
      transform: MODEL_FILES.transform,
      features: result.features,
      population: exported('population', result.rows[0]),
      customers: exported('customers', result.rows[1]),
    };
  });
}

/**
 * The SQL path (fit by SQL over the encoded rows, export encoding in DuckDB): for encodings with a column of more
 * than 253 levels, and the reference the coded path is benchmarked against (bench/scale-step.ts --path sql).
 */
export async function imputeAndScaleBySql(conn: DuckDBConnection, model: EncodingModel, split: Loaded<SplitOutput>, workDir: string): Promise<ScaleOutput> {
  const populationSource = parquetRelation(join(split.dir, split.output.population.clean));
  const transform = await fitImputeScale(conn, { model, encodedRelationSql: `(${encodeSelectSql(model, populationSource)})` });
  await writeFile(join(workDir, MODEL_FILES.transform), JSON.stringify(transform, null, 1));
  const exported = {} as Record<'population' | 'customers', ScaleOutput['population']>;
  for (const role of ['population', 'customers'] as const) {
    const result = await exportMatrix(conn, { model, transform, sourceParquet: join(split.dir, split.output[role].clean), outPrefix: join(workDir, role), dtype: MATRIX_DTYPE });
    exported[role] = { rows: result.rows, matrix: `${role}.matrix`, rowIndex: `${role}.rows` };
  }
  return { transform: MODEL_FILES.transform, features: model.features.map((feature) => feature.name), ...exported };
}
