import { compareGroups, rankRepresentation } from '../../core/stats/representation';
import { describeDeviation } from '../../core/stats/describe';
import { mulberry32 as rng } from '../support/rng';
import { HEAVY_MISSING_PERSONA, persona } from '../../core/stats/persona';

/**
 * A synthetic results.json shaped like the original study's outputs (FACTS.md: CHA's k = 12 cluster table with the
 * heavy-missing group, per-column missing fractions, PCA and SSE curves). Raw object: tests parse it with
 * ResultsSchema first.
 */

/** [column, population missing share, customer missing share] — population shares from FACTS §3. */
const COLUMN_MISSING: ReadonlyArray<readonly [string, number, number]> = [
  ['AGER_TYP', 0.7696, 0.7696],
  ['ALTERSKATEGORIE_GROB', 0.0032, 0.0032],
  ['ANREDE_KZ', 0.0, 0.0],
  ['CJT_GESAMTTYP', 0.0054, 0.0168],
  ['FINANZ_MINIMALIST', 0.0, 0.0],
  ['FINANZ_SPARER', 0.0, 0.0],
  ['FINANZ_VORSORGER', 0.0, 0.0],
  ['FINANZ_ANLEGER', 0.0, 0.0],
  ['FINANZ_UNAUFFAELLIGER', 0.0, 0.0],
  ['FINANZ_HAUSBAUER', 0.0, 0.0],
  ['FINANZTYP', 0.0, 0.0],
  ['GEBURTSJAHR', 0.4402, 0.4402],
  ['GFK_URLAUBERTYP', 0.0054, 0.0168],
  ['GREEN_AVANTGARDE', 0.0, 0.0],
  ['HEALTH_TYP', 0.1248, 0.1248],
  ['LP_LEBENSPHASE_FEIN', 0.1095, 0.1209],
  ['LP_LEBENSPHASE_GROB', 0.1061, 0.1175],
  ['LP_FAMILIE_FEIN', 0.0873, 0.0986],
  ['LP_FAMILIE_GROB', 0.0873, 0.0986],
  ['LP_STATUS_FEIN', 0.0054, 0.0168],
  ['LP_STATUS_GROB', 0.0054, 0.0168],
  ['NATIONALITAET_KZ', 0.1215, 0.1215],
  ['PRAEGENDE_JUGENDJAHRE', 0.1214, 0.1214],
  ['RETOURTYP_BK_S', 0.0054, 0.0168],
  ['SEMIO_SOZ', 0.0, 0.0],
  ['SEMIO_FAM', 0.0, 0.0],
  ['SEMIO_REL', 0.0, 0.0],
  ['SEMIO_MAT', 0.0, 0.0],
  ['SEMIO_VERT', 0.0, 0.0],
  ['SEMIO_LUST', 0.0, 0.0],
  ['SEMIO_ERL', 0.0, 0.0],
  ['SEMIO_KULT', 0.0, 0.0],
  ['SEMIO_RAT', 0.0, 0.0],
  ['SEMIO_KRIT', 0.0, 0.0],
  ['SEMIO_DOM', 0.0, 0.0],
  ['SEMIO_KAEM', 0.0, 0.0],
  ['SEMIO_PFLICHT', 0.0, 0.0],
  ['SEMIO_TRADV', 0.0, 0.0],
  ['SHOPPER_TYP', 0.1248, 0.1248],
  ['SOHO_KZ', 0.0825, 0.2431],
  ['TITEL_KZ', 0.9976, 1],
  ['VERS_TYP', 0.1248, 0.1248],
  ['ZABEOTYP', 0.0, 0.0],
  ['ALTER_HH', 0.3481, 0.5088],
  ['ANZ_PERSONEN', 0.0825, 0.2431],
  ['ANZ_TITEL', 0.0825, 0.2431],
  ['HH_EINKOMMEN_SCORE', 0.0206, 0.0155],
  ['KK_KUNDENTYP', 0.656, 0.5841],
  ['W_KEIT_KIND_HH', 0.1661, 0.3257],
  ['WOHNDAUER_2008', 0.0825, 0.2431],
  ['ANZ_HAUSHALTE_AKTIV', 0.1118, 0.2678],
  ['ANZ_HH_TITEL', 0.1088, 0.2719],
  ['GEBAEUDETYP', 0.1045, 0.2605],
  ['KONSUMNAEHE', 0.083, 0.2434],
  ['MIN_GEBAEUDEJAHR', 0.1045, 0.2605],
  ['OST_WEST_KZ', 0.1045, 0.2605],
  ['WOHNLAGE', 0.1045, 0.2605],
  ['CAMEO_DEUG_2015', 0.1115, 0.2635],
  ['CAMEO_DEU_2015', 0.1115, 0.2635],
  ['CAMEO_INTL_2015', 0.1115, 0.2635],
  ['KBA05_ANTG1', 0.1496, 0.2921],
  ['KBA05_ANTG2', 0.1496, 0.2921],
  ['KBA05_ANTG3', 0.1496, 0.2921],
  ['KBA05_ANTG4', 0.1496, 0.2921],
  ['KBA05_BAUMAX', 0.5347, 0.6772],
  ['KBA05_GBZ', 0.1496, 0.2921],
  ['BALLRAUM', 0.1052, 0.2607],
  ['EWDICHTE', 0.1052, 0.2607],
  ['INNENSTADT', 0.1052, 0.2607],
  ['GEBAEUDETYP_RASTER', 0.1045, 0.2605],
  ['KKK', 0.1774, 0.3245],
  ['MOBI_REGIO', 0.1496, 0.2921],
  ['ONLINE_AFFINITAET', 0.0054, 0.0168],
  ['REGIOTYP', 0.1774, 0.3245],
  ['KBA13_ANZAHL_PKW', 0.1187, 0.2676],
  ['PLZ8_ANTG1', 0.1307, 0.2753],
  ['PLZ8_ANTG2', 0.1307, 0.2753],
  ['PLZ8_ANTG3', 0.1307, 0.2753],
  ['PLZ8_ANTG4', 0.1307, 0.2753],
  ['PLZ8_BAUMAX', 0.1307, 0.2753],
  ['PLZ8_HHZ', 0.1307, 0.2753],
  ['PLZ8_GBZ', 0.1307, 0.2753],
  ['ARBEIT', 0.1093, 0.2636],
  ['ORTSGR_KLS9', 0.1091, 0.2635],
  ['RELAT_AB', 0.1093, 0.2636],
];

const DROPPED = ['AGER_TYP', 'GEBURTSJAHR', 'TITEL_KZ', 'ALTER_HH', 'KK_KUNDENTYP', 'KBA05_BAUMAX'];

/** CHA's table: [cluster id, general %, customers %]; -1 = the heavy-missing group. */
const CHA_SHARES: ReadonlyArray<readonly [number, number, number]> = [
  [9, 6.55, 24.87],
  [-1, 10.45, 26.05],
  [6, 8.23, 12.69],
  [7, 6.57, 8.76],
  [4, 7.95, 6.13],
  [1, 7.42, 5.0],
  [5, 7.9, 5.16],
  [11, 6.2, 3.89],
  [2, 6.18, 3.74],
  [10, 6.56, 1.38],
  [8, 9.42, 1.03],
  [3, 7.21, 0.58],
  [0, 9.36, 0.73],
];

const POPULATION_ROWS = 891_221;
const CUSTOMER_ROWS = 191_652;

/** [feature, population mean, population sd, smallest code, largest code] */
const PROFILE_FEATURES: ReadonlyArray<readonly [string, number, number, number, number]> = [
  ['FINANZ_SPARER', 2.821, 1.465, 1, 5],
  ['HH_EINKOMMEN_SCORE', 4.207, 1.624, 1, 6],
  ['CAMEO_INTL_2015_WEALTH', 3.262, 1.465, 1, 5],
  ['ALTERSKATEGORIE_GROB', 2.795, 1.018, 1, 4],
  ['PLZ8_ANTG1', 2.253, 0.972, 0, 4],
  ['MOBI_REGIO', 2.964, 1.429, 1, 6],
  ['FINANZ_MINIMALIST', 3.075, 1.321, 1, 5],
  ['SEMIO_VERT', 4.024, 2.078, 1, 7],
  ['ANREDE_KZ', 1.522, 0.5, 1, 2],
  ['PRAEGENDE_JUGENDJAHRE_DECADE', 4.332, 1.457, 1, 6],
  ['PRAEGENDE_JUGENDJAHRE_MOVEMENT', 0.228, 0.419, 0, 1],
  ['CAMEO_DEUG_2015=8', 0.17, 0.376, 0, 1],
  ['LP_STATUS_GROB=1', 0.381, 0.486, 0, 1],
  ['EWDICHTE', 3.939, 1.719, 1, 6],
  ['SEMIO_KAEM', 4.445, 1.852, 1, 7],
  ['KBA13_ANZAHL_PKW', 619.7, 340.0, 0, 2300],
];

export interface FixtureOptions {
  /** A feature name to plant in profiles, PCA tables, missingness and divergence (e.g. to test escaping). */
  extraFeature?: string;
}

export function buildResultsFixture(options: FixtureOptions = {}): Record<string, unknown> {
  const random = rng(7);
  const extra = options.extraFeature;

  const groups = CHA_SHARES.map(([id, gen, cust]) => ({
    id,
    populationCount: Math.round((gen / 100) * POPULATION_ROWS),
    customerCount: Math.round((cust / 100) * CUSTOMER_ROWS),
  }));
  const compared = compareGroups(groups, 0.05);
  const ranking = rankRepresentation(compared);
  const heavy = compared.find((g) => g.id === -1)!;

  const clusters = compared.map((g) => {
    let profile: Array<Record<string, unknown>> = [];
    if (g.id !== -1) {
      const sign = g.lift > 1 ? -1 : 1; // customer-like clusters: wealthier (lower codes), older, ...
      profile = PROFILE_FEATURES.map(([feature, mean, sd, lo, hi], i) => {
        const wanted = (i % 3 === 2 ? -sign : sign) * (0.2 + random() * 1.6) * (i < 4 ? 1.3 : 1);
        const value = Number(Math.min(hi - 0.02 * (hi - lo), Math.max(lo + 0.02 * (hi - lo), mean + wanted * sd)).toFixed(4));
        const z = Number(((value - mean) / sd).toFixed(3));
        return { feature, value, populationMean: mean, zScore: z, description: describeDeviation(feature, value, mean, z) };
      });
      if (extra) profile.push({ feature: extra, value: 2, populationMean: 1, zScore: 1.5, description: describeDeviation(extra, 2, 1, 1.5) });
      profile.sort((a, b) => Math.abs(b.zScore as number) - Math.abs(a.zScore as number));
    }
    return {
      id: g.id,
      populationCount: g.populationCount,
      customerCount: g.customerCount,
      populationShare: g.populationShare,
      customerShare: g.customerShare,
      lift: g.lift,
      liftCi: g.liftCi,
      pValue: g.pValue,
      representation: g.representation,
      profile,
      persona: g.id === -1 ? HEAVY_MISSING_PERSONA : persona(profile as { feature: string; zScore: number }[]),
    };
  });

  const columns = COLUMN_MISSING.map(([column, populationShare, customerShare]) => ({
    column,
    populationShare,
    customerShare,
    dropped: DROPPED.includes(column),
  }));
  if (extra) columns.push({ column: extra, populationShare: 0.05, customerShare: 0.07, dropped: false });

  // Row histogram over 79 kept columns: most rows complete, a bump of heavy rows at 33-49.
  const maxRowMissing = 29;
  const population: number[] = [];
  const customers: number[] = [];
  for (let i = 0; i <= 49; i++) {
    const clean = i === 0 ? 623_209 : i <= 21 ? Math.round(150_000 * Math.exp(-i / 3)) : i <= 29 ? 60 : 0;
    const heavyBump = i >= 33 ? Math.round(93_000 * Math.exp(-((i - 43) ** 2) / 18) / 7.5) : i >= 30 ? 70 : 0;
    population.push(clean + heavyBump);
    customers.push(Math.round(clean * 0.16) + Math.round(heavyBump * 0.54));
  }

  const divergenceColumns = COLUMN_MISSING.filter(([c]) => !DROPPED.includes(c)).slice(0, 40);
  const divergence = divergenceColumns.map(([column], i) => {
    const js = Number((0.45 * Math.exp(-i / 6) + random() * 0.02).toFixed(4));
    return { column, jensenShannon: js, totalVariation: Number(Math.min(1, js * 1.6 + random() * 0.03).toFixed(4)) };
  });
  if (extra) divergence.unshift({ column: extra, jensenShannon: 0.6, totalVariation: 0.7 });

  // PCA: 150 components, decaying spectrum; keep the fewest reaching 90 %.
  const raw = Array.from({ length: 150 }, (_, i) => 1 / (i + 3) ** 0.9 + 0.004);
  const rawSum = raw.reduce((a, b) => a + b, 0);
  const evr = raw.map((v) => v / rawSum);
  const cumulative: number[] = [];
  evr.reduce((acc, v) => {
    cumulative.push(Math.min(1, acc + v));
    return acc + v;
  }, 0);
  const keptComponents = cumulative.findIndex((c) => c >= 0.9) + 1;
  const components = [
    {
      index: 0,
      explainedVarianceRatio: evr[0],
      top: [
        ['PLZ8_ANTG3', 0.221],
        ['PLZ8_ANTG4', 0.215],
        ['HH_EINKOMMEN_SCORE', 0.204],
        ['CAMEO_INTL_2015_WEALTH', 0.201],
        ['ORTSGR_KLS9', 0.187],
      ],
      bottom: [
        ['MOBI_REGIO', -0.219],
        ['PLZ8_ANTG1', -0.217],
        ['KBA05_ANTG1', -0.206],
        ['FINANZ_MINIMALIST', -0.195],
        ['KBA05_GBZ', -0.19],
      ],
    },
    {
      index: 1,
      explainedVarianceRatio: evr[1],
      top: [
        ['ALTERSKATEGORIE_GROB', 0.262],
        ['FINANZ_VORSORGER', 0.238],
        ['SEMIO_ERL', 0.229],
        ['SEMIO_LUST', 0.181],
        ['RETOURTYP_BK_S', 0.164],
      ],
      bottom: [
        ['PRAEGENDE_JUGENDJAHRE_DECADE', -0.255],
        ['SEMIO_REL', -0.254],
        ['FINANZ_SPARER', -0.247],
        ['FINANZ_UNAUFFAELLIGER', -0.236],
        ['SEMIO_PFLICHT', -0.229],
      ],
    },
    {
      index: 2,
      explainedVarianceRatio: evr[2],
      top: [
        ['SEMIO_VERT', 0.337],
        ['SEMIO_SOZ', 0.262],
        ['SEMIO_FAM', 0.251],
        ['SEMIO_KULT', 0.239],
        [extra ?? 'FINANZ_MINIMALIST', 0.151],
      ],
      bottom: [
        ['ANREDE_KZ', -0.363],
        ['SEMIO_KAEM', -0.334],
        ['SEMIO_DOM', -0.313],
        ['SEMIO_KRIT', -0.271],
        ['SEMIO_RAT', -0.218],
      ],
    },
  ].map((c) => ({
    ...c,
    top: c.top.map(([feature, weight]) => ({ feature, weight })),
    bottom: c.bottom.map(([feature, weight]) => ({ feature, weight })),
  }));

  const abdSse = [124_475_855, 114_703_637, 110_249_921, 107_259_198, 104_796_370, 103_287_233, 102_015_689, 100_551_993, 99_507_722, 98_974_623, 98_153_565, 96_796_736, 95_968_045, 95_624_889, 94_917_301];
  const kSweep = abdSse.slice(1).map((sse, i) => ({
    k: i + 2,
    sse,
    silhouette: i + 2 === 9 ? null : Number((0.12 - 0.004 * i + random() * 0.01).toFixed(4)),
  }));

  const features = [
    ...new Set([
      ...COLUMN_MISSING.filter(([c]) => !DROPPED.includes(c)).map(([c]) => c),
      ...PROFILE_FEATURES.map(([f]) => f),
      ...(extra ? [extra] : []),
    ]),
  ];

  return {
    version: 1,
    dataset: 'arvato-synthetic',
    createdAt: '2024-05-01T12:00:00.000Z',
    inputs: {
      population: { path: 'data/Udacity_AZDIAS_Subset.csv', rows: POPULATION_ROWS, sha256: 'a'.repeat(64) },
      customers: { path: 'data/Udacity_CUSTOMERS_Subset.csv', rows: CUSTOMER_ROWS, sha256: 'b'.repeat(64) },
      featureSummary: { path: 'data/AZDIAS_Feature_Summary.csv', sha256: 'c'.repeat(64) },
    },
    settings: { maxColumnMissingShare: 0.3, varianceTarget: 0.9, alpha: 0.05 },
    droppedColumns: DROPPED,
    missingness: { columns, rowHistogram: { population, customers }, maxRowMissing },
    heavyMissing: {
      populationShare: heavy.populationShare,
      customerShare: heavy.customerShare,
      populationRows: heavy.populationCount,
      customerRows: heavy.customerCount,
      divergence,
    },
    features,
    pca: { explainedVarianceRatio: evr, cumulativeVarianceRatio: cumulative, keptComponents, components },
    kSweep,
    k: 12,
    kChosenBy: 'knee',
    finalSse: 96_500_000,
    clusters,
    overRepresented: ranking.over,
    underRepresented: ranking.under,
    steps: [
      { name: 'load', seconds: 12.4, reused: true },
      { name: 'clean', seconds: 31.9, reused: true },
      { name: 'encode', seconds: 18.2, reused: false },
      { name: 'scale', seconds: 4.1, reused: false },
      { name: 'pca', seconds: 62.7, reused: false },
      { name: 'k-sweep', seconds: 415.3, reused: false },
      { name: 'k-means', seconds: 88.0, reused: false },
      { name: 'map customers', seconds: 9.6, reused: false },
      { name: 'report', seconds: 0.4, reused: false },
    ],
  };
}

/** The report's charts, in page order: each drawn once for wide screens and once for phones. */
export const REPORT_CHART_TITLES = [
  'Share of population and customers per cluster, sorted by lift',
  'Lift per cluster with confidence interval (log scale)',
  'Missing share per column, population vs customers',
  'Rows by number of missing values, population vs customers',
  'Distribution differences between heavy-missing and clean rows per column',
  'Explained variance per principal component',
  'Cumulative explained variance',
  'Within-cluster sum of squares (SSE) vs k',
  'Silhouette score vs k',
];
