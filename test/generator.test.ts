/**
 * Synthetic data generator: determinism, file format, calibration against the published facts (measured with
 * DuckDB), structural identities and the planted truth. Small files (20,000 + 5,000 rows) keep it fast.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PCA } from 'ml-pca';
import { featureSummaryPath, generateDataset, GenerateSummary, Truth } from '../tools/generator';
import { readFeatureSummary } from '../core/cleaning/feature-summary';
import { FLOAT_COLUMNS, STRING_COLUMNS } from '../tools/generator/spec';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DuckDBInstance } = require('@duckdb/node-api');

const POP = 20000;
const CUST = 5000;
const SPARSE = ['AGER_TYP', 'GEBURTSJAHR', 'TITEL_KZ', 'ALTER_HH', 'KK_KUNDENTYP', 'KBA05_BAUMAX'];

const features = readFeatureSummary(featureSummaryPath()).features;
const columns = features.map((f) => f.attribute);
const kept = features.filter((f) => !SPARSE.includes(f.attribute));

let root: string;
let dirA: string;
let summaryA: GenerateSummary;
let db: { connect(): Promise<Connection> };
let conn: Connection;
interface Connection {
  run(sql: string): Promise<unknown>;
  runAndReadAll(sql: string): Promise<{ getRowObjects(): Record<string, unknown>[] }>;
}

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjects();
}
async function scalar(sql: string): Promise<number> {
  const r = await rows(sql);
  return Number(Object.values(r[0])[0]);
}
const q = (name: string): string => `"${name}"`;

/** SQL: is this cell missing after code conversion (empty, or equal to one of the column's codes)? */
function missing(f: (typeof features)[number]): string {
  const parts = [`${q(f.attribute)} IS NULL`];
  const numeric = f.missingCodes.filter((c) => /^-?\d+$/.test(c));
  const text = f.missingCodes.filter((c) => !/^-?\d+$/.test(c));
  if (numeric.length) parts.push(`TRY_CAST(${q(f.attribute)} AS DOUBLE) IN (${numeric.join(', ')})`);
  if (text.length) parts.push(`${q(f.attribute)} IN (${text.map((t) => `'${t}'`).join(', ')})`);
  return `coalesce(${parts.join(' OR ')}, false)`;
}
const rowMissing = kept.map((f) => `CAST(${missing(f)} AS INTEGER)`).join(' + ');
const HEAVY_LIMIT = Math.floor(0.3 * kept.length); // 23 of 79

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'generator-test-'));
  dirA = path.join(root, 'a');
  summaryA = await generateDataset({ outDir: dirA, populationRows: POP, customerRows: CUST, seed: 7 });
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
  const load = (table: string, file: string): Promise<unknown> =>
    conn.run(`CREATE TABLE ${table} AS SELECT * FROM read_csv('${file.replace(/'/g, "''")}', delim=';', header=true, all_varchar=true)`);
  await load('pop', summaryA.files.population);
  await load('cust', summaryA.files.customers);
  await load('tpop', path.join(dirA, 'truth_population.csv'));
  await load('tcust', path.join(dirA, 'truth_customers.csv'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('generateDataset: files and determinism', () => {
  test('writes the six files and reports sizes', () => {
    expect(summaryA.populationRows).toBe(POP);
    expect(summaryA.customerRows).toBe(CUST);
    expect(path.basename(summaryA.files.population)).toBe('Udacity_AZDIAS_Subset.csv');
    expect(path.basename(summaryA.files.customers)).toBe('Udacity_CUSTOMERS_Subset.csv');
    expect(path.basename(summaryA.files.featureSummary)).toBe('AZDIAS_Feature_Summary.csv');
    expect(path.basename(summaryA.files.truth)).toBe('truth.json');
    expect(summaryA.seconds).toBeGreaterThan(0);
    expect(readFileSync(summaryA.files.featureSummary)).toEqual(readFileSync(featureSummaryPath()));
  });

  test('same seed gives identical bytes, another seed different bytes', async () => {
    const dirB = path.join(root, 'b');
    const dirC = path.join(root, 'c');
    await generateDataset({ outDir: dirB, populationRows: POP, customerRows: CUST, seed: 7 });
    await generateDataset({ outDir: dirC, populationRows: POP, customerRows: CUST, seed: 8 });
    for (const file of ['Udacity_AZDIAS_Subset.csv', 'Udacity_CUSTOMERS_Subset.csv', 'truth.json', 'truth_population.csv', 'truth_customers.csv']) {
      expect(sha(path.join(dirB, file))).toBe(sha(path.join(dirA, file)));
    }
    expect(sha(path.join(dirC, 'Udacity_AZDIAS_Subset.csv'))).not.toBe(sha(path.join(dirA, 'Udacity_AZDIAS_Subset.csv')));
    expect(sha(path.join(dirC, 'Udacity_CUSTOMERS_Subset.csv'))).not.toBe(sha(path.join(dirA, 'Udacity_CUSTOMERS_Subset.csv')));
  });

  test('dropSegments leaves planted segments out of both files; the others keep their relative shares', async () => {
    const dir = path.join(root, 'dropped');
    await generateDataset({ outDir: dir, populationRows: 4000, customerRows: 1000, seed: 7, dropSegments: [0, 8] });
    const truth = JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8')) as Truth;
    const share = (id: number) => truth.segments.find((s) => s.id === id)!;
    for (const id of [0, 8]) expect([share(id).populationShare, share(id).customerShare]).toEqual([0, 0]);
    for (const file of ['truth_population.csv', 'truth_customers.csv']) {
      const segments = readFileSync(path.join(dir, file), 'utf8').trim().split('\n').slice(1).map((line) => Number(line.split(';')[1]));
      expect(segments.filter((s) => s === 0 || s === 8)).toEqual([]);
    }
    // Segments 5 and 6 planted at 12 % and 13 % of the clean rows: the same ratio without 0 and 8.
    expect(share(5).populationShare / share(6).populationShare).toBeCloseTo(0.12 / 0.13, 2);
    await expect(generateDataset({ outDir: path.join(root, 'bad'), populationRows: 100, dropSegments: [42] })).rejects.toThrow(/no planted segment 42/);
  });

  test('rejects bad sizes', async () => {
    await expect(generateDataset({ outDir: path.join(root, 'bad'), populationRows: 0 })).rejects.toThrow(/populationRows/);
    await expect(generateDataset({ outDir: path.join(root, 'bad'), customerRows: 1.5 })).rejects.toThrow(/customerRows/);
  });

  test.each([
    ['population', 'Udacity_AZDIAS_Subset.csv', POP],
    ['customers', 'Udacity_CUSTOMERS_Subset.csv', CUST],
  ])('%s file: header in feature-summary order, LF, 85 fields per row', (_label, file, n) => {
    const text = readFileSync(path.join(dirA, file), 'utf8');
    expect(text.includes('\r')).toBe(false);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines[0]).toBe(columns.join(';'));
    expect(lines.length).toBe(n + 1);
    const bad = lines.filter((l) => l.split(';').length !== columns.length);
    expect(bad).toEqual([]);
  });
});

describe('calibration (DuckDB)', () => {
  test('exactly the six sparse columns are more than 30% missing in the population', async () => {
    const sel = features.map((f) => `avg(CAST(${missing(f)} AS DOUBLE)) AS ${q(f.attribute)}`).join(', ');
    const shares = (await rows(`SELECT ${sel} FROM pop`))[0];
    const over = Object.entries(shares).filter(([, v]) => Number(v) > 0.3).map(([k]) => k);
    expect(over.sort()).toEqual([...SPARSE].sort());
    // Published per-column totals (FACTS §3): a few anchors.
    const close = (col: string, ref: number, tol: number): void => expect(Math.abs(Number(shares[col]) - ref)).toBeLessThan(tol);
    close('TITEL_KZ', 0.9976, 0.003);
    close('AGER_TYP', 0.7696, 0.015);
    close('KK_KUNDENTYP', 0.656, 0.015);
    close('KBA05_BAUMAX', 0.5347, 0.015);
    close('GEBURTSJAHR', 0.4402, 0.015);
    close('ALTER_HH', 0.3481, 0.015);
    close('KKK', 0.1774, 0.015);
    close('HEALTH_TYP', 0.1248, 0.012);
    close('CJT_GESAMTTYP', 0.0054, 0.003);
  });

  test('heavy-missing share: ~10.5% of the population, ~26% of customers', async () => {
    const heavy = async (t: string): Promise<number> => scalar(`SELECT avg(CASE WHEN m > ${HEAVY_LIMIT} THEN 1.0 ELSE 0 END) FROM (SELECT ${rowMissing} AS m FROM ${t})`);
    const p = await heavy('pop');
    const c = await heavy('cust');
    expect(p).toBeGreaterThanOrEqual(0.09);
    expect(p).toBeLessThanOrEqual(0.12);
    expect(c).toBeGreaterThanOrEqual(0.23);
    expect(c).toBeLessThanOrEqual(0.29);
  });

  test('per-row missing histogram has the published shape (FACTS §4)', async () => {
    const h = await rows(`SELECT m, count(*) AS n FROM (SELECT ${rowMissing} AS m FROM pop) GROUP BY m`);
    const share = (pred: (m: number) => boolean): number => h.filter((r) => pred(Number(r.m))).reduce((s, r) => s + Number(r.n), 0) / POP;
    expect(Math.abs(share((m) => m === 0) - 0.6993)).toBeLessThan(0.02);
    expect(Math.abs(share((m) => m <= 8) - 0.8659)).toBeLessThan(0.02);
    expect(Math.abs(share((m) => m <= 16) - 0.8918)).toBeLessThan(0.015);
    expect(share((m) => m >= 22 && m <= 32)).toBeLessThan(0.005);
    expect(share((m) => m >= 33)).toBeGreaterThan(0.09);
    expect(Math.max(...h.map((r) => Number(r.m)))).toBeLessThanOrEqual(49);
  });

  test('marginals close to the published value counts', async () => {
    const dist = async (col: string): Promise<Record<string, number>> => {
      const r = await rows(`SELECT CASE WHEN regexp_matches(${q(col)}, '^[0-9]+\\.0$') THEN replace(${q(col)}, '.0', '') ELSE ${q(col)} END AS v, count(*) AS n
        FROM pop WHERE ${q(col)} IS NOT NULL GROUP BY 1`);
      return Object.fromEntries(r.map((x) => [String(x.v), Number(x.n)]));
    };
    const tv = (got: Record<string, number>, ref: Record<string, number>): number => {
      const g = Object.keys(ref).reduce((s, k) => s + (got[k] ?? 0), 0);
      const t = Object.values(ref).reduce((s, x) => s + x, 0);
      return Object.keys(ref).reduce((s, k) => s + Math.abs((got[k] ?? 0) / g - ref[k] / t), 0) / 2;
    };
    expect(tv(await dist('ANREDE_KZ'), { 1: 425916, 2: 465305 })).toBeLessThan(0.015);
    expect(tv(await dist('OST_WEST_KZ'), { O: 168545, W: 629528 })).toBeLessThan(0.015);
    expect(tv(await dist('CAMEO_DEUG_2015'), { 1: 36212, 2: 83231, 3: 86779, 4: 103912, 5: 55310, 6: 105874, 7: 77933, 8: 134441, 9: 108177 })).toBeLessThan(0.025);
    expect(tv(await dist('LP_STATUS_GROB'), { 1: 337511, 2: 226915, 3: 40973, 4: 162946, 5: 118022 })).toBeLessThan(0.02);
    expect(tv(await dist('ZABEOTYP'), { 1: 123622, 2: 33170, 3: 364905, 4: 210095, 5: 84956, 6: 74473 })).toBeLessThan(0.02);
    expect(tv(await dist('PRAEGENDE_JUGENDJAHRE'), {
      1: 21282, 2: 7479, 3: 55195, 4: 20451, 5: 86416, 6: 25652, 7: 4010, 8: 145988, 9: 33570, 10: 85808, 11: 35752, 12: 24446, 13: 5764, 14: 188697, 15: 42547,
    })).toBeLessThan(0.03);
    expect(tv(await dist('GREEN_AVANTGARDE'), { 0: 715996, 1: 175225 })).toBeLessThan(0.015);
    // describe() means (FACTS §6.2; codes included, empty cells excluded)
    const mean = (col: string): Promise<number> => scalar(`SELECT avg(TRY_CAST(${q(col)} AS DOUBLE)) FROM pop`);
    expect(Math.abs((await mean('HH_EINKOMMEN_SCORE')) - 4.2072)).toBeLessThan(0.06);
    expect(Math.abs((await mean('SEMIO_KAEM')) - 4.445)).toBeLessThan(0.06);
    expect(Math.abs((await mean('PLZ8_ANTG1')) - 2.2533)).toBeLessThan(0.05);
    expect(Math.abs((await mean('KBA13_ANZAHL_PKW')) - 619.7)).toBeLessThan(25);
    // missing codes where published
    const codeShare = (col: string, code: string): Promise<number> => scalar(`SELECT avg(CASE WHEN TRY_CAST(${q(col)} AS DOUBLE) = ${code} THEN 1.0 ELSE 0 END) FROM pop`);
    expect(Math.abs((await codeShare('AGER_TYP', '-1')) - 677503 / 891221)).toBeLessThan(0.015);
    expect(Math.abs((await codeShare('TITEL_KZ', '0')) - 815562 / 891221)).toBeLessThan(0.015);
    expect(Math.abs((await codeShare('GEBURTSJAHR', '0')) - 392318 / 891221)).toBeLessThan(0.015);
    expect(Math.abs((await codeShare('KBA05_BAUMAX', '0')) - 343200 / 891221)).toBeLessThan(0.015);
  });

  test('the customers lean wealthy, older and male', async () => {
    const mean = (t: string, col: string): Promise<number> => scalar(`SELECT avg(TRY_CAST(${q(col)} AS DOUBLE)) FROM ${t}`);
    expect(await mean('cust', 'HH_EINKOMMEN_SCORE')).toBeLessThan((await mean('pop', 'HH_EINKOMMEN_SCORE')) - 0.5);
    expect(await mean('cust', 'ALTERSKATEGORIE_GROB')).toBeGreaterThan((await mean('pop', 'ALTERSKATEGORIE_GROB')) + 0.2);
    expect(await mean('cust', 'ANREDE_KZ')).toBeLessThan((await mean('pop', 'ANREDE_KZ')) - 0.07);
  });
});

describe('structural identities', () => {
  test('CAMEO: DEUG is the first character of DEU, INTL is a function of DEU, X/XX and empties together', async () => {
    for (const t of ['pop', 'cust']) {
      expect(await scalar(`SELECT count(*) FROM ${t} WHERE CAMEO_DEU_2015 <> 'XX' AND CAST(CAST(CAMEO_DEUG_2015 AS DOUBLE) AS INTEGER)::VARCHAR <> left(CAMEO_DEU_2015, 1)`)).toBe(0);
      expect(await scalar(`SELECT count(*) FROM (SELECT CAMEO_DEU_2015 FROM ${t} WHERE CAMEO_DEU_2015 IS NOT NULL GROUP BY 1 HAVING count(DISTINCT CAMEO_INTL_2015) > 1)`)).toBe(0);
      expect(await scalar(`SELECT count(*) FROM ${t} WHERE (CAMEO_DEUG_2015 = 'X') <> (CAMEO_DEU_2015 = 'XX') OR (CAMEO_DEU_2015 = 'XX') <> (CAMEO_INTL_2015 = 'XX')`)).toBe(0);
      expect(await scalar(`SELECT count(*) FROM ${t} WHERE (CAMEO_DEUG_2015 IS NULL) <> (CAMEO_DEU_2015 IS NULL) OR (CAMEO_DEU_2015 IS NULL) <> (CAMEO_INTL_2015 IS NULL)`)).toBe(0);
    }
    const intl = (await rows(`SELECT DISTINCT CAMEO_INTL_2015 AS v FROM pop WHERE CAMEO_INTL_2015 IS NOT NULL AND CAMEO_INTL_2015 <> 'XX'`)).map((r) => String(r.v)).sort();
    expect(intl).toEqual(['12', '13', '14', '15', '22', '23', '24', '25', '31', '32', '33', '34', '35', '41', '43', '44', '45', '51', '52', '54', '55']);
    expect(await scalar(`SELECT count(DISTINCT CAMEO_DEU_2015) FROM pop WHERE CAMEO_DEU_2015 <> 'XX'`)).toBe(44);
    expect(await scalar(`SELECT count(*) FROM pop WHERE CAMEO_DEU_2015 = 'XX'`)).toBe(Math.round((POP * 373) / 891221));
  });

  test('GROB columns are groupings of the FEIN columns', async () => {
    const n = (sql: string): Promise<number> => scalar(`SELECT count(*) FROM (SELECT TRY_CAST(LP_FAMILIE_FEIN AS DOUBLE) ff, TRY_CAST(LP_FAMILIE_GROB AS DOUBLE) fg,
      TRY_CAST(LP_STATUS_FEIN AS DOUBLE) sf, TRY_CAST(LP_STATUS_GROB AS DOUBLE) sg, TRY_CAST(LP_LEBENSPHASE_FEIN AS DOUBLE) lf,
      TRY_CAST(LP_LEBENSPHASE_GROB AS DOUBLE) lg FROM pop) WHERE ${sql}`);
    const famGroup = `CASE WHEN ff = 0 THEN 0 WHEN ff <= 2 THEN ff WHEN ff <= 5 THEN 3 WHEN ff <= 8 THEN 4 ELSE 5 END`;
    const statusGroup = `CASE WHEN sf <= 2 THEN 1 WHEN sf <= 5 THEN 2 WHEN sf <= 7 THEN 3 WHEN sf <= 9 THEN 4 ELSE 5 END`;
    const lebGroup = `CASE WHEN lf <= 4 THEN 1 WHEN lf <= 8 THEN 2 WHEN lf <= 13 THEN 3 WHEN lf <= 16 THEN 4 WHEN lf <= 20 THEN 5 WHEN lf <= 23 THEN 6
      WHEN lf <= 25 THEN 7 WHEN lf <= 28 THEN 8 WHEN lf <= 30 THEN 9 WHEN lf <= 32 THEN 10 WHEN lf <= 35 THEN 11 ELSE 12 END`;
    expect(await n(`ff IS NOT NULL AND fg <> ${famGroup}`)).toBe(0);
    expect(await n(`sf IS NOT NULL AND sg <> ${statusGroup}`)).toBe(0);
    expect(await n(`lf > 0 AND lg <> ${lebGroup}`)).toBe(0);
    // Published quirk: LEBENSPHASE_FEIN = 0 with GROB 3 or 4 (3,060 of 891,221 rows).
    expect(await n(`lf = 0 AND lg NOT IN (0, 3, 4)`)).toBe(0);
    expect(await n(`sf IS NOT NULL AND (ff IS NULL OR lf IS NULL)`)).toBe(0);
    expect(await n(`lf > 0 AND fg <> CASE WHEN lg <= 3 THEN 1 WHEN lg <= 5 THEN 2 WHEN lg = 6 THEN 3 WHEN lg <= 8 THEN 4 ELSE 5 END`)).toBe(0);
  });

  test('GREEN_AVANTGARDE agrees with the movement of PRAEGENDE_JUGENDJAHRE', async () => {
    for (const t of ['pop', 'cust']) {
      expect(await scalar(`SELECT count(*) FROM ${t} WHERE GREEN_AVANTGARDE::INTEGER <>
        CASE WHEN PRAEGENDE_JUGENDJAHRE::INTEGER IN (2, 4, 6, 7, 9, 11, 13, 15) THEN 1 ELSE 0 END`)).toBe(0);
    }
    expect(await scalar(`SELECT count(*) FROM pop WHERE GREEN_AVANTGARDE = '1'`)).toBeGreaterThan(0);
  });

  test('HEALTH_TYP, SHOPPER_TYP and VERS_TYP are -1 in the same rows; KKK and REGIOTYP missing together', async () => {
    for (const t of ['pop', 'cust']) {
      expect(await scalar(`SELECT count(*) FROM ${t} WHERE (HEALTH_TYP = '-1') <> (SHOPPER_TYP = '-1') OR (HEALTH_TYP = '-1') <> (VERS_TYP = '-1')`)).toBe(0);
      expect(await scalar(`SELECT count(*) FROM ${t} WHERE (KKK IS NULL) <> (REGIOTYP IS NULL) OR (KKK = '0.0') <> (REGIOTYP = '0.0')`)).toBe(0);
    }
    expect(await scalar(`SELECT count(*) FROM pop WHERE HEALTH_TYP = '-1'`)).toBeGreaterThan(0);
  });

  test('GEBAEUDETYP = 5 in exactly one population row and no customer row; 2/4/6 only with ANZ_HAUSHALTE_AKTIV = 0', async () => {
    expect(await scalar(`SELECT count(*) FROM pop WHERE GEBAEUDETYP = '5.0'`)).toBe(1);
    expect(await scalar(`SELECT count(*) FROM cust WHERE GEBAEUDETYP = '5.0'`)).toBe(0);
    expect(await scalar(`SELECT count(*) FROM pop WHERE (GEBAEUDETYP IN ('2.0', '4.0', '6.0')) <> (ANZ_HAUSHALTE_AKTIV = '0.0')`)).toBe(0);
  });

  test.each(['pop', 'cust'])('%s: float formatting exactly in the columns that hold empty cells', async (t) => {
    const sel = columns.map((c) => `count(*) FILTER (WHERE ${q(c)} IS NULL) AS ${q(c)}`).join(', ');
    const empties = (await rows(`SELECT ${sel} FROM ${t}`))[0];
    const withEmpty = columns.filter((c) => Number(empties[c]) > 0);
    expect(withEmpty.length).toBe(53);
    expect(withEmpty.every((c) => FLOAT_COLUMNS.has(c) || STRING_COLUMNS.has(c))).toBe(true);
    for (const c of columns) {
      if (c === 'OST_WEST_KZ') {
        expect(await scalar(`SELECT count(*) FROM ${t} WHERE ${q(c)} NOT IN ('O', 'W')`)).toBe(0);
        continue;
      }
      if (c === 'CAMEO_DEU_2015') {
        expect(await scalar(`SELECT count(*) FROM ${t} WHERE NOT regexp_matches(${q(c)}, '^([1-9][A-F]|XX)$')`)).toBe(0);
        continue;
      }
      if (c === 'CAMEO_INTL_2015') {
        expect(await scalar(`SELECT count(*) FROM ${t} WHERE NOT regexp_matches(${q(c)}, '^([1-5][1-5]|XX)$')`)).toBe(0);
        continue;
      }
      if (c === 'CAMEO_DEUG_2015') {
        expect(await scalar(`SELECT count(*) FROM ${t} WHERE NOT regexp_matches(${q(c)}, '^([1-9](\\.0)?|X)$')`)).toBe(0);
        continue;
      }
      const pattern = withEmpty.includes(c) ? '^-?[0-9]+\\.0$' : '^-?[0-9]+$';
      const bad = await scalar(`SELECT count(*) FROM ${t} WHERE ${q(c)} IS NOT NULL AND NOT regexp_matches(${q(c)}, '${pattern}')`);
      if (bad !== 0) throw new Error(`${t}.${c}: ${bad} cells do not match ${pattern}`);
    }
    // The real file's quirk: CAMEO_DEUG_2015 mostly `8`, sometimes `8.0`.
    const floatForm = await scalar(`SELECT avg(CASE WHEN CAMEO_DEUG_2015 LIKE '%.0' THEN 1.0 ELSE 0 END) FROM ${t} WHERE CAMEO_DEUG_2015 NOT IN ('X')`);
    expect(floatForm).toBeGreaterThan(0);
    expect(floatForm).toBeLessThan(0.1);
  });
});

describe('truth files', () => {
  let truth: Truth;
  beforeAll(() => {
    truth = JSON.parse(readFileSync(summaryA.files.truth, 'utf8')) as Truth;
  });

  test('truth CSVs have one line per data row, heavy rows are exactly the rows with the building block empty', async () => {
    for (const [t, d, n] of [['tpop', 'pop', POP], ['tcust', 'cust', CUST]] as const) {
      expect(await scalar(`SELECT count(*) FROM ${t}`)).toBe(n);
      expect(await scalar(`SELECT count(*) FROM ${t} WHERE row::INTEGER <> rowid`)).toBe(0);
      expect(await scalar(`SELECT count(*) FROM ${t} WHERE (heavy = '1') <> (segment = '-1')`)).toBe(0);
      const mismatch = await scalar(`SELECT count(*) FROM (SELECT rowid AS r, OST_WEST_KZ IS NULL AS empty FROM ${d}) x
        JOIN ${t} ON ${t}.row::INTEGER = x.r WHERE x.empty <> (${t}.heavy = '1')`);
      expect(mismatch).toBe(0);
    }
  });

  test('truth.json shares match the truth CSVs; over/under-represented segments have lifts above/below 1', async () => {
    expect(truth.seed).toBe(7);
    expect(truth.segments.length).toBeGreaterThanOrEqual(8);
    expect(truth.segments.length).toBeLessThanOrEqual(10);
    for (const s of truth.segments) {
      expect(s.populationShare).toBeCloseTo((await scalar(`SELECT count(*) FROM tpop WHERE segment = '${s.id}'`)) / POP, 10);
      expect(s.customerShare).toBeCloseTo((await scalar(`SELECT count(*) FROM tcust WHERE segment = '${s.id}'`)) / CUST, 10);
    }
    expect(truth.heavyMissing.populationShare).toBeCloseTo((await scalar(`SELECT count(*) FROM tpop WHERE heavy = '1'`)) / POP, 10);
    expect(truth.heavyMissing.customerShare).toBeCloseTo((await scalar(`SELECT count(*) FROM tcust WHERE heavy = '1'`)) / CUST, 10);
    const total = truth.segments.reduce((s, x) => s + x.populationShare, 0) + truth.heavyMissing.populationShare;
    expect(total).toBeCloseTo(1, 10);
    const lift = (id: number): number => {
      const s = truth.segments.find((x) => x.id === id)!;
      return s.customerShare / s.populationShare;
    };
    expect(truth.overRepresented.length).toBeGreaterThan(0);
    expect(truth.underRepresented.length).toBeGreaterThan(0);
    for (const id of truth.overRepresented) expect(lift(id)).toBeGreaterThan(1);
    for (const id of truth.underRepresented) expect(lift(id)).toBeLessThan(1);
    expect(Math.max(...truth.segments.map((s) => lift(s.id)))).toBeGreaterThan(2.5);
    expect(Math.min(...truth.segments.map((s) => lift(s.id)))).toBeLessThan(0.2);
    expect(truth.heavyMissing.customerShare / truth.heavyMissing.populationShare).toBeGreaterThan(2);
  });

  test('k-means on standardised, PCA-reduced clean rows recovers the planted segments (ARI > 0.6)', async () => {
    // Ordinal-style encoding of the kept columns (multi-level categoricals as codes, as in the reference analysis).
    const numeric = kept.map((f) => f.attribute).filter((c) => !['CAMEO_DEU_2015', 'LP_LEBENSPHASE_FEIN', 'LP_LEBENSPHASE_GROB'].includes(c));
    const expr = numeric.map((c) => {
      const f = features.find((x) => x.attribute === c)!;
      const value = c === 'OST_WEST_KZ' ? `CASE WHEN ${q(c)} = 'W' THEN 1.0 ELSE 0.0 END`
        : c === 'PRAEGENDE_JUGENDJAHRE' ? `CASE WHEN ${q(c)}::INTEGER IN (2, 4, 6, 7, 9, 11, 13, 15) THEN 1.0 ELSE 0.0 END`
          : `TRY_CAST(${q(c)} AS DOUBLE)`;
      return `CASE WHEN ${missing(f)} THEN NULL ELSE ${value} END AS ${q(c)}`;
    });
    const data = await rows(`SELECT t.segment::INTEGER AS segment, ${expr.join(', ')} FROM (SELECT rowid AS r, * FROM pop) p
      JOIN tpop t ON t.row::INTEGER = p.r WHERE t.heavy = '0' ORDER BY p.r LIMIT 6000`);
    const labels = data.map((r) => Number(r.segment));
    const X = data.map((r) => numeric.map((c) => (r[c] === null ? NaN : Number(r[c]))));
    for (let j = 0; j < numeric.length; j++) {
      const present = X.map((x) => x[j]).filter((v) => !Number.isNaN(v));
      const m = present.reduce((s, v) => s + v, 0) / present.length;
      const sd = Math.sqrt(present.reduce((s, v) => s + (v - m) ** 2, 0) / present.length) || 1;
      for (const x of X) x[j] = Number.isNaN(x[j]) ? 0 : (x[j] - m) / sd;
    }
    const pca = new PCA(X, { center: true, scale: false });
    const Y = pca.predict(X, { nComponents: 20 }).to2DArray();
    let best: { clusters: number[]; sse: number } | undefined;
    for (const seed of [1, 2, 3]) {
      const r = kMeans(Y, truth.segments.length, seed);
      if (!best || r.sse < best.sse) best = r;
    }
    expect(adjustedRand(labels, best!.clusters)).toBeGreaterThan(0.6);
  });
});

/** Plain Lloyd's k-means with k-means++ seeding (ml-kmeans is ESM-only, which jest's CJS transform cannot load). */
function kMeans(points: number[][], k: number, seed: number): { clusters: number[]; sse: number } {
  let state = seed >>> 0 || 1;
  const random = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const dist = (a: number[], b: number[]): number => a.reduce((s, v, d) => s + (v - b[d]) ** 2, 0);
  const centroids: number[][] = [points[Math.floor(random() * points.length)].slice()];
  const nearest = points.map((p) => dist(p, centroids[0]));
  while (centroids.length < k) {
    const total = nearest.reduce((s, v) => s + v, 0);
    let u = random() * total;
    let i = 0;
    while (i < points.length - 1 && u >= nearest[i]) u -= nearest[i++];
    centroids.push(points[i].slice());
    points.forEach((p, j) => (nearest[j] = Math.min(nearest[j], dist(p, centroids[centroids.length - 1]))));
  }
  const clusters = new Array<number>(points.length).fill(0);
  let sse = Infinity;
  for (let iter = 0; iter < 100; iter++) {
    let next = 0;
    points.forEach((p, j) => {
      let bestC = 0;
      let bestD = Infinity;
      centroids.forEach((c, ci) => {
        const d = dist(p, c);
        if (d < bestD) [bestD, bestC] = [d, ci];
      });
      clusters[j] = bestC;
      next += bestD;
    });
    const sums = centroids.map((c) => new Array<number>(c.length).fill(0));
    const counts = new Array<number>(k).fill(0);
    points.forEach((p, j) => {
      counts[clusters[j]]++;
      p.forEach((v, d) => (sums[clusters[j]][d] += v));
    });
    sums.forEach((s, ci) => {
      if (counts[ci] > 0) centroids[ci] = s.map((v) => v / counts[ci]);
    });
    if (sse - next < 1e-9 * next) {
      sse = next;
      break;
    }
    sse = next;
  }
  return { clusters, sse };
}

function adjustedRand(a: number[], b: number[]): number {
  const pairs = (x: number): number => (x * (x - 1)) / 2;
  const joint = new Map<string, number>();
  const ra = new Map<number, number>();
  const rb = new Map<number, number>();
  a.forEach((x, i) => {
    joint.set(`${x},${b[i]}`, (joint.get(`${x},${b[i]}`) ?? 0) + 1);
    ra.set(x, (ra.get(x) ?? 0) + 1);
    rb.set(b[i], (rb.get(b[i]) ?? 0) + 1);
  });
  const sij = [...joint.values()].reduce((s, v) => s + pairs(v), 0);
  const sa = [...ra.values()].reduce((s, v) => s + pairs(v), 0);
  const sb = [...rb.values()].reduce((s, v) => s + pairs(v), 0);
  const expected = (sa * sb) / pairs(a.length);
  return (sij - expected) / ((sa + sb) / 2 - expected);
}
