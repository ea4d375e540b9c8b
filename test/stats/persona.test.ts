import builtinRules from '../../schemas/rules/arvato.json';
import { AVERAGE_PERSONA, hasPersonaWords, persona, personaWord } from '../../core/stats/persona';

describe('persona', () => {
  it('reads the backwards Arvato scales the right way round', () => {
    // FINANZ_* and SEMIO_* run 1 = strongest: a below-average value is the trait.
    expect(personaWord('FINANZ_SPARER', -1.2)?.word).toBe('financially prudent');
    expect(personaWord('FINANZ_SPARER', 1.2)?.word).toBe('free-spending');
    expect(personaWord('SEMIO_RAT', -0.9)?.word).toBe('rational');
    expect(personaWord('SEMIO_RAT', 0.9)?.word).toBe('less rational');
    // CAMEO wealth 1 = wealthy, income score 1 = highest.
    expect(personaWord('CAMEO_INTL_2015_WEALTH', -1)?.word).toBe('wealthy');
    expect(personaWord('HH_EINKOMMEN_SCORE', 1)?.word).toBe('low income');
    // Age band: higher = older; decade of youth: higher = younger.
    expect(personaWord('ALTERSKATEGORIE_GROB', 1)?.word).toBe('older');
    expect(personaWord('PRAEGENDE_JUGENDJAHRE_DECADE', 1)?.word).toBe('younger');
    // Binary encodings keep the dictionary's direction (ANREDE_KZ 1 male → 0, 2 female → 1; OST_WEST_KZ W → 0, O → 1).
    expect(personaWord('ANREDE_KZ', -1.5)?.word).toBe('mostly men');
    expect(personaWord('OST_WEST_KZ', 1.5)?.word).toBe('East German');
    expect(personaWord('WOHNLAGE_RURAL', 0.8)?.word).toBe('rural');
  });

  it('builds the example persona: older, wealthy, financially prudent, rational, rural', () => {
    const text = persona([
      { feature: 'ALTERSKATEGORIE_GROB', zScore: 1.4 },
      { feature: 'PRAEGENDE_JUGENDJAHRE_DECADE', zScore: -1.3 }, // "older" again: the age topic already spoke
      { feature: 'CAMEO_INTL_2015_WEALTH', zScore: -1.2 },
      { feature: 'HH_EINKOMMEN_SCORE', zScore: -1.1 }, // wealth topic already spoke
      { feature: 'FINANZ_SPARER', zScore: -1.0 },
      { feature: 'FINANZ_VORSORGER', zScore: -0.95 }, // prudence topic already spoke
      { feature: 'SEMIO_RAT', zScore: -0.9 },
      { feature: 'WOHNLAGE_RURAL', zScore: 0.7 },
      { feature: 'SEMIO_KAEM', zScore: -0.5 }, // sixth topic: beyond the five words
      { feature: 'EWDICHTE', zScore: -0.05 },
    ]);
    expect(text).toBe('older, wealthy, financially prudent, rational, rural');
  });

  it('orders by |z| whatever order the deviations come in, and honours the word count', () => {
    const deviations = [
      { feature: 'SEMIO_REL', zScore: -0.6 },
      { feature: 'ANREDE_KZ', zScore: 1.8 },
      { feature: 'ONLINE_AFFINITAET', zScore: 1.1 },
    ];
    expect(persona(deviations)).toBe('mostly women, online-savvy, religious');
    expect(persona([...deviations].reverse())).toBe('mostly women, online-savvy, religious');
    expect(persona(deviations, { words: 2 })).toBe('mostly women, online-savvy');
  });

  it('takes at most two words from one theme, so the personality scales do not crowd out age, wealth and place', () => {
    const deviations = [
      { feature: 'SEMIO_KAEM', zScore: -1.6 },
      { feature: 'SEMIO_DOM', zScore: -1.5 },
      { feature: 'SEMIO_KRIT', zScore: -1.4 },
      { feature: 'SEMIO_SOZ', zScore: 1.3 },
      { feature: 'ALTERSKATEGORIE_GROB', zScore: -0.9 },
      { feature: 'CAMEO_INTL_2015_WEALTH', zScore: 0.8 },
      { feature: 'EWDICHTE', zScore: 0.7 },
    ];
    expect(persona(deviations)).toBe('combative, dominant, younger, poorer, dense areas');
    expect(persona(deviations, { perTheme: 5 })).toBe('combative, dominant, critical, less socially-minded, younger');
  });

  it('names one-hot levels by their dictionary labels and skips below-average levels', () => {
    expect(persona([
      { feature: 'CAMEO_DEUG_2015=8', zScore: 2.1 },
      { feature: 'CAMEO_DEUG_2015=1', zScore: -1.9 },
      { feature: 'LP_STATUS_GROB=5', zScore: 0.4 },
    ])).toBe('working class, top earners');
    // CAMEO_DEUG and CAMEO_DEU describe the same class: one word.
    expect(persona([{ feature: 'CAMEO_DEUG_2015=1', zScore: 1.5 }, { feature: 'CAMEO_DEU_2015=1A', zScore: 1.2 }])).toBe('upper class');
    // A fold of rare levels (encoding's "(other)") names no trait, however large its z.
    expect(persona([{ feature: 'CAMEO_DEU_2015=(other)', zScore: 3 }, { feature: 'CAMEO_DEUG_2015=8', zScore: 2.1 }])).toBe('working class');
    expect(personaWord('COLOUR=(other)', 2)).toBeNull();
  });

  it('falls back to "high X" / "low X" for columns it does not know (generic data)', () => {
    expect(persona([
      { feature: 'spend_last_year', zScore: 2 },
      { feature: 'visits', zScore: -0.8 },
      { feature: 'channel=web', zScore: 0.9 },
      { feature: 'channel=store', zScore: -0.9 },
    ])).toBe('high spend_last_year, often channel = web, low visits');
    expect(persona([{ feature: 'channel=web', zScore: 0.9 }], { levelLabels: { 'channel=web': 'web shoppers' } })).toBe('web shoppers');
  });

  it('says so when nothing deviates enough', () => {
    expect(persona([{ feature: 'SEMIO_RAT', zScore: 0.1 }, { feature: 'x', zScore: Number.NaN }])).toBe(AVERAGE_PERSONA);
    expect(persona([])).toBe(AVERAGE_PERSONA);
  });

  it('has words for every non-one-hot feature the Arvato encoding rules produce', () => {
    const features: string[] = [];
    for (const [column, rule] of Object.entries(builtinRules.columns) as [string, { action: string; outputs?: { name: string }[] }][]) {
      if (rule.action === 'keep' || rule.action === 'binary') features.push(column);
      if (rule.action === 'derive') features.push(...rule.outputs!.map((o) => o.name));
    }
    expect(features.length).toBeGreaterThan(50);
    expect(features.filter((f) => !hasPersonaWords(f))).toEqual([]);
  });
});
