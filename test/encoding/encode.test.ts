import { join } from 'node:path';
import { readFeatureSummary } from '../../core/cleaning/feature-summary';
import { type EncodingRules } from '../../schemas/encoding-rules';
import { builtinArvatoEncodingRules, parseEncodingRules } from '../../core/encoding/rules';
import {
  countUnseenLevels,
  describeRelation,
  encodeSelectSql,
  EncodingModelSchema,
  type EncodingModel,
  fitEncoding,
  observedLevels,
  parquetRelation,
  quoteIdent,
} from '../../core/encoding';
import { defaultRulesFor } from '../../core/encoding/rules';
import { InputError } from '../../common/errors';
import { openTestDb, rowsOf, type TestDb, writeParquet } from './helpers';
import { writeSyntheticArvatoParquet } from './synthetic';

const ARVATO = builtinArvatoEncodingRules();

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.close());

function rules(columns: Record<string, unknown>): EncodingRules {
  return parseEncodingRules({ columns });
}

describe('one-hot alignment', () => {
  let population: string;
  let customers: string;
  beforeAll(async () => {
    // GEBAEUDETYP 5 occurs once in the population and never in customers; customers have a level 2 the population lacks.
    population = await writeParquet(
      db,
      'onehot-pop',
      `SELECT * FROM (VALUES (0::BIGINT, 1.0::DOUBLE), (1, 3.0), (2, 1.0), (3, 5.0), (4, 8.0), (5, NULL), (6, 1.0)) t("row", GEBAEUDETYP)`,
    );
    customers = await writeParquet(
      db,
      'onehot-cust',
      `SELECT * FROM (VALUES (10::BIGINT, 8.0::DOUBLE), (11, 2.0), (12, NULL), (13, 3.0)) t("row", GEBAEUDETYP)`,
    );
  });

  test('levels come from the population only; customers get the same columns', async () => {
    const model = await fitEncoding(db.conn, {
      populationParquet: population,
      keptColumns: ['GEBAEUDETYP'],
      rules: { ...ARVATO, columns: { GEBAEUDETYP: ARVATO.columns.GEBAEUDETYP } },
    });
    expect(model.features.map((f) => f.name)).toEqual(['GEBAEUDETYP=1', 'GEBAEUDETYP=3', 'GEBAEUDETYP=5', 'GEBAEUDETYP=8']);
    expect(model.groups).toEqual([
      expect.objectContaining({ source: 'GEBAEUDETYP', levels: ['1', '3', '5', '8'], counts: [3, 1, 1, 1] }),
    ]);
    const out = await rowsOf(db, `${encodeSelectSql(model, parquetRelation(customers))} ORDER BY "row"`);
    expect(out).toEqual([
      { row: 10n, 'GEBAEUDETYP=1': 0, 'GEBAEUDETYP=3': 0, 'GEBAEUDETYP=5': 0, 'GEBAEUDETYP=8': 1 },
      // a customer-only level: no extra column, all zeros in the group (unknownLevels = zeros)
      { row: 11n, 'GEBAEUDETYP=1': 0, 'GEBAEUDETYP=3': 0, 'GEBAEUDETYP=5': 0, 'GEBAEUDETYP=8': 0 },
      // a NULL source is NULL in every column of the group, so imputation sees it
      { row: 12n, 'GEBAEUDETYP=1': null, 'GEBAEUDETYP=3': null, 'GEBAEUDETYP=5': null, 'GEBAEUDETYP=8': null },
      { row: 13n, 'GEBAEUDETYP=1': 0, 'GEBAEUDETYP=3': 1, 'GEBAEUDETYP=5': 0, 'GEBAEUDETYP=8': 0 },
    ]);
    // The population-only level's column exists and is 0 for every non-missing customer.
    const sum = await rowsOf(db, `SELECT sum("GEBAEUDETYP=5")::INTEGER AS s, count("GEBAEUDETYP=5")::INTEGER AS n FROM (${encodeSelectSql(model, parquetRelation(customers))})`);
    expect(sum).toEqual([{ s: 0, n: 3 }]);
    const unseen = await countUnseenLevels(db.conn, model, parquetRelation(customers));
    expect(unseen).toEqual([{ column: 'GEBAEUDETYP', rows: 1, values: ['2'] }]);
    // The model is plain JSON.
    expect(EncodingModelSchema.parse(JSON.parse(JSON.stringify(model)))).toEqual(model);
  });

  test('unknownLevels = missing turns a customer-only level into NULLs', async () => {
    const model = await fitEncoding(db.conn, {
      populationParquet: population,
      keptColumns: ['GEBAEUDETYP'],
      rules: rules({ GEBAEUDETYP: { action: 'onehot', unknownLevels: 'missing', reason: 'test' } }),
    });
    const out = await rowsOf(db, `${encodeSelectSql(model, parquetRelation(customers))} ORDER BY "row"`);
    expect(out[1]).toEqual({ row: 11n, 'GEBAEUDETYP=1': null, 'GEBAEUDETYP=3': null, 'GEBAEUDETYP=5': null, 'GEBAEUDETYP=8': null });
    expect(out[0]['GEBAEUDETYP=8']).toBe(1);
  });

  test('text levels with quotes are quoted safely', async () => {
    const path = await writeParquet(
      db,
      'quotes',
      `SELECT * FROM (VALUES (0::BIGINT, 'a''b'), (1, 'x"y'), (2, 'plain'), (3, NULL)) t("row", CODE)`,
    );
    const model = await fitEncoding(db.conn, {
      populationParquet: path,
      keptColumns: ['CODE'],
      rules: rules({ CODE: { action: 'onehot', reason: 'test' } }),
    });
    expect(model.features.map((f) => f.name)).toEqual(['CODE=a\'b', 'CODE=plain', 'CODE=x"y']);
    expect(quoteIdent('CODE=x"y')).toBe('"CODE=x""y"');
    const out = await rowsOf(db, `${encodeSelectSql(model, parquetRelation(path))} ORDER BY "row"`);
    expect(out.map((r) => [r["CODE=a'b"], r['CODE=plain'], r['CODE=x"y']])).toEqual([
      [1, 0, 0],
      [0, 0, 1],
      [0, 1, 0],
      [null, null, null],
    ]);
  });

  test('too many levels for one-hot is an InputError', async () => {
    const path = await writeParquet(db, 'many', `SELECT range::BIGINT AS "row", (range % 50)::DOUBLE AS C FROM range(200)`);
    await expect(
      fitEncoding(db.conn, { populationParquet: path, keptColumns: ['C'], rules: rules({ C: { action: 'onehot', reason: 't' } }), maxOneHotLevels: 20 }),
    ).rejects.toThrow(/more than 20 columns/);
  });
});

describe('derive, binary and keep', () => {
  let path: string;
  beforeAll(async () => {
    path = await writeParquet(
      db,
      'derive',
      `SELECT * FROM (VALUES
        (0::BIGINT, 8.0::DOUBLE, '24', 7.0::DOUBLE, 5.0::DOUBLE, 'O', 2.0::DOUBLE, 3.0::DOUBLE),
        (1, 15.0, '51', 3.0, 2.0, 'W', 1.0, 4.0),
        (2, 1.0, '12', 0.0, 1.0, NULL, 2.0, NULL),
        (3, NULL, NULL, 8.0, NULL, 'W', NULL, 1.0),
        (4, 7.0, '55', NULL, 4.0, 'O', 1.0, 2.0)
      ) t("row", PRAEGENDE_JUGENDJAHRE, CAMEO_INTL_2015, WOHNLAGE, PLZ8_BAUMAX, OST_WEST_KZ, ANREDE_KZ, SEMIO_SOZ)`,
    );
  });

  test('maps PRAEGENDE, CAMEO_INTL, WOHNLAGE, PLZ8_BAUMAX and binaries as documented', async () => {
    const kept = ['PRAEGENDE_JUGENDJAHRE', 'CAMEO_INTL_2015', 'WOHNLAGE', 'PLZ8_BAUMAX', 'OST_WEST_KZ', 'ANREDE_KZ', 'SEMIO_SOZ'];
    const model = await fitEncoding(db.conn, { populationParquet: path, keptColumns: kept, rules: ARVATO });
    expect(model.features.map((f) => f.name)).toEqual([
      'PRAEGENDE_JUGENDJAHRE_DECADE', 'PRAEGENDE_JUGENDJAHRE_MOVEMENT', 'CAMEO_INTL_2015_WEALTH', 'CAMEO_INTL_2015_LIFE_STAGE',
      'WOHNLAGE_QUALITY', 'WOHNLAGE_RURAL', 'PLZ8_BAUMAX_FAMILY_HOMES', 'PLZ8_BAUMAX_BUSINESS', 'OST_WEST_KZ', 'ANREDE_KZ', 'SEMIO_SOZ',
    ]);
    const out = await rowsOf(db, `${encodeSelectSql(model, parquetRelation(path))} ORDER BY "row"`);
    const pick = (r: Record<string, unknown>) => [
      r.PRAEGENDE_JUGENDJAHRE_DECADE, r.PRAEGENDE_JUGENDJAHRE_MOVEMENT, r.CAMEO_INTL_2015_WEALTH, r.CAMEO_INTL_2015_LIFE_STAGE,
      r.WOHNLAGE_QUALITY, r.WOHNLAGE_RURAL, r.PLZ8_BAUMAX_FAMILY_HOMES, r.PLZ8_BAUMAX_BUSINESS, r.OST_WEST_KZ, r.ANREDE_KZ, r.SEMIO_SOZ,
    ];
    expect(out.map(pick)).toEqual([
      [4, 0, 2, 4, null, 1, null, 1, 1, 1, 3],
      [6, 1, 5, 1, 3, 0, 2, 0, 0, 0, 4],
      [1, 0, 1, 2, null, null, 1, 0, null, 1, null],
      [null, null, null, null, null, 1, null, null, 0, null, 1],
      [3, 1, 5, 5, null, null, 4, 0, 1, 0, 2],
    ]);
    expect(model.features.find((f) => f.name === 'SEMIO_SOZ')?.range).toEqual({ min: 1, max: 4, integral: true });
    // Narrow types: flags / binaries UTINYINT, derived ordinals SMALLINT, kept numbers DOUBLE.
    const types = Object.fromEntries(
      (await describeRelation(db.conn, `(${encodeSelectSql(model, parquetRelation(path))})`)).map((c) => [c.name, c.type]),
    );
    expect(types).toMatchObject({
      row: 'BIGINT',
      PRAEGENDE_JUGENDJAHRE_DECADE: 'SMALLINT',
      PRAEGENDE_JUGENDJAHRE_MOVEMENT: 'UTINYINT',
      WOHNLAGE_RURAL: 'UTINYINT',
      OST_WEST_KZ: 'UTINYINT',
      SEMIO_SOZ: 'DOUBLE',
    });
  });

  test('numeric codes stored as text and as numbers give the same result', async () => {
    const asNumber = await writeParquet(db, 'intl-num', `SELECT * FROM (VALUES (0::BIGINT, 24.0::DOUBLE), (1, 51.0)) t("row", CAMEO_INTL_2015)`);
    const model = await fitEncoding(db.conn, { populationParquet: asNumber, keptColumns: ['CAMEO_INTL_2015'], rules: ARVATO });
    const out = await rowsOf(db, `${encodeSelectSql(model, parquetRelation(asNumber))} ORDER BY "row"`);
    expect(out).toEqual([
      { row: 0n, CAMEO_INTL_2015_WEALTH: 2, CAMEO_INTL_2015_LIFE_STAGE: 4 },
      { row: 1n, CAMEO_INTL_2015_WEALTH: 5, CAMEO_INTL_2015_LIFE_STAGE: 1 },
    ]);
  });

  test('population values no map covers are reported; a keep rule on non-numeric text fails', async () => {
    const odd = await writeParquet(db, 'odd', `SELECT * FROM (VALUES (0::BIGINT, 6.0::DOUBLE, 'x'), (1, 3.0, 'y')) t("row", WOHNLAGE, T)`);
    const model = await fitEncoding(db.conn, { populationParquet: odd, keptColumns: ['WOHNLAGE'], rules: ARVATO });
    expect(model.notes.join('\n')).toMatch(/WOHNLAGE: 1 population row\(s\).*6 \(1\)/);
    await expect(
      fitEncoding(db.conn, { populationParquet: odd, keptColumns: ['T'], rules: rules({ T: { action: 'keep', reason: 'x' } }) }),
    ).rejects.toThrow(/not numeric/);
    await expect(
      fitEncoding(db.conn, { populationParquet: odd, keptColumns: ['T'], rules: rules({}) }),
    ).rejects.toThrow(InputError);
    await expect(
      fitEncoding(db.conn, { populationParquet: odd, keptColumns: ['WOHNLAGE'], rules: rules({ WOHNLAGE: { action: 'binary', levels: { W: 0, O: 1 }, reason: 'x' } }) }),
    ).rejects.toThrow(/not a number/);
    await expect(
      fitEncoding(db.conn, { populationParquet: odd, keptColumns: ['MISSING_COL'], rules: ARVATO }),
    ).rejects.toThrow(/MISSING_COL/);
  });
});

describe('the Arvato rules on synthetic 79-column data', () => {
  test('give 130 features: 55 kept, 4 binary, 63 one-hot in 10 groups, 8 derived', async () => {
    const path = join(db.dir, 'arvato.parquet');
    const kept = await writeSyntheticArvatoParquet(db.conn, path, 3000);
    expect(kept).toHaveLength(79);
    const summary = readFeatureSummary(join(__dirname, '..', '..', 'data', 'AZDIAS_Feature_Summary.csv'));
    const sparse = ['AGER_TYP', 'GEBURTSJAHR', 'TITEL_KZ', 'ALTER_HH', 'KK_KUNDENTYP', 'KBA05_BAUMAX'];
    expect(kept).toEqual(summary.features.map((f) => f.attribute).filter((a) => !sparse.includes(a)));
    const model = await fitEncoding(db.conn, { populationParquet: path, keptColumns: kept, rules: ARVATO });
    const byKind = (kind: string) => model.features.filter((f) => f.kind === kind).length;
    expect(model.features).toHaveLength(130);
    expect([byKind('numeric'), byKind('binary'), byKind('onehot'), byKind('derived') + byKind('flag')]).toEqual([55, 4, 63, 8]);
    expect(model.groups).toHaveLength(10);
    expect(model.dropped.map((d) => d.column).sort()).toEqual(
      ['CAMEO_DEU_2015', 'GREEN_AVANTGARDE', 'LP_FAMILIE_FEIN', 'LP_LEBENSPHASE_FEIN', 'LP_LEBENSPHASE_GROB', 'LP_STATUS_FEIN'].sort(),
    );
    expect(model.features.filter((f) => f.source === 'CAMEO_DEUG_2015').map((f) => f.name)).toEqual(
      ['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((l) => `CAMEO_DEUG_2015=${l}`),
    );
    expect(model.notes).toEqual([]);
    // Type-derived rules work on the same file too (levels sampled from it).
    const levels = await observedLevels(db.conn, path, kept);
    expect(levels.OST_WEST_KZ).toEqual(['O', 'W']);
    const derived = defaultRulesFor(summary, kept, levels);
    expect(derived.columns.OST_WEST_KZ).toMatchObject({ action: 'binary', levels: { O: 0, W: 1 } });
    const generic = await fitEncoding(db.conn, { populationParquet: path, keptColumns: kept, rules: derived });
    expect(generic.features.some((f) => f.name === 'CAMEO_DEU_2015=9E')).toBe(true);
  });
});

describe('features fit to cluster (rare levels, concentration)', () => {
  let population: string;
  beforeAll(async () => {
    // 1,000 rows: GEBAEUDETYP 1 (700), 3 (280), 5 (1), 4 (9), 6 (10); SOHO_KZ-like flag with 2 ones; a numeric with one wild outlier.
    population = await writeParquet(
      db,
      'rare-pop',
      `SELECT i::BIGINT AS "row",
              (CASE WHEN i < 700 THEN 1 WHEN i < 980 THEN 3 WHEN i = 980 THEN 5 WHEN i < 990 THEN 4 ELSE 6 END)::DOUBLE AS GEBAEUDETYP,
              (CASE WHEN i < 2 THEN 1 ELSE 0 END)::DOUBLE AS FLAG,
              (CASE WHEN i = 7 THEN 10000 ELSE i % 5 END)::DOUBLE AS AMOUNT,
              (i % 7)::DOUBLE AS SCORE
       FROM range(1000) t(i)`,
    );
  });
  const columns = {
    GEBAEUDETYP: { action: 'onehot', reason: 'nominal' },
    FLAG: { action: 'keep', reason: 'a 0/1 flag' },
    AMOUNT: { action: 'keep', reason: 'numeric' },
    SCORE: { action: 'keep', reason: 'numeric' },
  };

  test('rare levels are folded into (other) when the fold is not rare itself, with the reason recorded', async () => {
    const model = await fitEncoding(db.conn, {
      populationParquet: population,
      keptColumns: ['GEBAEUDETYP'],
      rules: rules({ GEBAEUDETYP: columns.GEBAEUDETYP }),
      rareLevels: { minShare: 0.005, minCount: 15, action: 'other' },
    });
    expect(model.features.map((f) => f.name)).toEqual(['GEBAEUDETYP=1', 'GEBAEUDETYP=3', 'GEBAEUDETYP=(other)']);
    expect(model.rareLevels.map((d) => [d.level, d.count, d.action])).toEqual([
      ['4', 9, 'folded'],
      ['5', 1, 'folded'],
      ['6', 10, 'folded'],
    ]);
    expect(model.rareLevels[1].reason).toMatch(/below the minimum of 15 rows/);
    expect(model.groups[0].levels).toEqual(['1', '3', '4', '5', '6']);
    const sums = await rowsOf(db, `SELECT sum("GEBAEUDETYP=(other)")::INTEGER AS other, sum("GEBAEUDETYP=1")::INTEGER AS one FROM (${encodeSelectSql(model, parquetRelation(population))})`);
    expect(sums).toEqual([{ other: 20, one: 700 }]);
  });

  test('a fold that is rare itself is dropped, and so is every rare level with action "drop"', async () => {
    const base = { populationParquet: population, keptColumns: ['GEBAEUDETYP'], rules: rules({ GEBAEUDETYP: columns.GEBAEUDETYP }) };
    const tooRare = await fitEncoding(db.conn, { ...base, rareLevels: { minShare: 0, minCount: 25, action: 'other' } });
    expect(tooRare.features.map((f) => f.name)).toEqual(['GEBAEUDETYP=1', 'GEBAEUDETYP=3']);
    expect(tooRare.rareLevels.every((d) => d.action === 'dropped' && /are rare too/.test(d.reason))).toBe(true);
    const dropped = await fitEncoding(db.conn, { ...base, rareLevels: { minShare: 0.005, minCount: 15, action: 'drop' } });
    expect(dropped.features.map((f) => f.name)).toEqual(['GEBAEUDETYP=1', 'GEBAEUDETYP=3']);
    expect(dropped.rareLevels).toHaveLength(3);
  });

  test('features a handful of rows dominate are dropped with their share; ordinary ones stay', async () => {
    const model = await fitEncoding(db.conn, {
      populationParquet: population,
      keptColumns: ['FLAG', 'AMOUNT', 'SCORE'],
      rules: rules({ FLAG: columns.FLAG, AMOUNT: columns.AMOUNT, SCORE: columns.SCORE }),
      concentration: { rows: 5, maxShare: 0.5 },
    });
    expect(model.features.map((f) => f.name)).toEqual(['SCORE']);
    expect(model.concentratedFeatures.map((c) => c.feature)).toEqual(['FLAG', 'AMOUNT']);
    for (const c of model.concentratedFeatures) expect(c.share).toBeGreaterThan(0.5);
    expect(model.concentratedFeatures[1].reason).toMatch(/5 most extreme of 1000 population rows/);
  });
});

describe('the concentration check from value counts decides as the SQL scans do', () => {
  /** Every feature's share by the two SQL scans over the encoded rows (count, var_pop; the top-n largest |x - mean|). */
  async function sqlShares(model: EncodingModel, population: string, rows: number): Promise<Map<string, number>> {
    const source = `(${encodeSelectSql(model, parquetRelation(population))})`;
    const x = (name: string) => `CAST(enc.${quoteIdent(name)} AS DOUBLE)`;
    const out = new Map<string, number>();
    for (const feature of model.features) {
      const [moments] = await rowsOf(db, `SELECT count(${x(feature.name)})::DOUBLE AS n, avg(${x(feature.name)}) AS mean, var_pop(${x(feature.name)}) AS v FROM ${source} AS enc`);
      const [top] = await rowsOf(
        db,
        `SELECT list_sum(list_transform(max(abs(${x(feature.name)} - ${Number(moments.mean ?? 0)}::DOUBLE), ${rows}), lambda v: v * v)) AS t FROM ${source} AS enc`,
      );
      const total = Number(moments.n) * Number(moments.v ?? 0);
      out.set(feature.name, total > 0 ? Math.min(1, Number(top.t ?? 0) / total) : 0);
    }
    return out;
  }

  /** Limits between the features' distinct shares (and one above them all): each splits the features differently. */
  function limitsBetween(shares: Iterable<number>): number[] {
    const sorted = [...new Set(shares)].sort((a, b) => a - b);
    const between = sorted.slice(1).map((share, i) => (share + sorted[i]) / 2);
    const picked = between.filter((_, i) => i % Math.max(1, Math.floor(between.length / 5)) === 0);
    // And just below / above shares, where the value counts hand the decision to the SQL scans.
    const top = sorted[sorted.length - 1];
    const near = top > 0 ? [top * (1 - 1e-7), top * (1 + 1e-7)] : [];
    return [...picked, ...near.filter((limit) => limit < 1), Math.min(0.999, sorted[sorted.length - 1] + 1e-3)];
  }

  async function expectSameDecisions(options: Parameters<typeof fitEncoding>[1], rows: number): Promise<void> {
    const unchecked = await fitEncoding(db.conn, options);
    const reference = await sqlShares(unchecked, options.populationParquet, rows);
    const limits = limitsBetween(reference.values());
    expect(limits.length).toBeGreaterThanOrEqual(2);
    for (const maxShare of limits) {
      const model = await fitEncoding(db.conn, { ...options, concentration: { rows, maxShare } });
      const want = unchecked.features.map((f) => f.name).filter((name) => (reference.get(name) as number) > maxShare);
      expect(model.concentratedFeatures.map((c) => c.feature)).toEqual(want);
      for (const c of model.concentratedFeatures) expect(c.share).toBeCloseTo(reference.get(c.feature) as number, 12);
      expect(model.features.map((f) => f.name)).toEqual(unchecked.features.map((f) => f.name).filter((name) => !want.includes(name)));
    }
  }

  test('mapped, one-hot (folded, unknown = missing), text and number columns; a truncated level count', async () => {
    // Skewed columns so the shares spread: text and number sources, NULLs, values no map covers.
    const population = await writeParquet(
      db,
      'concentration-pop',
      `SELECT i::BIGINT AS "row",
              (CASE WHEN i % 97 = 0 THEN NULL WHEN i < 1500 THEN 'A' WHEN i < 1900 THEN 'B' WHEN i < 1990 THEN 'C' ELSE 'D' END) AS KIND,
              (CASE WHEN i % 13 = 0 THEN NULL ELSE (i * 7919 % 5)::DOUBLE END) AS LEVEL5,
              (CASE WHEN i < 30 THEN 'x' WHEN i % 11 = 0 THEN 'z' ELSE 'y' END) AS XY,
              (CASE WHEN i % 3 = 0 THEN NULL ELSE ((i * 31) % 9)::VARCHAR END) AS TEXTNUM,
              (CASE WHEN i = 5 THEN 5000 WHEN i < 40 THEN 100 + i ELSE i % 9 END)::DOUBLE AS SKEWED,
              ((i * 7) % 23)::DOUBLE AS EVEN,
              (CASE WHEN i < 4 THEN 1 ELSE 0 END)::DOUBLE AS RAREFLAG,
              (i % 8)::DOUBLE AS EIGHT
       FROM range(2000) t(i)`,
    );
    await expectSameDecisions(
      {
        populationParquet: population,
        keptColumns: ['KIND', 'LEVEL5', 'XY', 'TEXTNUM', 'SKEWED', 'EVEN', 'RAREFLAG', 'EIGHT'],
        rules: rules({
          KIND: { action: 'onehot', unknownLevels: 'missing', reason: 'nominal' },
          LEVEL5: { action: 'onehot', reason: 'nominal' },
          XY: { action: 'derive', reason: 'mapped', outputs: [{ name: 'XY_SCORE', kind: 'ordinal', map: { x: 3, y: 1.5 } }, { name: 'XY_FLAG', kind: 'flag', map: { x: 1, y: 0, z: null } }] },
          TEXTNUM: { action: 'keep', reason: 'numbers stored as text' },
          SKEWED: { action: 'keep', reason: 'outliers' },
          EVEN: { action: 'keep', reason: 'spread' },
          RAREFLAG: { action: 'binary', levels: { '0': 0, '1': 1 }, reason: 'rare ones' },
          // More values than maxOneHotLevels: its level count is truncated, so the SQL scans decide it.
          EIGHT: { action: 'binary', levels: { '0': 0, '1': 1 }, reason: 'two of eight values mapped' },
        }),
        maxOneHotLevels: 6,
        rareLevels: { minShare: 0.03, minCount: 30, action: 'other' },
      },
      25,
    );
  });

  test('kept numbers with more distinct values than the value counts hold (continuous) are left to the SQL scans', async () => {
    const population = await writeParquet(
      db,
      'concentration-continuous',
      `SELECT i::BIGINT AS "row", (CASE WHEN i < 3 THEN 1e6 + i ELSE i / 7.0 END)::DOUBLE AS CONT, (i % 5)::DOUBLE AS SMALL
       FROM range(120000) t(i)`,
    );
    await expectSameDecisions(
      { populationParquet: population, keptColumns: ['CONT', 'SMALL'], rules: rules({ CONT: { action: 'keep', reason: 'continuous' }, SMALL: { action: 'keep', reason: 'codes' } }) },
      25,
    );
  });

  test('the Arvato rules on synthetic data', async () => {
    const path = join(db.dir, 'arvato-concentration.parquet');
    const kept = await writeSyntheticArvatoParquet(db.conn, path, 3000, { missingShare: 0.1 });
    await expectSameDecisions({ populationParquet: path, keptColumns: kept, rules: ARVATO, rareLevels: { minShare: 0.02, minCount: 30, action: 'other' } }, 40);
  });
});
