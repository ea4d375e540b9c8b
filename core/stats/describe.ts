/**
 * Plain-language descriptions of how a cluster centroid deviates from the population on one feature.
 *
 * The Arvato columns mostly run "backwards" (FINANZ_* 1 = very high; HH_EINKOMMEN_SCORE 1 = highest income), so a
 * bare "lower FINANZ_SPARER" misleads; the dictionary below says what each scale means and what a higher or lower
 * value implies (Data_Dictionary of the original study; FACTS.md §7). Engineered columns follow the encoder's names:
 * PRAEGENDE_JUGENDJAHRE_DECADE / _MOVEMENT, CAMEO_INTL_2015_WEALTH / _LIFE_STAGE, and one-hot columns `NAME=LEVEL`.
 */

export interface FeatureInfo {
  /** What the column measures. */
  label: string;
  /** How the codes run, e.g. "1 = very high … 5 = very low". */
  scale?: string;
  /** What a value above average implies. */
  higher?: string;
  /** What a value below average implies. */
  lower?: string;
  /** Names of the codes, for one-hot columns `NAME=CODE`. */
  levels?: Readonly<Record<string, string>>;
}

// ---- the dictionary (data only) -------------------------------------------------------------------------------

/** FINANZ_*: 1 = very high … 5 = very low. [suffix, dimension, reading of a low value, reading of a high value] */
const FINANZ: ReadonlyArray<readonly [string, string, string, string]> = [
  ['MINIMALIST', 'low financial interest', 'less interested in financial matters', 'more financially engaged'],
  ['SPARER', 'money saver', 'stronger money savers', 'less inclined to save money'],
  ['VORSORGER', 'be-prepared', 'more financially prepared', 'less financially prepared'],
  ['ANLEGER', 'investor', 'stronger investors', 'weaker investors'],
  ['UNAUFFAELLIGER', 'inconspicuous', 'more financially inconspicuous', 'less financially inconspicuous'],
  ['HAUSBAUER', 'home ownership', 'more focused on home ownership', 'less focused on home ownership'],
];

/** SEMIO_*: personality affinity, 1 = highest … 7 = lowest. [suffix, trait] */
const SEMIO: ReadonlyArray<readonly [string, string]> = [
  ['SOZ', 'socially-minded'],
  ['FAM', 'family-minded'],
  ['REL', 'religious'],
  ['MAT', 'materialistic'],
  ['VERT', 'dreamful'],
  ['LUST', 'sensual-minded'],
  ['ERL', 'event-oriented'],
  ['KULT', 'culturally-minded'],
  ['RAT', 'rational'],
  ['KRIT', 'critical-minded'],
  ['DOM', 'dominant-minded'],
  ['KAEM', 'combative'],
  ['PFLICHT', 'dutiful'],
  ['TRADV', 'traditional-minded'],
];

const CAMEO_DEUG: Readonly<Record<string, string>> = {
  '1': 'upper class',
  '2': 'upper middle class',
  '3': 'established middle class',
  '4': 'consumption-oriented middle class',
  '5': 'active middle class',
  '6': 'low-consumption middle class',
  '7': 'lower middle class',
  '8': 'working class',
  '9': 'urban working class',
};

const TABLE: Readonly<Record<string, FeatureInfo>> = {
  ALTERSKATEGORIE_GROB: {
    label: 'estimated age',
    scale: '1 < 30 years, 2 = 30–45, 3 = 46–60, 4 > 60',
    higher: 'older',
    lower: 'younger',
    levels: { '1': '< 30 years', '2': '30–45 years', '3': '46–60 years', '4': '> 60 years' },
  },
  ANREDE_KZ: { label: 'gender', scale: '1 = male, 2 = female', higher: 'more women', lower: 'more men', levels: { '1': 'male', '2': 'female' } },
  HH_EINKOMMEN_SCORE: { label: 'household net income', scale: '1 = highest … 6 = very low', higher: 'lower income', lower: 'higher income' },
  KKK: { label: 'regional purchasing power', scale: '1 = very high … 4 = low', higher: 'lower purchasing power', lower: 'higher purchasing power' },
  W_KEIT_KIND_HH: {
    label: 'likelihood of children in the household',
    scale: '1 = most likely … 6 = very unlikely',
    higher: 'children less likely',
    lower: 'children more likely',
  },
  WOHNDAUER_2008: { label: 'length of residence', scale: '1 < 1 year … 9 > 10 years', higher: 'longer residence', lower: 'shorter residence' },
  ALTER_HH: {
    label: 'birth cohort of the household head',
    scale: '1 = 1895–99 … 21 = 1995–99, 5-year steps',
    higher: 'younger household heads',
    lower: 'older household heads',
  },
  MOBI_REGIO: { label: 'movement patterns', scale: '1 = very high … 6 = none', higher: 'less mobile', lower: 'more mobile' },
  ONLINE_AFFINITAET: { label: 'online affinity', scale: '0 = none … 5 = highest', higher: 'more online', lower: 'less online' },
  KONSUMNAEHE: {
    label: 'distance to the nearest consumption cell',
    scale: '1 = inside a 125 m cell … 7 = none within 10 km',
    higher: 'farther from shops',
    lower: 'closer to shops',
  },
  BALLRAUM: { label: 'distance to an urban centre', scale: '1 < 10 km … 7 > 100 km', higher: 'farther from urban centres', lower: 'closer to urban centres' },
  INNENSTADT: { label: 'distance to the city centre', scale: '1 = in the centre … 8 > 40 km', higher: 'farther from city centres', lower: 'closer to city centres' },
  EWDICHTE: { label: 'households per km²', scale: '1 < 34 … 6 > 999', higher: 'denser areas', lower: 'sparser areas' },
  ORTSGR_KLS9: { label: 'community size', scale: '1 ≤ 2,000 … 9 > 700,000 inhabitants', higher: 'larger communities', lower: 'smaller communities' },
  GEBAEUDETYP_RASTER: { label: 'business vs residential cell', scale: '1 = business … 5 = residential', higher: 'more residential surroundings', lower: 'more business surroundings' },
  REGIOTYP: {
    label: 'neighbourhood typology',
    scale: '1 = upper class … 7 = marginal groups',
    higher: 'lower-status neighbourhoods',
    lower: 'higher-status neighbourhoods',
  },
  KBA05_ANTG1: { label: 'share of 1–2 family homes in the microcell', scale: '0 = none … 4 = very high', higher: 'more 1–2 family homes nearby', lower: 'fewer 1–2 family homes nearby' },
  KBA05_ANTG2: { label: 'share of 3–5 family homes in the microcell', scale: '0 = none … 4 = very high', higher: 'more 3–5 family homes nearby', lower: 'fewer 3–5 family homes nearby' },
  KBA05_ANTG3: { label: 'share of 6–10 family homes in the microcell', scale: '0 = none … 3 = high', higher: 'more 6–10 family homes nearby', lower: 'fewer 6–10 family homes nearby' },
  KBA05_ANTG4: { label: 'share of 10+ family homes in the microcell', scale: '0 = none … 2 = high', higher: 'more large apartment blocks nearby', lower: 'fewer large apartment blocks nearby' },
  KBA05_GBZ: { label: 'buildings in the microcell', scale: '1 = 1–2 … 5 = 23+', higher: 'more buildings nearby', lower: 'fewer buildings nearby' },
  PLZ8_ANTG1: { label: 'share of 1–2 family homes in the PLZ8 region', scale: '0 = none … 4 = very high', higher: 'more 1–2 family homes in the region', lower: 'fewer 1–2 family homes in the region' },
  PLZ8_ANTG2: { label: 'share of 3–5 family homes in the PLZ8 region', scale: '0 = none … 4 = very high', higher: 'more 3–5 family homes in the region', lower: 'fewer 3–5 family homes in the region' },
  PLZ8_ANTG3: { label: 'share of 6–10 family homes in the PLZ8 region', scale: '0 = none … 3 = high', higher: 'more 6–10 family homes in the region', lower: 'fewer 6–10 family homes in the region' },
  PLZ8_ANTG4: { label: 'share of 10+ family homes in the PLZ8 region', scale: '0 = none … 2 = high', higher: 'more large apartment blocks in the region', lower: 'fewer large apartment blocks in the region' },
  PLZ8_HHZ: { label: 'households in the PLZ8 region', scale: '1 < 130 … 5 > 849', higher: 'more households in the region', lower: 'fewer households in the region' },
  PLZ8_GBZ: { label: 'buildings in the PLZ8 region', scale: '1 < 60 … 5 > 449', higher: 'more buildings in the region', lower: 'fewer buildings in the region' },
  PLZ8_BAUMAX: {
    label: 'most common building type in the PLZ8 region',
    scale: '1 = mainly 1–2 family homes … 4 = mainly 10+ family homes, 5 = mainly business',
    higher: 'more multi-family / business buildings',
    lower: 'more 1–2 family homes',
    levels: {
      '1': 'mainly 1–2 family homes',
      '2': 'mainly 3–5 family homes',
      '3': 'mainly 6–10 family homes',
      '4': 'mainly 10+ family homes',
      '5': 'mainly business buildings',
    },
  },
  ARBEIT: { label: 'unemployment share in the community', scale: '1 = very low … 5 = very high', higher: 'higher unemployment', lower: 'lower unemployment' },
  RELAT_AB: { label: 'unemployment relative to the county', scale: '1 = very low … 5 = very high', higher: 'higher relative unemployment', lower: 'lower relative unemployment' },
  WOHNLAGE: {
    label: 'neighbourhood quality',
    scale: '1 = very good … 5 = very poor',
    higher: 'poorer neighbourhoods',
    lower: 'better neighbourhoods',
    levels: { '0': 'no score', '1': 'very good', '2': 'good', '3': 'average', '4': 'poor', '5': 'very poor', '7': 'rural', '8': 'new building in a rural area' },
  },
  WOHNLAGE_RURAL: { label: 'rural neighbourhood flag', scale: '0 = no, 1 = rural', higher: 'more rural', lower: 'less rural' },
  RETOURTYP_BK_S: {
    label: 'return type',
    scale: '1 = influenceable crazy-shopper … 5 = determined minimal-returner',
    higher: 'fewer returns',
    lower: 'more impulsive buyers and returners',
  },
  HEALTH_TYP: {
    label: 'health typology',
    scale: '1 = critical reserved, 2 = sanitary affine, 3 = jaunty hedonists',
    higher: 'more jaunty hedonists',
    lower: 'more critical and reserved',
    levels: { '1': 'critical reserved', '2': 'sanitary affine', '3': 'jaunty hedonists' },
  },
  GREEN_AVANTGARDE: {
    label: 'green avantgarde youth',
    scale: '0 = no, 1 = yes',
    higher: 'more avantgarde',
    lower: 'more mainstream',
    levels: { '0': 'not avantgarde', '1': 'avantgarde' },
  },
  SOHO_KZ: { label: 'small office / home office', scale: '0 = no, 1 = yes', higher: 'more home offices', lower: 'fewer home offices', levels: { '0': 'no', '1': 'yes' } },
  VERS_TYP: {
    label: 'insurance typology',
    scale: '1 = social-safety driven, 2 = individualistic, risk-accepting',
    higher: 'more risk-accepting',
    lower: 'more safety-driven',
    levels: { '1': 'social-safety driven', '2': 'individualistic, risk-accepting' },
  },
  ANZ_PERSONEN: { label: 'adults in the household', higher: 'larger households', lower: 'smaller households' },
  ANZ_TITEL: { label: 'academic titles in the household', higher: 'more academic titles', lower: 'fewer academic titles' },
  ANZ_HAUSHALTE_AKTIV: { label: 'households in the building', higher: 'bigger buildings', lower: 'smaller buildings' },
  ANZ_HH_TITEL: { label: 'academic title holders in the building', higher: 'more academic titles nearby', lower: 'fewer academic titles nearby' },
  MIN_GEBAEUDEJAHR: { label: 'first year the building is in the database', higher: 'newer records', lower: 'older records' },
  KBA13_ANZAHL_PKW: { label: 'cars in the PLZ8 region', higher: 'more cars in the region', lower: 'fewer cars in the region' },
  PRAEGENDE_JUGENDJAHRE_DECADE: {
    label: 'decade of youth',
    scale: '1 = 40s … 6 = 90s',
    higher: 'younger generation',
    lower: 'older generation',
    levels: { '1': '40s', '2': '50s', '3': '60s', '4': '70s', '5': '80s', '6': '90s' },
  },
  PRAEGENDE_JUGENDJAHRE_MOVEMENT: {
    label: 'movement of youth',
    scale: '0 = mainstream, 1 = avantgarde',
    higher: 'more avantgarde',
    lower: 'more mainstream',
    levels: { '0': 'mainstream', '1': 'avantgarde' },
  },
  CAMEO_INTL_2015_WEALTH: {
    label: 'household wealth',
    scale: '1 = wealthy … 5 = poorer',
    higher: 'poorer households',
    lower: 'wealthier households',
    levels: { '1': 'wealthy', '2': 'prosperous', '3': 'comfortable', '4': 'less affluent', '5': 'poorer' },
  },
  CAMEO_INTL_2015_LIFE_STAGE: {
    label: 'life stage',
    scale: '1 = pre-family couples & singles … 5 = elders in retirement',
    higher: 'later life stages',
    lower: 'earlier life stages',
    levels: {
      '1': 'pre-family couples & singles',
      '2': 'young couples with children',
      '3': 'families with school-age children',
      '4': 'older families & mature couples',
      '5': 'elders in retirement',
    },
  },
  CAMEO_DEUG_2015: {
    label: 'social class (CAMEO)',
    scale: '1 = upper class … 9 = urban working class',
    higher: 'lower social class',
    lower: 'higher social class',
    levels: CAMEO_DEUG,
  },
  CAMEO_DEU_2015: { label: 'detailed CAMEO class (digit = CAMEO_DEUG_2015 class)' },
  OST_WEST_KZ: { label: 'building location', levels: { O: 'East Germany', W: 'West Germany' } },
  NATIONALITAET_KZ: { label: 'nationality (from the first name)', levels: { '1': 'German-sounding', '2': 'foreign-sounding', '3': 'assimilated' } },
  SHOPPER_TYP: {
    label: 'shopper typology',
    levels: { '0': 'external supplied hedonists', '1': 'shopping-stressed', '2': 'family shoppers', '3': 'demanding shoppers' },
  },
  FINANZTYP: {
    label: 'most descriptive financial type',
    levels: {
      '1': 'low financial interest',
      '2': 'money savers',
      '3': 'home ownership',
      '4': 'be-prepared',
      '5': 'investors',
      '6': 'inconspicuous',
    },
  },
  ZABEOTYP: {
    label: 'energy consumption typology',
    levels: { '1': 'green', '2': 'smart', '3': 'fair supplied', '4': 'price driven', '5': 'seeking orientation', '6': 'indifferent' },
  },
  LP_STATUS_GROB: {
    label: 'social status',
    levels: { '1': 'low-income earners', '2': 'average earners', '3': 'independents', '4': 'houseowners', '5': 'top earners' },
  },
  LP_STATUS_FEIN: {
    label: 'social status (fine)',
    levels: {
      '1': 'typical low-income earners',
      '2': 'orientation-seeking low-income earners',
      '3': 'aspiring low-income earners',
      '4': 'villagers',
      '5': 'minimalistic high-income earners',
      '6': 'independent workers',
      '7': 'title holder households',
      '8': 'new houseowners',
      '9': 'houseowners',
      '10': 'top earners',
    },
  },
  LP_FAMILIE_GROB: {
    label: 'family type',
    levels: { '1': 'single', '2': 'couple', '3': 'single parent', '4': 'family', '5': 'multiperson household' },
  },
  LP_FAMILIE_FEIN: {
    label: 'family type (fine)',
    levels: {
      '1': 'single',
      '2': 'couple',
      '3': 'young single parent',
      '4': 'single parent with teenager',
      '5': 'single parent with adult child',
      '6': 'young family',
      '7': 'family with teenager',
      '8': 'family with adult child',
      '9': 'shared flat',
      '10': 'two-generation household',
      '11': 'multi-generation household',
    },
  },
  LP_LEBENSPHASE_GROB: {
    label: 'life stage (rough)',
    levels: {
      '1': 'single low/average earners, younger',
      '2': 'single low/average earners, older',
      '3': 'single high earners',
      '4': 'low/average-earner couples',
      '5': 'high-earner couples',
      '6': 'single parents',
      '7': 'low/average-earner families',
      '8': 'high-earner families',
      '9': 'younger average earners, multi-person households',
      '10': 'older low/average earners, multi-person households',
      '11': 'younger high earners, multi-person households',
      '12': 'older high earners, multi-person households',
    },
  },
  LP_LEBENSPHASE_FEIN: { label: 'life stage (fine; mixes household type, income and age)' },
  CJT_GESAMTTYP: {
    label: 'customer journey typology',
    levels: {
      '1': 'advertising- and consumption-minimalist',
      '2': 'advertising- and consumption-traditionalist',
      '3': 'advertising-interested store shopper',
      '4': 'advertising-interested online shopper',
      '5': 'advertising- and cross-channel enthusiast',
      '6': 'advertising enthusiast, restricted cross-channel',
    },
  },
  GFK_URLAUBERTYP: {
    label: 'vacation habits',
    levels: {
      '1': 'event travelers',
      '2': 'family-oriented vacationists',
      '3': 'winter sportspeople',
      '4': 'culture lovers',
      '5': 'nature fans',
      '6': 'hikers',
      '7': 'golden agers',
      '8': 'homeland-connected vacationists',
      '9': 'package tour travelers',
      '10': 'connoisseurs',
      '11': 'active families',
      '12': 'without vacation',
    },
  },
  GEBAEUDETYP: {
    label: 'building type',
    levels: {
      '1': 'residential building',
      '2': 'residential building, no known household',
      '3': 'mixed residential and company building',
      '4': 'mixed building, no known household or company',
      '5': 'company building, no known company',
      '6': 'mixed building, no known household',
      '8': 'mixed building, no known company',
    },
  },
};

function buildDictionary(): ReadonlyMap<string, FeatureInfo> {
  const map = new Map<string, FeatureInfo>();
  for (const [suffix, dimension, low, high] of FINANZ) {
    map.set(`FINANZ_${suffix}`, { label: dimension, scale: '1 = very high … 5 = very low', lower: low, higher: high });
  }
  for (const [suffix, trait] of SEMIO) {
    map.set(`SEMIO_${suffix}`, { label: `${trait} personality`, scale: '1 = highest affinity … 7 = lowest', lower: `more ${trait}`, higher: `less ${trait}` });
  }
  for (const [name, info] of Object.entries(TABLE)) map.set(name, info);
  return map;
}

/** Every known column, by upper-case name. */
export const FEATURE_DICTIONARY: ReadonlyMap<string, FeatureInfo> = buildDictionary();

// ---- lookups ---------------------------------------------------------------------------------------------------

export interface ParsedFeature {
  /** The source column: `CAMEO_DEUG_2015` for `CAMEO_DEUG_2015=8`. */
  column: string;
  /** The one-hot level, if the feature is `NAME=LEVEL`. */
  level?: string;
  info?: FeatureInfo;
  /** The level's name from the dictionary, if known. */
  levelLabel?: string;
}

export function parseFeature(feature: string): ParsedFeature {
  const eq = feature.indexOf('=');
  const column = (eq >= 0 ? feature.slice(0, eq) : feature).trim();
  const level = eq >= 0 ? feature.slice(eq + 1).trim() : undefined;
  const info = FEATURE_DICTIONARY.get(column.toUpperCase());
  let levelLabel: string | undefined;
  if (level !== undefined && info?.levels) {
    levelLabel = info.levels[level] ?? info.levels[level.toUpperCase()] ?? info.levels[String(Number(level))];
  }
  if (level !== undefined && levelLabel === undefined && column.toUpperCase() === 'CAMEO_DEU_2015') {
    const group = CAMEO_DEUG[level.charAt(0)];
    if (group) levelLabel = `a ${group} subtype`;
  }
  return { column, level, info, levelLabel };
}

/** A short gloss for tables: "money saver (1 = very high … 5 = very low)", "working class", or null if unknown. */
export function featureGloss(feature: string): string | null {
  const { level, info, levelLabel } = parseFeature(feature);
  if (level !== undefined) return levelLabel ?? (info ? info.label : null);
  if (!info) return null;
  return info.scale ? `${info.label} (${info.scale})` : info.label;
}

// ---- sentences -------------------------------------------------------------------------------------------------

/** |z| below this reads as "about average". */
const NEGLIGIBLE_Z = 0.1;

function intensity(absZ: number): string {
  if (absZ < 0.5) return 'slightly ';
  if (absZ < 1) return '';
  if (absZ < 2) return 'much ';
  return 'far ';
}

function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) return x.toExponential(2);
  return String(Number(x.toFixed(abs >= 100 ? 1 : abs >= 10 ? 2 : 3)));
}

function formatShare(x: number): string {
  return `${(x * 100).toFixed(x * 100 < 10 ? 1 : 0)} %`;
}

/**
 * One sentence on how a centroid deviates from the population on `feature`:
 *   "much lower FINANZ_SPARER than average (money saver: 1 = very high … 5 = very low) → stronger money savers"
 *   "much more often CAMEO_DEUG_2015 = 8 (working class) than average: 31 % vs 17 %"
 *   "XYZ higher than average by 1.3 sd"   (a column the dictionary does not know)
 * `value` and `populationMean` are in original units, `zScore` = (value - mean) / population sd.
 */
export function describeDeviation(feature: string, value: number, populationMean: number, zScore: number): string {
  const diff = Number.isFinite(zScore) && zScore !== 0 ? zScore : value - populationMean;
  const absZ = Number.isFinite(zScore) ? Math.abs(zScore) : NaN;
  const parsed = parseFeature(feature);
  const { column, level, info, levelLabel } = parsed;

  if (level !== undefined) {
    const name = `${column} = ${level}${levelLabel ? ` (${levelLabel})` : ''}`;
    const isShare = value >= 0 && value <= 1 && populationMean >= 0 && populationMean <= 1;
    const numbers = isShare ? `${formatShare(value)} vs ${formatShare(populationMean)}` : `${formatNumber(value)} vs ${formatNumber(populationMean)}`;
    if (diff === 0 || absZ < NEGLIGIBLE_Z) return `${name} about as common as average: ${numbers}`;
    const how = Number.isFinite(absZ) ? intensity(absZ) : '';
    return `${how}${diff > 0 ? 'more' : 'less'} often ${name} than average: ${numbers}`;
  }

  if (!info) {
    if (diff === 0 || absZ < NEGLIGIBLE_Z) return `${feature} about average`;
    const by = Number.isFinite(absZ) ? ` by ${absZ.toFixed(1)} sd` : ` (${formatNumber(value)} vs ${formatNumber(populationMean)})`;
    return `${feature} ${diff > 0 ? 'higher' : 'lower'} than average${by}`;
  }

  const gloss = info.scale ? `${info.label}: ${info.scale}` : info.label;
  if (diff === 0 || absZ < NEGLIGIBLE_Z) return `${feature} about average (${gloss})`;
  const how = Number.isFinite(absZ) ? intensity(absZ) : '';
  const reading = diff > 0 ? info.higher : info.lower;
  const tail = reading ? ` → ${reading}` : Number.isFinite(absZ) ? ` by ${absZ.toFixed(1)} sd` : '';
  return `${how}${diff > 0 ? 'higher' : 'lower'} ${feature} than average (${gloss})${tail}`;
}
