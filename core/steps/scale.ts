/** Step 3a, scale: imputation and standardisation fitted on the population's clean rows; both files exported as float matrices. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EncodingModelSchema, MODEL_FILES } from '../../schemas/model-files';
import type { EncodeOutput, ScaleOutput, SplitOutput } from '../../schemas/steps';
import { FILES } from '../cleaning/cleaning-steps';
import { withDuckDb } from '../duckdb';
import { encodeSelectSql, exportMatrix, fitImputeScale, parquetRelation } from '../encoding';
import { readJsonFile } from '../store/json';
import type { Loaded } from './runtime';

/** The scaled matrices' element type (float32 is plenty for PCA's covariance, which accumulates in float64). */
export const MATRIX_DTYPE = 'float32';

export async function imputeAndScale(split: Loaded<SplitOutput>, encode: Loaded<EncodeOutput>, workDir: string): Promise<ScaleOutput> {
  const model = await readJsonFile(join(encode.dir, encode.output.model), EncodingModelSchema);
  return withDuckDb({}, async (conn) => {
    const populationSource = parquetRelation(join(split.dir, split.output.population.clean));
    const transform = await fitImputeScale(conn, { model, encodedRelationSql: `(${encodeSelectSql(model, populationSource)})` });
    await writeFile(join(workDir, MODEL_FILES.transform), JSON.stringify(transform, null, 1));
    const exported = {} as Record<(typeof FILES)[number], ScaleOutput['population']>;
    let features: string[] = [];
    for (const role of FILES) {
      const result = await exportMatrix(conn, {
        model,
        transform,
        sourceParquet: join(split.dir, split.output[role].clean),
        outPrefix: join(workDir, role),
        dtype: MATRIX_DTYPE,
      });
      features = result.features;
      exported[role] = { rows: result.rows, matrix: `${role}.matrix`, rowIndex: `${role}.rows` };
    }
    return { transform: MODEL_FILES.transform, features, population: exported.population, customers: exported.customers };
  });
}
