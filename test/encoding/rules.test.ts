import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFeatureSummary, parseFeatureSummary } from '../../core/cleaning/feature-summary';
import { builtinArvatoEncodingRules, defaultRulesFor, isArvatoSummary, loadEncodingRules, parseEncodingRules, validateRulesAgainstSummary } from '../../core/encoding/rules';
import { InputError } from '../../common/errors';

const SUMMARY_PATH = join(__dirname, '..', '..', 'data', 'AZDIAS_Feature_Summary.csv');
const SPARSE = ['AGER_TYP', 'GEBURTSJAHR', 'TITEL_KZ', 'ALTER_HH', 'KK_KUNDENTYP', 'KBA05_BAUMAX'];

describe('the shipped Arvato rules', () => {
  const summary = readFeatureSummary(SUMMARY_PATH);

  test('validate against the shipped feature summary and cover all 85 columns', () => {
    const rules = builtinArvatoEncodingRules();
    expect(() => validateRulesAgainstSummary(rules, summary)).not.toThrow();
    expect(Object.keys(rules.columns).sort()).toEqual(summary.features.map((feature) => feature.attribute).sort());
    expect(isArvatoSummary(summary)).toBe(true);
    const loaded = loadEncodingRules(undefined, summary);
    expect(loaded.defaulted).toEqual([]);
    expect(loaded.columns).toEqual(rules.columns);
  });

  test('every rule documents its decision', () => {
    for (const [column, rule] of Object.entries(builtinArvatoEncodingRules().columns)) {
      expect({ column, reason: rule.reason.trim().length > 10 }).toEqual({ column, reason: true });
    }
  });

  test('records the documented decisions', () => {
    const { columns } = builtinArvatoEncodingRules();
    expect(columns.OST_WEST_KZ).toMatchObject({ action: 'binary', levels: { W: 0, O: 1 } });
    expect(columns.ANREDE_KZ).toMatchObject({ action: 'binary', levels: { '1': 0, '2': 1 } });
    for (const dropped of ['CAMEO_DEU_2015', 'LP_LEBENSPHASE_FEIN', 'LP_LEBENSPHASE_GROB', 'LP_FAMILIE_FEIN', 'LP_STATUS_FEIN', 'GREEN_AVANTGARDE', 'KBA05_BAUMAX']) {
      expect([dropped, columns[dropped].action]).toEqual([dropped, 'drop']);
    }
    for (const onehot of ['CAMEO_DEUG_2015', 'LP_FAMILIE_GROB', 'LP_STATUS_GROB', 'GEBAEUDETYP']) {
      expect([onehot, columns[onehot].action]).toEqual([onehot, 'onehot']);
    }
    const derived = Object.values(columns).flatMap((rule) => (rule.action === 'derive' ? rule.outputs.map((o) => o.name) : []));
    expect(derived.sort()).toEqual(
      [
        'CAMEO_INTL_2015_LIFE_STAGE', 'CAMEO_INTL_2015_WEALTH', 'PLZ8_BAUMAX_BUSINESS', 'PLZ8_BAUMAX_FAMILY_HOMES',
        'PRAEGENDE_JUGENDJAHRE_DECADE', 'PRAEGENDE_JUGENDJAHRE_MOVEMENT', 'WOHNLAGE_QUALITY', 'WOHNLAGE_RURAL',
      ].sort(),
    );
    // Every mixed column of the summary is either derived or dropped, never used as a raw number.
    for (const feature of summary.features.filter((f) => f.type === 'mixed')) {
      expect([feature.attribute, ['derive', 'drop'].includes(columns[feature.attribute].action)]).toEqual([feature.attribute, true]);
    }
    // The sparse six are not derived into anything special.
    for (const column of SPARSE) expect(columns[column]).toBeDefined();
  });

  test('the movement flag reproduces GREEN_AVANTGARDE: avantgarde codes are exactly 2,4,6,7,9,11,13,15', () => {
    const rule = builtinArvatoEncodingRules().columns.PRAEGENDE_JUGENDJAHRE;
    if (rule.action !== 'derive') throw new Error('expected derive');
    const movement = rule.outputs.find((o) => o.name === 'PRAEGENDE_JUGENDJAHRE_MOVEMENT');
    const avantgarde = Object.entries(movement?.map ?? {}).filter(([, v]) => v === 1).map(([k]) => Number(k));
    expect(avantgarde).toEqual([2, 4, 6, 7, 9, 11, 13, 15]);
  });
});

describe('loadEncodingRules', () => {
  const summary = readFeatureSummary(SUMMARY_PATH);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rules-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a rule naming an unknown column is a clear InputError', () => {
    const path = join(dir, 'rules.json');
    writeFileSync(path, JSON.stringify({ columns: { NOT_A_COLUMN: { action: 'keep', reason: 'typo test' } } }));
    expect(() => loadEncodingRules(path, summary)).toThrow(InputError);
    expect(() => loadEncodingRules(path, summary)).toThrow(/NOT_A_COLUMN.*feature summary does not list/);
  });

  test('columns the file does not mention get type-derived rules and are listed as defaulted', () => {
    const path = join(dir, 'rules.json');
    writeFileSync(path, JSON.stringify({ columns: { ANREDE_KZ: { action: 'drop', reason: 'test drops it' } } }));
    const rules = loadEncodingRules(path, summary);
    expect(rules.columns.ANREDE_KZ.action).toBe('drop');
    expect(rules.columns.SEMIO_SOZ.action).toBe('keep');
    expect(rules.columns.PRAEGENDE_JUGENDJAHRE.action).toBe('drop'); // mixed without a derive rule
    expect(rules.defaulted).toHaveLength(84);
    expect(rules.defaulted).not.toContain('ANREDE_KZ');
  });

  test('malformed rules are rejected with the offending column', () => {
    expect(() =>
      parseEncodingRules({ columns: { ANREDE_KZ: { action: 'binary', levels: { '1': 0, '2': 1, '3': 1 }, reason: 'x' } } }),
    ).toThrow(/ANREDE_KZ.*exactly two levels/);
    expect(() => parseEncodingRules({ columns: { ANREDE_KZ: { action: 'keep' } } })).toThrow(/ANREDE_KZ/);
    expect(() =>
      parseEncodingRules({
        columns: { WOHNLAGE: { action: 'derive', reason: 'x', outputs: [{ name: 'W_FLAG', kind: 'flag', map: { '7': 2 } }] } },
      }),
    ).toThrow(/flag maps to 0, 1 or null/);
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{ not json');
    expect(() => loadEncodingRules(path, summary)).toThrow(/not valid JSON/);
  });

  test('duplicate output names across rules are rejected', () => {
    const rules = parseEncodingRules({
      columns: {
        WOHNLAGE: { action: 'derive', reason: 'x', outputs: [{ name: 'SEMIO_SOZ', kind: 'ordinal', map: { '1': 1 } }] },
        SEMIO_SOZ: { action: 'keep', reason: 'y' },
      },
    });
    expect(() => validateRulesAgainstSummary(rules, summary)).toThrow(/SEMIO_SOZ.*both/);
  });
});

describe('defaultRulesFor', () => {
  const summary = parseFeatureSummary(
    [
      'attribute;information_level;type;missing_or_unknown',
      'SEX;person;categorical;[-1]',
      'COLOUR;person;categorical;[]',
      'INCOME;household;ordinal;[0]',
      'AGE;person;numeric;[]',
      'MIXED_CODE;person;mixed;[-1]',
    ].join('\n'),
  );

  test('derives actions from the summary types and sampled levels', () => {
    const rules = defaultRulesFor(summary, ['SEX', 'COLOUR', 'INCOME', 'AGE', 'MIXED_CODE'], {
      SEX: ['m', 'f', 'm'],
      COLOUR: [3, 1, 2, 1],
    });
    expect(rules.columns.SEX).toMatchObject({ action: 'binary', levels: { f: 0, m: 1 } });
    expect(rules.columns.COLOUR).toMatchObject({ action: 'onehot' });
    expect(rules.columns.INCOME.action).toBe('keep');
    expect(rules.columns.AGE.action).toBe('keep');
    expect(rules.columns.MIXED_CODE.action).toBe('drop');
    expect(rules.columns.MIXED_CODE.reason).toMatch(/mixed/);
    expect(rules.defaulted).toEqual(['SEX', 'COLOUR', 'INCOME', 'AGE', 'MIXED_CODE']);
    // Numeric levels sort numerically for the binary map.
    const numeric = defaultRulesFor(summary, ['SEX'], { SEX: [10, 9] });
    expect(numeric.columns.SEX).toMatchObject({ levels: { '9': 0, '10': 1 } });
    // Without samples a categorical is one-hot; a single level is dropped.
    expect(defaultRulesFor(summary, ['SEX']).columns.SEX.action).toBe('onehot');
    expect(defaultRulesFor(summary, ['SEX'], { SEX: ['m'] }).columns.SEX.action).toBe('drop');
    // Only kept columns get rules; an unknown kept column is an error.
    expect(Object.keys(defaultRulesFor(summary, ['AGE']).columns)).toEqual(['AGE']);
    expect(() => defaultRulesFor(summary, ['NOPE'])).toThrow(/NOPE/);
  });

  test('loadEncodingRules without a file derives rules for a non-Arvato summary', () => {
    expect(isArvatoSummary(summary)).toBe(false);
    const rules = loadEncodingRules(undefined, summary);
    expect(Object.keys(rules.columns)).toEqual(['SEX', 'COLOUR', 'INCOME', 'AGE', 'MIXED_CODE']);
    expect(rules.columns.SEX.action).toBe('onehot');
  });
});
