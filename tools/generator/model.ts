/**
 * Compiles the calibration tables (spec.ts) into flat typed arrays and generates rows into a byte buffer.
 *
 *  - Latent (ordinal) columns: z = load . F + N(0,1), where F = segment mean + within-segment noise. The cut
 *    points are the quantiles of z's marginal over the clean population (a Gaussian mixture over segments), so the
 *    population marginal is the published one by construction while segments shift it.
 *  - Nominal columns: one categorical distribution per segment, tilted by exp(beta * attr . mean) and raked
 *    (iterative proportional fitting) so that the population mixture reproduces the published marginal.
 *  - Heavy-missing rows ignore segments and draw every column from its heavy distribution.
 */
import { ARVATO_NUMBER_DOMAINS } from '../../core/cleaning/arvato-domains';
import { normalCdf, Rng } from './rng';
import {
  AVANTGARDE_LOAD, avantgardeShareByDecade, CAMEO_DEU, CleanGapProfile, COLUMN_SPECS, ColumnSpec, FAMILIE_FEIN_BY_GROB, LatentColumn, NominalColumn, familieFromLebensphase, FEIN_ONLY_GROB, FileProfile,
  FLOAT_COLUMNS, GEBAEUDETYP_NO_HOUSEHOLD, GROB_ONLY_FAMILIE, HeavySpec, HIDDEN_COLUMNS, lebensphaseGrob,
  POPULATION_PROFILE, PRAEGENDE_COUNTS, PRAEGENDE_EAST, SEGMENTS, statusGrob, STRING_COLUMNS, Vec4, WITHIN_SD,
} from './spec';

/** Marker for an empty cell. */
export const EMPTY = -0x7fffffff;

const ENCODER = new TextEncoder();

function normalise(xs: readonly number[]): number[] {
  const total = xs.reduce((s, x) => s + x, 0);
  if (!(total > 0)) throw new Error('distribution with no mass');
  return xs.map((x) => x / total);
}

function cumulative(ps: readonly number[]): Float64Array {
  const out = new Float64Array(ps.length);
  let acc = 0;
  for (let i = 0; i < ps.length; i++) {
    acc += ps[i];
    out[i] = acc;
  }
  for (let i = 0; i < out.length; i++) out[i] /= acc;
  out[out.length - 1] = 1;
  return out;
}

function heavyDistribution(probs: readonly number[], values: readonly number[], heavy: HeavySpec | undefined): number[] {
  if (!heavy) return probs.slice();
  if ('probs' in heavy) return normalise(heavy.probs);
  const at = values.indexOf(heavy.at);
  if (at < 0) throw new Error(`heavy default ${heavy.at} is not a value`);
  return probs.map((p, i) => (1 - heavy.alpha) * p + (i === at ? heavy.alpha : 0));
}

/** Clean-row target: the published marginal minus the heavy rows' contribution. */
function cleanDistribution(spec: { probs: readonly number[]; cleanProbs?: readonly number[] }, heavyProbs: readonly number[], hasHeavy: boolean): number[] {
  if (spec.cleanProbs) return normalise(spec.cleanProbs);
  const overall = normalise(spec.probs);
  if (!hasHeavy) return overall;
  const h = POPULATION_PROFILE.heavyShare;
  return normalise(overall.map((p, i) => Math.max(1e-6, (p - h * heavyProbs[i]) / (1 - h))));
}

const dot = (x: Vec4, y: Vec4): number => x[0] * y[0] + x[1] * y[1] + x[2] * y[2] + x[3] * y[3];

/** Cut points of a Gaussian mixture at the cumulative targets (grid tabulation + linear interpolation). */
function mixtureCutPoints(means: readonly number[], weights: readonly number[], sd: number, targets: Float64Array): Float64Array {
  const lo = Math.min(...means) - 8 * sd;
  const hi = Math.max(...means) + 8 * sd;
  const n = 4096;
  const xs = new Float64Array(n + 1);
  const cdf = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) {
    const x = lo + ((hi - lo) * i) / n;
    let c = 0;
    for (let s = 0; s < means.length; s++) c += weights[s] * normalCdf((x - means[s]) / sd);
    xs[i] = x;
    cdf[i] = c;
  }
  const cuts = new Float64Array(targets.length - 1);
  let j = 0;
  for (let k = 0; k < cuts.length; k++) {
    const t = targets[k];
    while (j < n && cdf[j + 1] < t) j++;
    const span = cdf[j + 1] - cdf[j];
    cuts[k] = span > 0 ? xs[j] + ((xs[j + 1] - xs[j]) * (t - cdf[j])) / span : xs[j];
  }
  return cuts;
}

/** Per-segment distributions proportional to exp(beta * attr . mean), raked to the target marginal. */
function rakedSegmentDistributions(target: readonly number[], attrs: readonly Vec4[] | undefined, beta: number, means: readonly Vec4[], weights: readonly number[]): number[][] {
  const S = means.length;
  const K = target.length;
  if (!attrs) return Array.from({ length: S }, () => target.slice());
  const q = means.map((m) => attrs.map((at) => Math.exp(beta * dot(at, m))));
  for (let iter = 0; iter < 500; iter++) {
    for (let s = 0; s < S; s++) {
      const total = q[s].reduce((x, y) => x + y, 0);
      for (let k = 0; k < K; k++) q[s][k] /= total;
    }
    let worst = 0;
    for (let k = 0; k < K; k++) {
      let m = 0;
      for (let s = 0; s < S; s++) m += weights[s] * q[s][k];
      const ratio = target[k] / m;
      worst = Math.max(worst, Math.abs(ratio - 1));
      for (let s = 0; s < S; s++) q[s][k] *= ratio;
    }
    if (worst < 1e-10) break;
  }
  return q.map((row) => normalise(row));
}

export interface CompiledModel {
  /** Output column names (feature-summary order), then the hidden variables. */
  names: string[];
  outputCount: number;
  slot: (name: string) => number;
  latent: {
    count: number; slots: Int32Array; loads: Float64Array; cutOff: Int32Array; cutLen: Int32Array; cuts: Float64Array;
    valOff: Int32Array; values: Int32Array; heavyCum: Float64Array;
  };
  nominal: {
    count: number; slots: Int32Array; k: Int32Array; off: Int32Array; cum: Float64Array; valOff: Int32Array; values: Int32Array;
    heavyOff: Int32Array; heavyCum: Float64Array;
  };
  segmentMeans: Float64Array;
  /** Movement cut point per youth decade (index 1..6): avantgarde when AVANTGARDE_LOAD * V + N(0,1) exceeds it. */
  avantgardeCuts: Float64Array;
  tokens: { bytes: Uint8Array; start: Int32Array; len: Int32Array; base: Int32Array; min: Int32Array; max: Int32Array };
}

/** Token text for every value a column can hold; numbers in columns that hold empty cells get a `.0`. */
export function columnTokens(name: string, spec: ColumnSpec | undefined, missingCodes: readonly string[]): Map<number, string> {
  const out = new Map<number, string>();
  const float = FLOAT_COLUMNS.has(name);
  const num = (v: number): string => (float ? `${v}.0` : `${v}`);
  if (name === 'OST_WEST_KZ') return new Map([[0, 'O'], [1, 'W']]);
  if (name === 'CAMEO_DEU_2015') {
    CAMEO_DEU.forEach((c, i) => out.set(i, c[0]));
    out.set(CAMEO_DEU.length, 'XX');
    return out;
  }
  if (name === 'CAMEO_DEUG_2015') {
    for (let d = 1; d <= 9; d++) {
      out.set(d, `${d}`);
      out.set(10 + d, `${d}.0`);
    }
    out.set(10, 'X');
    return out;
  }
  if (name === 'CAMEO_INTL_2015') {
    for (const c of CAMEO_DEU) out.set(c[2], `${c[2]}`);
    out.set(0, 'XX');
    return out;
  }
  // The token table spans the column's domain in the data dictionary (core), so every value the generator
  // draws and every numeric missing code has its text.
  const values = new Set<number>();
  if (spec && spec.kind !== 'derived') spec.values.forEach((v) => values.add(v));
  for (const code of missingCodes) if (/^-?\d+$/.test(code)) values.add(Number(code));
  const domain = ARVATO_NUMBER_DOMAINS[name];
  if (domain) values.add(domain.min).add(domain.max);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  for (let v = lo; v <= hi; v++) out.set(v, num(v));
  return out;
}

export function compileModel(order: readonly string[], missingCodes: ReadonlyMap<string, readonly string[]>): CompiledModel {
  const known = new Set(Object.keys(COLUMN_SPECS).filter((n) => !n.startsWith('_')));
  const unknown = order.filter((n) => !known.has(n));
  const absent = [...known].filter((n) => !order.includes(n));
  if (unknown.length > 0 || absent.length > 0) {
    throw new Error(
      `the feature summary does not match the generator's Arvato columns` +
        (unknown.length ? `; unknown: ${unknown.join(', ')}` : '') + (absent.length ? `; missing: ${absent.join(', ')}` : ''),
    );
  }
  const names = [...order, ...HIDDEN_COLUMNS];
  const slotOf = new Map(names.map((n, i) => [n, i]));
  const slot = (name: string): number => {
    const s = slotOf.get(name);
    if (s === undefined) throw new Error(`unknown column ${name}`);
    return s;
  };

  const segments = { weights: normalise(SEGMENTS.map((s) => s.populationShare)), means: SEGMENTS.map((s) => s.mean) };
  const latentNames = names.filter((n) => COLUMN_SPECS[n].kind === 'latent');
  const lat = compileLatent(latentNames, slot, segments);
  const nom = compileNominal(names.filter((n) => COLUMN_SPECS[n].kind === 'nominal'), slot, segments);
  const segmentMeans = new Float64Array(4 * SEGMENTS.length);
  segments.means.forEach((m, s) => m.forEach((x, k) => (segmentMeans[4 * s + k] = x)));
  return {
    names, outputCount: order.length, slot, latent: lat, nominal: nom, segmentMeans,
    avantgardeCuts: avantgardeCuts(lat, latentNames.indexOf('_DECADE'), segments),
    tokens: compileTokens(order, missingCodes),
  };
}

interface SegmentMix {
  /** Population share of each segment (normalised). */
  weights: number[];
  means: Vec4[];
}

/** A column's value distribution for heavy-missing rows and for clean rows. */
function columnDistributions(spec: LatentColumn | NominalColumn): { heavy: number[]; clean: number[] } {
  const heavy = heavyDistribution(normalise(spec.probs), spec.values, spec.heavy);
  return { heavy, clean: cleanDistribution(spec, heavy, spec.heavy !== undefined) };
}

/** Latent (ordinal) columns: loads, cut points of the clean mixture, values and the heavy rows' distribution. */
function compileLatent(latentNames: string[], slot: (name: string) => number, { weights, means }: SegmentMix): CompiledModel['latent'] {
  const L = latentNames.length;
  const lat = {
    count: L, slots: new Int32Array(L), loads: new Float64Array(4 * L), cutOff: new Int32Array(L), cutLen: new Int32Array(L),
    cuts: new Float64Array(0), valOff: new Int32Array(L), values: new Int32Array(0), heavyCum: new Float64Array(0),
  };
  const cutsAll: number[] = [];
  const valuesAll: number[] = [];
  const heavyAll: number[] = [];
  latentNames.forEach((name, j) => {
    const spec = COLUMN_SPECS[name];
    if (spec.kind !== 'latent') throw new Error('unreachable');
    const { heavy, clean } = columnDistributions(spec);
    const load = spec.load;
    const sd = Math.sqrt(load.reduce((s, l, k) => s + l * l * WITHIN_SD[k] * WITHIN_SD[k], 0) + 1);
    const cuts = mixtureCutPoints(means.map((m) => dot(load, m)), weights, sd, cumulative(clean));
    lat.slots[j] = slot(name);
    for (let k = 0; k < 4; k++) lat.loads[4 * j + k] = load[k];
    lat.cutOff[j] = cutsAll.length;
    lat.cutLen[j] = cuts.length;
    cutsAll.push(...cuts);
    lat.valOff[j] = valuesAll.length;
    valuesAll.push(...spec.values);
    heavyAll.push(...cumulative(heavy));
  });
  lat.cuts = Float64Array.from(cutsAll);
  lat.values = Int32Array.from(valuesAll);
  lat.heavyCum = Float64Array.from(heavyAll);
  return lat;
}

/** Movement cut point per youth decade (the decade and the movement are independent within a segment). */
function avantgardeCuts(lat: CompiledModel['latent'], j: number, { weights, means }: SegmentMix): Float64Array {
  const avantgardeCuts = new Float64Array(7);
  const decadeSpec = COLUMN_SPECS._DECADE;
  if (decadeSpec.kind !== 'latent') throw new Error('unreachable');
  const cuts = lat.cuts.subarray(lat.cutOff[j], lat.cutOff[j] + lat.cutLen[j]);
  const ld = decadeSpec.load;
  const sdD = Math.sqrt(ld.reduce((s, l, k) => s + l * l * WITHIN_SD[k] * WITHIN_SD[k], 0) + 1);
  const sdV = Math.sqrt(AVANTGARDE_LOAD * AVANTGARDE_LOAD * WITHIN_SD[3] * WITHIN_SD[3] + 1);
  const p = POPULATION_PROFILE;
  const e = p.heavyShare * p.heavyHouseholdEmpty;
  const heavyPresent = e * (1 - p.heavyHouseholdEmptyGaps.praegende) + (p.heavyShare - e) * (1 - p.heavyHouseholdPresentGaps.praegende);
  const presentShare = PRAEGENDE_COUNTS.reduce((x, y) => x + y, 0) / 891221;
  const shares = avantgardeShareByDecade(heavyPresent / presentShare);
  for (let d = 1; d <= 6; d++) {
    const pd = means.map((m) => {
      const mu = dot(ld, m);
      const hi = d <= cuts.length ? normalCdf((cuts[d - 1] - mu) / sdD) : 1;
      const lo = d >= 2 ? normalCdf((cuts[d - 2] - mu) / sdD) : 0;
      return hi - lo;
    });
    const norm = pd.reduce((acc, x, s) => acc + weights[s] * x, 0);
    const share = (t: number): number =>
      means.reduce((acc, m, s) => acc + weights[s] * pd[s] * (1 - normalCdf((t - AVANTGARDE_LOAD * m[3]) / sdV)), 0) / norm;
    let lo = -30;
    let hi = 30;
    for (let iter = 0; iter < 100; iter++) {
      const mid = (lo + hi) / 2;
      if (share(mid) > shares[d]) lo = mid;
      else hi = mid;
    }
    avantgardeCuts[d] = (lo + hi) / 2;
  }
  return avantgardeCuts;
}

/** Nominal columns: one raked distribution per segment, values, and the heavy rows' distribution. */
function compileNominal(nominalNames: string[], slot: (name: string) => number, { weights, means }: SegmentMix): CompiledModel['nominal'] {
  const M = nominalNames.length;
  const S = SEGMENTS.length;
  const nom = {
    count: M, slots: new Int32Array(M), k: new Int32Array(M), off: new Int32Array(M), cum: new Float64Array(0),
    valOff: new Int32Array(M), values: new Int32Array(0), heavyOff: new Int32Array(M), heavyCum: new Float64Array(0),
  };
  const cumAll: number[] = [];
  const nomValues: number[] = [];
  const nomHeavy: number[] = [];
  nominalNames.forEach((name, j) => {
    const spec = COLUMN_SPECS[name];
    if (spec.kind !== 'nominal') throw new Error('unreachable');
    const { heavy, clean } = columnDistributions(spec);
    const perSegment = rakedSegmentDistributions(clean, spec.attrs, spec.beta ?? 1, means, weights);
    nom.slots[j] = slot(name);
    nom.k[j] = spec.values.length;
    nom.off[j] = cumAll.length;
    for (let s = 0; s < S; s++) cumAll.push(...cumulative(perSegment[s]));
    nom.valOff[j] = nomValues.length;
    nomValues.push(...spec.values);
    nom.heavyOff[j] = nomHeavy.length;
    nomHeavy.push(...cumulative(heavy));
  });
  nom.cum = Float64Array.from(cumAll);
  nom.values = Int32Array.from(nomValues);
  nom.heavyCum = Float64Array.from(nomHeavy);
  return nom;
}

/** The text of every value of every output column, as one byte buffer with offsets. */
function compileTokens(order: readonly string[], missingCodes: ReadonlyMap<string, readonly string[]>): CompiledModel['tokens'] {
  const chunks: Uint8Array[] = [];
  const starts: number[] = [];
  const lens: number[] = [];
  const base = new Int32Array(order.length);
  const min = new Int32Array(order.length);
  const max = new Int32Array(order.length);
  let offset = 0;
  order.forEach((name, c) => {
    const map = columnTokens(name, COLUMN_SPECS[name], missingCodes.get(name) ?? []);
    const keys = [...map.keys()];
    const lo = Math.min(...keys);
    const hi = Math.max(...keys);
    base[c] = starts.length;
    min[c] = lo;
    max[c] = hi;
    for (let v = lo; v <= hi; v++) {
      const bytes = ENCODER.encode(map.get(v) ?? '');
      starts.push(offset);
      lens.push(bytes.length);
      chunks.push(bytes);
      offset += bytes.length;
    }
  });
  const bytes = new Uint8Array(offset);
  let p = 0;
  for (const ch of chunks) {
    bytes.set(ch, p);
    p += ch.length;
  }
  return { bytes, start: Int32Array.from(starts), len: Int32Array.from(lens), base, min, max };
}

// ---------------------------------------------------------------------------------------------------------
// Row categories: 0..S-1 = segment, S = heavy with empty household block, S+1 = heavy with household present.

export interface FilePlan {
  rows: number;
  /** Rows per category (segments, heavy/household-empty, heavy/household-present). */
  counts: number[];
}

function largestRemainder(total: number, shares: readonly number[]): number[] {
  const sum = shares.reduce((s, x) => s + x, 0);
  const raw = shares.map((x) => (total * x) / sum);
  const out = raw.map(Math.floor);
  let left = total - out.reduce((s, x) => s + x, 0);
  const order = raw.map((x, i) => [x - Math.floor(x), i] as const).sort((p, q) => q[0] - p[0] || p[1] - q[1]);
  for (let i = 0; left > 0; i = (i + 1) % order.length, left--) out[order[i][1]]++;
  return out;
}

export function planFile(rows: number, profile: FileProfile, segmentShares: readonly number[]): FilePlan {
  let heavy = Math.round(rows * profile.heavyShare);
  let heavyHouseholdEmpty = Math.round(heavy * profile.heavyHouseholdEmpty);
  if (rows >= 100) {
    // Keep every block represented in small files, so the float/int column formats are stable.
    heavyHouseholdEmpty = Math.max(1, heavyHouseholdEmpty);
    heavy = Math.max(heavy, heavyHouseholdEmpty + 1);
  }
  const clean = rows - heavy;
  return { rows, counts: [...largestRemainder(clean, segmentShares), heavyHouseholdEmpty, heavy - heavyHouseholdEmpty] };
}

/** A uniformly random arrangement of the planned categories (sequential draws without replacement). */
function drawCategories(plan: FilePlan, rng: Rng): Uint8Array {
  const remaining = plan.counts.slice();
  let left = plan.rows;
  const out = new Uint8Array(plan.rows);
  for (let i = 0; i < plan.rows; i++) {
    let u = rng.uniform() * left;
    let c = 0;
    while (c < remaining.length - 1 && u >= remaining[c]) {
      u -= remaining[c];
      c++;
    }
    while (remaining[c] === 0) c++; // guards float edge cases
    remaining[c]--;
    left--;
    out[i] = c;
  }
  return out;
}

function pickDistinct(candidates: Int32Array, count: number, rng: Rng, taken: Uint8Array, rowCount: number): Int32Array {
  const out = new Int32Array(Math.min(count, candidates.length));
  let n = 0;
  let guard = 0;
  while (n < out.length && guard++ < 100 * out.length + 1000) {
    const row = candidates[rng.below(candidates.length)];
    if (row < rowCount && taken[row] === 0) {
      taken[row] = 1;
      out[n++] = row;
    }
  }
  return out.subarray(0, n);
}

// ---------------------------------------------------------------------------------------------------------

/** Secondary gaps inside the block-level gap types (probabilities given the type). */
const PK_GAPS = { kba13: 0.6, kkkEmpty: 0.45, cameo: 0.05 } as const;
const K05_GAPS = { kkkEmpty: 0.3, cameo: 0.05, kba13: 0.02 } as const;
const P8_GAPS = { kba13: 0.3, kkkEmpty: 0.1 } as const;
/** Share of rows of a gap family that also get one event of the other family ("cross" events). */
const CROSS = 0.1;
/** A plz8+kba05 row gets a person event three times as often. */
const PK_PERSON_CROSS = 3 * CROSS;
/** Which single event a cross draw produces. */
const ONE_LIGHT = { kkkCode: 0.4, kkkEmpty: 0.2, hhTitleEmpty: 0.14, cameoEmpty: 0.12, communityEmpty: 0.08, householdsZero: 0.06 } as const;
const ONE_PERSON = { health: 0.25, nationality: 1 / 6, praegende: 1 / 6, familie0: 1 / 6, wKeit: 0.2, hhEinkommen: 0.05 } as const;

type LightRates = CleanGapProfile['light'];
type PersonRates = CleanGapProfile['person'];

/**
 * Event probabilities inside the light and person gap families such that, with the block-level types and the
 * cross events added, each event's share of clean rows equals the profile's rate. Inside a family the events are
 * independent (a few are mutually exclusive chains) and drawn again until at least one occurs, so the solution is
 * found by fixed-point iteration on the conditional rates.
 */
export function calibrateGaps(cp: CleanGapProfile): { light: LightRates; person: PersonRates; personFamily: number } {
  const pk = cp.plz8AndKba05;
  const pb = cp.personBlock;
  const k5 = cp.kba05Only;
  const p8 = cp.plz8Only;
  const lam = cp.lightFamily;
  const phi = cp.touched - pk - pb - k5 - p8 - lam;
  if (phi <= 0) throw new Error('gap profile: family shares exceed the touched share');
  const lightCross = (pb + phi) * CROSS;
  const personCross = pk * PK_PERSON_CROSS + lam * CROSS;
  const otherLight: Record<keyof LightRates, number> = {
    kkkEmpty: pk * PK_GAPS.kkkEmpty + k5 * K05_GAPS.kkkEmpty + p8 * P8_GAPS.kkkEmpty + lightCross * ONE_LIGHT.kkkEmpty,
    kkkCode: lightCross * ONE_LIGHT.kkkCode,
    cameoEmpty: pk * PK_GAPS.cameo + k5 * K05_GAPS.cameo + lightCross * ONE_LIGHT.cameoEmpty,
    communityEmpty: lightCross * ONE_LIGHT.communityEmpty,
    communityCode: 0,
    postcodeEmpty: 0,
    rasterEmpty: 0,
    hhTitleEmpty: lightCross * ONE_LIGHT.hhTitleEmpty,
    konsumEmpty: 0,
    kba13Empty: pk * PK_GAPS.kba13 + k5 * K05_GAPS.kba13 + p8 * P8_GAPS.kba13,
    householdsZero: lightCross * ONE_LIGHT.householdsZero,
  };
  const otherPerson: Record<keyof PersonRates, number> = {
    health: personCross * ONE_PERSON.health,
    nationality: personCross * ONE_PERSON.nationality,
    praegende: personCross * ONE_PERSON.praegende,
    familie0: personCross * ONE_PERSON.familie0,
    lebensphaseGrob0: 0,
    lebensphaseFein0: 0,
    wKeit: personCross * ONE_PERSON.wKeit,
    alterskategorie9: 0,
    hhEinkommen: personCross * ONE_PERSON.hhEinkommen,
  };
  const solve = <K extends string>(targets: Record<K, number>, other: Record<K, number>, family: number, groups: K[][]): Record<K, number> => {
    const keys = Object.keys(targets) as K[];
    const want = {} as Record<K, number>;
    const qs = {} as Record<K, number>;
    for (const k of keys) {
      want[k] = Math.max(0, (targets[k] - other[k]) / family);
      qs[k] = Math.min(0.95, want[k]);
    }
    for (let iter = 0; iter < 400; iter++) {
      const p = {} as Record<K, number>;
      let none = 1;
      for (const group of groups) {
        let notYet = 1;
        let any = 0;
        for (const k of group) {
          p[k] = notYet * qs[k];
          any += p[k];
          notYet *= 1 - qs[k];
        }
        none *= 1 - any;
      }
      for (const k of keys) {
        const cond = p[k] / (1 - none);
        if (want[k] === 0) qs[k] = 0;
        else if (cond > 0) qs[k] = Math.min(0.95, qs[k] * Math.pow(want[k] / cond, 0.5));
      }
    }
    return qs;
  };
  const light = solve<keyof LightRates>(cp.light, otherLight, lam, [
    ['kkkEmpty', 'kkkCode'], ['communityEmpty', 'communityCode'], ['cameoEmpty'], ['postcodeEmpty'], ['rasterEmpty'],
    ['hhTitleEmpty'], ['konsumEmpty'], ['kba13Empty'], ['householdsZero'],
  ]);
  const person = solve<keyof PersonRates>(cp.person, otherPerson, phi, [
    ['health'], ['nationality'], ['praegende'], ['familie0', 'lebensphaseGrob0', 'lebensphaseFein0'], ['wKeit'],
    ['alterskategorie9'], ['hhEinkommen'],
  ]);
  return { light, person, personFamily: phi };
}

export interface RowSink {
  /** Receives finished chunks of CSV bytes (data) and truth lines; may apply backpressure. */
  data(chunk: Buffer): Promise<void>;
  truth(chunk: string): Promise<void>;
}

/** Which extra forced events apply to one file. */
export interface FileOptions {
  /** Write exactly one GEBAEUDETYP = 5 row (the population file, when it has >= 1000 rows). */
  gebaeudetypFive: boolean;
}

const CHUNK_BYTES = 1 << 22;

// Rows forced to carry a rare published event (clean rows only).
const FORCE_PERSON_BLOCK = 1;
const FORCE_HH_EINKOMMEN = 2;
const FORCE_CAMEO_X = 4;
const FORCE_GEB5 = 8;

/** The forced events per row: one person-block gap, one empty HH_EINKOMMEN_SCORE, the CAMEO X rows, GEBAEUDETYP 5. */
function forcedEvents(plan: FilePlan, cats: Uint8Array, profile: FileProfile, options: FileOptions, rng: Rng): Uint8Array {
  const S = SEGMENTS.length;
  const N = plan.rows;
  const cleanRows = new Int32Array(N - plan.counts[S] - plan.counts[S + 1]);
  for (let i = 0, n = 0; i < N; i++) if (cats[i] < S) cleanRows[n++] = i;
  const forced = new Uint8Array(N);
  const taken = new Uint8Array(N);
  const mark = (rows: Int32Array, flag: number): void => rows.forEach((r) => (forced[r] |= flag));
  if (N >= 100 && cleanRows.length >= 4) {
    mark(pickDistinct(cleanRows, 1, rng, taken, N), FORCE_PERSON_BLOCK);
    mark(pickDistinct(cleanRows, 1, rng, taken, N), FORCE_HH_EINKOMMEN);
  }
  if (options.gebaeudetypFive && cleanRows.length > 0) mark(pickDistinct(cleanRows, 1, rng, taken, N), FORCE_GEB5);
  mark(pickDistinct(cleanRows, Math.round(N * profile.cameoX), rng, taken, N), FORCE_CAMEO_X);
  return forced;
}

/** The value slots of the columns the row logic touches by name, and the column blocks that go empty together. */
function columnSlots(model: CompiledModel) {
  const slot = model.slot;
  const blk = (...names: string[]): Int32Array => Int32Array.from(names.map(slot));
  const s = {
    OST: slot('OST_WEST_KZ'), DECADE: slot('_DECADE'), PRAEG: slot('PRAEGENDE_JUGENDJAHRE'), GREEN: slot('GREEN_AVANTGARDE'),
    LEBF: slot('LP_LEBENSPHASE_FEIN'), LEBG: slot('LP_LEBENSPHASE_GROB'), FAMF: slot('LP_FAMILIE_FEIN'), FAMG: slot('LP_FAMILIE_GROB'),
    STF: slot('LP_STATUS_FEIN'), STG: slot('LP_STATUS_GROB'), DEU: slot('CAMEO_DEU_2015'), DEUG: slot('CAMEO_DEUG_2015'),
    INTL: slot('CAMEO_INTL_2015'), GEB: slot('GEBAEUDETYP'), ANZHH: slot('ANZ_HAUSHALTE_AKTIV'), HEALTH: slot('HEALTH_TYP'),
    SHOP: slot('SHOPPER_TYP'), VERS: slot('VERS_TYP'), NAT: slot('NATIONALITAET_KZ'), ALTER: slot('ALTERSKATEGORIE_GROB'),
    WKEIT: slot('W_KEIT_KIND_HH'), HHEINK: slot('HH_EINKOMMEN_SCORE'), KKK: slot('KKK'), REGIO: slot('REGIOTYP'),
    KBA13: slot('KBA13_ANZAHL_PKW'), ARBEIT: slot('ARBEIT'), RELAT: slot('RELAT_AB'), ORTSGR: slot('ORTSGR_KLS9'),
    RASTER: slot('GEBAEUDETYP_RASTER'), HHTITEL: slot('ANZ_HH_TITEL'), KONSUM: slot('KONSUMNAEHE'), KK: slot('KK_KUNDENTYP'),
    GEBJ: slot('GEBURTSJAHR'), ALTERHH: slot('ALTER_HH'), K05BAUMAX: slot('KBA05_BAUMAX'),
  };
  const BUILDING = blk('ANZ_HAUSHALTE_AKTIV', 'GEBAEUDETYP', 'MIN_GEBAEUDEJAHR', 'OST_WEST_KZ', 'WOHNLAGE');
  const POSTCODE = blk('BALLRAUM', 'EWDICHTE', 'INNENSTADT');
  const COMMUNITY = blk('ARBEIT', 'ORTSGR_KLS9', 'RELAT_AB');
  const CAMEO = blk('CAMEO_DEUG_2015', 'CAMEO_DEU_2015', 'CAMEO_INTL_2015');
  const KBA05 = blk('KBA05_ANTG1', 'KBA05_ANTG2', 'KBA05_ANTG3', 'KBA05_ANTG4', 'KBA05_BAUMAX', 'KBA05_GBZ', 'MOBI_REGIO');
  const PLZ8 = blk('PLZ8_ANTG1', 'PLZ8_ANTG2', 'PLZ8_ANTG3', 'PLZ8_ANTG4', 'PLZ8_BAUMAX', 'PLZ8_HHZ', 'PLZ8_GBZ');
  const HOUSEHOLD = blk('SOHO_KZ', 'TITEL_KZ', 'ALTER_HH', 'ANZ_PERSONEN', 'ANZ_TITEL', 'WOHNDAUER_2008');
  const PERSON_BLOCK = blk(
    'CJT_GESAMTTYP', 'GFK_URLAUBERTYP', 'LP_LEBENSPHASE_FEIN', 'LP_LEBENSPHASE_GROB', 'LP_FAMILIE_FEIN', 'LP_FAMILIE_GROB',
    'LP_STATUS_FEIN', 'LP_STATUS_GROB', 'RETOURTYP_BK_S', 'ONLINE_AFFINITAET',
  );
  const REGIONAL = Int32Array.from([
    ...BUILDING, ...POSTCODE, ...COMMUNITY, ...CAMEO, ...KBA05, ...PLZ8,
    s.RASTER, s.HHTITEL, s.KBA13, s.WKEIT, s.KKK, s.REGIO, s.KK,
  ]);
  return { ...s, blocks: { POSTCODE, COMMUNITY, CAMEO, KBA05, PLZ8, HOUSEHOLD, PERSON_BLOCK, REGIONAL } };
}
type Slots = ReturnType<typeof columnSlots>;

/** Draws from small discrete distributions (value, cumulative probability) with the file's generator. */
function discreteDraws(rng: Rng) {
  const cumOf = (pairs: ReadonlyArray<readonly [number, number]>): { values: Int32Array; cum: Float64Array } => ({
    values: Int32Array.from(pairs.map((p) => p[0])),
    cum: cumulative(pairs.map((p) => p[1])),
  });
  const pick = (d: { values: Int32Array; cum: Float64Array }): number => {
    const u = rng.uniform();
    let k = 0;
    while (k < d.cum.length - 1 && u >= d.cum[k]) k++;
    return d.values[k];
  };
  return {
    pick,
    famFein: [1, 2, 3, 4, 5].map((g) => cumOf(FAMILIE_FEIN_BY_GROB[g])),
    feinOnly: cumOf(FEIN_ONLY_GROB),
    grobOnly: cumOf(GROB_ONLY_FAMILIE),
    noHousehold: cumOf(GEBAEUDETYP_NO_HOUSEHOLD),
  };
}
type Draws = ReturnType<typeof discreteDraws>;

// Gap flags of a row.
const G_KBA05 = 1, G_PLZ8 = 2, G_KBA13 = 4, G_KKKE = 8, G_KKK0 = 16, G_CAMEO = 32, G_COMM = 64, G_COMMCODE = 128;
const G_POST = 256, G_RASTER = 512, G_HHTITLE = 1024, G_KONSUM = 2048, G_ANZ0 = 4096, G_PBLOCK = 8192;
const G_HEALTH = 1 << 14, G_NAT = 1 << 15, G_PRAEG = 1 << 16, G_FAM0 = 1 << 17, G_GROB0 = 1 << 18, G_FEIN0 = 1 << 19;
const G_WKEIT = 1 << 20, G_ALTER9 = 1 << 21, G_HHEINK = 1 << 22;

const ONE_PERSON_EVENTS = [
  [ONE_PERSON.health, G_HEALTH], [ONE_PERSON.nationality, G_NAT], [ONE_PERSON.praegende, G_PRAEG],
  [ONE_PERSON.familie0, G_FAM0], [ONE_PERSON.wKeit, G_WKEIT],
] as const;
const ONE_LIGHT_EVENTS = [
  [ONE_LIGHT.kkkCode, G_KKK0], [ONE_LIGHT.kkkEmpty, G_KKKE], [ONE_LIGHT.hhTitleEmpty, G_HHTITLE],
  [ONE_LIGHT.cameoEmpty, G_CAMEO], [ONE_LIGHT.communityEmpty, G_COMM],
] as const;

/** The clean-row gap model: probabilities conditional on the family a touched row falls in. */
// long because: a factory of small named samplers (light, person, one-event, clean-row, heavy-row gaps) sharing the row RNG and the calibrated rates
function gapSampler(profile: FileProfile, rng: Rng) {
  const cp = profile.clean;
  const tPK = cp.plz8AndKba05 / cp.touched;
  const tPB = tPK + cp.personBlock / cp.touched;
  const tK = tPB + cp.kba05Only / cp.touched;
  const tP = tK + cp.plz8Only / cp.touched;
  const tL = tP + cp.lightFamily / cp.touched;
  const { light, person } = calibrateGaps(cp);
  const b = (p: number): boolean => rng.uniform() < p;
  const lightEvents = (): number => {
    for (;;) {
      let g = 0;
      if (b(light.kkkEmpty)) g |= G_KKKE;
      else if (b(light.kkkCode)) g |= G_KKK0;
      if (b(light.cameoEmpty)) g |= G_CAMEO;
      if (b(light.communityEmpty)) g |= G_COMM;
      else if (b(light.communityCode)) g |= G_COMMCODE;
      if (b(light.postcodeEmpty)) g |= G_POST;
      if (b(light.rasterEmpty)) g |= G_RASTER;
      if (b(light.hhTitleEmpty)) g |= G_HHTITLE;
      if (b(light.konsumEmpty)) g |= G_KONSUM;
      if (b(light.kba13Empty)) g |= G_KBA13;
      if (b(light.householdsZero)) g |= G_ANZ0;
      if (g !== 0) return g;
    }
  };
  const personEvents = (): number => {
    for (;;) {
      let g = 0;
      if (b(person.health)) g |= G_HEALTH;
      if (b(person.nationality)) g |= G_NAT;
      if (b(person.praegende)) g |= G_PRAEG;
      if (b(person.familie0)) g |= G_FAM0;
      else if (b(person.lebensphaseGrob0)) g |= G_GROB0;
      else if (b(person.lebensphaseFein0)) g |= G_FEIN0;
      if (b(person.wKeit)) g |= G_WKEIT;
      if (b(person.alterskategorie9)) g |= G_ALTER9;
      if (b(person.hhEinkommen)) g |= G_HHEINK;
      if (g !== 0) return g;
    }
  };
  /** One event from a family, for rows whose main gap is elsewhere: `choices` in order, the last one otherwise. */
  const oneEvent = (choices: readonly (readonly [number, number])[], otherwise: number): number => {
    const u = rng.uniform();
    let acc = 0;
    for (const [p, flag] of choices) if (u < (acc += p)) return flag;
    return otherwise;
  };
  const onePersonEvent = (): number => oneEvent(ONE_PERSON_EVENTS, G_HHEINK);
  const oneLightEvent = (): number => oneEvent(ONE_LIGHT_EVENTS, G_ANZ0);
  /** A clean row's gaps: untouched, or one gap type (block-level or an event family) with its secondary gaps. */
  const cleanRowGaps = (): number => {
    if (!(rng.uniform() < cp.touched)) return 0;
    const u = rng.uniform();
    let g: number;
    if (u < tPK) {
      g = G_KBA05 | G_PLZ8;
      if (b(PK_GAPS.kba13)) g |= G_KBA13;
      if (b(PK_GAPS.kkkEmpty)) g |= G_KKKE;
      if (b(PK_GAPS.cameo)) g |= G_CAMEO;
      if (b(PK_PERSON_CROSS)) g |= onePersonEvent();
    } else if (u < tPB) {
      g = G_PBLOCK;
      if (b(CROSS)) g |= oneLightEvent();
    } else if (u < tK) {
      g = G_KBA05;
      if (b(K05_GAPS.kkkEmpty)) g |= G_KKKE;
      if (b(K05_GAPS.cameo)) g |= G_CAMEO;
      if (b(K05_GAPS.kba13)) g |= G_KBA13;
    } else if (u < tP) {
      g = G_PLZ8;
      if (b(P8_GAPS.kba13)) g |= G_KBA13;
      if (b(P8_GAPS.kkkEmpty)) g |= G_KKKE;
    } else if (u < tL) {
      g = lightEvents();
      if (b(CROSS)) g |= onePersonEvent();
    } else {
      g = personEvents();
      if (b(CROSS)) g |= oneLightEvent();
    }
    return g;
  };
  /** A heavy-missing row's person gaps (its regional blocks are empty anyway). */
  const heavyRowGaps = (hp: FileProfile['heavyHouseholdEmptyGaps']): number => {
    let g = 0;
    if (b(hp.health)) g |= G_HEALTH;
    if (b(hp.nationality)) g |= G_NAT;
    if (b(hp.praegende)) g |= G_PRAEG;
    const u = rng.uniform();
    if (u < hp.familie0) g |= G_FAM0;
    else if (u < hp.familie0 + hp.lebensphaseGrob0) g |= G_GROB0;
    else if (u < hp.familie0 + hp.lebensphaseGrob0 + hp.lebensphaseFein0) g |= G_FEIN0;
    if (b(hp.alterskategorie9)) g |= G_ALTER9;
    if (b(hp.hhEinkommen)) g |= G_HHEINK;
    // A heavy row without person data has no person codes either (keeps the maximum at 48-49 as published).
    if (b(hp.personBlock)) g = (g & ~(G_HEALTH | G_NAT | G_PRAEG)) | G_PBLOCK;
    return g;
  };
  return { b, cleanRowGaps, heavyRowGaps };
}
type Gaps = ReturnType<typeof gapSampler>;

/**
 * Index of the first cut a value does not exceed (`strict`: z > cut moves on, else z >= cut): a linear scan
 * for short lists, else a binary search. No closures: it runs for every latent cell of every row.
 */
function bucketOf(z: number, cuts: Float64Array, off: number, len: number, strict: boolean): number {
  if (len <= 16) {
    let k = 0;
    if (strict) while (k < len && z > cuts[off + k]) k++;
    else while (k < len && z >= cuts[off + k]) k++;
    return k;
  }
  let lo = 0;
  let hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const cut = cuts[off + mid];
    if (strict ? z > cut : z >= cut) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A row's latent and nominal values: clean rows from their segment's factors, heavy rows from the heavy distributions. */
function drawValues(model: CompiledModel, cat: number, heavy: boolean, vals: Int32Array, F: Float64Array, rng: Rng): void {
  const lat = model.latent;
  const nom = model.nominal;
  if (!heavy) {
    const m = 4 * cat;
    const means = model.segmentMeans;
    F[0] = means[m] + WITHIN_SD[0] * rng.normal();
    F[1] = means[m + 1] + WITHIN_SD[1] * rng.normal();
    F[2] = means[m + 2] + WITHIN_SD[2] * rng.normal();
    F[3] = means[m + 3] + WITHIN_SD[3] * rng.normal();
    const f0 = F[0], f1 = F[1], f2 = F[2], f3 = F[3];
    for (let j = 0; j < lat.count; j++) {
      const l = 4 * j;
      const z = lat.loads[l] * f0 + lat.loads[l + 1] * f1 + lat.loads[l + 2] * f2 + lat.loads[l + 3] * f3 + rng.normal();
      vals[lat.slots[j]] = lat.values[lat.valOff[j] + bucketOf(z, lat.cuts, lat.cutOff[j], lat.cutLen[j], true)];
    }
    for (let j = 0; j < nom.count; j++) {
      const K = nom.k[j];
      const off = nom.off[j] + cat * K;
      const u = rng.uniform();
      let k = 0;
      while (k < K - 1 && u >= nom.cum[off + k]) k++;
      vals[nom.slots[j]] = nom.values[nom.valOff[j] + k];
    }
    return;
  }
  for (let j = 0; j < lat.count; j++) {
    const off = lat.valOff[j];
    const u = rng.uniform();
    vals[lat.slots[j]] = lat.values[off + bucketOf(u, lat.heavyCum, off, lat.cutLen[j], false)];
  }
  for (let j = 0; j < nom.count; j++) {
    const K = nom.k[j];
    const off = nom.heavyOff[j];
    const u = rng.uniform();
    let k = 0;
    while (k < K - 1 && u >= nom.heavyCum[off + k]) k++;
    vals[nom.slots[j]] = nom.values[nom.valOff[j] + k];
  }
}

/** Columns that follow from others: the LP groupings, the CAMEO family, PRAEGENDE_JUGENDJAHRE and GREEN_AVANTGARDE. */
function deriveColumns(model: CompiledModel, ix: Slots, draws: Draws, profile: FileProfile, heavy: boolean, vals: Int32Array, F: Float64Array, rng: Rng): void {
  const lebGrob = lebensphaseGrob(vals[ix.LEBF]);
  vals[ix.LEBG] = lebGrob;
  const famGrob = familieFromLebensphase(lebGrob);
  vals[ix.FAMG] = famGrob;
  vals[ix.FAMF] = draws.pick(draws.famFein[famGrob - 1]);
  vals[ix.STG] = statusGrob(vals[ix.STF]);
  const deu = vals[ix.DEU];
  vals[ix.DEUG] = rng.uniform() < profile.cameoDeugFloat ? 10 + CAMEO_DIGIT[deu] : CAMEO_DIGIT[deu];
  vals[ix.INTL] = CAMEO_INTL[deu];
  const decade = vals[ix.DECADE];
  const avant = heavy ? 0 : AVANTGARDE_LOAD * F[3] + rng.normal() > model.avantgardeCuts[decade] ? 1 : 0;
  const east = heavy ? -1 : vals[ix.OST] === 0 ? 1 : 0;
  let praeg: number;
  if (decade === 1) praeg = avant ? 2 : 1;
  else if (decade === 2) praeg = avant ? 4 : 3;
  else if (decade === 3) {
    const pe = east < 0 ? PRAEGENDE_EAST.avantgarde.unknown : east ? PRAEGENDE_EAST.avantgarde.O : PRAEGENDE_EAST.avantgarde.W;
    praeg = avant ? (rng.uniform() < pe ? 7 : 6) : 5;
  } else if (decade === 4) praeg = avant ? 9 : 8;
  else if (decade === 5) {
    const src = avant ? PRAEGENDE_EAST.avantgarde : PRAEGENDE_EAST.mainstream80s;
    const pe = east < 0 ? src.unknown : east ? src.O : src.W;
    const e = rng.uniform() < pe;
    praeg = avant ? (e ? 13 : 11) : e ? 12 : 10;
  } else praeg = avant ? 15 : 14;
  vals[ix.PRAEG] = praeg;
  vals[ix.GREEN] = avant;
}

const CAMEO_DIGIT = Int32Array.from(CAMEO_DEU.map((c) => Number(c[0][0])));
const CAMEO_INTL = Int32Array.from(CAMEO_DEU.map((c) => c[2]));

/** Writes a row's gaps into its values: LP codes first (they rewrite values), then codes, forced events, then empties. */
function applyGaps(
  g: number, forced: number, heavy: boolean, householdEmpty: boolean, hp: FileProfile['heavyHouseholdEmptyGaps'], cp: CleanGapProfile,
  ix: Slots, draws: Draws, gaps: Gaps, vals: Int32Array,
): void {
  const { b } = gaps;
  const clear = (cols: Int32Array): void => {
    for (let k = 0; k < cols.length; k++) vals[cols[k]] = EMPTY;
  };
  if (g & G_FAM0) {
    vals[ix.LEBF] = 0; vals[ix.LEBG] = 0; vals[ix.FAMF] = 0; vals[ix.FAMG] = 0;
  } else if (g & G_GROB0) {
    vals[ix.LEBF] = 0; vals[ix.LEBG] = 0;
    const fg = draws.pick(draws.grobOnly);
    vals[ix.FAMG] = fg;
    vals[ix.FAMF] = draws.pick(draws.famFein[fg - 1]);
  } else if (g & G_FEIN0) {
    vals[ix.LEBF] = 0;
    const lg = draws.pick(draws.feinOnly);
    vals[ix.LEBG] = lg;
    const fg = familieFromLebensphase(lg);
    vals[ix.FAMG] = fg;
    vals[ix.FAMF] = draws.pick(draws.famFein[fg - 1]);
  }
  if (g & G_HEALTH) { vals[ix.HEALTH] = -1; vals[ix.SHOP] = -1; vals[ix.VERS] = -1; }
  if (g & G_NAT) vals[ix.NAT] = 0;
  if (g & G_PRAEG) { vals[ix.PRAEG] = 0; vals[ix.GREEN] = 0; }
  if (g & G_ALTER9) vals[ix.ALTER] = 9;
  if (g & G_ANZ0) { vals[ix.ANZHH] = 0; vals[ix.GEB] = draws.pick(draws.noHousehold); }
  if (g & G_KKK0) { vals[ix.KKK] = 0; vals[ix.REGIO] = 0; }
  if (g & G_COMMCODE) {
    vals[ix.ARBEIT] = 9; vals[ix.RELAT] = 9;
    if (b(58 / 159)) vals[ix.ORTSGR] = 0;
  }
  if (g & G_WKEIT) vals[ix.WKEIT] = b(cp.wKeitEmptyShare) ? EMPTY : 0;
  // Dropped sparse columns: their own codes.
  if (!heavy) {
    if (b(cp.geburtsjahr0)) vals[ix.GEBJ] = 0;
    if (b(cp.alterHh0)) vals[ix.ALTERHH] = 0;
    if (b(cp.kba05Baumax0)) vals[ix.K05BAUMAX] = 0;
    if (b(cp.kkEmpty)) vals[ix.KK] = EMPTY;
  } else {
    if (b(hp.geburtsjahr0)) vals[ix.GEBJ] = 0;
    if (b(hp.alterHh0)) vals[ix.ALTERHH] = 0;
  }
  if (forced & FORCE_CAMEO_X) { vals[ix.DEUG] = 10; vals[ix.DEU] = CAMEO_DEU.length; vals[ix.INTL] = 0; g &= ~G_CAMEO; }
  if (forced & FORCE_GEB5) { vals[ix.GEB] = 5; if (vals[ix.ANZHH] === 0) vals[ix.ANZHH] = 1; }

  const { blocks } = ix;
  if (heavy) {
    clear(blocks.REGIONAL);
    if (householdEmpty) {
      clear(blocks.HOUSEHOLD);
      vals[ix.KONSUM] = EMPTY;
    }
  } else {
    if (g & G_KBA05) clear(blocks.KBA05);
    if (g & G_PLZ8) clear(blocks.PLZ8);
    if (g & G_KBA13) vals[ix.KBA13] = EMPTY;
    if (g & G_KKKE) { vals[ix.KKK] = EMPTY; vals[ix.REGIO] = EMPTY; }
    if (g & G_CAMEO) clear(blocks.CAMEO);
    if (g & G_COMM) clear(blocks.COMMUNITY);
    if (g & G_POST) clear(blocks.POSTCODE);
    if (g & G_RASTER) vals[ix.RASTER] = EMPTY;
    if (g & G_HHTITLE) vals[ix.HHTITEL] = EMPTY;
    if (g & G_KONSUM) vals[ix.KONSUM] = EMPTY;
  }
  if (g & G_PBLOCK) clear(blocks.PERSON_BLOCK);
  if (g & G_HHEINK) vals[ix.HHEINK] = EMPTY;
}

/** Buffers rows as `;`-separated CSV bytes and truth lines; hands full chunks to the sink. */
class ChunkWriter {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;
  private truth = '';
  constructor(private readonly model: CompiledModel, private readonly sink: RowSink) {}

  async row(vals: Int32Array, truthLine: string): Promise<void> {
    if (this.pos > CHUNK_BYTES - 4096) {
      await this.sink.data(this.buf.subarray(0, this.pos));
      await this.sink.truth(this.truth);
      this.buf = Buffer.allocUnsafe(CHUNK_BYTES);
      this.pos = 0;
      this.truth = '';
    }
    const { tokens: tok, outputCount: outCount, names } = this.model;
    const buf = this.buf;
    let pos = this.pos;
    for (let c = 0; c < outCount; c++) {
      const v = vals[c];
      if (v !== EMPTY) {
        if (v < tok.min[c] || v > tok.max[c]) throw new Error(`generator bug: value ${v} out of range for ${names[c]}`);
        const t = tok.base[c] + v - tok.min[c];
        const start = tok.start[t];
        const end = start + tok.len[t];
        for (let p = start; p < end; p++) buf[pos++] = tok.bytes[p];
      }
      buf[pos++] = c === outCount - 1 ? 10 : 59;
    }
    this.pos = pos;
    this.truth += truthLine;
  }

  async flush(): Promise<void> {
    if (this.pos > 0 || this.truth.length > 0) {
      await this.sink.data(this.buf.subarray(0, this.pos));
      await this.sink.truth(this.truth);
    }
  }
}

/** Generates one file's rows, streaming CSV bytes (after the header) and truth lines to the sink. */
export async function generateRows(
  model: CompiledModel, plan: FilePlan, profile: FileProfile, rng: Rng, options: FileOptions, sink: RowSink,
): Promise<void> {
  const S = SEGMENTS.length;
  const cats = drawCategories(plan, rng);
  const forced = forcedEvents(plan, cats, profile, options, rng);
  const ix = columnSlots(model);
  const draws = discreteDraws(rng);
  const gaps = gapSampler(profile, rng);
  const vals = new Int32Array(model.names.length);
  const F = new Float64Array(4);
  const out = new ChunkWriter(model, sink);
  for (let row = 0; row < plan.rows; row++) {
    const cat = cats[row];
    const heavy = cat >= S;
    drawValues(model, cat, heavy, vals, F, rng);
    deriveColumns(model, ix, draws, profile, heavy, vals, F, rng);
    const hp = cat === S ? profile.heavyHouseholdEmptyGaps : profile.heavyHouseholdPresentGaps;
    let g = heavy ? gaps.heavyRowGaps(hp) : gaps.cleanRowGaps();
    if (!heavy && forced[row] & FORCE_PERSON_BLOCK) g |= G_PBLOCK;
    if (!heavy && forced[row] & FORCE_HH_EINKOMMEN) g |= G_HHEINK;
    applyGaps(g, forced[row], heavy, cat === S, hp, profile.clean, ix, draws, gaps, vals);
    await out.row(vals, `${row};${heavy ? -1 : cat};${heavy ? 1 : 0}\n`);
  }
  await out.flush();
}
