/**
 * The scale step's coded path (codedImputeScale) against its reference (fitImputeScale's SQL fit +
 * exportMatrix's SQL encoding): the transform JSON and every matrix / row-index file byte for byte, on the
 * synthetic Arvato shape and on edge cases (text columns, non-whole and out-of-window numbers, a continuous
 * column fitted by SQL, -0, levels and values the population never had, `unknownLevels: missing`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinArvatoEncodingRules, parseEncodingRules } from '../../core/encoding/rules';
import {
  canCodeEncoding,
  codedImputeScale,
  encodedParquetRelation,
  type EncodingModel,
  exportMatrix,
  fitEncoding,
  fitImputeScale,
  type MatrixDtype,
} from '../../core/encoding';
import { openTestDb, type TestDb, writeParquet } from './helpers';
import { writeSyntheticArvatoParquet } from './synthetic';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.close());

let runs = 0;

/** Both paths on the same files; expects identical bytes everywhere. */
async function expectIdentical(model: EncodingModel, population: string, others: string[], dtype: MatrixDtype, options: { histogramMaxDistinct?: number } = {}): Promise<void> {
  const run = ++runs;
  const reference = await fitImputeScale(db.conn, { model, encodedRelationSql: encodedParquetRelation(model, population), ...options });
  const files = [population, ...others];
  const referencePrefixes = files.map((_, i) => join(db.dir, `ref-${run}-${i}`));
  for (const [i, file] of files.entries()) {
    await exportMatrix(db.conn, { model, transform: reference, sourceParquet: file, outPrefix: referencePrefixes[i], dtype });
  }
  const codedPrefixes = files.map((_, i) => join(db.dir, `coded-${run}-${i}`));
  const coded = await codedImputeScale(db.conn, {
    model,
    populationParquet: population,
    populationOutPrefix: codedPrefixes[0],
    others: others.map((file, i) => ({ sourceParquet: file, outPrefix: codedPrefixes[i + 1] })),
    dtype,
    blockBytes: 1, // the smallest blocks (2,048 rows): several blocks per file, and chunks split across blocks
    ...options,
  });
  expect(JSON.stringify(coded.transform, null, 1)).toBe(JSON.stringify(reference, null, 1));
  expect(coded.features).toEqual(model.features.map((feature) => feature.name));
  for (const [i, prefix] of codedPrefixes.entries()) {
    for (const suffix of ['.matrix', '.rows']) {
      const expected = readFileSync(referencePrefixes[i] + suffix);
      const actual = readFileSync(prefix + suffix);
      expect([suffix, i, actual.length]).toEqual([suffix, i, expected.length]);
      expect(Buffer.compare(actual, expected)).toBe(0);
    }
  }
}

describe('codedImputeScale: byte-identical to fitImputeScale + exportMatrix', () => {
  test('synthetic Arvato population and customers (float32 and float64)', async () => {
    const population = join(db.dir, 'arvato-pop.parquet');
    const customers = join(db.dir, 'arvato-cust.parquet');
    const kept = await writeSyntheticArvatoParquet(db.conn, population, 9000, { missingShare: 0.1, seed: 0.11 });
    await writeSyntheticArvatoParquet(db.conn, customers, 3000, { missingShare: 0.3, seed: 0.77 });
    const model = await fitEncoding(db.conn, { populationParquet: population, keptColumns: kept, rules: builtinArvatoEncodingRules() });
    expect(model.features.length).toBe(130);
    expect(canCodeEncoding(model)).toBe(true);
    await expectIdentical(model, population, [customers], 'float32');
    await expectIdentical(model, population, [customers], 'float64');
    // Rare one-hot levels folded into "(other)" features (the pipeline's default rule, here with a high bar so
    // that folds happen on 9,000 rows): each fold is 1 for any of its levels.
    const folded = await fitEncoding(db.conn, { populationParquet: population, keptColumns: kept, rules: builtinArvatoEncodingRules(), rareLevels: { minShare: 0.1, minCount: 30, action: 'other' } });
    expect(folded.features.filter((f) => f.levels !== undefined).length).toBeGreaterThan(0);
    expect(canCodeEncoding(folded)).toBe(true);
    await expectIdentical(folded, population, [customers], 'float32');
  });

  test('edge cases: text columns, overflow numbers, a continuous column, -0, unseen values and levels', async () => {
    const rules = parseEncodingRules({
      columns: {
        ORD: { action: 'keep', reason: 'whole numbers; a few fractions after the range check, one -0' },
        WIDE: { action: 'keep', reason: 'whole numbers over a range wider than a byte of codes' },
        CONT: { action: 'keep', reason: 'continuous: SQL moments and median' },
        TNUM: { action: 'keep', reason: 'numbers held as text' },
        BIN: { action: 'binary', levels: { a: 0, b: 1 }, reason: 'text binary' },
        CAT: { action: 'onehot', reason: 'number one-hot' },
        TCAT: { action: 'onehot', unknownLevels: 'missing', reason: 'text one-hot, unknown levels missing' },
        DER: {
          action: 'derive',
          reason: 'number derive',
          outputs: [
            { name: 'DER_ORD', kind: 'ordinal', map: { '1': 1, '2': 1, '3': 2.5, '4': null, '1000': 7 } },
            { name: 'DER_FLAG', kind: 'flag', map: { '1': 0, '2': 1, '3': 1, '2.5': 0 } },
          ],
        },
      },
    });
    const table = (name: string, rows: number, seed: number, shift: number) =>
      writeParquet(
        db,
        name,
        `SELECT range::BIGINT AS "row",
                CASE WHEN hash(range + ${seed}) % 11 = 0 THEN NULL
                     WHEN range = 25000 THEN -0.0::DOUBLE
                     WHEN range > 21000 AND range % 97 = 0 THEN (hash(range) % 9)::DOUBLE + 0.5
                     ELSE (hash(range * 3 + ${seed}) % 9 + ${shift})::DOUBLE END AS ORD,
                CASE WHEN hash(range + ${seed} + 1) % 13 = 0 THEN NULL ELSE (hash(range * 5 + ${seed}) % 700)::DOUBLE END AS WIDE,
                CASE WHEN hash(range + ${seed} + 2) % 7 = 0 THEN NULL ELSE (hash(range * 7 + ${seed}) % 100003)::DOUBLE / 17 END AS CONT,
                CASE WHEN hash(range + ${seed} + 3) % 9 = 0 THEN NULL ELSE CAST(hash(range * 11 + ${seed}) % 40 + ${shift} AS VARCHAR) END AS TNUM,
                CASE hash(range * 13 + ${seed}) % 4 WHEN 0 THEN NULL WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE ${shift > 0 ? `'c'` : `'b'`} END AS BIN,
                CASE WHEN hash(range + ${seed} + 4) % 10 = 0 THEN NULL ELSE (hash(range * 17 + ${seed}) % 5 + ${shift})::DOUBLE END AS CAT,
                CASE WHEN hash(range + ${seed} + 5) % 10 = 0 THEN NULL ELSE chr(65 + (hash(range * 19 + ${seed}) % (4 + ${shift}))::INTEGER) END AS TCAT,
                CASE WHEN hash(range + ${seed} + 6) % 8 = 0 THEN NULL
                     WHEN range % 101 = 0 THEN 2.5::DOUBLE
                     ELSE (hash(range * 23 + ${seed}) % 6 + ${shift})::DOUBLE END AS DER
         FROM range(${rows})`,
      );
    const population = await table('edge-pop', 26000, 1, 0);
    const customers = await table('edge-cust', 7000, 2, 2); // values and levels the population never had
    const model = await fitEncoding(db.conn, {
      populationParquet: population,
      keptColumns: ['ORD', 'WIDE', 'CONT', 'TNUM', 'BIN', 'CAT', 'TCAT', 'DER'],
      rules,
    });
    const ord = model.features.find((feature) => feature.name === 'ORD');
    expect(ord?.range?.integral).toBe(true); // the fractions come after the rows the range check reads
    expect(model.features.find((feature) => feature.name === 'CONT')?.range?.integral).toBe(false);
    await expectIdentical(model, population, [customers], 'float32');
    await expectIdentical(model, population, [customers, population], 'float64');
    // WIDE as a histogram feature too narrow for its range: the SQL fit path for it, the same bytes.
    await expectIdentical(model, population, [customers], 'float32', { histogramMaxDistinct: 50 });
  });

  test('a one-hot column with more levels than a byte of codes is left to the reference path', async () => {
    const population = await writeParquet(db, 'many-levels', `SELECT range::BIGINT AS "row", (range % 300)::DOUBLE AS MANY FROM range(1200)`);
    const model = await fitEncoding(db.conn, {
      populationParquet: population,
      keptColumns: ['MANY'],
      rules: parseEncodingRules({ columns: { MANY: { action: 'onehot', reason: 'many levels' } } }),
      maxOneHotLevels: 400,
    });
    expect(canCodeEncoding(model)).toBe(false);
    await expect(
      codedImputeScale(db.conn, { model, populationParquet: population, populationOutPrefix: join(db.dir, 'many'), others: [], dtype: 'float32' }),
    ).rejects.toThrow(/too many levels/);
  });

  test('a NULL row index in another file fails the step and leaves no partial files behind', async () => {
    const population = await writeParquet(db, 'null-row-pop', `SELECT range::BIGINT AS "row", (range % 5)::DOUBLE AS NUM FROM range(5000)`);
    const customers = await writeParquet(
      db,
      'null-row-cust',
      `SELECT CASE WHEN range = 4000 THEN NULL ELSE range END::BIGINT AS "row", (range % 5)::DOUBLE AS NUM FROM range(5000)`,
    );
    const model = await fitEncoding(db.conn, {
      populationParquet: population,
      keptColumns: ['NUM'],
      rules: parseEncodingRules({ columns: { NUM: { action: 'keep', reason: 'numeric' } } }),
    });
    const prefix = join(db.dir, 'null-row-out');
    await expect(
      codedImputeScale(db.conn, {
        model,
        populationParquet: population,
        populationOutPrefix: `${prefix}-pop`,
        others: [{ sourceParquet: customers, outPrefix: `${prefix}-cust` }],
        dtype: 'float32',
        blockBytes: 1,
      }),
    ).rejects.toThrow(/NULL in column "row"/);
    const left = readdirSync(db.dir).filter((name) => name.startsWith('null-row-out'));
    expect(left.sort()).toEqual(['null-row-out-pop.matrix', 'null-row-out-pop.rows']); // the finished population file only
  });
});
