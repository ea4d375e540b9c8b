/**
 * Calibration tables for the synthetic Arvato-like data. Every number comes from the published facts about the
 * real files (shared/reference/arvato/FACTS.md; section numbers in comments) or is fitted to them:
 *  - value distributions: §6.1 counts where printed; otherwise fitted to the §6.2 describe() table (mean, std,
 *    quartiles, most frequent value from §6.3) with a small max-entropy fit;
 *  - missingness: §3 per-column raw-NaN / coded counts, the column blocks that go missing together, §4 per-row
 *    histogram, §5 customers.
 *
 * Latent structure. Four axes, signs chosen to match the published components (§9):
 *   W  wealth/density: + = poorer household, denser area, more multi-family buildings (PC1)
 *   A  age/tradition:  + = older, more traditional, more financially prudent (PC2)
 *   G  gender/personality: + = female, dreamy/social/family-minded; - = male, combative/dominant/critical (PC3)
 *   V  avantgarde: + = green avantgarde youth movement (the 4th recurring component)
 * Clean rows belong to one of the segments below; a row's factor scores are the segment mean plus within-segment
 * noise, ordinal columns threshold a loading-weighted score plus noise, nominal columns draw from
 * segment-specific distributions raked to the published marginal. Heavy-missing rows belong to no segment.
 */

export type Vec4 = readonly [number, number, number, number];

export interface SegmentSpec {
  id: number;
  name: string;
  description: string;
  /** Segment mean on (W, A, G, V). */
  mean: Vec4;
  /** Share of the clean (non-heavy) general-population rows. */
  populationShare: number;
  /** Customer sampling weight relative to the population (before renormalisation). */
  lift: number;
}

/** Within-segment standard deviation of the factor scores (W, A, G, V). */
export const WITHIN_SD: Vec4 = [0.4, 0.4, 0.4, 0.5];

export const SEGMENTS: readonly SegmentSpec[] = [
  {
    id: 0,
    name: 'Affluent senior men, prudent investors',
    description: 'High income, top CAMEO wealth classes, 1-2 family homes in low-density areas, 60+, mostly male, money savers and investors, dutiful and rational.',
    mean: [-1.2, 1.3, -1.6, -0.27],
    populationShare: 0.085,
    lift: 4.5,
  },
  {
    id: 1,
    name: 'Affluent traditional older women',
    description: 'Prosperous homeowners in suburban and rural areas, 46+, mostly female, religious, traditional and family-minded, financially prudent.',
    mean: [-1.2, 1.3, 1.6, -0.27],
    populationShare: 0.095,
    lift: 2.0,
  },
  {
    id: 2,
    name: 'Prosperous young professional men',
    description: 'High earners under 45 in well-off, low-density areas, mostly male, investors, combative and event-oriented.',
    mean: [-1.2, -1.3, -1.6, -0.27],
    populationShare: 0.105,
    lift: 1.2,
  },
  {
    id: 3,
    name: 'Comfortable young families',
    description: 'Comfortable households under 45 in 1-2 family homes, mostly women, social and family-minded, online shoppers, children likely.',
    mean: [-1.2, -1.3, 1.6, -0.27],
    populationShare: 0.11,
    lift: 0.7,
  },
  {
    id: 4,
    name: 'Older working-class men in towns',
    description: 'Lower incomes, older men in denser town areas with multi-family buildings, traditional and money-saving but low financial interest.',
    mean: [1.2, 1.3, -1.6, -0.27],
    populationShare: 0.11,
    lift: 0.55,
  },
  {
    id: 5,
    name: 'Older low-income women in city flats',
    description: 'Poorer older women in dense urban areas with large multi-family buildings, religious and dutiful, low financial interest.',
    mean: [1.2, 1.3, 1.6, -0.27],
    populationShare: 0.12,
    lift: 0.45,
  },
  {
    id: 6,
    name: 'Young low-income urban men',
    description: 'Poorer young men in dense, mobile city areas with 10+ family buildings, high unemployment, hedonistic, combative, minimal financial interest.',
    mean: [1.2, -1.3, -1.6, -0.27],
    populationShare: 0.13,
    lift: 0.1,
  },
  {
    id: 7,
    name: 'Young low-income urban women',
    description: 'Poorer young women in dense city areas, dreamy, social and sensual, event-oriented, minimal financial interest, frequent returners.',
    mean: [1.2, -1.3, 1.6, -0.27],
    populationShare: 0.135,
    lift: 0.08,
  },
  {
    id: 8,
    name: 'Green avantgarde middle class',
    description: 'Middle-income, middle-aged people whose youth was shaped by avantgarde movements (GREEN_AVANTGARDE = 1), green energy consumers, cultural.',
    mean: [0, -0.39, 0.16, 2.2],
    populationShare: 0.11,
    lift: 1.8,
  },
];

export type HeavySpec = { probs: readonly number[] } | { alpha: number; at: number };

export interface LatentColumn {
  kind: 'latent';
  /** Values in latent order (a higher score gives a later value). */
  values: readonly number[];
  /** Published population distribution over `values` (counts or shares; normalised). */
  probs: readonly number[];
  /** Clean-row distribution when published separately (overrides the heavy adjustment). */
  cleanProbs?: readonly number[];
  load: Vec4;
  heavy?: HeavySpec;
}

export interface NominalColumn {
  kind: 'nominal';
  values: readonly number[];
  probs: readonly number[];
  /** Per value: where the category sits on (W, A, G, V); segment tilt = beta * attr . segment mean. */
  attrs?: readonly Vec4[];
  beta?: number;
  heavy?: HeavySpec;
}

export type ColumnSpec = LatentColumn | NominalColumn | { kind: 'derived' };

const Z: Vec4 = [0, 0, 0, 0];
const w = (x: number): Vec4 => [x, 0, 0, 0];
const a = (x: number): Vec4 => [0, x, 0, 0];
const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

/** Piecewise-linear CDF through (quantile, value) knots, discretised to integers lo..hi. */
function pmfFromKnots(lo: number, hi: number, knots: ReadonlyArray<readonly [number, number]>): number[] {
  const cdf = (x: number): number => {
    if (x <= knots[0][1]) return 0;
    for (let i = 1; i < knots.length; i++) {
      const [q0, v0] = knots[i - 1];
      const [q1, v1] = knots[i];
      if (x <= v1) return q0 + ((q1 - q0) * (x - v0)) / (v1 - v0);
    }
    return 1;
  };
  const out: number[] = [];
  for (let v = lo; v <= hi; v++) out.push(Math.max(0, cdf(v + 1) - cdf(v)));
  return out;
}

/** Discretised log-normal (rounded), truncated to lo..hi. */
function lognormalPmf(lo: number, hi: number, mu: number, sigma: number): number[] {
  const phi = (x: number): number => 0.5 * (1 + erf(x / Math.SQRT2));
  const out: number[] = [];
  for (let v = lo; v <= hi; v++) {
    const l = v - 0.5 <= 0 ? 0 : phi((Math.log(v - 0.5) - mu) / sigma);
    const u = phi((Math.log(v + 0.5) - mu) / sigma);
    out.push(u - l);
  }
  return out;
}

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7); only used to build tables.
  const s = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return s * y;
}

// ---------------------------------------------------------------------------------------------------------
// Numeric columns with wide ranges (§6.2 describe + notes).

/** GEBURTSJAHR when not 0: whole-column median 1943 and 75% 1970 with 44% zeros => 10.7th / 55.3rd percentile. */
const BIRTH_YEARS = range(1900, 2017);
const BIRTH_PMF = pmfFromKnots(1900, 2017, [
  [0, 1900], [0.005, 1915], [0.03, 1930], [0.107, 1943], [0.3, 1958], [0.553, 1970], [0.8, 1982], [0.95, 1994], [0.995, 2010], [1, 2018],
]);

/** KBA13_ANZAHL_PKW: 0-2300, quartiles 384 / 549 / 778, mean 620, with a spike at 1400 (its most frequent value). */
const PKW_VALUES = range(0, 2300);
const PKW_PMF = (() => {
  const base = pmfFromKnots(0, 2300, [
    [0, 0], [0.01, 60], [0.25, 384], [0.5, 549], [0.75, 778], [0.95, 1230], [0.99, 1700], [1, 2301],
  ]);
  const spike = 0.012;
  const out = base.map((p) => p * (1 - spike));
  out[1400] += spike;
  return out;
})();

/** ANZ_HAUSHALTE_AKTIV (0 is a missing code, placed by the gap model): 1-595, median 4, 75% 9, mean 8.3, std 15.6. */
const HH_ACTIVE_VALUES = range(1, 595);
const HH_ACTIVE_PMF = lognormalPmf(1, 595, 1.3, 1.25);

/** ANZ_PERSONEN 0-45: mean 1.73, std 1.16, quartiles 1 / 1 / 2. */
const PERSONS_VALUES = range(0, 45);
const PERSONS_PMF = (() => {
  const head = [0.06, 0.5, 0.26, 0.105, 0.048, 0.017, 0.006, 0.0025, 0.0012];
  const out = [...head];
  for (let v = 9; v <= 45; v++) out.push(0.0012 * Math.pow(0.8, v - 8));
  return out;
})();

/** ALTER_HH 1-21 (0 = code): non-zero mean 15.3, std 3.8. */
const ALTER_HH_VALUES = range(1, 21);
const ALTER_HH_PMF = ALTER_HH_VALUES.map((v) => Math.exp(-((v - 15.95) ** 2) / (2 * 3.0 ** 2)) + (v <= 12 ? 0.03 : 0));

/** MIN_GEBAEUDEJAHR 1985-2016: quartiles 1992 / 1992 / 1993, mean 1993.3. */
const BUILD_YEARS = range(1985, 2016);
const BUILD_PMF = BUILD_YEARS.map((y) => {
  if (y === 1985) return 0.02;
  if (y < 1992) return 0.012;
  if (y === 1992) return 0.5;
  if (y === 1993) return 0.17;
  if (y === 1994) return 0.07;
  if (y === 1995) return 0.045;
  if (y === 1996) return 0.03;
  if (y === 1997) return 0.02;
  return 0.0125 * Math.pow(0.86, y - 1998);
});

/** ANZ_HH_TITEL 0-23: mean 0.041, std 0.32. */
const HH_TITLE_VALUES = range(0, 23);
const HH_TITLE_PMF = HH_TITLE_VALUES.map((v) => (v === 0 ? 0.976 : v === 1 ? 0.018 : v === 2 ? 0.0035 : v === 3 ? 0.0011 : 0.0006 * Math.pow(0.7, v - 4)));

// ---------------------------------------------------------------------------------------------------------
// CAMEO: 44 German codes (§6.1 counts) and their many-to-one international recoding (solved exactly from the
// published counts: every INTL count is the sum of the DEU counts mapped to it).

export const CAMEO_DEU: ReadonlyArray<readonly [string, number, number]> = [
  ['1A', 10850, 13], ['1B', 4071, 14], ['1C', 4317, 14], ['1D', 11909, 15], ['1E', 5065, 15],
  ['2A', 13249, 12], ['2B', 15486, 13], ['2C', 19422, 14], ['2D', 35074, 14],
  ['3A', 10543, 23], ['3B', 7160, 23], ['3C', 34769, 24], ['3D', 34307, 25],
  ['4A', 33155, 22], ['4B', 9047, 23], ['4C', 47819, 24], ['4D', 8570, 24], ['4E', 5321, 25],
  ['5A', 12214, 31], ['5B', 10354, 32], ['5C', 9935, 33], ['5D', 14943, 34], ['5E', 3581, 34], ['5F', 4283, 35],
  ['6A', 6810, 31], ['6B', 56672, 43], ['6C', 14820, 44], ['6D', 6073, 35], ['6E', 16107, 45], ['6F', 5392, 45],
  ['7A', 34399, 41], ['7B', 24503, 41], ['7C', 9065, 54], ['7D', 5333, 54], ['7E', 4633, 45],
  ['8A', 52438, 51], ['8B', 33434, 41], ['8C', 30993, 54], ['8D', 17576, 55],
  ['9A', 20542, 52], ['9B', 27676, 51], ['9C', 24987, 51], ['9D', 28593, 51], ['9E', 6379, 55],
];

// ---------------------------------------------------------------------------------------------------------
// LP_LEBENSPHASE_FEIN: 40 life stages (§6.1 counts) with (income, age) positions from the data dictionary.
// income: low +0.8, average +0.2, independent -0.3, homeowner -0.6, wealthy/top -0.8/-0.9; age: younger -0.8,
// middle -0.2, advanced +0.5, higher +0.6, retirement +1.0. Household type leans on G: singles male-leaning (-0.5),
// single parents (+0.8), families (+0.5) and multi-person households (+0.3) female-leaning.
const LEBENSPHASE_FEIN: ReadonlyArray<readonly [number, number, number, number]> = [
  // [count, W, A, G]
  [62667, 0.8, -0.9, -0.5], [39434, 0.8, -0.2, -0.5], [19985, 0.2, -0.9, -0.5], [17595, 0.2, -0.2, -0.5], [55542, 0.8, 0.5, -0.5],
  [45614, 0.8, 1.0, -0.5], [26508, 0.2, 0.5, -0.5], [30475, 0.2, 1.0, -0.5], [13066, -0.3, 0, -0.5], [25789, -0.8, -0.2, -0.5],
  [26710, -0.6, 0.5, -0.5], [23300, -0.6, 1.0, -0.5], [26085, -0.9, 0.6, -0.5], [17529, 0.5, -0.8, 0.0], [20062, 0.8, 0.6, 0.0],
  [14466, 0.2, 0.6, 0.0], [5888, -0.3, 0.2, 0.0], [7168, -0.8, -0.7, 0.0], [19484, -0.6, 0.6, 0.0], [17132, -0.9, 0.6, 0.0],
  [12766, 0.8, -0.5, 0.8], [7224, 0.2, -0.5, 0.8], [9191, -0.7, -0.5, 0.8], [12091, 0.8, -0.4, 0.5], [10370, 0.2, -0.4, 0.5],
  [3584, -0.3, -0.4, 0.5], [14475, -0.6, -0.3, 0.5], [12264, -0.9, -0.3, 0.5], [26577, 0.8, -0.8, 0.3], [22361, 0.2, -0.8, 0.3],
  [23987, 0.8, 0.6, 0.3], [17105, 0.2, 0.6, 0.3], [6066, -0.3, -0.8, 0.3], [13074, -0.6, -0.8, 0.3], [13679, -0.9, -0.8, 0.3],
  [10505, -0.3, 0.6, 0.3], [18525, -0.6, 0.5, 0.3], [13914, -0.6, 1.0, 0.3], [16182, -0.9, -0.2, 0.3], [15150, -0.9, 1.0, 0.3],
];

/** LP_LEBENSPHASE_FEIN -> _GROB (sums of the §6.1 counts match exactly). */
export function lebensphaseGrob(fein: number): number {
  if (fein <= 4) return 1;
  if (fein <= 8) return 2;
  if (fein <= 13) return 3;
  if (fein <= 16) return 4;
  if (fein <= 20) return 5;
  if (fein <= 23) return 6;
  if (fein <= 25) return 7;
  if (fein <= 28) return 8;
  if (fein <= 30) return 9;
  if (fein <= 32) return 10;
  if (fein <= 35) return 11;
  return 12;
}

/** LP_LEBENSPHASE_GROB -> LP_FAMILIE_GROB (1 single, 2 couple, 3 single parent, 4 family, 5 multi-person). */
export function familieFromLebensphase(grob: number): number {
  if (grob <= 3) return 1;
  if (grob <= 5) return 2;
  if (grob === 6) return 3;
  if (grob <= 8) return 4;
  return 5;
}

/** LP_FAMILIE_GROB -> LP_FAMILIE_FEIN members with their §6.1 counts. */
export const FAMILIE_FEIN_BY_GROB: Readonly<Record<number, ReadonlyArray<readonly [number, number]>>> = {
  1: [[1, 1]],
  2: [[2, 1]],
  3: [[3, 4958], [4, 12303], [5, 11920]],
  4: [[6, 9022], [7, 20730], [8, 23032]],
  5: [[9, 11148], [10, 137913], [11, 51719]],
};

/** LP_STATUS_FEIN -> _GROB: 1 = {1,2}, 2 = {3,4,5}, 3 = {6,7}, 4 = {8,9}, 5 = {10}. */
export function statusGrob(fein: number): number {
  if (fein <= 2) return 1;
  if (fein <= 5) return 2;
  if (fein <= 7) return 3;
  if (fein <= 9) return 4;
  return 5;
}

/**
 * Rows where LP_LEBENSPHASE_FEIN is 0 but _GROB is not (3,060 = 92,778 - 89,718 in the real file): GROB 3 (674)
 * or 4 (2,386). Rows where both LEBENSPHASE columns are 0 but LP_FAMILIE is known (16,780): FAMILIE_GROB 1
 * (12,935), 2 (190) or 5 (3,655) — the differences between the §6.1 FAMILIE and LEBENSPHASE group counts.
 */
export const FEIN_ONLY_GROB: ReadonlyArray<readonly [number, number]> = [[3, 674], [4, 2386]];
export const GROB_ONLY_FAMILIE: ReadonlyArray<readonly [number, number]> = [[1, 12935], [2, 190], [5, 3655]];

/** GEBAEUDETYP: 2/4/6 (buildings without known households) are exactly the ANZ_HAUSHALTE_AKTIV = 0 rows (6,463). */
export const GEBAEUDETYP_NO_HOUSEHOLD: ReadonlyArray<readonly [number, number]> = [[2, 4935], [4, 900], [6, 628]];

/** PRAEGENDE_JUGENDJAHRE codes 1..15 (§7.1 counts). Decade: {1,2} 40s, {3,4} 50s, {5,6,7} 60s, {8,9} 70s, {10..13} 80s, {14,15} 90s. */
export const PRAEGENDE_COUNTS: readonly number[] = [21282, 7479, 55195, 20451, 86416, 25652, 4010, 145988, 33570, 85808, 35752, 24446, 5764, 188697, 42547];
export const PRAEGENDE_DECADE: readonly number[] = [1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 5, 5, 6, 6];
export const PRAEGENDE_AVANTGARDE: ReadonlySet<number> = new Set([2, 4, 6, 7, 9, 11, 13, 15]);

/** Loading of the movement score on the V axis (movement = score above a per-decade cut point). */
export const AVANTGARDE_LOAD = 1.5;

/**
 * Share of avantgarde codes per decade (1..6) among the clean rows that have a PRAEGENDE value. Heavy rows carry
 * only mainstream codes (all 175,225 GREEN_AVANTGARDE = 1 rows are among the rows kept by the < 30 split, §6.1), so
 * the clean share is the published one divided by the clean fraction of present rows.
 */
export function avantgardeShareByDecade(heavyPresentFraction: number): number[] {
  const total = new Array(7).fill(0);
  const avant = new Array(7).fill(0);
  PRAEGENDE_COUNTS.forEach((n, i) => {
    const d = PRAEGENDE_DECADE[i];
    total[d] += n;
    if (PRAEGENDE_AVANTGARDE.has(i + 1)) avant[d] += n;
  });
  return total.map((t, d) => (d === 0 ? 0 : avant[d] / (t * (1 - heavyPresentFraction))));
}

/**
 * The east-only codes 7, 12, 13 are chosen with these probabilities given OST_WEST_KZ (O / W / unknown),
 * calibrated to the §7.1 counts.
 */
export const PRAEGENDE_EAST = {
  mainstream80s: { O: 0.75, W: 0.08, unknown: 0.222 },
  avantgarde: { O: 0.5, W: 0.04, unknown: 0.137 },
} as const;

// ---------------------------------------------------------------------------------------------------------
// Fitted ordinal distributions (§6.2 mean / std / quartiles; see module comment).
const FIT = {
  FINANZ_MINIMALIST: [0.151, 0.194, 0.274, 0.191, 0.19],
  FINANZ_SPARER: [0.26, 0.191, 0.223, 0.119, 0.207],
  FINANZ_ANLEGER: [0.254, 0.155, 0.162, 0.181, 0.248],
  FINANZ_UNAUFFAELLIGER: [0.24, 0.229, 0.175, 0.129, 0.227],
  FINANZ_HAUSBAUER: [0.165, 0.21, 0.21, 0.204, 0.211],
  RETOURTYP_BK_S: [0.135, 0.137, 0.242, 0.145, 0.341],
  SEMIO_SOZ: [0.125, 0.161, 0.156, 0.156, 0.142, 0.123, 0.137],
  SEMIO_FAM: [0.116, 0.087, 0.146, 0.186, 0.143, 0.168, 0.154],
  SEMIO_REL: [0.134, 0.093, 0.134, 0.191, 0.115, 0.146, 0.185],
  SEMIO_MAT: [0.126, 0.134, 0.104, 0.228, 0.184, 0.106, 0.119],
  SEMIO_VERT: [0.152, 0.165, 0.107, 0.135, 0.126, 0.155, 0.16],
  SEMIO_LUST: [0.141, 0.119, 0.041, 0.158, 0.185, 0.19, 0.165],
  SEMIO_ERL: [0.084, 0.081, 0.094, 0.25, 0.151, 0.176, 0.163],
  SEMIO_KULT: [0.115, 0.125, 0.192, 0.149, 0.179, 0.088, 0.152],
  SEMIO_RAT: [0.09, 0.088, 0.205, 0.275, 0.193, 0.079, 0.07],
  SEMIO_KRIT: [0.077, 0.087, 0.096, 0.059, 0.278, 0.222, 0.181],
  SEMIO_DOM: [0.076, 0.08, 0.104, 0.11, 0.268, 0.192, 0.169],
  SEMIO_KAEM: [0.087, 0.105, 0.088, 0.209, 0.183, 0.158, 0.169],
  SEMIO_PFLICHT: [0.1, 0.069, 0.127, 0.29, 0.14, 0.143, 0.132],
  SEMIO_TRADV: [0.119, 0.141, 0.252, 0.172, 0.139, 0.118, 0.059],
  HH_EINKOMMEN_SCORE: [0.097, 0.077, 0.15, 0.143, 0.261, 0.271],
  KK_KUNDENTYP: [0.159, 0.159, 0.227, 0.159, 0.159, 0.137],
  W_KEIT_KIND_HH: [0.123, 0.09, 0.172, 0.097, 0.168, 0.35],
  WOHNDAUER_2008: [0.022, 0.02, 0.018, 0.031, 0.022, 0.038, 0.05, 0.215, 0.585],
  KONSUMNAEHE: [0.203, 0.193, 0.21, 0.289, 0.042, 0.011, 0.053],
  KBA05_ANTG1: [0.319, 0.272, 0.14, 0.133, 0.136],
  KBA05_ANTG2: [0.36, 0.238, 0.275, 0.032, 0.095],
  KBA05_ANTG3: [0.694, 0.066, 0.162, 0.078],
  KBA05_ANTG4: [0.792, 0.11, 0.098],
  KBA05_GBZ: [0.16, 0.132, 0.299, 0.204, 0.204],
  BALLRAUM: [0.181, 0.154, 0.048, 0.106, 0.145, 0.187, 0.178],
  EWDICHTE: [0.117, 0.143, 0.12, 0.184, 0.176, 0.26],
  INNENSTADT: [0.093, 0.082, 0.134, 0.169, 0.2, 0.152, 0.059, 0.111],
  GEBAEUDETYP_RASTER: [0.041, 0.063, 0.157, 0.596, 0.144],
  KKK: [0.165, 0.162, 0.458, 0.215],
  MOBI_REGIO: [0.24, 0.129, 0.235, 0.235, 0.146, 0.015],
  ONLINE_AFFINITAET: [0.112, 0.148, 0.138, 0.234, 0.267, 0.101],
  REGIOTYP: [0.084, 0.088, 0.129, 0.177, 0.178, 0.184, 0.161],
  PLZ8_ANTG1: [0.008, 0.252, 0.321, 0.316, 0.102],
  PLZ8_ANTG2: [0.034, 0.056, 0.171, 0.552, 0.187],
  PLZ8_ANTG3: [0.175, 0.245, 0.388, 0.191],
  PLZ8_ANTG4: [0.46, 0.381, 0.159],
  PLZ8_HHZ: [0.071, 0.058, 0.141, 0.646, 0.084],
  PLZ8_GBZ: [0.064, 0.13, 0.342, 0.287, 0.176],
  ARBEIT: [0.078, 0.155, 0.33, 0.396, 0.041],
  ORTSGR_KLS9: [0.083, 0.081, 0.034, 0.158, 0.172, 0.123, 0.146, 0.129, 0.073],
  RELAT_AB: [0.19, 0.133, 0.282, 0.205, 0.19],
} as const;

/** Heavy-missing rows look different on fully observed person columns (§4): FINANZ scores pile up at 3. */
const FINANZ_HEAVY: HeavySpec = { alpha: 0.55, at: 3 };

const lat = (values: readonly number[], probs: readonly number[], load: Vec4, heavy?: HeavySpec): LatentColumn => ({ kind: 'latent', values, probs, load, heavy });
const nom = (values: readonly number[], probs: readonly number[], attrs?: readonly Vec4[], beta = 1, heavy?: HeavySpec): NominalColumn => ({
  kind: 'nominal', values, probs, attrs, beta, heavy,
});

/** Hidden variable generated like a column but not written: the youth decade (1 = 40s .. 6 = 90s). */
export const HIDDEN_COLUMNS = ['_DECADE'] as const;

export const COLUMN_SPECS: Readonly<Record<string, ColumnSpec>> = {
  // ---- person
  AGER_TYP: nom([-1, 0, 1, 2, 3], [677503, 8340, 79720, 98605, 27053],
    [[0, -0.8, 0, 0], Z, [0.3, 1, 0, 0], [-0.3, 1, 0.2, 0], [-0.2, 0.8, -0.2, 0]], 1, { probs: [0.93, 0.005, 0.02, 0.035, 0.01] }),
  ALTERSKATEGORIE_GROB: lat([1, 2, 3, 4], [142887, 158410, 358533, 228510], a(1.3)),
  ANREDE_KZ: lat([1, 2], [425916, 465305], [0, 0, 1.6, 0]),
  CJT_GESAMTTYP: nom(range(1, 6), [98869, 148795, 156449, 210963, 117376, 153915],
    [[0.4, 0.5, 0, 0], [0, 0.8, 0, 0], [0, 0.3, 0.2, 0], [0, -0.6, 0, 0], [0, -0.8, 0, 0.2], [0, 0.1, 0, 0]]),
  FINANZ_MINIMALIST: lat(range(1, 5), FIT.FINANZ_MINIMALIST, [-0.8, 0.2, -0.3, 0], FINANZ_HEAVY),
  FINANZ_SPARER: lat(range(1, 5), FIT.FINANZ_SPARER, a(-1.0), FINANZ_HEAVY),
  FINANZ_VORSORGER: {
    kind: 'latent',
    values: range(1, 5),
    // §4 (EDG): rows with > 12 missing vs the rest; the sum reproduces the §6.2 mean 3.4011.
    probs: [104369, 116530, 229842, 198218, 242262],
    cleanProbs: [100732, 109733, 149827, 188992, 232762],
    load: a(1.0),
    heavy: { probs: [3637, 6797, 80015, 9226, 9500] },
  },
  FINANZ_ANLEGER: lat(range(1, 5), FIT.FINANZ_ANLEGER, [0.3, -0.8, 0.4, 0], FINANZ_HEAVY),
  FINANZ_UNAUFFAELLIGER: lat(range(1, 5), FIT.FINANZ_UNAUFFAELLIGER, a(-0.9), FINANZ_HEAVY),
  FINANZ_HAUSBAUER: lat(range(1, 5), FIT.FINANZ_HAUSBAUER, w(0.9), FINANZ_HEAVY),
  FINANZTYP: nom(range(1, 6), [199572, 110867, 53354, 130625, 106436, 290367],
    [[0.9, 0, 0, 0], [0, 0.8, 0, 0], [-0.7, 0.2, 0, 0], [0, -0.8, 0, 0], [-0.6, 0, -0.4, 0], [0, 0.5, 0.3, 0]]),
  GEBURTSJAHR: lat(BIRTH_YEARS, BIRTH_PMF, a(-1.3)),
  GFK_URLAUBERTYP: nom(range(1, 12), [53600, 46702, 56007, 63770, 120126, 27138, 42956, 88042, 60614, 109127, 79740, 138545],
    [[0, -0.5, 0, 0], [0, -0.2, 0.2, 0], [-0.3, 0, 0, 0], [0, 0.4, 0, 0.3], [0, 0.3, 0, 0], [0, 0.5, 0, 0],
      [0, 0.9, 0, 0], [0.3, 0.6, 0, 0], [0.3, 0, 0, 0], [-0.6, 0, 0, 0], [0, -0.4, 0, 0], [0.7, 0, 0, 0]]),
  GREEN_AVANTGARDE: { kind: 'derived' },
  HEALTH_TYP: lat([1, 2, 3], [162419, 306884, 310722], a(-0.4)),
  LP_LEBENSPHASE_FEIN: nom(range(1, 40), LEBENSPHASE_FEIN.map((r) => r[0]), LEBENSPHASE_FEIN.map((r) => [r[1], r[2], r[3], 0] as Vec4), 1.2),
  LP_LEBENSPHASE_GROB: { kind: 'derived' },
  LP_FAMILIE_FEIN: { kind: 'derived' },
  LP_FAMILIE_GROB: { kind: 'derived' },
  LP_STATUS_FEIN: nom(range(1, 10), [219275, 118236, 74105, 78317, 74493, 30914, 10059, 19708, 143238, 118022],
    [w(1.0), w(0.9), w(0.6), [0.3, 0.2, 0, 0], w(-0.3), w(-0.2), [-0.5, 0.3, 0, 0], [-0.6, -0.3, 0, 0], [-0.7, 0.3, 0, 0], w(-1.1)], 1.2),
  LP_STATUS_GROB: { kind: 'derived' },
  NATIONALITAET_KZ: nom([1, 2, 3], [684085, 65418, 33403], [[0, 0.2, 0, 0], [1.0, -0.5, 0, 0], [0.3, 0, 0, 0]]),
  PRAEGENDE_JUGENDJAHRE: { kind: 'derived' },
  RETOURTYP_BK_S: lat(range(1, 5), FIT.RETOURTYP_BK_S, a(0.7)),
  SEMIO_SOZ: lat(range(1, 7), FIT.SEMIO_SOZ, [0, -0.1, -0.9, 0]),
  SEMIO_FAM: lat(range(1, 7), FIT.SEMIO_FAM, [0, -0.2, -0.8, 0]),
  SEMIO_REL: lat(range(1, 7), FIT.SEMIO_REL, [0, -1.0, -0.2, 0]),
  SEMIO_MAT: lat(range(1, 7), FIT.SEMIO_MAT, [0, -0.5, 0, 0.4]),
  SEMIO_VERT: lat(range(1, 7), FIT.SEMIO_VERT, [0, 0, -1.1, 0]),
  SEMIO_LUST: lat(range(1, 7), FIT.SEMIO_LUST, a(0.9)),
  SEMIO_ERL: lat(range(1, 7), FIT.SEMIO_ERL, [0, 0.8, 0.5, 0]),
  SEMIO_KULT: lat(range(1, 7), FIT.SEMIO_KULT, [0, -0.7, -0.7, -0.4]),
  SEMIO_RAT: lat(range(1, 7), FIT.SEMIO_RAT, [0, -0.3, 0.8, 0]),
  SEMIO_KRIT: lat(range(1, 7), FIT.SEMIO_KRIT, [0, 0, 0.9, 0]),
  SEMIO_DOM: lat(range(1, 7), FIT.SEMIO_DOM, [0, 0, 0.9, 0]),
  SEMIO_KAEM: lat(range(1, 7), FIT.SEMIO_KAEM, [0, 0, 1.0, 0]),
  SEMIO_PFLICHT: lat(range(1, 7), FIT.SEMIO_PFLICHT, a(-1.0)),
  SEMIO_TRADV: lat(range(1, 7), FIT.SEMIO_TRADV, a(-1.0)),
  SHOPPER_TYP: nom([0, 1, 2, 3], [127582, 254761, 207463, 190219], [[0, -0.5, -0.3, 0], [0, -0.3, 0.3, 0], [0, 0, 0.6, 0], [-0.4, 0.5, 0, 0]]),
  SOHO_KZ: lat([0, 1], [810834, 6888], [-0.3, 0.1, 0, 0]),
  TITEL_KZ: nom([0, 1, 2, 3, 4, 5], [815562, 1760, 250, 30, 20, 100], [Z, [-1, 0.5, 0, 0], [-1, 0.5, 0, 0], [-1, 0.5, 0, 0], [-1, 0.5, 0, 0], [-1, 0.5, 0, 0]], 0.5),
  VERS_TYP: {
    kind: 'latent',
    values: [1, 2],
    probs: [381303, 398722],
    // §6.1 other counts (DEV): the kept rows; the heavy rows are 76% social-safety driven.
    cleanProbs: [367102, 394238],
    load: [0, -0.4, -0.3, 0],
    heavy: { probs: [0.76, 0.24] },
  },
  ZABEOTYP: nom(range(1, 6), [123622, 33170, 364905, 210095, 84956, 74473],
    [[-0.3, 0, 0, 1.0], [-0.3, -0.5, 0, 0], [0, 0.6, 0, 0], [0.6, 0, 0, 0], [0, -0.3, 0, 0], [0, -0.4, -0.3, 0]], 1, { alpha: 0.4, at: 3 }),
  // ---- household
  ALTER_HH: lat(ALTER_HH_VALUES, ALTER_HH_PMF, a(-1.0)),
  ANZ_PERSONEN: lat(PERSONS_VALUES, PERSONS_PMF, [0.1, -0.2, 0, 0]),
  ANZ_TITEL: nom(range(0, 6), [0.99595, 0.0039, 0.00012, 0.00002, 0.00001, 0.000005, 0.000005]),
  HH_EINKOMMEN_SCORE: lat(range(1, 6), FIT.HH_EINKOMMEN_SCORE, w(1.2)),
  KK_KUNDENTYP: lat(range(1, 6), FIT.KK_KUNDENTYP, a(-0.2)),
  W_KEIT_KIND_HH: lat(range(1, 6), FIT.W_KEIT_KIND_HH, a(0.9)),
  WOHNDAUER_2008: lat(range(1, 9), FIT.WOHNDAUER_2008, a(0.5)),
  // ---- building
  ANZ_HAUSHALTE_AKTIV: lat(HH_ACTIVE_VALUES, HH_ACTIVE_PMF, w(0.9)),
  ANZ_HH_TITEL: nom(HH_TITLE_VALUES, HH_TITLE_PMF),
  GEBAEUDETYP: nom([1, 3, 8], [460465, 178668, 152476], [w(-0.5), w(0.5), w(0.3)]),
  KONSUMNAEHE: lat(range(1, 7), FIT.KONSUMNAEHE, w(-0.7)),
  MIN_GEBAEUDEJAHR: nom(BUILD_YEARS, BUILD_PMF),
  /** 0 = 'O' (east), 1 = 'W' (west). */
  OST_WEST_KZ: nom([0, 1], [168545, 629528], [w(0.5), Z]),
  WOHNLAGE: nom([0, 1, 2, 3, 4, 5, 7, 8], [6950, 43918, 100376, 249719, 135973, 74346, 169318, 17473],
    [Z, w(-1.0), w(-0.5), Z, w(0.5), w(0.9), w(-0.8), [-0.8, -0.3, 0, 0]]),
  // ---- microcell rr4: CAMEO_DEU_2015 values are indexes into CAMEO_DEU; wealth / life stage from the INTL code.
  CAMEO_DEUG_2015: { kind: 'derived' },
  CAMEO_DEU_2015: nom(
    CAMEO_DEU.map((_, i) => i),
    CAMEO_DEU.map((c) => c[1]),
    CAMEO_DEU.map((c) => [(Math.floor(c[2] / 10) - 3) / 2, ((c[2] % 10) - 3) / 2, 0, 0] as Vec4),
    1.3,
  ),
  CAMEO_INTL_2015: { kind: 'derived' },
  // ---- microcell rr3
  KBA05_ANTG1: lat(range(0, 4), FIT.KBA05_ANTG1, w(-1.0)),
  KBA05_ANTG2: lat(range(0, 4), FIT.KBA05_ANTG2, w(0.3)),
  KBA05_ANTG3: lat(range(0, 3), FIT.KBA05_ANTG3, w(0.9)),
  KBA05_ANTG4: lat(range(0, 2), FIT.KBA05_ANTG4, w(0.8)),
  /** 0 (45% of the present cells) is a missing code placed by the gap model; 1..5 fitted to the §6.2 moments. */
  KBA05_BAUMAX: lat(range(1, 5), [0.46, 0.09, 0.13, 0.07, 0.25], w(0.9)),
  KBA05_GBZ: lat(range(1, 5), FIT.KBA05_GBZ, w(-0.8)),
  // ---- postcode
  BALLRAUM: lat(range(1, 7), FIT.BALLRAUM, w(-0.8)),
  EWDICHTE: lat(range(1, 6), FIT.EWDICHTE, w(1.1)),
  INNENSTADT: lat(range(1, 8), FIT.INNENSTADT, w(-0.9)),
  // ---- region rr1
  GEBAEUDETYP_RASTER: lat(range(1, 5), FIT.GEBAEUDETYP_RASTER, w(-0.4)),
  KKK: lat(range(1, 4), FIT.KKK, w(0.9)),
  MOBI_REGIO: lat(range(1, 6), FIT.MOBI_REGIO, w(-1.0)),
  ONLINE_AFFINITAET: lat(range(0, 5), FIT.ONLINE_AFFINITAET, a(-0.8)),
  REGIOTYP: lat(range(1, 7), FIT.REGIOTYP, w(0.9)),
  // ---- macrocell plz8
  KBA13_ANZAHL_PKW: lat(PKW_VALUES, PKW_PMF, w(0.3)),
  PLZ8_ANTG1: lat(range(0, 4), FIT.PLZ8_ANTG1, w(-1.1)),
  PLZ8_ANTG2: lat(range(0, 4), FIT.PLZ8_ANTG2, w(0.4)),
  PLZ8_ANTG3: lat(range(0, 3), FIT.PLZ8_ANTG3, w(1.0)),
  PLZ8_ANTG4: lat(range(0, 2), FIT.PLZ8_ANTG4, w(1.0)),
  PLZ8_BAUMAX: lat(range(1, 5), [499550, 70407, 50732, 56684, 97333], w(1.0)),
  PLZ8_HHZ: lat(range(1, 5), FIT.PLZ8_HHZ, w(0.5)),
  PLZ8_GBZ: lat(range(1, 5), FIT.PLZ8_GBZ, w(-0.5)),
  // ---- community
  ARBEIT: lat(range(1, 5), FIT.ARBEIT, w(0.7)),
  ORTSGR_KLS9: lat(range(1, 9), FIT.ORTSGR_KLS9, w(1.0)),
  RELAT_AB: lat(range(1, 5), FIT.RELAT_AB, w(0.6)),
  // ---- hidden
  _DECADE: lat(range(1, 6), [28761, 75646, 116078, 179558, 151770, 231244], a(-1.3)),
  // The movement (avantgarde or not) is drawn with the decade-specific cut points of model.ts (AVANTGARDE_LOAD).
};

/**
 * Columns that hold empty cells in the real files, hence pandas float64 (numbers written as `3.0`) or object
 * (§2: the 49 float64 + 4 object columns). Every other column is int64 and has no empty cell.
 */
export const FLOAT_COLUMNS: ReadonlySet<string> = new Set([
  'CJT_GESAMTTYP', 'GFK_URLAUBERTYP', 'LP_LEBENSPHASE_FEIN', 'LP_LEBENSPHASE_GROB', 'LP_FAMILIE_FEIN', 'LP_FAMILIE_GROB',
  'LP_STATUS_FEIN', 'LP_STATUS_GROB', 'RETOURTYP_BK_S', 'SOHO_KZ', 'TITEL_KZ', 'ALTER_HH', 'ANZ_PERSONEN', 'ANZ_TITEL',
  'HH_EINKOMMEN_SCORE', 'KK_KUNDENTYP', 'W_KEIT_KIND_HH', 'WOHNDAUER_2008', 'ANZ_HAUSHALTE_AKTIV', 'ANZ_HH_TITEL',
  'GEBAEUDETYP', 'KONSUMNAEHE', 'MIN_GEBAEUDEJAHR', 'WOHNLAGE', 'KBA05_ANTG1', 'KBA05_ANTG2', 'KBA05_ANTG3', 'KBA05_ANTG4',
  'KBA05_BAUMAX', 'KBA05_GBZ', 'BALLRAUM', 'EWDICHTE', 'INNENSTADT', 'GEBAEUDETYP_RASTER', 'KKK', 'MOBI_REGIO',
  'ONLINE_AFFINITAET', 'REGIOTYP', 'KBA13_ANZAHL_PKW', 'PLZ8_ANTG1', 'PLZ8_ANTG2', 'PLZ8_ANTG3', 'PLZ8_ANTG4',
  'PLZ8_BAUMAX', 'PLZ8_HHZ', 'PLZ8_GBZ', 'ARBEIT', 'ORTSGR_KLS9', 'RELAT_AB',
]);
export const STRING_COLUMNS: ReadonlySet<string> = new Set(['OST_WEST_KZ', 'CAMEO_DEUG_2015', 'CAMEO_DEU_2015', 'CAMEO_INTL_2015']);

// ---------------------------------------------------------------------------------------------------------
// Missingness profiles. Rates are fractions of the rows of a stratum. Strata: clean rows (in a segment),
// heavy rows whose household block is empty too, heavy rows with the household block present.

export interface CleanGapProfile {
  /** Share of clean rows with at least one missing value among the 79 kept columns (§4: 1 - 69.93%/89.55%). */
  touched: number;
  /** Block-level gaps that put a row at 6-16 missing: PLZ8+KBA05 together, person block, KBA05 only, PLZ8 only. */
  plz8AndKba05: number;
  personBlock: number;
  kba05Only: number;
  plz8Only: number;
  /** Share of clean rows whose gaps are small regional/building ones (KKK, CAMEO, community, ...). */
  lightFamily: number;
  /** Rates (of clean rows, all gap types together) of the light events. */
  light: {
    kkkEmpty: number; kkkCode: number; cameoEmpty: number; communityEmpty: number; communityCode: number; postcodeEmpty: number;
    rasterEmpty: number; hhTitleEmpty: number; konsumEmpty: number; kba13Empty: number; householdsZero: number;
  };
  /** Rates (of clean rows, all gap types together) of the person-level events. */
  person: {
    health: number; nationality: number; praegende: number; familie0: number; lebensphaseGrob0: number; lebensphaseFein0: number;
    wKeit: number; alterskategorie9: number; hhEinkommen: number;
  };
  /** Share of missing W_KEIT_KIND_HH cells that are empty rather than code 0. */
  wKeitEmptyShare: number;
  /** Dropped (sparse) columns: their own codes, independent of the 79-column gaps. */
  kkEmpty: number;
  geburtsjahr0: number;
  alterHh0: number;
  kba05Baumax0: number;
}

export interface HeavyGapProfile {
  health: number; nationality: number; praegende: number; familie0: number; lebensphaseGrob0: number; lebensphaseFein0: number;
  alterskategorie9: number; hhEinkommen: number; personBlock: number; geburtsjahr0: number; alterHh0: number;
}

export interface FileProfile {
  /** Heavy-missing rows (building block and everything regional empty). */
  heavyShare: number;
  /** Of the heavy rows, the share whose household block is empty too. */
  heavyHouseholdEmpty: number;
  clean: CleanGapProfile;
  heavyHouseholdEmptyGaps: HeavyGapProfile;
  heavyHouseholdPresentGaps: HeavyGapProfile;
  /** Share of rows whose CAMEO cells hold X / XX (373 of 891,221). */
  cameoX: number;
  /** Share of present CAMEO_DEUG_2015 cells written in float form (`8.0`). */
  cameoDeugFloat: number;
}

const C_POP = 798073; // clean population rows (891,221 - 93,148 with an empty building block)

const HEAVY_HH_EMPTY: HeavyGapProfile = {
  health: 0.97, nationality: 0.97, praegende: 0.99, familie0: 0.6, lebensphaseGrob0: 0.08, lebensphaseFein0: 0.015,
  alterskategorie9: 0.0008, hhEinkommen: 0.02, personBlock: 0.0011, geburtsjahr0: 0.97, alterHh0: 0,
};
const HEAVY_HH_PRESENT: HeavyGapProfile = {
  health: 0.162, nationality: 0.158, praegende: 0.338, familie0: 0.108, lebensphaseGrob0: 0.03, lebensphaseFein0: 0.01,
  alterskategorie9: 0.001, hhEinkommen: 0.02, personBlock: 0.0011, geburtsjahr0: 0.5, alterHh0: 0.8,
};

/** Person-block gaps of clean population rows (§3). */
const POPULATION_PERSON_GAPS: CleanGapProfile['person'] = {
  health: 36728 / C_POP, nationality: 33925 / C_POP, praegende: 28760 / C_POP, familie0: 26726 / C_POP,
  lebensphaseGrob0: 10300 / C_POP, lebensphaseFein0: 1700 / C_POP, wKeit: 54840 / C_POP, alterskategorie9: 2803 / C_POP,
  hhEinkommen: 16000 / C_POP,
};

/** Zero-coded cells of clean rows (§3), the same share in both files. */
const CLEAN_ZERO_CODES = {
  geburtsjahr0: (392318 - 81119) / C_POP,
  alterHh0: (236768 - 15719) / C_POP,
  kba05Baumax0: 343200 / 757897,
};

/** Heavy-row gaps and CAMEO quirks: one set for both files. */
const HEAVY_AND_CAMEO = {
  heavyHouseholdEmptyGaps: HEAVY_HH_EMPTY,
  heavyHouseholdPresentGaps: HEAVY_HH_PRESENT,
  cameoX: 373 / 891221,
  cameoDeugFloat: 0.02,
};

export const POPULATION_PROFILE: FileProfile = {
  heavyShare: 93148 / 891221,
  heavyHouseholdEmpty: 73499 / 93148,
  clean: {
    touched: 0.2191,
    plz8AndKba05: 14500 / C_POP,
    personBlock: 4750 / C_POP,
    kba05Only: 25676 / C_POP,
    plz8Only: 8867 / C_POP,
    lightFamily: 0.065,
    light: {
      kkkEmpty: 28048 / C_POP, kkkCode: 36868 / C_POP, cameoEmpty: 5831 / C_POP, communityEmpty: 4068 / C_POP,
      communityCode: 159 / C_POP, postcodeEmpty: 592 / C_POP, rasterEmpty: 7 / C_POP, hhTitleEmpty: 3860 / C_POP,
      konsumEmpty: 470 / C_POP, kba13Empty: 12652 / C_POP, householdsZero: 6463 / C_POP,
    },
    person: POPULATION_PERSON_GAPS,
    wKeitEmptyShare: 14454 / 54840,
    kkEmpty: (584612 - 93148) / C_POP,
    ...CLEAN_ZERO_CODES,
  },
  ...HEAVY_AND_CAMEO,
};

const C_CUST = 141725; // clean customer rows (191,652 - 49,927)

/** Customers (§3 last column, §5): more heavy rows, a larger person block, fewer regional gaps among clean rows. */
export const CUSTOMER_PROFILE: FileProfile = {
  heavyShare: 49927 / 191652,
  heavyHouseholdEmpty: 46596 / 49927,
  clean: {
    touched: 0.184,
    plz8AndKba05: 0.015,
    personBlock: 3158 / C_CUST,
    kba05Only: 6053 / C_CUST - 0.015,
    plz8Only: 2837 / C_CUST - 0.015,
    lightFamily: 0.065,
    light: {
      kkkEmpty: 4333 / C_CUST, kkkCode: 36868 / C_POP, cameoEmpty: 501 / C_CUST, communityEmpty: 549 / C_CUST,
      communityCode: 159 / C_POP, postcodeEmpty: 32 / C_CUST, rasterEmpty: 0, hhTitleEmpty: 2183 / C_CUST,
      konsumEmpty: 55 / C_CUST, kba13Empty: 1354 / C_CUST, householdsZero: 6463 / C_POP,
    },
    // §5 gives customer counts only for W_KEIT_KIND_HH and HH_EINKOMMEN_SCORE; the other person gaps are the population's.
    person: { ...POPULATION_PERSON_GAPS, wKeit: 3815 / C_CUST + 40386 / C_POP, hhEinkommen: 1969 / C_CUST },
    wKeitEmptyShare: (3815 / C_CUST) / (3815 / C_CUST + 40386 / C_POP),
    kkEmpty: (111937 - 49927) / C_CUST,
    ...CLEAN_ZERO_CODES,
  },
  ...HEAVY_AND_CAMEO,
};

/** Thresholds for listing a segment as over / under-represented in truth.json (customer share / population share over all rows). */
export const OVER_REPRESENTED_RATIO = 1.25;
export const UNDER_REPRESENTED_RATIO = 0.8;
