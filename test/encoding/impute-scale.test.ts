import { join } from 'node:path';
import { builtinArvatoEncodingRules, parseEncodingRules } from '../../core/encoding/rules';
import {
  encodedParquetRelation,
  exportMatrix,
  fitEncoding,
  fitImputeScale,
  FittedTransformSchema,
  medianFromHistogram,
  parquetRelation,
  readMatrix,
  transformSelectSql,
} from '../../core/encoding';
import { openTestDb, rowsOf, type TestDb, writeParquet } from './helpers';
import { writeSyntheticArvatoParquet } from './synthetic';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.close());

const RULES = parseEncodingRules({
  columns: {
    NUM: { action: 'keep', reason: 'numeric' },
    BIN: { action: 'binary', levels: { a: 0, b: 1 }, reason: 'binary' },
    CAT: { action: 'onehot', reason: 'categorical' },
    CONST: { action: 'keep', reason: 'constant on purpose' },
  },
});

describe('imputation fitted on the population only', () => {
  let population: string;
  let customers: string;
  beforeAll(async () => {
    // Population: NUM median 3 (values 1,2,3,10,50 + NULL), BIN mode 'b', CAT mode 2, CONST always 7.
    population = await writeParquet(
      db,
      'pop',
      `SELECT * FROM (VALUES
        (0::BIGINT, 1.0::DOUBLE, 'b', 2.0::DOUBLE, 7.0::DOUBLE),
        (1, 2.0, 'b', 2.0, 7.0),
        (2, 3.0, 'a', 1.0, 7.0),
        (3, 10.0, NULL, 3.0, 7.0),
        (4, 50.0, 'b', NULL, 7.0),
        (5, NULL, 'a', 2.0, 7.0)
      ) t("row", NUM, BIN, CAT, CONST)`,
    );
    // Customers: very different distribution, all-missing rows included.
    customers = await writeParquet(
      db,
      'cust',
      `SELECT * FROM (VALUES
        (100::BIGINT, NULL::DOUBLE, NULL, NULL::DOUBLE, NULL::DOUBLE),
        (101, 1000.0, 'a', 1.0, 9.0),
        (102, NULL, 'a', 1.0, 7.0),
        (103, 1000.0, 'a', 1.0, 7.0)
      ) t("row", NUM, BIN, CAT, CONST)`,
    );
  });

  test('fills medians / modes from the population; means and stds are taken after imputation', async () => {
    const model = await fitEncoding(db.conn, { populationParquet: population, keptColumns: ['NUM', 'BIN', 'CAT', 'CONST'], rules: RULES });
    expect(model.features.map((f) => f.name)).toEqual(['NUM', 'BIN', 'CAT=1', 'CAT=2', 'CAT=3', 'CONST']);
    const transform = await fitImputeScale(db.conn, { model, encodedRelationSql: encodedParquetRelation(model, population) });
    expect(FittedTransformSchema.parse(JSON.parse(JSON.stringify(transform)))).toEqual(transform);
    const t = Object.fromEntries(transform.features.map((f) => [f.name, f]));
    expect(transform.rows).toBe(6);
    expect(t.NUM.fill).toBe(3);
    expect(t.NUM.missing).toBe(1);
    expect(t.BIN.fill).toBe(1); // 'b' (3 of 5) -> 1
    expect([t['CAT=1'].fill, t['CAT=2'].fill, t['CAT=3'].fill]).toEqual([0, 1, 0]);
    // Mean / std after imputation: NUM becomes 1,2,3,10,50,3.
    const filled = [1, 2, 3, 10, 50, 3];
    const mean = filled.reduce((a, b) => a + b, 0) / 6;
    const std = Math.sqrt(filled.reduce((a, b) => a + (b - mean) ** 2, 0) / 6);
    expect(t.NUM.mean).toBeCloseTo(mean, 12);
    expect(t.NUM.std).toBeCloseTo(std, 12);
    // CAT=2 after imputation: 1,1,0,0,1(filled),1 -> mean 4/6.
    expect(t['CAT=2'].mean).toBeCloseTo(4 / 6, 12);
    // Constant features: std guarded to 1 and reported.
    expect(t.CONST).toMatchObject({ constant: true, std: 1, mean: 7 });
    expect(transform.constantFeatures).toEqual(['CONST']);

    // Customers are transformed with the population's fill / mean / std (not their own).
    const rows = await rowsOf(db, `${transformSelectSql(model, transform, parquetRelation(customers))} ORDER BY "row"`);
    const z = (name: string, x: number) => (x - t[name].mean) / t[name].std;
    expect(rows[0]).toEqual({
      row: 100n,
      NUM: z('NUM', 3),
      BIN: z('BIN', 1),
      'CAT=1': z('CAT=1', 0),
      'CAT=2': z('CAT=2', 1),
      'CAT=3': z('CAT=3', 0),
      CONST: 0,
    });
    expect(rows[2].NUM).toBe(z('NUM', 3)); // customers' own median would be 1000
    expect(rows[1].CONST).toBe(2); // (9 - 7) / 1
    expect(rows[1]['CAT=1']).toBe(z('CAT=1', 1));
  });

  test('standardised population columns have mean 0 and std 1 within 1e-9', async () => {
    const path = join(db.dir, 'synthetic.parquet');
    const kept = await writeSyntheticArvatoParquet(db.conn, path, 20000, { missingShare: 0.1 });
    const model = await fitEncoding(db.conn, { populationParquet: path, keptColumns: kept, rules: builtinArvatoEncodingRules() });
    const transform = await fitImputeScale(db.conn, { model, encodedRelationSql: encodedParquetRelation(model, path), medianBatch: 7 });
    expect(transform.constantFeatures).toEqual([]);
    const out = await exportMatrix(db.conn, { model, transform, sourceParquet: path, outPrefix: join(db.dir, 'synthetic'), dtype: 'float64' });
    expect([out.rows, out.cols]).toEqual([20000, 130]);
    const matrix = readMatrix(out.matrixPath, out.rows, out.cols, 'float64');
    for (let j = 0; j < out.cols; j++) {
      let sum = 0;
      for (let i = 0; i < out.rows; i++) sum += matrix[i * out.cols + j];
      const mean = sum / out.rows;
      let squares = 0;
      for (let i = 0; i < out.rows; i++) squares += (matrix[i * out.cols + j] - mean) ** 2;
      const std = Math.sqrt(squares / out.rows);
      expect([out.features[j], Math.abs(mean) < 1e-9, Math.abs(std - 1) < 1e-9]).toEqual([out.features[j], true, true]);
    }
    // Imputed one-hot groups stay consistent: every row has exactly one 1 in each group after un-scaling.
    const group = model.groups.find((g) => g.source === 'GEBAEUDETYP');
    const idx = (group?.features ?? []).map((name) => out.features.indexOf(name));
    const tf = idx.map((j) => transform.features[j]);
    for (let i = 0; i < out.rows; i += 97) {
      const ones = idx.map((j, k) => Math.round(matrix[i * out.cols + j] * tf[k].std + tf[k].mean)).reduce((a, b) => a + b, 0);
      expect(ones).toBe(1);
    }
  });

  test('an empty population is an error', async () => {
    const empty = await writeParquet(db, 'empty', `SELECT 0::BIGINT AS "row", 1.0::DOUBLE AS NUM WHERE false`);
    const model = await fitEncoding(db.conn, {
      populationParquet: population,
      keptColumns: ['NUM'],
      rules: RULES,
    });
    await expect(fitImputeScale(db.conn, { model, encodedRelationSql: encodedParquetRelation(model, empty) })).rejects.toThrow(/no population rows/);
  });

  test('histogram medians equal DuckDB median; the high-cardinality path gives the same transform', async () => {
    expect(medianFromHistogram([{ key: 3, count: 1 }, { key: 1, count: 1 }])).toBe(2);
    expect(medianFromHistogram([{ key: 5, count: 2 }, { key: 1, count: 1 }])).toBe(5);
    expect(medianFromHistogram([{ key: 1, count: 2 }, { key: 4, count: 2 }])).toBe(2.5);
    expect(medianFromHistogram([])).toBeNull();
    const path = await writeParquet(
      db,
      'medians',
      `SELECT range::BIGINT AS "row",
              CASE WHEN range % 7 = 0 THEN NULL ELSE (hash(range) % 13)::DOUBLE END AS NUM,
              CASE WHEN range % 5 = 0 THEN NULL ELSE (hash(range + 1) % 997)::DOUBLE / 8 END AS CONST
       FROM range(4001)`,
    );
    const model = await fitEncoding(db.conn, { populationParquet: path, keptColumns: ['NUM', 'CONST'], rules: RULES });
    const relation = encodedParquetRelation(model, path);
    const viaHistogram = await fitImputeScale(db.conn, { model, encodedRelationSql: relation });
    const viaMedian = await fitImputeScale(db.conn, { model, encodedRelationSql: relation, histogramMaxDistinct: 0, medianBatch: 1 });
    const direct = (await rowsOf(db, `SELECT median(NUM) AS a, median(CONST) AS b FROM ${relation}`))[0];
    expect(viaHistogram.features.map((f) => f.fill)).toEqual([direct.a, direct.b]);
    expect(viaMedian.features.map((f) => f.fill)).toEqual([direct.a, direct.b]);
    // Moments after imputation match a direct computation over COALESCE(x, fill).
    const [fa, fb] = viaHistogram.features.map((f) => f.fill);
    const moments = (
      await rowsOf(db, `SELECT avg(COALESCE(NUM, ${fa})) AS ma, stddev_pop(COALESCE(NUM, ${fa})) AS sa,
                               avg(COALESCE(CONST, ${fb})) AS mb, stddev_pop(COALESCE(CONST, ${fb})) AS sb FROM ${relation}`)
    )[0];
    const [a, b] = viaHistogram.features;
    expect(Math.abs(a.mean - Number(moments.ma))).toBeLessThan(1e-12);
    expect(Math.abs(a.std - Number(moments.sa))).toBeLessThan(1e-12);
    expect(Math.abs(b.mean - Number(moments.mb))).toBeLessThan(1e-12);
    expect(Math.abs(b.std - Number(moments.sb))).toBeLessThan(1e-12);
    expect(a.missing).toBe(572);
  });
});
