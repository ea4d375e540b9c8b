import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBVector } from '@duckdb/node-api';
import { builtinArvatoEncodingRules } from '../../core/encoding/rules';
import {
  describeFeatureSource,
  encodedParquetRelation,
  exportMatrix,
  fitEncoding,
  fitImputeScale,
  forwardScale,
  inverseScale,
  parquetRelation,
  readMatrix,
  readRowIndex,
  standardiseVector,
  transformSelectSql,
  vectorValues,
  withDuckDBSettings,
  type EncodingModel,
  type FittedTransform,
} from '../../core/encoding';
import { openTestDb, type TestDb, writeParquet } from './helpers';
import { writeSyntheticArvatoParquet } from './synthetic';

let db: TestDb;
let model: EncodingModel;
let transform: FittedTransform;
let population: string;
let customers: string;

beforeAll(async () => {
  db = await openTestDb();
  population = join(db.dir, 'pop.parquet');
  const kept = await writeSyntheticArvatoParquet(db.conn, population, 5000, { missingShare: 0.08 });
  // Customers: a shuffled, gappy subset of other rows (row ids not contiguous, order not sorted).
  const other = join(db.dir, 'other.parquet');
  await writeSyntheticArvatoParquet(db.conn, other, 3000, { missingShare: 0.2, seed: 0.7 });
  customers = await writeParquet(db, 'cust', `SELECT * FROM read_parquet('${other}') WHERE "row" % 3 <> 1 ORDER BY hash("row")`);
  model = await fitEncoding(db.conn, { populationParquet: population, keptColumns: kept, rules: builtinArvatoEncodingRules() });
  transform = await fitImputeScale(db.conn, { model, encodedRelationSql: encodedParquetRelation(model, population) });
});
afterAll(() => db.close());

async function expected(source: string): Promise<{ rows: number[]; values: number[][] }> {
  const reader = await db.conn.runAndReadAll(transformSelectSql(model, transform, parquetRelation(source), { positionalNames: true }));
  const all = reader.getRowsJS();
  return { rows: all.map((r) => Number(r[0])), values: all.map((r) => r.slice(1).map(Number)) };
}

describe('exportMatrix / readMatrix', () => {
  test('float64 matrix and rows file round-trip the SQL computation exactly', async () => {
    const out = await exportMatrix(db.conn, {
      model,
      transform,
      sourceParquet: customers,
      outPrefix: join(db.dir, 'cust64'),
      dtype: 'float64',
      blockBytes: 100 * 130 * 8, // several blocks, not chunk-aligned
      duckdb: { threads: 1, memoryLimit: '1GB' },
    });
    const want = await expected(customers);
    expect(out).toMatchObject({ rows: want.rows.length, cols: 130, dtype: 'float64' });
    expect(out.rows).toBe(2000);
    expect(readFileSync(out.matrixPath).length).toBe(out.rows * out.cols * 8);
    const matrix = readMatrix(out.matrixPath, out.rows, out.cols, 'float64');
    expect(matrix.buffer).toBeInstanceOf(SharedArrayBuffer);
    const rows = readRowIndex(out.rowsPath, out.rows);
    expect(Array.from(rows)).toEqual(want.rows);
    expect(rows.some((r, i) => i > 0 && r < rows[i - 1])).toBe(true); // the file's order, not sorted
    for (let i = 0; i < out.rows; i++) {
      for (let j = 0; j < out.cols; j++) {
        if (matrix[i * out.cols + j] !== want.values[i][j]) {
          throw new Error(`cell ${i},${j}: ${matrix[i * out.cols + j]} vs ${want.values[i][j]}`);
        }
      }
    }
    // Little-endian on disk.
    const bytes = readFileSync(out.matrixPath);
    expect(bytes.readDoubleLE(8 * 5)).toBe(want.values[0][5]);
    expect(readFileSync(out.rowsPath).readInt32LE(4)).toBe(want.rows[1]);
    // No temp files left behind.
    expect(readdirSync(db.dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  test('float32 holds the float32-rounded values; non-shared read works', async () => {
    const out = await exportMatrix(db.conn, { model, transform, sourceParquet: population, outPrefix: join(db.dir, 'pop32'), dtype: 'float32' });
    const want = await expected(population);
    const matrix = readMatrix(out.matrixPath, out.rows, out.cols, 'float32', { shared: false });
    expect(matrix).toBeInstanceOf(Float32Array);
    expect(matrix.buffer).toBeInstanceOf(ArrayBuffer);
    expect(out.rows).toBe(5000);
    let worst = 0;
    for (let i = 0; i < out.rows; i++) {
      for (let j = 0; j < out.cols; j++) {
        const a = matrix[i * out.cols + j];
        const b = want.values[i][j];
        if (a !== Math.fround(b)) worst = Math.max(worst, Math.abs(a - b));
      }
    }
    // DuckDB's DOUBLE -> FLOAT cast rounds to nearest, the same as Math.fround.
    expect(worst).toBe(0);
    expect(Array.from(readRowIndex(out.rowsPath, out.rows))).toEqual(want.rows);
  });

  test('a size mismatch is an error, and a failed export leaves no files', async () => {
    const out = await exportMatrix(db.conn, { model, transform, sourceParquet: population, outPrefix: join(db.dir, 'size'), dtype: 'float64' });
    expect(() => readMatrix(out.matrixPath, out.rows + 1, out.cols, 'float64')).toThrow(/bytes, expected/);
    expect(() => readMatrix(out.matrixPath, out.rows, out.cols, 'float32')).toThrow(/bytes, expected/);
    const bad = await writeParquet(db, 'bad-row', `SELECT 5000000000::BIGINT AS "row", * EXCLUDE ("row") FROM read_parquet('${population}') LIMIT 3`);
    await expect(
      exportMatrix(db.conn, { model, transform, sourceParquet: bad, outPrefix: join(db.dir, 'bad'), dtype: 'float64' }),
    ).rejects.toThrow();
    expect(existsSync(join(db.dir, 'bad.matrix'))).toBe(false);
    expect(readdirSync(db.dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  test('DuckDB settings are applied for the duration and restored afterwards', async () => {
    const before = (await db.conn.runAndReadAll(`SELECT current_setting('threads'), current_setting('memory_limit')`)).getRowsJS()[0];
    let inside: unknown[] = [];
    await withDuckDBSettings(db.conn, { threads: 1, memoryLimit: '512MB' }, async () => {
      inside = (await db.conn.runAndReadAll(`SELECT current_setting('threads'), current_setting('memory_limit')`)).getRowsJS()[0];
    });
    const after = (await db.conn.runAndReadAll(`SELECT current_setting('threads'), current_setting('memory_limit')`)).getRowsJS()[0];
    expect(Number(inside[0])).toBe(1);
    expect(String(inside[1])).toMatch(/^48\d(\.\d+)? MiB$/);
    expect(after).toEqual(before);
    await expect(withDuckDBSettings(db.conn, { memoryLimit: "1GB'; DROP TABLE x; --" }, async () => 1)).rejects.toThrow(/memoryLimit/);
    // The export's 64MB streaming buffer applies only over the default, and never leaks.
    const readBuffer = async () => String((await db.conn.runAndReadAll(`SELECT current_setting('streaming_buffer_size')`)).getRowsJS()[0][0]);
    const defaultBuffer = await readBuffer();
    const seen: string[] = [];
    const exportReading = async () => {
      await exportMatrix(db.conn, { model, transform, sourceParquet: population, outPrefix: join(db.dir, 'settings'), dtype: 'float32' });
    };
    await withDuckDBSettings(db.conn, { streamingBufferSize: '64MB' }, async () => {
      seen.push(await readBuffer());
    });
    expect(seen).toEqual(['61.0 MiB']);
    await exportReading();
    expect(await readBuffer()).toBe(defaultBuffer);
    await db.conn.run(`SET streaming_buffer_size = '2MB'`);
    const custom = await readBuffer();
    await withDuckDBSettings(db.conn, { streamingBufferSize: '64MB' }, async () => {
      seen.push(await readBuffer());
    }, { soft: ['streamingBufferSize'] });
    expect(seen[1]).toBe(custom); // soft: the caller's value wins
    await exportReading();
    expect(await readBuffer()).toBe(custom);
    await db.conn.run(`RESET streaming_buffer_size`);
  });
});

describe('vectorValues', () => {
  test('fast path reads the chunk memory; fallback and NULL handling work', async () => {
    const result = await db.conn.stream(`SELECT range::DOUBLE / 4 AS x, CASE WHEN range % 3 = 0 THEN NULL ELSE range::DOUBLE END AS y, range::INTEGER AS i FROM range(3000)`);
    const chunk = await result.fetchChunk();
    if (!chunk) throw new Error('no chunk');
    const n = chunk.rowCount;
    // The fast path never calls getItem (no per-cell objects).
    const spies = [0, 1, 2].map((j) => jest.spyOn(chunk.getColumnVector(j), 'getItem'));
    const x = vectorValues(chunk.getColumnVector(0), n, Float64Array);
    expect(x.nulls).toBe(0);
    expect(x.values[10]).toBe(2.5);
    const y = vectorValues(chunk.getColumnVector(1), n, Float64Array);
    expect(y.nulls).toBe(Math.ceil(n / 3));
    expect(Number.isNaN(y.values[0])).toBe(true);
    expect(y.values[1]).toBe(1);
    const i = vectorValues(chunk.getColumnVector(2), n, Int32Array);
    expect(Array.from(i.values.subarray(0, 3))).toEqual([0, 1, 2]);
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    expect(x.values).toBeInstanceOf(Float64Array);
    expect(i.values).toBeInstanceOf(Int32Array);
    // Something without the internals falls back to getItem.
    const fake = { getItem: (k: number) => (k === 1 ? null : k * 2) } as unknown as DuckDBVector;
    const fb = vectorValues(fake, 3, Float64Array);
    expect(Array.from(fb.values)).toEqual([0, NaN, 4]);
    expect(fb.nulls).toBe(1);
  });
});

describe('standardiseVector', () => {
  test('imputes and standardises UTINYINT, SMALLINT and DOUBLE vectors bit for bit as the SQL does', async () => {
    const mean = 0.37;
    const std = 1.9;
    const fill = 2;
    const standardised = (column: string) =>
      `(COALESCE(CAST(${column} AS DOUBLE), '${fill}'::DOUBLE) - '${mean}'::DOUBLE) / '${std}'::DOUBLE`;
    const source = `SELECT CASE WHEN range % 5 = 0 THEN NULL ELSE (range % 7)::UTINYINT END AS u,
      CASE WHEN range % 3 = 0 THEN NULL ELSE (range % 1000 - 500)::SMALLINT END AS s,
      CASE WHEN range % 4 = 0 THEN NULL ELSE range::DOUBLE / 3 END AS d FROM range(3000)`;
    const result = await db.conn.stream(source);
    const chunk = await result.fetchChunk();
    if (!chunk) throw new Error('no chunk');
    const n = chunk.rowCount;
    const want = (await db.conn.runAndReadAll(`SELECT ${['u', 's', 'd'].map(standardised).join(', ')} FROM (${source} LIMIT ${n})`)).getRowsJS();
    const spies = [0, 1, 2].map((j) => jest.spyOn(chunk.getColumnVector(j), 'getItem'));
    const target = new Float64Array(n + 5);
    for (let j = 0; j < 3; j++) {
      standardiseVector(chunk.getColumnVector(j), n, target, mean, std, (fill - mean) / std);
      for (let i = 0; i < n; i++) if (!Object.is(target[i], want[i][j])) throw new Error(`column ${j} row ${i}: ${target[i]} vs ${want[i][j]}`);
    }
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    // Something without the internals falls back to getItem.
    const fake = { getItem: (k: number) => (k === 1 ? null : k * 2) } as unknown as DuckDBVector;
    standardiseVector(fake, 3, target, 1, 2, -7);
    expect(Array.from(target.subarray(0, 3))).toEqual([-0.5, -7, 1.5]);
  });
});

describe('inverse helpers', () => {
  test('inverseScale undoes the standardisation; describeFeatureSource names the origin', () => {
    const raw = transform.features.map((f, j) => f.fill + j);
    const back = inverseScale(forwardScale(raw, transform), transform);
    back.forEach((value, j) => expect(Math.abs(value - raw[j])).toBeLessThan(1e-9));
    expect(() => inverseScale([1, 2], transform)).toThrow(/130 features/);
    const zeros = inverseScale(new Float64Array(130), transform);
    expect(zeros).toEqual(transform.features.map((f) => f.mean));

    expect(describeFeatureSource(model, 'CAMEO_DEUG_2015=8')).toMatchObject({ source: 'CAMEO_DEUG_2015', kind: 'onehot', level: '8' });
    expect(describeFeatureSource(model, 'CAMEO_DEUG_2015=8').text).toMatch(/CAMEO_DEUG_2015 = 8 .*one-hot/);
    expect(describeFeatureSource(model, 'WOHNLAGE_RURAL')).toMatchObject({ source: 'WOHNLAGE', kind: 'flag' });
    expect(describeFeatureSource(model, 'WOHNLAGE_RURAL').text).toMatch(/rural.*derived from WOHNLAGE/);
    expect(describeFeatureSource(model, 'OST_WEST_KZ').text).toMatch(/W -> 0, O -> 1/);
    const first = describeFeatureSource(model, 0);
    expect(first).toMatchObject({ feature: 'ALTERSKATEGORIE_GROB', kind: 'numeric', index: 0 });
    expect(() => describeFeatureSource(model, 'NOPE')).toThrow(/NOPE/);
  });
});
