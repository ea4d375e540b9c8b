import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, InputError } from '../../common/errors';
import { csvReadError } from '../../core/cleaning/csv-header';
import { missingCountsSql, nullCountsSql, rowMissingCountExpr, valueCountsByGroupSql } from '../../core/cleaning/sql';
import { DEFAULT_HEAVY_COMPARISON, GROUPING_SETS_PER_SCAN } from '../../core/cleaning/cleaning-steps';
import {
  INGEST_SAMPLE_ROWS,
  MIN_CLEAN_ROWS,
  assessMissingness,
  checkCleanRows,
  ingest,
  ingestFast,
  parquetNullCounts,
  Recoded,
  recodeMissing,
  recodedNullCounts,
  recodedRelation,
  resolveMaxRowMissing,
  splitRows,
} from '../../core/cleaning/cleaning-steps';
import { parquetRelation, queryOne, queryRows, toNumber, withDuckDb } from '../../core/duckdb';
import { jensenShannon, totalVariation } from '../../core/stats/divergence';
import { parseFeatureSummary } from '../../core/cleaning/feature-summary';

const SUMMARY = `attribute;information_level;type;missing_or_unknown
AGE;person;ordinal;[-1,0,9]
SEX;person;categorical;[-1,0]
CODE;microcell;categorical;[-1,XX]
SIZE;building;numeric;[]
SPARSE;household;numeric;[0]
`;

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'segments-cleaning-'));
}

/** Writes population/customers CSVs; rows are arrays of cells. */
function files(base: string, population: string[][], customers: string[][], header = 'AGE;SEX;CODE;SIZE;SPARSE', eol = '\n') {
  const write = (name: string, rows: string[][]) => {
    const path = join(base, name);
    writeFileSync(path, [header, ...rows.map((r) => r.join(';'))].join(eol) + eol);
    return path;
  };
  return { population: write('pop.csv', population), customers: write('cust.csv', customers) };
}

const POPULATION = [
  ['1', '1', '12', '3.0', '0'],
  ['2', '2', '24', '', '0'],
  ['9', '1', 'XX', '5.0', '7'],
  ['3', '0', '', '', '0'],
  ['4', '2', '4A', '1.0', '0'],
  ['0', '-1', '', '', ''],
];
const CUSTOMERS = [
  ['4', '1', '12', '2.0', '0'],
  ['1', '2', '', '', '0'],
];

async function runIngest(paths: { population: string; customers: string }, out: string, summaryText = SUMMARY) {
  const summary = parseFeatureSummary(summaryText, 'summary.csv');
  return withDuckDb({ threads: 1 }, (conn) =>
    ingest(conn, { ...paths, featureSummaryPath: 'summary.csv' }, summary, out, { population: 'p', customers: 'c', featureSummary: 's' }),
  );
}

async function expectInputError(promise: Promise<unknown>, pattern: RegExp, location: Partial<InputError['location']> = {}) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).message).toMatch(pattern);
  expect((error as InputError).location).toMatchObject(location);
}

function sub(base: string, name: string): string {
  const path = join(base, name);
  mkdirSync(path);
  return path;
}

describe('cleaning steps on small real files', () => {
  test('ingest types columns; recode, missingness and split count what the files hold', async () => {
    const base = dir();
    const paths = files(base, POPULATION, CUSTOMERS);
    const ingestDir = sub(base, 'ingest');
    const ingested = await runIngest(paths, ingestDir);
    expect(ingested.population.rows).toBe(6);
    expect(ingested.customers.rows).toBe(2);
    const storage = Object.fromEntries(ingested.columns.map((c) => [c.name, c.storage]));
    expect(storage).toEqual({ AGE: 'number', SEX: 'number', CODE: 'text', SIZE: 'number', SPARSE: 'number' });

    const recodeDir = sub(base, 'recode');
    const recoded = await withDuckDb({}, (conn) => recodeMissing(conn, { dir: ingestDir, output: ingested }, recodeDir));
    const byName = Object.fromEntries(recoded.columns.map((c) => [c.name, c.population]));
    // AGE: 9 and 0 are codes; SEX: 0 and -1; CODE: XX coded, two empty; SIZE: three empty; SPARSE: 0 coded x4, one empty.
    expect(byName.AGE).toEqual({ empty: 0, coded: 2 });
    expect(byName.SEX).toEqual({ empty: 0, coded: 2 });
    expect(byName.CODE).toEqual({ empty: 2, coded: 1 });
    expect(byName.SIZE).toEqual({ empty: 3, coded: 0 });
    expect(byName.SPARSE).toEqual({ empty: 1, coded: 4 });

    const rec: Recoded = { dir: recodeDir, output: recoded, ingested: { dir: ingestDir, output: ingested } };
    const relation = await recodedRelation(rec, 'population');
    const values = await withDuckDb({}, (conn) => queryRows(conn, `SELECT "row", AGE, SEX, CODE, SIZE FROM ${relation} ORDER BY "row"`));
    expect(values.map((v) => toNumber(v.row))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(values.map((v) => v.AGE)).toEqual([1, 2, null, 3, 4, null]);
    expect(values.map((v) => v.CODE)).toEqual(['12', '24', null, null, '4A', null]);
    expect(values.map((v) => v.SIZE)).toEqual([3, null, 5, null, 1, null]);

    const missingness = await withDuckDb({}, (conn) =>
      assessMissingness(conn, rec, ['AGE', 'SEX', 'CODE', 'SIZE', 'SPARSE'], 0.6),
    );
    // SPARSE misses 5 of 6 population rows (83 %) -> dropped; SIZE 3 of 6 (50 %) is kept.
    expect(missingness.dropped).toEqual(['SPARSE']);
    expect(missingness.kept).toEqual(['AGE', 'SEX', 'CODE', 'SIZE']);
    // Missing per row over the kept columns: 0,1,2,3,0,4.
    expect(missingness.rowHistogram.population).toEqual([2, 1, 1, 1, 1]);
    expect(missingness.rowHistogram.customers).toEqual([1, 0, 1, 0, 0]);

    const maxRowMissing = resolveMaxRowMissing({ maxRowMissing: 2, maxRowMissingShare: 0.3 }, 4);
    const splitDir = sub(base, 'split');
    const split = await withDuckDb({}, (conn) => splitRows(conn, rec, missingness, maxRowMissing, splitDir));
    expect(split.population).toMatchObject({ rows: 6, cleanRows: 4, heavyRows: 2 });
    expect(split.customers).toMatchObject({ rows: 2, cleanRows: 2, heavyRows: 0 });
    const heavyRows = await withDuckDb({}, (conn) =>
      queryRows(conn, `SELECT "row", missing FROM read_parquet('${join(splitDir, split.population.heavy)}')`),
    );
    expect(heavyRows.map((r) => [toNumber(r.row), toNumber(r.missing)])).toEqual([[3, 3], [5, 4]]);
    const clean = await withDuckDb({}, (conn) => queryRows(conn, `DESCRIBE SELECT * FROM read_parquet('${join(splitDir, split.population.clean)}')`));
    expect(clean.map((c) => c.column_name)).toEqual(['row', 'AGE', 'SEX', 'CODE', 'SIZE']);
  });

  test('the share rule derives the split threshold from the kept column count', () => {
    expect(resolveMaxRowMissing({ maxRowMissingShare: 0.3 }, 79)).toBe(23);
    expect(resolveMaxRowMissing({ maxRowMissing: 30, maxRowMissingShare: 0.3 }, 79)).toBe(30);
  });

  test('CRLF line ends, a byte-order mark, "8.0" next to "8", no final newline', async () => {
    const base = dir();
    const header = '\uFEFFAGE;SEX;CODE;SIZE;SPARSE';
    const write = (name: string, text: string) => {
      writeFileSync(join(base, name), text);
      return join(base, name);
    };
    const population = write('pop.csv', `${header}\r\n1;1;8.0;3.0;0\r\n2;2;8;;0\r\n3;1;XX;1;0`);
    const customers = write('cust.csv', `${header}\r\n1;1;8;3.0;0\r\n`);
    const out = sub(base, 'ingest');
    const ingested = await runIngest({ population, customers }, out);
    expect(ingested.population.rows).toBe(3);
    const codes = await withDuckDb({}, (conn) => queryRows(conn, `SELECT CODE FROM read_parquet('${join(out, 'population.parquet')}') ORDER BY "row"`));
    expect(codes.map((c) => c.CODE)).toEqual(['8', '8', 'XX']);
  });
});

describe('ingest rejects bad input with file, column and line', () => {
  const cases: [string, (base: string) => { population: string; customers: string }, RegExp, Partial<InputError['location']>][] = [
    ['text in an ordinal column', (b) => files(b, [...POPULATION, ['old', '1', '12', '1', '0']], CUSTOMERS), /value "old" is not a number/, { column: 'AGE', line: 8 }],
    ['a missing column', (b) => files(b, [['1', '1', '12', '3']], CUSTOMERS.map((r) => r.slice(0, 4)), 'AGE;SEX;CODE;SIZE'), /missing from the header: SPARSE/, { column: 'SPARSE', line: 1 }],
    ['an extra column', (b) => files(b, [['1', '1', '12', '3', '0', '5']], CUSTOMERS, 'AGE;SEX;CODE;SIZE;SPARSE;MORE'), /not in the feature summary: MORE/, { column: 'MORE' }],
    ['a duplicate column', (b) => files(b, [['1', '1', '12', '3', '0', '5']], CUSTOMERS, 'AGE;SEX;CODE;SIZE;SPARSE;AGE'), /appears twice/, { column: 'AGE' }],
    ['a comma-separated file', (b) => files(b, [['1', '1', '12', '3', '0']].map((r) => [r.join(',')]), CUSTOMERS, 'AGE,SEX,CODE,SIZE,SPARSE'), /wrong delimiter/, { line: 1 }],
    ['an empty file', (b) => { const p = files(b, POPULATION, CUSTOMERS); writeFileSync(p.population, ''); return p; }, /empty/, {}],
    ['a header without rows', (b) => files(b, [], CUSTOMERS), /no data rows/, {}],
    ['a truncated last line', (b) => files(b, [...POPULATION, ['1', '2']], CUSTOMERS), /expected 5 fields, found 2/, { line: 8 }],
    ['an unreadable path', (b) => ({ population: join(b, 'nope.csv'), customers: join(b, 'nope2.csv') }), /cannot open the file: ENOENT/, {}],
    ['a directory', (b) => ({ ...files(b, POPULATION, CUSTOMERS), population: sub(b, 'pop-dir') }), /not a file but a directory/, {}],
    ['a binary file', (b) => { const p = files(b, POPULATION, CUSTOMERS); writeFileSync(p.population, Buffer.from([0x41, 0x3b, 0x00, 0xff, 0x0a, 0x31])); return p; }, /not a text CSV: it holds binary data \(a NUL byte at offset 2\)/, {}],
    ['a header that is not UTF-8', (b) => { const p = files(b, POPULATION, CUSTOMERS); writeFileSync(p.population, Buffer.concat([Buffer.from('AGE;SEX;CODE;SIZE;SPARSE'), Buffer.from([0xc4, 0x0a]), Buffer.from('1;1;12;3;0\n')])); return p; }, /the header is not UTF-8 text/, { line: 1 }],
    ['an unterminated quote', (b) => files(b, [...POPULATION.slice(0, 2), ['1', '1', '"12', '3', '0'], ...POPULATION.slice(2)], CUSTOMERS), /a quoted field is never closed \(unterminated quote\)/, { line: 4 }],
    ['a Latin-1 byte in a text column', (b) => { const p = files(b, [...POPULATION, ['1', '1', '@', '3', '0']], CUSTOMERS); writeFileSync(p.population, Buffer.from(readFileSync(p.population).map((x) => (x === 0x40 ? 0xc4 : x)))); return p; }, /the line is not UTF-8 text/, { line: 8 }],
  ];
  test.each(cases)('%s', async (_name, make, pattern, location) => {
    const base = dir();
    const paths = make(base);
    await expectInputError(runIngest(paths, sub(base, 'ingest')), pattern, { file: paths.population, ...location });
  });

  test('customers with text in a numeric column are named as the customers file', async () => {
    const base = dir();
    const paths = files(base, POPULATION, [...CUSTOMERS, ['2', '1', '12', 'big', '0']]);
    await expectInputError(runIngest(paths, sub(base, 'ingest')), /value "big"/, { file: paths.customers, column: 'SIZE', line: 4 });
  });

  test('a quoted cell with an embedded newline is shown escaped, on one line, at the line its record starts', async () => {
    const base = dir();
    const paths = files(base, [...POPULATION.slice(0, 3), ['"2\n3"', '1', '12', '1', '0'], ...POPULATION.slice(3)], CUSTOMERS);
    await expectInputError(runIngest(paths, sub(base, 'ingest')), /value "2\\n3" is not a number.*\(1 such cell\)$/, { file: paths.population, column: 'AGE', line: 5 });
  });

  test("DuckDB's CSV errors keep the line and the reason, never DuckDB's own option advice", () => {
    const error = csvReadError(
      'f.csv',
      new Error('Invalid Input Error: CSV Error on Line: 7\nOriginal Line: 1;2;"3\n4;5\nSomething odd happened.\n\nPossible fixes:\n* Disable the parser\'s strict mode'),
    );
    expect(error.message).toBe('file f.csv, line 7: cannot parse the CSV: Something odd happened.');
    expect(csvReadError('f.csv', new Error('IO Error: No files found')).message).toBe('file f.csv: cannot parse the CSV: IO Error: No files found');
  });

  test('a duplicate attribute in the feature summary names the attribute and both lines', () => {
    expect(() => parseFeatureSummary(`${SUMMARY}SEX;person;categorical;[-1]\n`, 'summary.csv')).toThrow(
      'file summary.csv, line 7, column SEX: attribute SEX is listed twice (first on line 3)',
    );
  });

  test('a feature summary with an unparsable missing-code list', () => {
    expect(() => parseFeatureSummary(SUMMARY.replace('[-1,0,9]', '-1,0,9'), 'summary.csv')).toThrow(/line 2, column AGE: missing_or_unknown must be a bracketed list/);
    expect(() => parseFeatureSummary(SUMMARY.replace('[-1,0,9]', '[-1,0;9]'), 'summary.csv')).toThrow(/line 2/);
    expect(() => parseFeatureSummary(SUMMARY.replace('ordinal', 'ordinall'), 'summary.csv')).toThrow(/line 2, column AGE: type/);
  });

  test('the shipped Arvato summary parses: 85 columns, 9 distinct code lists', () => {
    const summary = parseFeatureSummary(readFileSync(join(__dirname, '../../data/AZDIAS_Feature_Summary.csv'), 'utf8'));
    expect(summary.features).toHaveLength(85);
    expect(new Set(summary.features.map((f) => JSON.stringify(f.missingCodes))).size).toBe(9);
    expect(summary.features.find((f) => f.attribute === 'CAMEO_INTL_2015')?.missingCodes).toEqual(['-1', 'XX']);
  });
});

describe('the data must leave something to model', () => {
  test('every column above the missing-share threshold is an InputError naming the fullest column', async () => {
    const base = dir();
    const empty = POPULATION.map((row) => row.map(() => ''));
    const paths = files(base, empty, CUSTOMERS);
    const ingestDir = sub(base, 'ingest');
    const ingested = await runIngest(paths, ingestDir);
    const recodeDir = sub(base, 'recode');
    const recoded = await withDuckDb({}, (conn) => recodeMissing(conn, { dir: ingestDir, output: ingested }, recodeDir));
    await expectInputError(
      withDuckDb({}, (conn) =>
        assessMissingness(conn, { dir: recodeDir, output: recoded, ingested: { dir: ingestDir, output: ingested } }, ['AGE', 'SEX', 'CODE', 'SIZE', 'SPARSE'], 0.3, paths.population),
      ),
      /no column is left to model: all 5 columns miss more than maxColumnMissingShare = 0.3 of the 6 population rows \(the fullest, AGE, misses 100.0 %\)/,
      { file: paths.population, column: 'AGE' },
    );
  });

  // Population rows per missing count over 10 kept columns: 6 rows miss none, 3 miss one, 20 miss five.
  const missingness = { kept: Array.from({ length: 10 }, (_, i) => `C${i}`), rowHistogram: { population: [6, 3, 0, 0, 0, 20, 0, 0, 0, 0, 0], customers: [1] } };

  test('fewer clean population rows than the minimum is an InputError with the counts', () => {
    expect(MIN_CLEAN_ROWS).toBe(10);
    expect(() => checkCleanRows(missingness, 1, { kMin: 2, kMax: 3 })).toThrow(InputError);
    expect(() => checkCleanRows(missingness, 1, { kMin: 2, kMax: 3 })).toThrow(
      'only 9 clean population rows are left to model, at least 10 are needed (rows missing at most 1 of the 10 kept columns; 20 of 29 rows are heavy-missing)',
    );
    expect(() => checkCleanRows(missingness, 1, { kMin: 2, kMax: 3 }, 'pop.csv')).toThrow(/^file pop\.csv: only 9 clean population rows/);
    expect(checkCleanRows(missingness, 5, { kMin: 2, kMax: 29 })).toEqual({ rows: 29, cleanRows: 29 });
  });

  test('k, kMin or kMax above the clean rows is a ConfigError naming what to lower', () => {
    expect(() => checkCleanRows(missingness, 5, { k: 30, kMin: 2, kMax: 10 })).toThrow(ConfigError);
    expect(() => checkCleanRows(missingness, 5, { k: 30, kMin: 2, kMax: 10 })).toThrow(/^k = 30 exceeds the 29 clean population rows .*; lower k$/);
    expect(() => checkCleanRows(missingness, 5, { kMin: 2, kMax: 30 })).toThrow(/^kMin\.\.kMax = 2\.\.30 exceeds .*; lower kMax$/);
    expect(() => checkCleanRows(missingness, 5, { k: 31, kMin: 30, kMax: 40 })).toThrow(/^k = 31 and kMin\.\.kMax = 30\.\.40 exceed .*; lower k and kMin and kMax$/);
  });
});

describe('the streaming ingest: fast path, exact path, footer counts', () => {
  const SIZE = INGEST_SAMPLE_ROWS + 500;

  /** SIZE population rows of plain numbers (and '4A'-style text in CODE), with `edit` applied per row. */
  function bigFiles(base: string, edit: (row: string[], i: number) => string[] = (row) => row) {
    const population = Array.from({ length: SIZE }, (_, i) =>
      edit([String(1 + (i % 4)), String(1 + (i % 2)), i % 7 === 0 ? 'XX' : `${i % 5}A`, i % 3 === 0 ? '' : `${(i % 9) + 0.5}`, String(i % 3)], i),
    );
    return files(base, population, CUSTOMERS);
  }

  async function ingestBoth(paths: { population: string; customers: string }, base: string) {
    const summary = parseFeatureSummary(SUMMARY, 'summary.csv');
    const hashes = { population: 'p', customers: 'c', featureSummary: 's' };
    const auto = sub(base, 'auto');
    const exact = sub(base, 'exact');
    const outputs = await withDuckDb({}, async (conn) => ({
      auto: await ingest(conn, { ...paths, featureSummaryPath: 'summary.csv' }, summary, auto, hashes),
      exact: await ingest(conn, { ...paths, featureSummaryPath: 'summary.csv' }, summary, exact, hashes, 'exact'),
    }));
    expect(outputs.auto).toEqual(outputs.exact);
    for (const role of ['population', 'customers']) {
      // Same types, same values in the same order (every cell's text and sign), same row index.
      const digest = (dir: string) =>
        withDuckDb({}, (conn) =>
          queryRows(
            conn,
            `SELECT typeof(COLUMNS(*)), sum(hash(file_row_number, CAST(COLUMNS(*) AS VARCHAR)))::VARCHAR, count(*) FROM read_parquet('${join(dir, `${role}.parquet`)}', file_row_number=true) GROUP BY ALL`,
          ),
        );
      expect(await digest(auto)).toEqual(await digest(exact));
    }
    return { ...outputs, dirs: { auto, exact } };
  }

  test('DuckDB reads a cell as DOUBLE exactly when TRY_CAST(trim(cell) AS DOUBLE) gives that value', async () => {
    // The fast path relies on this: the CSV reader's DOUBLE is the text path's number, or the read fails.
    const cells = ['1', '3.0', '-1', '+3', ' 3 ', '\t3', '.5', '5.', '1e3', '1E-3', '1e400', 'inf', '-Infinity', 'NaN', '-0', '0x10', '1_000',
      '1,5', '1 000', '3.0.0', '+-3', '--3', '0.30000000000000004', '123456789012345678901234567890', '4.9e-324', '9007199254740993', '  ',
      '"3"', '" 3 "', '""', '3\u00a0', '１', 'e3', '.', '-', 'X'];
    const base = dir();
    const path = join(base, 'cells.csv');
    writeFileSync(path, ['id;v', ...cells.map((cell, i) => `${i};${cell}`)].join('\n') + '\n');
    const options = `delim=';', header=true, auto_detect=false, quote='"', escape='"', strict_mode=true, null_padding=false`;
    const [asDouble, asText] = await withDuckDb({}, async (conn) => [
      await queryRows(conn, `SELECT id, CAST(v AS VARCHAR) AS v, signbit(v) AS sign FROM read_csv('${path}', columns={'id': 'INTEGER', 'v': 'DOUBLE'}, ${options}, ignore_errors=true) ORDER BY id`),
      await queryRows(conn, `SELECT id, CAST(TRY_CAST(NULLIF(trim(v), '') AS DOUBLE) AS VARCHAR) AS v, signbit(TRY_CAST(NULLIF(trim(v), '') AS DOUBLE)) AS sign FROM read_csv('${path}', columns={'id': 'INTEGER', 'v': 'VARCHAR'}, ${options}) ORDER BY id`),
    ]);
    const text = new Map(asText.map((row) => [row.id, row]));
    for (const row of asDouble) expect([cells[Number(row.id)], row]).toEqual([cells[Number(row.id)], text.get(row.id)]);
    // Whitespace-only cells are NULL for the text path but rejected by the reader (the fast path then falls back).
    expect(asDouble.map((row) => cells[Number(row.id)])).not.toContain('  ');
    expect(asDouble.length).toBeGreaterThan(20);
  });

  test('plain numbers, padded and exponent forms: the fast path writes what the exact path writes', async () => {
    const base = dir();
    const paths = bigFiles(base, (row, i) => (i === 3 ? [' 2', '+1', '"4A"', '1e1', '-2.5e0'] : i === SIZE - 1 ? ['2', '1', 'ZZ', '.5', '0'] : row));
    const summary = parseFeatureSummary(SUMMARY, 'summary.csv');
    const fast = await withDuckDb({}, (conn) => ingestFast(conn, paths, summary, sub(base, 'fast')));
    expect(fast.rows).toEqual({ population: SIZE, customers: 2 });
    const { auto } = await ingestBoth(paths, base);
    expect(Object.fromEntries(auto.columns.map((c) => [c.name, c.storage]))).toEqual({ AGE: 'number', SEX: 'number', CODE: 'text', SIZE: 'number', SPARSE: 'number' });
    const cells = await withDuckDb({}, (conn) =>
      queryRows(conn, `SELECT "row", AGE, SEX, CODE, SIZE, SPARSE FROM read_parquet('${join(base, 'auto', 'population.parquet')}') WHERE "row" IN (3, ${SIZE - 1}) ORDER BY "row"`),
    );
    expect(cells.map((c) => [toNumber(c.row), c.AGE, c.SEX, c.CODE, c.SIZE, c.SPARSE])).toEqual([
      [3, 2, 1, '4A', 10, -2.5],
      [SIZE - 1, 2, 1, 'ZZ', 0.5, 0],
    ]);
  });

  test.each([
    ['text in a categorical column after the sample rows', (row: string[], i: number) => (i === SIZE - 2 ? [row[0], 'M', ...row.slice(2)] : row)],
    ['a blank cell in a number column', (row: string[], i: number) => (i === SIZE - 100 ? [row[0], row[1], row[2], '   ', row[4]] : row)],
    ['a non-finite number in a categorical column', (row: string[], i: number) => (i === SIZE - 50 ? [row[0], 'inf', ...row.slice(2)] : row)],
  ])('%s: the fast path gives up and the exact path decides', async (_name, edit) => {
    const base = dir();
    const paths = bigFiles(base, edit);
    const summary = parseFeatureSummary(SUMMARY, 'summary.csv');
    await expect(withDuckDb({}, (conn) => ingestFast(conn, paths, summary, sub(base, 'fast')))).rejects.toThrow();
    const { auto } = await ingestBoth(paths, base);
    expect(auto.population.rows).toBe(SIZE);
  });

  test('text in a numeric column after the sample rows is still named by file, column and line', async () => {
    const base = dir();
    const paths = bigFiles(base, (row, i) => (i === SIZE - 10 ? ['old', ...row.slice(1)] : row));
    await expectInputError(runIngest(paths, sub(base, 'ingest')), /value "old" is not a number.*\(1 such cell\)$/, {
      file: paths.population,
      column: 'AGE',
      line: SIZE - 10 + 2,
    });
  });

  test('recode counts, and the NULL counts missingness takes from them, equal counting by a scan; a recoded Parquet file (older checkpoints) reads the same', async () => {
    const base = dir();
    const paths = bigFiles(base);
    const ingestDir = sub(base, 'ingest');
    const ingested = await runIngest(paths, ingestDir);
    const recodeDir = sub(base, 'recode');
    const recoded = await withDuckDb({}, (conn) => recodeMissing(conn, { dir: ingestDir, output: ingested }, recodeDir));
    const rec: Recoded = { dir: recodeDir, output: recoded, ingested: { dir: ingestDir, output: ingested } };
    // The checkpoint of a recode step from before: the recoded rows written out, their NULL counts in the footers.
    const oldDir = sub(base, 'recode-parquet');
    const old: Recoded = { dir: oldDir, output: { ...recoded, population: 'population.parquet', customers: 'customers.parquet' } };
    const names = ingested.columns.map((c) => c.name);
    await withDuckDb({}, async (conn) => {
      for (const role of ['population', 'customers'] as const) {
        const scanned = await queryOne(conn, missingCountsSql(parquetRelation(join(ingestDir, `${role}.parquet`)), ingested.columns));
        for (const column of recoded.columns) {
          expect([column.name, column[role]]).toEqual([column.name, { empty: toNumber(scanned[`${column.name}:empty`]), coded: toNumber(scanned[`${column.name}:coded`]) }]);
        }
        const relation = await recodedRelation(rec, role);
        await conn.run(`COPY (SELECT * FROM ${relation}) TO '${join(oldDir, `${role}.parquet`)}' (FORMAT parquet)`);
        const nulls = await queryOne(conn, nullCountsSql(relation, names));
        for (const counts of [await recodedNullCounts(conn, rec, role), await recodedNullCounts(conn, old, role)]) {
          expect(counts?.rows).toBe(toNumber(nulls.rows));
          for (const name of names) expect([name, counts?.nulls.get(name)]).toEqual([name, toNumber(nulls[name])]);
        }
        // Another file's columns: no answer from the footer, the caller scans.
        expect(await parquetNullCounts(conn, join(oldDir, `${role}.parquet`), ['row', ...names.slice(1)])).toBeNull();
      }
    });
    // The recoded rows come in row order (read without a sort), and the later steps find the same in either checkpoint.
    const rows = await withDuckDb({}, async (conn) => queryRows(conn, `SELECT "row" FROM ${await recodedRelation(rec, 'population')}`));
    expect(rows.every((r, i) => toNumber(r.row) === i)).toBe(true);
    const later = async (from: Recoded, name: string) =>
      withDuckDb({}, async (conn) => {
        const missingness = await assessMissingness(conn, from, names, 0.5);
        return { missingness, split: await splitRows(conn, from, missingness, 3, sub(base, name)) };
      });
    expect(await later(old, 'split-old')).toEqual(await later(rec, 'split-new'));
    await expect(recodedRelation({ dir: recodeDir, output: recoded }, 'population')).rejects.toThrow(/the ingest step's output is needed/);
  });

  test('split files and comparison equal a direct computation: 70 columns (more than one grouping-sets scan), text, codes, -0.0, a recoded Parquet checkpoint', async () => {
    const base = dir();
    const width = 70;
    expect(width).toBeGreaterThan(GROUPING_SETS_PER_SCAN);
    const names = Array.from({ length: width }, (_, c) => `C${c}`);
    // C0 is text (letter codes), C1 holds -0; the rest small integers with the code 9. Every 7th row misses
    // many columns (heavy), others miss a few; customers alike with another pattern.
    // (The first zero of C1 is -0: DuckDB's Parquet writer keeps a column chunk's zeros as the sign it met first.)
    const cell = (i: number, c: number, salt: number): string => {
      if (c === 1 && i % 5 === 0) return '-0';
      if ((i + salt) % 7 === 0 && c % 3 !== 0) return c % 2 === 0 ? '' : '9';
      if ((i * 31 + c * 17 + salt) % 23 === 0) return '9';
      if (c === 0) return ['A', 'B', 'CC', 'XX'][(i + salt) % 4];
      if (c === 1) return String(i % 3);
      return String((i * (c + 1) + salt) % (2 + (c % 5)));
    };
    const rows = (n: number, salt: number) => Array.from({ length: n }, (_, i) => names.map((_, c) => cell(i, c, salt)));
    const summaryText =
      'attribute;information_level;type;missing_or_unknown\n' +
      names.map((name, c) => `${name};person;${c === 0 ? 'categorical;[XX]' : c === 1 ? 'numeric;[]' : 'ordinal;[9]'}`).join('\n') +
      '\n';
    const paths = files(base, rows(1500, 0), rows(400, 3), names.join(';'));
    const ingestDir = sub(base, 'ingest');
    const ingested = await runIngest(paths, ingestDir, summaryText);
    const recodeDir = sub(base, 'recode');
    const recoded = await withDuckDb({}, (conn) => recodeMissing(conn, { dir: ingestDir, output: ingested }, recodeDir));
    const rec: Recoded = { dir: recodeDir, output: recoded, ingested: { dir: ingestDir, output: ingested } };
    const missingness = await withDuckDb({}, (conn) => assessMissingness(conn, rec, names, 0.9));
    const maxRowMissing = 20;
    // Compare every kept column: more than one scan's worth.
    const options = { ...DEFAULT_HEAVY_COMPARISON, maxMissingShare: 1 };
    const splitDir = sub(base, 'split');
    const split = await withDuckDb({}, (conn) => splitRows(conn, rec, missingness, maxRowMissing, splitDir, options));
    expect(split.comparison?.columns).toBe(missingness.kept.length);
    expect(missingness.kept.length).toBeGreaterThan(GROUPING_SETS_PER_SCAN);
    expect(split.population.heavyRows).toBeGreaterThan(0);
    expect(split.customers.heavyRows).toBeGreaterThan(0);

    const kept = missingness.kept;
    const missing = rowMissingCountExpr(kept);
    await withDuckDb({}, async (conn) => {
      for (const role of ['population', 'customers'] as const) {
        const source = await recodedRelation(rec, role);
        const text = (sql: string) => queryRows(conn, `SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (${sql})`);
        const read = (file: string) => text(`SELECT * FROM read_parquet('${join(splitDir, file)}')`);
        // The files in row order, as the direct filters give them (values compared as text: -0.0 apart from 0.0).
        expect(await read(split[role].clean)).toEqual(await text(`SELECT "row", ${kept.map((k) => `"${k}"`).join(', ')} FROM ${source} WHERE ${missing} <= ${maxRowMissing} ORDER BY "row"`));
        expect(await read(split[role].heavy)).toEqual(await text(`SELECT "row", ${missing} AS missing FROM ${source} WHERE ${missing} > ${maxRowMissing} ORDER BY "row"`));
        const types = await queryRows(conn, `DESCRIBE SELECT * FROM read_parquet('${join(splitDir, split[role].heavy)}')`);
        expect(types.map((t) => [t.column_name, t.column_type])).toEqual([['row', 'BIGINT'], ['missing', 'INTEGER']]);
      }
      // The comparison, from one GROUP BY per column over the flagged recoded rows.
      const source = await recodedRelation(rec, 'population');
      const counted = await queryRows(conn, valueCountsByGroupSql(`(SELECT *, (${missing}) > ${maxRowMissing} AS heavy FROM ${source})`, kept));
      expect(counted.some((row) => row.column === 'C1' && row.value === '-0.0')).toBe(true);
      expect(split.divergence).toEqual(divergenceFromCounts(counted, kept));
    });

    // A recode checkpoint holding the recoded rows (made before plans) splits alike, files included.
    const oldDir = sub(base, 'recode-parquet');
    await withDuckDb({}, async (conn) => {
      for (const role of ['population', 'customers'] as const) {
        await conn.run(`COPY (SELECT * FROM ${await recodedRelation(rec, role)}) TO '${join(oldDir, `${role}.parquet`)}' (FORMAT parquet)`);
      }
    });
    const old: Recoded = { dir: oldDir, output: { ...recoded, population: 'population.parquet', customers: 'customers.parquet' } };
    const oldSplitDir = sub(base, 'split-old');
    expect(await withDuckDb({}, (conn) => splitRows(conn, old, missingness, maxRowMissing, oldSplitDir, options))).toEqual(split);
    await withDuckDb({}, async (conn) => {
      for (const file of [split.population.clean, split.population.heavy, split.customers.clean, split.customers.heavy]) {
        const rows = (d: string) => queryRows(conn, `SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet('${join(d, file)}')`);
        expect(await rows(oldSplitDir)).toEqual(await rows(splitDir));
      }
    });
  });

  test('the clean-vs-heavy comparison counts values by their text, -0.0 apart from 0.0', async () => {
    const base = dir();
    // SPARSE holds 0 and -0; rows missing AGE and SEX (two of the five kept columns) are heavy.
    const population = Array.from({ length: 400 }, (_, i) => {
      const heavy = i % 5 === 0;
      return [heavy ? '' : String(1 + (i % 4)), heavy ? '' : String(1 + (i % 2)), `${i % 3}A`, String(i % 6), i % 4 === 0 ? '-0' : i % 4 === 1 ? '0' : String(1 + (i % 3))];
    });
    const paths = files(base, population, CUSTOMERS);
    const summaryText = SUMMARY.replace('SPARSE;household;numeric;[0]', 'SPARSE;household;numeric;[]');
    const ingestDir = sub(base, 'ingest');
    const ingested = await runIngest(paths, ingestDir, summaryText);
    const recodeDir = sub(base, 'recode');
    const recoded = await withDuckDb({}, (conn) => recodeMissing(conn, { dir: ingestDir, output: ingested }, recodeDir));
    const columns = ['AGE', 'SEX', 'CODE', 'SIZE', 'SPARSE'];
    const rec: Recoded = { dir: recodeDir, output: recoded, ingested: { dir: ingestDir, output: ingested } };
    const missingness = await withDuckDb({}, (conn) => assessMissingness(conn, rec, columns, 0.5));
    const split = await withDuckDb({}, (conn) => splitRows(conn, rec, missingness, 1, sub(base, 'split')));
    // The reference: value counts by CAST(value AS VARCHAR), one GROUP BY per column.
    const compared = missingness.columns.filter((c) => !c.dropped && c.populationShare <= 0.05).map((c) => c.column);
    expect(compared).toContain('SPARSE');
    const source = await recodedRelation(rec, 'population');
    const counted = await withDuckDb({}, (conn) =>
      queryRows(conn, valueCountsByGroupSql(`(SELECT *, (${rowMissingCountExpr(missingness.kept)}) > 1 AS heavy FROM ${source})`, compared)),
    );
    expect(counted.some((row) => row.column === 'SPARSE' && row.value === '-0.0')).toBe(true);
    expect(split.divergence).toEqual(divergenceFromCounts(counted, compared));
  });
});

/** The clean-vs-heavy divergences per column from value counts by (column, value, heavy), largest first: the reference. */
function divergenceFromCounts(counted: Record<string, unknown>[], columns: string[]) {
  return columns
    .map((column) => {
      const clean = new Map<string, number>();
      const heavy = new Map<string, number>();
      for (const row of counted) if (row.column === column) (row.heavy ? heavy : clean).set(String(row.value), toNumber(row.n));
      const levels = [...new Set([...clean.keys(), ...heavy.keys()])].sort();
      const p = levels.map((level) => clean.get(level) ?? 0);
      const q = levels.map((level) => heavy.get(level) ?? 0);
      return { column, jensenShannon: jensenShannon(p, q), totalVariation: totalVariation(p, q) };
    })
    .sort((a, b) => b.jensenShannon - a.jensenShannon);
}
