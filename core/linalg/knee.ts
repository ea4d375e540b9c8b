/**
 * Knee ("elbow") of a decreasing SSE-versus-k curve, Kneedle style (Satopää et al., 2011).
 *
 * Rule, applied to points (k_i, SSE_i):
 *  1. Sort by k. Replace SSE by its running minimum (SSE can only fall with k at the optimum; a rise is an
 *     optimisation artefact of a local minimum).
 *  2. Normalise: x = (k − k_min) / (k_max − k_min), y = (SSE − SSE_min) / (SSE_max − SSE_min), so the curve
 *     runs from (0, 1) to (1, 0).
 *  3. Difference curve D_i = (1 − x_i) − y_i: how far point i lies below the straight chord joining the
 *     ends (≥ 0 for a convex curve).
 *  4. Kneedle: walk D in order of k; each local maximum i arms a threshold T = D_i − S · mean(Δx)
 *     (S = `sensitivity`, default 1; mean(Δx) = 1 / (n − 1)), each local minimum disarms it; the first point
 *     with D < T makes the most recent local maximum the knee ("kneedle"). On a smooth convex curve D is
 *     unimodal and this is its maximum.
 *  5. If there is none — the SSE falls smoothly with no pronounced elbow, the usual case on real data — the
 *     knee is the point farthest below the chord, argmax D ("max-distance"; smallest k on ties).
 *  6. If D ≤ 0 everywhere (a straight or concave curve: no elbow at all), the smallest k is returned
 *     ("none").
 * `strength` = max D ∈ [0, 1): 0 for a straight line, close to 1 for a right angle.
 */
export interface KneeOptions {
  /** Kneedle sensitivity S (default 1). Larger = more conservative. */
  sensitivity?: number;
}

export interface KneeResult {
  k: number;
  index: number;
  method: 'kneedle' | 'max-distance' | 'none';
  strength: number;
  /** D_i for each point in ascending k order. */
  difference: number[];
  ks: number[];
}

export function kneeOfCurve(ks: ArrayLike<number>, sse: ArrayLike<number>, opts: KneeOptions = {}): KneeResult {
  const n = ks.length;
  if (n !== sse.length) throw new RangeError(`kneeOfCurve: ${n} ks but ${sse.length} SSE values`);
  if (n < 1) throw new RangeError('kneeOfCurve: empty curve');
  const S = opts.sensitivity ?? 1;
  if (!(S >= 0)) throw new RangeError('kneeOfCurve: sensitivity must be ≥ 0');
  const pts = Array.from({ length: n }, (_, i) => ({ k: ks[i], y: sse[i] }));
  for (const p of pts) {
    if (!Number.isFinite(p.k) || !Number.isFinite(p.y)) throw new RangeError('kneeOfCurve: non-finite input');
  }
  pts.sort((a, b) => a.k - b.k);
  for (let i = 1; i < n; i++) {
    if (pts[i].k === pts[i - 1].k) throw new RangeError(`kneeOfCurve: duplicate k ${pts[i].k}`);
  }
  const sortedKs = pts.map((p) => p.k);
  if (n < 3) return { k: sortedKs[0], index: 0, method: 'none', strength: 0, difference: new Array<number>(n).fill(0), ks: sortedKs };

  const y = new Array<number>(n);
  let run = Infinity;
  for (let i = 0; i < n; i++) {
    run = Math.min(run, pts[i].y);
    y[i] = run;
  }
  const k0 = sortedKs[0], k1 = sortedKs[n - 1];
  const yMax = y[0], yMin = y[n - 1];
  const x = sortedKs.map((k) => (k - k0) / (k1 - k0));
  const yn = y.map((v) => (yMax > yMin ? (v - yMin) / (yMax - yMin) : 0));
  const D = x.map((xi, i) => 1 - xi - yn[i]);

  let arg = 0;
  for (let i = 1; i < n; i++) if (D[i] > D[arg]) arg = i;
  const strength = Math.max(0, D[arg]);
  if (!(D[arg] > 1e-12)) return { k: sortedKs[0], index: 0, method: 'none', strength: 0, difference: D, ks: sortedKs };

  // Kneedle on the local maxima of D (as in the reference implementation "kneed", offline, first knee):
  // a local maximum arms the threshold T, a local minimum disarms it, and the first point with D < T makes
  // the most recent local maximum the knee.
  const meanDx = 1 / (n - 1);
  let threshold = -Infinity;
  let armedAt = -1;
  for (let j = 1; j < n; j++) {
    const interior = j < n - 1;
    if (interior && D[j] > D[j - 1] && D[j] >= D[j + 1]) {
      threshold = D[j] - S * meanDx;
      armedAt = j;
      continue;
    }
    if (interior && D[j] < D[j - 1] && D[j] <= D[j + 1]) {
      threshold = -Infinity;
      armedAt = -1;
    }
    if (armedAt >= 0 && D[j] < threshold) {
      return { k: sortedKs[armedAt], index: armedAt, method: 'kneedle', strength, difference: D, ks: sortedKs };
    }
  }
  return { k: sortedKs[arg], index: arg, method: 'max-distance', strength, difference: D, ks: sortedKs };
}
