/**
 * The knee as runs recorded before the k-choice rule ('k-choice-stability' patch, workflows/segmentation.ts)
 * computed it: kept only so that their histories replay with the same k. New runs use core/linalg/choose-k.ts
 * (kneedle exactly as defined, core/linalg/knee.ts, plus resample stability).
 */
interface KneeOptionsV1 {
  /** Kneedle sensitivity S (default 1). Larger = more conservative. */
  sensitivity?: number;
}

export interface KneeResultV1 {
  k: number;
  index: number;
  method: 'kneedle' | 'max-distance' | 'none';
  strength: number;
  /** D_i for each point in ascending k order. */
  difference: number[];
  ks: number[];
}

export function kneeOfCurveV1(ks: ArrayLike<number>, sse: ArrayLike<number>, opts: KneeOptionsV1 = {}): KneeResultV1 {
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
