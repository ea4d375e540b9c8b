/** Value checks with real DuckDB and real Parquet files: domains, magnitudes, both policies. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../common/errors';
import { builtinArvatoDomains, describeDomain, valueCheckCountsSql, valueCheckFlagsSql, ValueCheckSettings } from '../../core/cleaning/domains';
import { checkValues, recodeMissing, recodedRelation } from '../../core/cleaning/cleaning-steps';
import { queryRows, withDuckDb } from '../../core/duckdb';
import type { IngestOutput } from '../../schemas/steps';

let dir: string;
let ingested: { dir: string; output: IngestOutput };

const COLUMNS: IngestOutput['columns'] = [
  { name: 'SCALE', type: 'ordinal', storage: 'number', missingCodes: ['-1', '9'] },
  { name: 'COUNT', type: 'numeric', storage: 'number', missingCodes: [] },
  { name: 'LEVEL', type: 'categorical', storage: 'text', missingCodes: ['X'] },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'segments-values-'));
  await withDuckDb({}, async (conn) => {
    // Rows 0..6 (lines 2..8): SCALE 1, 2, 99, -1 (code), 9 (code), -3, 2.5; COUNT 1e308 on row 4; LEVEL 'Q' on row 1.
    await conn.run(`COPY (SELECT * FROM (VALUES
      (0, 1.0, 1.0, 'A'), (1, 2.0, 2.0, 'Q'), (2, 99.0, 3.0, 'A'), (3, -1.0, 4.0, 'X'), (4, 9.0, 1e308, 'B'), (5, -3.0, NULL, 'A'), (6, 2.5, 5.0, NULL)
      ) t("row", "SCALE", "COUNT", "LEVEL")) TO '${join(dir, 'population.parquet')}' (FORMAT parquet)`);
    await conn.run(`COPY (SELECT * FROM (VALUES (0, 3.0, -2e12, 'A'), (1, 4.0, 2.0, 'B')) t("row", "SCALE", "COUNT", "LEVEL")) TO '${join(dir, 'customers.parquet')}' (FORMAT parquet)`);
  });
  ingested = {
    dir,
    output: {
      population: { path: '/data/population.csv', rows: 7, sha256: 'x', parquet: 'population.parquet' },
      customers: { path: '/data/customers.csv', rows: 2, sha256: 'y', parquet: 'customers.parquet' },
      featureSummary: { path: '/data/summary.csv', sha256: 'z' },
      columns: COLUMNS,
    },
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SETTINGS: ValueCheckSettings = {
  policy: 'missing',
  maxAbsValue: 1e9,
  domains: { SCALE: { min: 1, max: 5, integer: true }, LEVEL: { values: ['A', 'B'] } },
  domainSource: 'test',
};

test('counts out-of-domain and extreme values per file and column (codes and NULLs are not counted)', async () => {
  const checks = await withDuckDb({}, (conn) => checkValues(conn, ingested, SETTINGS));
  expect(checks.columns).toEqual([
    { column: 'SCALE', domain: '1..5 (whole numbers)', population: { outOfDomain: 3, extreme: 0 }, customers: { outOfDomain: 0, extreme: 0 }, range: 'population -3.0..99.0' },
    { column: 'COUNT', domain: 'no domain', population: { outOfDomain: 0, extreme: 1 }, customers: { outOfDomain: 0, extreme: 1 }, range: 'population 1e+308..1e+308; customers -2000000000000.0..-2000000000000.0' },
    { column: 'LEVEL', domain: 'one of A, B', population: { outOfDomain: 1, extreme: 0 }, customers: { outOfDomain: 0, extreme: 0 }, range: 'population Q..Q' },
  ]);
});

test("policy 'missing': such values become NULL with the codes; coded counts stay the codes only", async () => {
  const out = mkdtempSync(join(tmpdir(), 'segments-values-out-'));
  try {
    await withDuckDb({}, async (conn) => {
      const output = await recodeMissing(conn, ingested, out, SETTINGS);
      const recoded = await recodedRelation({ dir: out, output, ingested }, 'population');
      const rows = await queryRows(conn, `SELECT "row", "SCALE", "COUNT", "LEVEL" FROM ${recoded} ORDER BY "row"`);
      expect(rows.map((r) => r.SCALE)).toEqual([1, 2, null, null, null, null, null]);
      expect(rows.map((r) => r.COUNT)).toEqual([1, 2, 3, 4, null, null, 5]);
      expect(rows.map((r) => r.LEVEL)).toEqual(['A', null, 'A', null, 'B', 'A', null]);
      expect(output.columns.find((c) => c.name === 'SCALE')!.population).toEqual({ empty: 0, coded: 2 });
      expect(output.columns.find((c) => c.name === 'COUNT')!.population).toEqual({ empty: 1, coded: 0 });
      expect(output.valueChecks.columns).toHaveLength(3);
      // The VARPOP that overflowed on 1e308 now works on what is left.
      const [variance] = await queryRows(conn, `SELECT var_pop("COUNT") AS v FROM ${recoded}`);
      expect(Number(variance.v)).toBeGreaterThan(0);
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("policy 'fail': an InputError naming the input file, the column and the line of the first such value", async () => {
  const error = await withDuckDb({}, (conn) => checkValues(conn, ingested, { ...SETTINGS, policy: 'fail' })).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InputError);
  expect((error as Error).message).toContain('file /data/population.csv, line 3, column LEVEL');
  expect((error as Error).message).toContain("outside the column's domain one of A, B");
});

test('the built-in Arvato domains follow the generator and the published ranges', () => {
  const domains = builtinArvatoDomains();
  expect(describeDomain(domains.SEMIO_SOZ)).toBe('1..7 (whole numbers)');
  expect(describeDomain(domains.ALTERSKATEGORIE_GROB)).toBe('1..9 (whole numbers)');
  expect(describeDomain(domains.ANZ_HAUSHALTE_AKTIV)).toBe('0..595 (whole numbers)');
  expect(domains.CAMEO_DEU_2015).toBeUndefined();
});

test('the candidate prefilter keeps every counted value: extremes in a ranged column, codes outside the range left uncounted', async () => {
  const own = mkdtempSync(join(tmpdir(), 'segments-values-prefilter-'));
  try {
    await withDuckDb({}, async (conn) => {
      // SCALE (domain 1..5, codes -1 and 9): 1e12 and -1e12 are extreme (beyond 1e9) and outside the range; -1 and 9
      // are codes outside the range (candidates, not counted); 3.5 is not a whole number; NULL is not counted.
      await conn.run(`COPY (SELECT * FROM (VALUES
        (0, 1.0, 1.0, 'A'), (1, 1e12, 1.0, 'A'), (2, -1.0, 1.0, 'A'), (3, 9.0, 1.0, 'A'), (4, -1e12, 1.0, 'A'), (5, 3.5, 1.0, 'A'), (6, NULL, 1.0, 'A')
        ) t("row", "SCALE", "COUNT", "LEVEL")) TO '${join(own, 'population.parquet')}' (FORMAT parquet)`);
      await conn.run(`COPY (SELECT * FROM (VALUES (0, 2.0, 1.0, 'A')) t("row", "SCALE", "COUNT", "LEVEL")) TO '${join(own, 'customers.parquet')}' (FORMAT parquet)`);
      const input = { dir: own, output: { ...ingested.output } };
      const checks = await checkValues(conn, input, SETTINGS);
      expect(checks.columns).toEqual([
        {
          column: 'SCALE',
          domain: '1..5 (whole numbers)',
          population: { outOfDomain: 1, extreme: 2 },
          customers: { outOfDomain: 0, extreme: 0 },
          range: 'population -1000000000000.0..1000000000000.0',
        },
      ]);
      const error = await checkValues(conn, input, { ...SETTINGS, policy: 'fail' }).catch((e: unknown) => e);
      expect((error as Error).message).toContain('file /data/population.csv, line 3, column SCALE');
    });
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
});

test('the flag queries: a range column is flagged by its bounds (statistics) or its whole-number test, clean columns are not', async () => {
  const own = mkdtempSync(join(tmpdir(), 'segments-values-flags-'));
  try {
    await withDuckDb({}, async (conn) => {
      // SCALE (1..5, whole) holds 4.5 only; COUNT (no domain) stays under 1e9; LEVEL ('A' | 'B') holds 'C' only.
      // The customers hold SCALE 7 (outside the bounds), nothing else.
      await conn.run(`COPY (SELECT * FROM (VALUES (0, 1.0, 5.0, 'A'), (1, 4.5, -3.0, 'C'), (2, -1.0, NULL, 'X'), (3, NULL, 1.0, NULL)) t("row", "SCALE", "COUNT", "LEVEL"))
        TO '${join(own, 'population.parquet')}' (FORMAT parquet)`);
      await conn.run(`COPY (SELECT * FROM (VALUES (0, 7.0, 1.0, 'A'), (1, 2.0, 2.0, 'B')) t("row", "SCALE", "COUNT", "LEVEL")) TO '${join(own, 'customers.parquet')}' (FORMAT parquet)`);
      const flagsOf = async (role: string) => {
        const { bounds, rows, checked } = valueCheckFlagsSql(`read_parquet('${join(own, `${role}.parquet`)}')`, COLUMNS, SETTINGS);
        const b = bounds ? (await queryRows(conn, bounds))[0] : {};
        const r = rows ? (await queryRows(conn, rows))[0] : {};
        return Object.fromEntries(checked.map((c, i) => [c.name, b[`f${i}`] === true || r[`f${i}`] === true]));
      };
      expect(await flagsOf('population')).toEqual({ SCALE: true, COUNT: false, LEVEL: true });
      expect(await flagsOf('customers')).toEqual({ SCALE: true, COUNT: false, LEVEL: false });
      // What checkValues finds after the flags equals the counting scan over every checked column.
      const input = { dir: own, output: { ...ingested.output } };
      const found = await checkValues(conn, input, SETTINGS);
      for (const role of ['population', 'customers'] as const) {
        const { sql, checked } = valueCheckCountsSql(`read_parquet('${join(own, `${role}.parquet`)}')`, COLUMNS, SETTINGS);
        const [all] = await queryRows(conn, sql);
        checked.forEach((column, i) => {
          const counted = { outOfDomain: Number(all[`o${i}`]), extreme: Number(all[`e${i}`]) };
          const entry = found.columns.find((c) => c.column === column.name);
          expect(entry?.[role] ?? { outOfDomain: 0, extreme: 0 }).toEqual(counted);
        });
      }
      expect(found.columns.map((c) => c.column)).toEqual(['SCALE', 'LEVEL']);
    });
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
});
