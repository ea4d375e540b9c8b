/**
 * A segment's one-line persona: its most distinctive features in plain words, e.g.
 * "older, wealthy, financially prudent, rational, rural", so a marketer can read who a segment is without the
 * profile table.
 *
 * How it is built from a segment's deviations (z = (members' mean − population mean) / population sd, per encoded
 * feature; core/steps/compare.ts takes the members' mean of the standardised matrix):
 *  1. Each feature with |z| ≥ `minAbsZ` gets a word for its direction: from the persona table below (Arvato
 *     columns; the codes' meaning is the data dictionary's, see describe.ts and the encoding rules — FINANZ_* and
 *     SEMIO_* run backwards, 1 = strongest), else the dictionary's higher/lower reading, else a one-hot level's
 *     label ("working class"), else "high X" / "low X" (generic data).
 *  2. Below-average one-hot levels are skipped: "fewer of level L" says little next to the levels the segment
 *     does have (which carry the same information with a positive z); so is a fold of rare levels ("(other)").
 *  3. Features that say the same thing share a topic (age: ALTERSKATEGORIE_GROB and the decade of youth;
 *     wealth: CAMEO wealth, household income, purchasing power, …): each topic speaks once, by its largest |z|.
 *  4. At most `perTheme` words come from one theme (personality, finance, place, status, life stage), so the
 *     many SEMIO_* scales that move together do not fill the persona on their own.
 *  5. The `words` topics with the largest |z| are joined in that order.
 */
import { OTHER_LEVEL } from '../encoding/rare-levels';
import { parseFeature } from './describe';

export interface PersonaWords {
  /** Features that describe the same trait share a topic; a persona names each topic once. */
  topic: string;
  /** Topics of one kind (personality, finance, place, …): a persona takes at most `perTheme` words from one theme. */
  theme?: string;
  /** The word(s) for an above-average value (in the encoded feature's direction). */
  higher: string;
  /** The word(s) for a below-average value. */
  lower: string;
}

export interface Deviation {
  feature: string;
  /** (segment members' mean − population mean) / population sd. */
  zScore: number;
}

export interface PersonaOptions {
  /** How many topics the persona names (default 5). */
  words?: number;
  /** Deviations smaller than this (in population sd) are not distinctive (default 0.3). */
  minAbsZ?: number;
  /**
   * At most this many words from one theme (default 2): the 14 SEMIO_* personality scales move together, and
   * without a cap they would fill the persona and crowd out age, wealth and place.
   */
  perTheme?: number;
  /** Labels for one-hot levels the dictionary does not know, keyed by the feature name `NAME=LEVEL`. */
  levelLabels?: Readonly<Record<string, string>>;
}

export const PERSONA_DEFAULTS = { words: 5, minAbsZ: 0.3, perTheme: 2 } as const;

/** The heavy-missing group's persona: it has no centroid to describe. */
export const HEAVY_MISSING_PERSONA = 'too many missing values to place in a segment';

/** What a persona reads when no feature deviates by minAbsZ or more. */
export const AVERAGE_PERSONA = 'close to the population average';

// ---- the word table (data only) -----------------------------------------------------------------------------------

const w = (topic: string, higher: string, lower: string): PersonaWords => ({ topic, higher, lower, theme: THEMES[topic] });

/** The theme of each topic (topics not listed are their own theme). */
const THEMES: Readonly<Record<string, string>> = {
  'financial interest': 'finance',
  prudence: 'finance',
  investing: 'finance',
  inconspicuous: 'finance',
  'home ownership': 'finance',
  density: 'place',
  mobility: 'place',
  surroundings: 'place',
  housing: 'place',
  residence: 'place',
  'building age': 'place',
  cars: 'place',
  region: 'place',
  wealth: 'status',
  neighbourhood: 'status',
  titles: 'status',
  unemployment: 'status',
  status: 'status',
  'social class': 'status',
  age: 'life',
  'life stage': 'life',
  children: 'life',
  'household size': 'life',
  family: 'life',
};

/** FINANZ_*: 1 = very high … 5 = very low, so a *low* value is the strong trait. */
const FINANZ_WORDS: Readonly<Record<string, PersonaWords>> = {
  FINANZ_MINIMALIST: w('financial interest', 'financially engaged', 'low financial interest'),
  FINANZ_SPARER: w('prudence', 'free-spending', 'financially prudent'),
  FINANZ_VORSORGER: w('prudence', 'financially unprepared', 'financially prepared'),
  FINANZ_ANLEGER: w('investing', 'not investors', 'investors'),
  FINANZ_UNAUFFAELLIGER: w('inconspicuous', 'financially conspicuous', 'financially inconspicuous'),
  FINANZ_HAUSBAUER: w('home ownership', 'not home-building', 'home-ownership minded'),
};

/** SEMIO_*: 1 = highest affinity … 7 = lowest, so a *low* value is the strong trait. [suffix, trait, its opposite] */
const SEMIO_WORDS: ReadonlyArray<readonly [string, string, string]> = [
  ['SOZ', 'socially-minded', 'less socially-minded'],
  ['FAM', 'family-minded', 'less family-minded'],
  ['REL', 'religious', 'not religious'],
  ['MAT', 'materialistic', 'not materialistic'],
  ['VERT', 'dreamy', 'down-to-earth'],
  ['LUST', 'sensual', 'less sensual'],
  ['ERL', 'event-oriented', 'not event-oriented'],
  ['KULT', 'cultured', 'less cultured'],
  ['RAT', 'rational', 'less rational'],
  ['KRIT', 'critical', 'uncritical'],
  ['DOM', 'dominant', 'not dominant'],
  ['KAEM', 'combative', 'peaceable'],
  ['PFLICHT', 'dutiful', 'less dutiful'],
  ['TRADV', 'traditional', 'untraditional'],
];

/** Encoded feature names (after the encoding rules), in the encoded direction. */
const TABLE: Readonly<Record<string, PersonaWords>> = {
  ...FINANZ_WORDS,
  // age and life stage
  ALTERSKATEGORIE_GROB: w('age', 'older', 'younger'),
  PRAEGENDE_JUGENDJAHRE_DECADE: w('age', 'younger', 'older'),
  ALTER_HH: w('age', 'younger', 'older'),
  GEBURTSJAHR: w('age', 'younger', 'older'),
  CAMEO_INTL_2015_LIFE_STAGE: w('life stage', 'older families and retirees', 'singles and young couples'),
  W_KEIT_KIND_HH: w('children', 'children unlikely', 'children likely'),
  ANZ_PERSONEN: w('household size', 'large households', 'small households'),
  // gender
  ANREDE_KZ: w('gender', 'mostly women', 'mostly men'),
  // wealth and status
  CAMEO_INTL_2015_WEALTH: w('wealth', 'poorer', 'wealthy'),
  HH_EINKOMMEN_SCORE: w('wealth', 'low income', 'high income'),
  KKK: w('wealth', 'low purchasing power', 'high purchasing power'),
  REGIOTYP: w('neighbourhood', 'lower-status neighbourhoods', 'upper-class neighbourhoods'),
  WOHNLAGE_QUALITY: w('neighbourhood', 'poorer neighbourhoods', 'good neighbourhoods'),
  ANZ_TITEL: w('titles', 'academic titles', 'no academic titles'),
  ANZ_HH_TITEL: w('titles', 'academics nearby', 'few academics nearby'),
  ARBEIT: w('unemployment', 'high-unemployment areas', 'low-unemployment areas'),
  RELAT_AB: w('unemployment', 'high-unemployment areas', 'low-unemployment areas'),
  // where they live
  WOHNLAGE_RURAL: w('density', 'rural', 'not rural'),
  EWDICHTE: w('density', 'dense areas', 'sparsely populated areas'),
  ORTSGR_KLS9: w('density', 'big cities', 'small towns'),
  BALLRAUM: w('density', 'far from cities', 'near cities'),
  INNENSTADT: w('density', 'far from city centres', 'near city centres'),
  KONSUMNAEHE: w('density', 'far from shops', 'near shops'),
  MOBI_REGIO: w('mobility', 'settled areas', 'mobile areas'),
  OST_WEST_KZ: w('region', 'East German', 'West German'),
  GEBAEUDETYP_RASTER: w('surroundings', 'residential surroundings', 'business surroundings'),
  PLZ8_BAUMAX_BUSINESS: w('surroundings', 'business districts', 'residential districts'),
  // housing
  KBA05_ANTG1: w('housing', '1-2 family homes', 'few 1-2 family homes'),
  PLZ8_ANTG1: w('housing', '1-2 family homes', 'few 1-2 family homes'),
  KBA05_ANTG3: w('housing', 'apartment buildings', 'few apartment buildings'),
  KBA05_ANTG4: w('housing', 'large apartment blocks', 'few apartment blocks'),
  PLZ8_ANTG3: w('housing', 'apartment buildings', 'few apartment buildings'),
  PLZ8_ANTG4: w('housing', 'large apartment blocks', 'few apartment blocks'),
  PLZ8_BAUMAX_FAMILY_HOMES: w('housing', 'multi-family buildings', '1-2 family homes'),
  ANZ_HAUSHALTE_AKTIV: w('housing', 'large buildings', 'small buildings'),
  WOHNDAUER_2008: w('residence', 'long-time residents', 'recent movers'),
  MIN_GEBAEUDEJAHR: w('building age', 'newer buildings', 'older buildings'),
  KBA13_ANZAHL_PKW: w('cars', 'many cars around', 'few cars around'),
  // attitudes and behaviour
  PRAEGENDE_JUGENDJAHRE_MOVEMENT: w('avantgarde', 'green avantgarde', 'mainstream'),
  GREEN_AVANTGARDE: w('avantgarde', 'green avantgarde', 'mainstream'),
  ONLINE_AFFINITAET: w('online', 'online-savvy', 'offline'),
  RETOURTYP_BK_S: w('returns', 'rarely return goods', 'frequent returners'),
  HEALTH_TYP: w('health', 'hedonistic', 'health-critical'),
  VERS_TYP: w('insurance', 'risk-accepting', 'safety-minded'),
  SOHO_KZ: w('home office', 'home office', 'no home office'),
};

/** One-hot groups that describe the same trait (their levels' labels come from the dictionary). */
const ONE_HOT_TOPICS: Readonly<Record<string, string>> = {
  CAMEO_DEUG_2015: 'social class',
  CAMEO_DEU_2015: 'social class',
  LP_STATUS_GROB: 'status',
  LP_STATUS_FEIN: 'status',
  LP_FAMILIE_GROB: 'family',
  LP_FAMILIE_FEIN: 'family',
  LP_LEBENSPHASE_GROB: 'life stage',
  LP_LEBENSPHASE_FEIN: 'life stage',
};

function buildTable(): ReadonlyMap<string, PersonaWords> {
  const map = new Map(Object.entries(TABLE));
  for (const [suffix, trait, opposite] of SEMIO_WORDS) map.set(`SEMIO_${suffix}`, { topic: `semio ${suffix}`, theme: 'personality', higher: opposite, lower: trait });
  return map;
}

/** Persona words per encoded feature name (upper case). */
export const PERSONA_WORDS: ReadonlyMap<string, PersonaWords> = buildTable();

// ---- words per feature -------------------------------------------------------------------------------------------

/**
 * The word for one deviation, with the topic it speaks for; null when the deviation is a below-average one-hot
 * level (see the module comment).
 */
export function personaWord(
  feature: string,
  zScore: number,
  levelLabels?: PersonaOptions['levelLabels'],
): { topic: string; theme: string; word: string } | null {
  const higher = zScore > 0;
  const known = PERSONA_WORDS.get(feature.toUpperCase());
  if (known) return { topic: known.topic, theme: known.theme ?? known.topic, word: higher ? known.higher : known.lower };
  const { column, level, info, levelLabel } = parseFeature(feature);
  if (level !== undefined) {
    // A fold of rare levels (core/encoding/rare-levels.ts) names no trait: "often X = (other)" would say nothing.
    if (!higher || level === OTHER_LEVEL) return null;
    const label = levelLabel ?? levelLabels?.[feature];
    const topic = ONE_HOT_TOPICS[column.toUpperCase()] ?? column;
    return { topic, theme: THEMES[topic] ?? topic, word: label ?? `often ${column} = ${level}` };
  }
  const reading = higher ? info?.higher : info?.lower;
  if (reading) return { topic: column, theme: column, word: reading };
  return { topic: column, theme: column, word: `${higher ? 'high' : 'low'} ${feature}` };
}

/** The persona of one segment; see the module comment for how the words are chosen. */
export function persona(deviations: ReadonlyArray<Deviation>, options: PersonaOptions = {}): string {
  const words = options.words ?? PERSONA_DEFAULTS.words;
  const minAbsZ = options.minAbsZ ?? PERSONA_DEFAULTS.minAbsZ;
  const ranked = deviations
    .filter((d) => Number.isFinite(d.zScore) && Math.abs(d.zScore) >= minAbsZ)
    // Ties broken by name so the persona does not depend on the feature order.
    .sort((a, b) => Math.abs(b.zScore) - Math.abs(a.zScore) || (a.feature < b.feature ? -1 : a.feature > b.feature ? 1 : 0));
  const perTheme = options.perTheme ?? PERSONA_DEFAULTS.perTheme;
  const topics = new Set<string>();
  const themes = new Map<string, number>();
  const chosen: string[] = [];
  for (const deviation of ranked) {
    if (chosen.length >= words) break;
    const word = personaWord(deviation.feature, deviation.zScore, options.levelLabels);
    if (!word || topics.has(word.topic) || chosen.includes(word.word) || (themes.get(word.theme) ?? 0) >= perTheme) continue;
    topics.add(word.topic);
    themes.set(word.theme, (themes.get(word.theme) ?? 0) + 1);
    chosen.push(word.word);
  }
  return chosen.length ? chosen.join(', ') : AVERAGE_PERSONA;
}

/** Whether the dictionary or the persona table knows a feature (tests: every Arvato feature should be known). */
export function hasPersonaWords(feature: string): boolean {
  if (PERSONA_WORDS.has(feature.toUpperCase())) return true;
  const { level, info, levelLabel } = parseFeature(feature);
  return level !== undefined ? levelLabel !== undefined : Boolean(info?.higher && info?.lower);
}
