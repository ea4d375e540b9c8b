/**
 * Deterministic random numbers for the generator: sfc32 (Chris Doty-Humphrey's small fast counter generator,
 * 128-bit state, passes PractRand/BigCrush) seeded through splitmix32 from (seed, stream label). Normals come
 * from a 65,536-entry inverse-CDF table (two 16-bit draws per 32-bit output): quantised, but far finer than the
 * ordinal categories they are cut into. No Math.random anywhere.
 */

const NORMAL_TABLE_BITS = 16;
const NORMAL_TABLE_SIZE = 1 << NORMAL_TABLE_BITS;

/** Standard normal quantile (Acklam's rational approximation, |rel. error| < 1.15e-9 after one Halley step). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  // One Halley refinement step against the CDF.
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

// Local aliases: global lookups are slow inside vm sandboxes (e.g. jest), and normalCdf runs ~10^6 times per compile.
const exp = Math.exp;
const abs = Math.abs;
const SQRT2 = Math.SQRT2;

/** Standard normal CDF via erfc (Numerical Recipes erfcc, fractional error < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = abs(x) / SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** NORMAL_TABLE[i] = Φ⁻¹((i + 0.5) / 65536): a 16-bit uniform maps to a normal deviate by one lookup. */
export const NORMAL_TABLE: Float64Array = (() => {
  const table = new Float64Array(NORMAL_TABLE_SIZE);
  for (let i = 0; i < NORMAL_TABLE_SIZE; i++) table[i] = normalQuantile((i + 0.5) / NORMAL_TABLE_SIZE);
  return table;
})();

/** splitmix32 step, used only to spread a seed over the 128-bit sfc32 state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over a label, so each stream (population, customers, ...) gets its own sequence from one seed. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Buffered low 16 bits of the last 32-bit draw, for the second normal of a pair (-1 = empty). */
  private spare = -1;

  constructor(seed: number, label = '') {
    const state = { s: (Math.trunc(seed) ^ hashLabel(label)) | 0 };
    // Mix the high part of large seeds too (seeds are integers up to 2^53).
    const high = Math.floor(Math.abs(seed) / 4294967296) | 0;
    state.s = (state.s ^ Math.imul(high, 0x27d4eb2d)) | 0;
    this.a = splitmix32(state) | 0;
    this.b = splitmix32(state) | 0;
    this.c = splitmix32(state) | 0;
    this.d = 1;
    for (let i = 0; i < 16; i++) this.nextUint32();
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.c = (r + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32-bit resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Approximately standard normal (table lookup, 16-bit resolution). */
  normal(): number {
    if (this.spare >= 0) {
      const v = NORMAL_TABLE[this.spare];
      this.spare = -1;
      return v;
    }
    const x = this.nextUint32();
    this.spare = x & 0xffff;
    return NORMAL_TABLE[x >>> 16];
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}
