import { FEATURE_DICTIONARY, describeDeviation, featureGloss, parseFeature } from '../../core/stats/describe';

describe('describeDeviation', () => {
  it('reads FINANZ_* backwards: a lower value means a stronger money saver', () => {
    const text = describeDeviation('FINANZ_SPARER', 1.6, 2.82, -1.3);
    expect(text).toBe('much lower FINANZ_SPARER than average (money saver: 1 = very high … 5 = very low) → stronger money savers');
  });

  it('says what a higher value means', () => {
    expect(describeDeviation('HH_EINKOMMEN_SCORE', 5.5, 4.2, 0.8)).toMatch(/^higher HH_EINKOMMEN_SCORE .*1 = highest … 6 = very low.* → lower income$/);
    expect(describeDeviation('ALTERSKATEGORIE_GROB', 3.6, 2.8, 0.8)).toMatch(/→ older$/);
    expect(describeDeviation('ALTERSKATEGORIE_GROB', 2, 2.8, -0.8)).toMatch(/→ younger$/);
    expect(describeDeviation('CAMEO_INTL_2015_WEALTH', 1.7, 3.26, -1.07)).toMatch(/1 = wealthy … 5 = poorer.*→ wealthier households$/);
    expect(describeDeviation('PRAEGENDE_JUGENDJAHRE_DECADE', 5.5, 4.3, 0.8)).toMatch(/1 = 40s … 6 = 90s.*→ younger generation$/);
    expect(describeDeviation('PRAEGENDE_JUGENDJAHRE_MOVEMENT', 0.6, 0.23, 0.9)).toMatch(/0 = mainstream, 1 = avantgarde.*→ more avantgarde$/);
    expect(describeDeviation('CAMEO_INTL_2015_LIFE_STAGE', 4.5, 2.9, 1.1)).toMatch(/→ later life stages$/);
  });

  it('covers all fourteen SEMIO_* personality scales', () => {
    for (const suffix of ['SOZ', 'FAM', 'REL', 'MAT', 'VERT', 'LUST', 'ERL', 'KULT', 'RAT', 'KRIT', 'DOM', 'KAEM', 'PFLICHT', 'TRADV']) {
      const text = describeDeviation(`SEMIO_${suffix}`, 2, 4, -1.1);
      expect(text).toContain('1 = highest affinity … 7 = lowest');
      expect(text).toMatch(/→ more /);
    }
    expect(describeDeviation('SEMIO_VERT', 6, 4, 1.1)).toMatch(/→ less dreamful$/);
  });

  it('grades the size of the deviation', () => {
    expect(describeDeviation('FINANZ_SPARER', 2.8, 2.82, -0.05)).toMatch(/^FINANZ_SPARER about average/);
    expect(describeDeviation('FINANZ_SPARER', 2.5, 2.82, -0.3)).toMatch(/^slightly lower/);
    expect(describeDeviation('FINANZ_SPARER', 2.2, 2.82, -0.45)).toMatch(/^slightly lower/);
    expect(describeDeviation('FINANZ_SPARER', 2.1, 2.82, -0.5)).toMatch(/^lower/);
    expect(describeDeviation('FINANZ_SPARER', 1.5, 2.82, -1)).toMatch(/^much lower/);
    expect(describeDeviation('FINANZ_SPARER', 5, 2.82, 2)).toMatch(/^far higher/);
    expect(describeDeviation('FINANZ_SPARER', 2, 2.82, -0.7)).toMatch(/^lower/);
    expect(describeDeviation('FINANZ_SPARER', 1.5, 2.82, -1.5)).toMatch(/^much lower/);
    expect(describeDeviation('FINANZ_SPARER', 5, 2.82, 2.4)).toMatch(/^far higher/);
  });

  it('describes one-hot columns as shares, with the level name', () => {
    expect(describeDeviation('CAMEO_DEUG_2015=8', 0.31, 0.17, 0.37)).toBe('slightly more often CAMEO_DEUG_2015 = 8 (working class) than average: 31 % vs 17 %');
    expect(describeDeviation('LP_STATUS_GROB=1', 0.05, 0.38, -0.68)).toMatch(/^less often LP_STATUS_GROB = 1 \(low-income earners\)/);
    expect(describeDeviation('OST_WEST_KZ=W', 0.95, 0.79, 0.4)).toContain('(West Germany)');
    expect(describeDeviation('CAMEO_DEU_2015=8A', 0.1, 0.066, 0.2)).toContain('working class subtype');
    expect(describeDeviation('GEBAEUDETYP=3.0', 0.4, 0.22, 0.43)).toContain('(mixed residential and company building)');
    expect(describeDeviation('SOMETHING=7', 0.4, 0.2, 0.5)).toBe('more often SOMETHING = 7 than average: 40 % vs 20 %');
  });

  it('falls back to a generic description for unknown features', () => {
    expect(describeDeviation('XYZ_SCORE', 4.2, 3.1, 1.3)).toBe('XYZ_SCORE higher than average by 1.3 sd');
    expect(describeDeviation('XYZ_SCORE', 1, 3.1, -0.46)).toBe('XYZ_SCORE lower than average by 0.5 sd');
    expect(describeDeviation('XYZ_SCORE', 3.1, 3.1, 0)).toBe('XYZ_SCORE about average');
  });

  it('uses the raw difference when z is not finite', () => {
    expect(describeDeviation('XYZ_SCORE', 5, 3, NaN)).toBe('XYZ_SCORE higher than average (5 vs 3)');
    expect(describeDeviation('FINANZ_SPARER', 1, 3, NaN)).toMatch(/^lower FINANZ_SPARER .*→ stronger money savers$/);
  });

  it('matches names case-insensitively', () => {
    expect(describeDeviation('finanz_sparer', 1.6, 2.82, -1.3)).toContain('→ stronger money savers');
  });
});

describe('dictionary helpers', () => {
  it('keeps the scale directions from the data dictionary', () => {
    expect(FEATURE_DICTIONARY.get('FINANZ_MINIMALIST')?.scale).toBe('1 = very high … 5 = very low');
    expect(FEATURE_DICTIONARY.get('KKK')?.scale).toBe('1 = very high … 4 = low');
    expect(FEATURE_DICTIONARY.get('MOBI_REGIO')?.lower).toBe('more mobile');
    expect(FEATURE_DICTIONARY.get('ONLINE_AFFINITAET')?.higher).toBe('more online');
  });

  it('parses one-hot names and glosses features', () => {
    expect(parseFeature('CAMEO_DEUG_2015=8')).toMatchObject({ column: 'CAMEO_DEUG_2015', level: '8', levelLabel: 'working class' });
    expect(parseFeature('FINANZ_SPARER').level).toBeUndefined();
    expect(featureGloss('FINANZ_SPARER')).toBe('money saver (1 = very high … 5 = very low)');
    expect(featureGloss('CAMEO_DEUG_2015=1')).toBe('upper class');
    expect(featureGloss('NOT_A_COLUMN')).toBeNull();
  });
});
