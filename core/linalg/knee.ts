/**
 * Kneedle (Satopää, Albrecht, Irwin, Raghavan: "Finding a 'Kneedle' in a Haystack", ICDCS workshops 2011), offline,
 * first knee — the definition the reference implementation `kneed` (KneeLocator, interp_method "interp1d",
 * online = false) computes. Given points (x_i, y_i), x strictly increasing:
 *
 *  1. Normalise both axes to [0, 1]: xn = (x − min x) / (max x − min x), yn likewise.
 *  2. Turn the curve into a concave increasing one (elbows into knees):
 *       convex decreasing → yt = 1 − yn;   concave decreasing → yt = yn reversed;
 *       convex increasing → yt = (1 − yn) reversed;   concave increasing → yt = yn.
 *  3. Difference curve D_i = yt_i − xn_i.
 *  4. Local maxima of D: D_i ≥ D_{i−1} and D_i ≥ D_{i+1}; local minima: D_i ≤ both neighbours (at the ends the
 *     missing neighbour is the point itself, so an end point can be either; a flat run is both).
 *  5. Each local maximum i gets the threshold T_i = D_i − S · mean(xn_{j+1} − xn_j) (S = sensitivity).
 *  6. Walk i from the first local maximum to the second-to-last point: at a local maximum the threshold becomes its
 *     T_i (and it becomes the candidate); at a local minimum (checked after, so a flat point ends as a minimum) the
 *     threshold becomes 0. The first i with D_{i+1} < threshold makes the candidate the knee.
 *  7. For the reversed transforms (concave decreasing, convex increasing) the candidate's index counts from the
 *     other end: the knee is x_{n−1−index}.
 * No local maximum, or no point below the threshold: no knee (null).
 */
export type KneeCurve = 'convex' | 'concave';
export type KneeDirection = 'increasing' | 'decreasing';

export interface KneedleOptions {
  curve: KneeCurve;
  direction: KneeDirection;
  /** Sensitivity S (default 1): how many "flat" steps (in mean x spacing) below a maximum make it a knee. */
  sensitivity?: number;
}

export interface KneedleResult {
  /** The knee's x, or null when there is none. */
  knee: number | null;
  /** Its index in the input, or −1. */
  index: number;
  /** The difference curve D (in the transformed order) and the normalised x. */
  difference: number[];
  xNormalised: number[];
  /** max D: 0 for a straight line, near 1 for a right angle. */
  strength: number;
}

export function kneedle(x: ArrayLike<number>, y: ArrayLike<number>, options: KneedleOptions): KneedleResult {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`kneedle: ${n} x values but ${y.length} y values`);
  const S = options.sensitivity ?? 1;
  if (!(S >= 0) || !Number.isFinite(S)) throw new RangeError('kneedle: sensitivity must be a finite number ≥ 0');
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) throw new RangeError('kneedle: non-finite input');
    if (i > 0 && !(x[i] > x[i - 1])) throw new RangeError(`kneedle: x must be strictly increasing (x[${i}] = ${x[i]})`);
  }
  const none = (difference: number[] = [], xNormalised: number[] = []): KneedleResult => ({
    knee: null,
    index: -1,
    difference,
    xNormalised,
    strength: difference.length ? Math.max(0, ...difference) : 0,
  });
  if (n < 3) return none();
  const normalise = (v: ArrayLike<number>): number[] | null => {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, v[i]);
      hi = Math.max(hi, v[i]);
    }
    if (!(hi > lo)) return null;
    return Array.from({ length: n }, (_, i) => (v[i] - lo) / (hi - lo));
  };
  const xn = normalise(x)!;
  const yn = normalise(y);
  if (!yn) return none(new Array<number>(n).fill(0), xn);
  const reversed = (options.direction === 'decreasing') === (options.curve === 'concave');
  let yt: number[];
  if (options.direction === 'decreasing' && options.curve === 'concave') yt = [...yn].reverse();
  else if (options.direction === 'decreasing') yt = yn.map((v) => 1 - v);
  else if (options.curve === 'convex') yt = yn.map((v) => 1 - v).reverse();
  else yt = yn;
  const D = yt.map((v, i) => v - xn[i]);

  const at = (i: number) => D[Math.min(n - 1, Math.max(0, i))];
  const isMax = (i: number) => D[i] >= at(i - 1) && D[i] >= at(i + 1);
  const isMin = (i: number) => D[i] <= at(i - 1) && D[i] <= at(i + 1);
  const first = D.findIndex((_, i) => isMax(i));
  const strength = Math.max(0, ...D);
  if (first < 0) return { ...none(D, xn), strength };
  const step = S * Math.abs((xn[n - 1] - xn[0]) / (n - 1));
  let threshold = -Infinity;
  let candidate = -1;
  for (let i = first; i < n - 1; i++) {
    if (isMax(i)) {
      threshold = D[i] - step;
      candidate = i;
    }
    if (isMin(i)) threshold = 0;
    if (D[i + 1] < threshold) {
      const index = reversed ? n - 1 - candidate : candidate;
      return { knee: x[index], index, difference: D, xNormalised: xn, strength };
    }
  }
  return { ...none(D, xn), strength };
}

export interface KneeOptions {
  /** Kneedle sensitivity S (default 1). Larger = more conservative. */
  sensitivity?: number;
}

export interface KneeResult {
  /** The knee's k, or null when kneedle finds none. */
  k: number | null;
  /** max D ∈ [0, 1): 0 for a straight line, close to 1 for a right angle. */
  strength: number;
  /** D_i per k, ascending k. */
  difference: number[];
  ks: number[];
}

/**
 * The elbow of an SSE-versus-k curve: kneedle for a convex decreasing curve, on the points exactly as given
 * (sorted by k; no smoothing, no repair of a rise — the sweep's best-of-several fits keep the curve monotone, and
 * `monotoneViolations` reports where it is not).
 */
export function kneeOfCurve(ks: ArrayLike<number>, sse: ArrayLike<number>, opts: KneeOptions = {}): KneeResult {
  const n = ks.length;
  if (n !== sse.length) throw new RangeError(`kneeOfCurve: ${n} ks but ${sse.length} SSE values`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ks[a] - ks[b]);
  for (let i = 1; i < n; i++) {
    if (ks[order[i]] === ks[order[i - 1]]) throw new RangeError(`kneeOfCurve: duplicate k ${ks[order[i]]}`);
  }
  const sortedKs = order.map((i) => ks[i]);
  const result = kneedle(sortedKs, order.map((i) => sse[i]), { curve: 'convex', direction: 'decreasing', sensitivity: opts.sensitivity });
  return { k: result.knee, strength: result.strength, difference: result.difference, ks: sortedKs };
}

/** The k (ascending) whose SSE is above the SSE at a smaller k by more than `relativeTolerance` of it. */
export function monotoneViolations(ks: ArrayLike<number>, sse: ArrayLike<number>, relativeTolerance = 0): number[] {
  const order = Array.from({ length: ks.length }, (_, i) => i).sort((a, b) => ks[a] - ks[b]);
  const out: number[] = [];
  let lowest = Infinity;
  for (const i of order) {
    if (sse[i] > lowest * (1 + relativeTolerance)) out.push(ks[i]);
    lowest = Math.min(lowest, sse[i]);
  }
  return out;
}
