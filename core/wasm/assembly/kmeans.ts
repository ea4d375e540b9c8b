/**
 * The k-means chunk kernel in AssemblyScript, compiled to WebAssembly with 128-bit SIMD (npm run build:wasm).
 * It is the hot loop of core/linalg/kmeans.ts — one step (assignment + fixed-point sums) over one chunk of
 * rows — and must stay line-for-line equivalent to the contract documented there. The JS driver owns
 * everything else (updates, empty clusters, convergence, checkpoints).
 *
 * All buffers live in one shared WebAssembly.Memory; `desc` points at a table of their byte offsets (DESC_*,
 * mirrored in core/wasm/kernel.ts). Every thread instantiates this module on the same memory, so helper
 * threads work on the same buffers as the driver.
 *
 * The canonical squared distance (shared bit for bit with distance2() in core/wasm/kernel.ts): dimensions in
 * blocks of four, lanes (d, d+1) and (d+2, d+3) accumulated separately, s = (l0 + l1) + (h0 + h1), then the
 * 0–3 remaining dimensions added in order. Data may be float32 (promoted exactly) or float64; centroids are
 * float64.
 */

// Descriptor slots (u32 byte offsets or values).
const DESC_DATA = 0, DESC_F32 = 1, DESC_ROWS = 2, DESC_DIMS = 3, DESC_K = 4, DESC_CHUNK_ROWS = 5;
const DESC_CENTROIDS = 6, DESC_ORIGIN = 7, DESC_INV_UNIT = 8, DESC_ASSIGN = 9, DESC_UPPER = 10, DESC_LOWER = 11;
const DESC_HALF = 12, DESC_SHIFT = 13, DESC_BOUNDS = 14, DESC_HALF_CC = 15, DESC_CUM_SHIFT = 16, DESC_PARAMS = 17;
const DESC_SLOT_HI = 18, DESC_SLOT_LO = 19, DESC_SLOT_QHI = 20, DESC_SLOT_QLO = 21, DESC_SLOT_COUNT = 22;
const DESC_SLOT_CHANGED = 23, DESC_PART_SSE = 24;

// Modes (core/linalg/kmeans.ts).
const MODE_FULL = 0, MODE_HAMERLY = 1, MODE_LLOYD = 2, MODE_ELKAN_FULL = 3, MODE_ELKAN = 4, FLAG_FINAL = 8;
const P_MODE = 0, P_MARGIN = 1, P_MAXSHIFT_IDX = 2, P_MAXSHIFT1 = 3, P_MAXSHIFT2 = 4, P_INV_UNIT_W = 5;

const TWO20: f64 = 1048576;
const INV_TWO20: f64 = 1.0 / 1048576;
const ROUNDER: f64 = 6755399441055744;
const F32_DOWN: f64 = 1 - 1.0 / 1048576;
/** Elkan: a row whose bounds leave this many other centroids open is rescanned in full (blocked kernel). */
const ELKAN_RESCAN_OPEN = 6;

// Scan results (per instance, so per thread).
let gBest: i32 = -1;
let gBestD: f64 = 0;
let gSecond: f64 = 0;
let q0: f64 = 0, q1: f64 = 0, q2: f64 = 0, q3: f64 = 0;

@inline function desc32(desc: usize, slot: i32): usize {
  return <usize>load<u32>(desc + (<usize>slot << 2));
}

/** x[d], x[d+1] as two f64 lanes. */
@inline function pair<T>(x: usize, d: i32): v128 {
  if (sizeof<T>() == 4) return f64x2.promote_low_f32x4(v128.load64_zero(x + (<usize>d << 2)));
  return v128.load(x + (<usize>d << 3));
}

@inline function one<T>(x: usize, d: i32): f64 {
  return <f64>load<T>(x + (<usize>d << alignof<T>()));
}

@inline function lanes(lo: v128, hi: v128): f64 {
  return (f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) + (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
}

/** The canonical squared distance from row x to centroid c. */
@inline function dist2<T>(x: usize, c: usize, dims: i32): f64 {
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  const d4 = dims & ~3;
  let d = 0;
  for (; d < d4; d += 4) {
    const co = c + (<usize>d << 3);
    const a = f64x2.sub(pair<T>(x, d), v128.load(co));
    const b = f64x2.sub(pair<T>(x, d + 2), v128.load(co, 16));
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  let s = lanes(lo, hi);
  for (; d < dims; d++) {
    const t = one<T>(x, d) - load<f64>(c + (<usize>d << 3));
    s += t * t;
  }
  return s;
}

/** dist2, abandoned once a partial sum (checked every 8 dimensions) exceeds limit; exact when ≤ limit. */
@inline function dist2Bounded<T>(x: usize, c: usize, dims: i32, limit: f64): f64 {
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  const d4 = dims & ~3;
  let d = 0;
  for (; d < d4; d += 4) {
    const co = c + (<usize>d << 3);
    const a = f64x2.sub(pair<T>(x, d), v128.load(co));
    const b = f64x2.sub(pair<T>(x, d + 2), v128.load(co, 16));
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
    if ((d & 4) != 0 && d + 4 < dims) {
      const partial = lanes(lo, hi);
      if (partial > limit) return partial;
    }
  }
  let s = lanes(lo, hi);
  for (; d < dims; d++) {
    const t = one<T>(x, d) - load<f64>(c + (<usize>d << 3));
    s += t * t;
  }
  return s;
}

/** Squared distances to centroids j..j+3 into q0..q3 (each as dist2); all four partial (> limit) when abandoned. */
@inline function quad<T>(x: usize, C: usize, j: i32, dims: i32, limit: f64): void {
  const stride = <usize>dims << 3;
  const c0 = C + <usize>j * stride, c1 = c0 + stride, c2 = c1 + stride, c3 = c2 + stride;
  let l0 = f64x2.splat(0), h0 = f64x2.splat(0), l1 = f64x2.splat(0), h1 = f64x2.splat(0);
  let l2 = f64x2.splat(0), h2 = f64x2.splat(0), l3 = f64x2.splat(0), h3 = f64x2.splat(0);
  const d4 = dims & ~3;
  let d = 0;
  for (; d < d4; d += 4) {
    const off = <usize>d << 3;
    const xa = pair<T>(x, d), xb = pair<T>(x, d + 2);
    let a = f64x2.sub(xa, v128.load(c0 + off)), b = f64x2.sub(xb, v128.load(c0 + off, 16));
    l0 = f64x2.add(l0, f64x2.mul(a, a));
    h0 = f64x2.add(h0, f64x2.mul(b, b));
    a = f64x2.sub(xa, v128.load(c1 + off));
    b = f64x2.sub(xb, v128.load(c1 + off, 16));
    l1 = f64x2.add(l1, f64x2.mul(a, a));
    h1 = f64x2.add(h1, f64x2.mul(b, b));
    a = f64x2.sub(xa, v128.load(c2 + off));
    b = f64x2.sub(xb, v128.load(c2 + off, 16));
    l2 = f64x2.add(l2, f64x2.mul(a, a));
    h2 = f64x2.add(h2, f64x2.mul(b, b));
    a = f64x2.sub(xa, v128.load(c3 + off));
    b = f64x2.sub(xb, v128.load(c3 + off, 16));
    l3 = f64x2.add(l3, f64x2.mul(a, a));
    h3 = f64x2.add(h3, f64x2.mul(b, b));
    if ((d & 4) != 0 && d + 4 < dims) {
      if (lanes(l0, h0) > limit && lanes(l1, h1) > limit && lanes(l2, h2) > limit && lanes(l3, h3) > limit) {
        q0 = lanes(l0, h0);
        q1 = lanes(l1, h1);
        q2 = lanes(l2, h2);
        q3 = lanes(l3, h3);
        return;
      }
    }
  }
  let s0 = lanes(l0, h0), s1 = lanes(l1, h1), s2 = lanes(l2, h2), s3 = lanes(l3, h3);
  for (; d < dims; d++) {
    const off = <usize>d << 3;
    const xd = one<T>(x, d);
    let t = xd - load<f64>(c0 + off);
    s0 += t * t;
    t = xd - load<f64>(c1 + off);
    s1 += t * t;
    t = xd - load<f64>(c2 + off);
    s2 += t * t;
    t = xd - load<f64>(c3 + off);
    s3 += t * t;
  }
  q0 = s0;
  q1 = s1;
  q2 = s2;
  q3 = s3;
}

@inline function quadValue(t: i32): f64 {
  return t == 0 ? q0 : t == 1 ? q1 : t == 2 ? q2 : q3;
}

/**
 * Nearest and second nearest from a known candidate a (−1: none) at da2; lowest index wins exact ties. With
 * `bounds` (≠ 0; a = −1), it also stores a lower bound on every centroid's distance for Elkan: the exact
 * distance, or the partial sum where the blocked kernel gave up (terms are ≥ 0, so a partial sum never exceeds
 * the full one), plus cum[j] (see KMeansBuffers.bounds).
 */
function scanFrom<T>(x: usize, C: usize, k: i32, dims: i32, a: i32, da2: f64, bounds: usize = 0, cum: usize = 0): void {
  let best = a, bestD = da2, second = Infinity;
  const k4 = k - (k & 3);
  let j = 0;
  for (; j < k4; j += 4) {
    quad<T>(x, C, j, dims, second);
    for (let t = 0; t < 4; t++) {
      const jj = j + t;
      const dj = quadValue(t);
      if (bounds != 0) store<f32>(bounds + (<usize>jj << 2), <f32>((Math.sqrt(dj) + load<f64>(cum + (<usize>jj << 3))) * F32_DOWN));
      if (jj == a || dj > second) continue;
      if (dj < bestD || (dj == bestD && jj < best)) {
        second = bestD;
        bestD = dj;
        best = jj;
      } else if (dj < second) {
        second = dj;
      }
    }
  }
  const stride = <usize>dims << 3;
  for (; j < k; j++) {
    if (j == a) continue;
    const dj = dist2Bounded<T>(x, C + <usize>j * stride, dims, second);
    if (bounds != 0) store<f32>(bounds + (<usize>j << 2), <f32>((Math.sqrt(dj) + load<f64>(cum + (<usize>j << 3))) * F32_DOWN));
    if (dj > second) continue;
    if (dj < bestD || (dj == bestD && j < best)) {
      second = bestD;
      bestD = dj;
      best = j;
    } else if (dj < second) {
      second = dj;
    }
  }
  gBest = best;
  gBestD = bestD;
  gSecond = second;
}

/** Plain scan (the Lloyd reference: no blocking, no early exit). */
function scanPlain<T>(x: usize, C: usize, k: i32, dims: i32): void {
  let best = -1, bestD = Infinity, second = Infinity;
  const stride = <usize>dims << 3;
  for (let j = 0; j < k; j++) {
    const dj = dist2<T>(x, C + <usize>j * stride, dims);
    if (dj < bestD) {
      second = bestD;
      bestD = dj;
      best = j;
    } else if (dj < second) {
      second = dj;
    }
  }
  gBest = best;
  gBestD = bestD;
  gSecond = second;
}

/**
 * Moves row x from cluster `from` (−1: none) to `to` in the exact fixed-point sums of one slot, two dimensions
 * per vector op (each lane computes exactly what the scalar code in core/linalg/kmeans.ts moveRow computes).
 * ‖x − origin‖² is summed in the canonical distance order.
 */
function moveRow<T>(desc: usize, x: usize, dims: i32, k: i32, from: i32, to: i32, slot: i32): void {
  const origin = desc32(desc, DESC_ORIGIN), invUnit = desc32(desc, DESC_INV_UNIT);
  const hiArr = desc32(desc, DESC_SLOT_HI), loArr = desc32(desc, DESC_SLOT_LO);
  const toBase = hiArr + ((<usize>(slot * k + to) * <usize>dims) << 3);
  const toLo = loArr + ((<usize>(slot * k + to) * <usize>dims) << 3);
  const fromBase = hiArr + ((<usize>(slot * k + (from >= 0 ? from : 0)) * <usize>dims) << 3);
  const fromLo = loArr + ((<usize>(slot * k + (from >= 0 ? from : 0)) * <usize>dims) << 3);
  const R = f64x2.splat(ROUNDER), S = f64x2.splat(INV_TWO20), T2 = f64x2.splat(TWO20);
  let wl = f64x2.splat(0), wh = f64x2.splat(0);
  const d4 = dims & ~3;
  let d = 0;
  for (; d < d4; d += 4) {
    const off = <usize>d << 3;
    const va = f64x2.sub(pair<T>(x, d), v128.load(origin + off));
    const vb = f64x2.sub(pair<T>(x, d + 2), v128.load(origin + off, 16));
    wl = f64x2.add(wl, f64x2.mul(va, va));
    wh = f64x2.add(wh, f64x2.mul(vb, vb));
    const qa = f64x2.sub(f64x2.add(f64x2.mul(va, v128.load(invUnit + off)), R), R);
    const qb = f64x2.sub(f64x2.add(f64x2.mul(vb, v128.load(invUnit + off, 16)), R), R);
    const ha = f64x2.sub(f64x2.add(f64x2.mul(qa, S), R), R);
    const hb = f64x2.sub(f64x2.add(f64x2.mul(qb, S), R), R);
    const la = f64x2.sub(qa, f64x2.mul(ha, T2));
    const lb = f64x2.sub(qb, f64x2.mul(hb, T2));
    v128.store(toBase + off, f64x2.add(v128.load(toBase + off), ha));
    v128.store(toBase + off, f64x2.add(v128.load(toBase + off, 16), hb), 16);
    v128.store(toLo + off, f64x2.add(v128.load(toLo + off), la));
    v128.store(toLo + off, f64x2.add(v128.load(toLo + off, 16), lb), 16);
    if (from >= 0) {
      v128.store(fromBase + off, f64x2.sub(v128.load(fromBase + off), ha));
      v128.store(fromBase + off, f64x2.sub(v128.load(fromBase + off, 16), hb), 16);
      v128.store(fromLo + off, f64x2.sub(v128.load(fromLo + off), la));
      v128.store(fromLo + off, f64x2.sub(v128.load(fromLo + off, 16), lb), 16);
    }
  }
  let w = lanes(wl, wh);
  for (; d < dims; d++) {
    const off = <usize>d << 3;
    const v = one<T>(x, d) - load<f64>(origin + off);
    w += v * v;
    const qq = v * load<f64>(invUnit + off) + ROUNDER - ROUNDER;
    const hi = qq * INV_TWO20 + ROUNDER - ROUNDER;
    const lo = qq - hi * TWO20;
    store<f64>(toBase + off, load<f64>(toBase + off) + hi);
    store<f64>(toLo + off, load<f64>(toLo + off) + lo);
    if (from >= 0) {
      store<f64>(fromBase + off, load<f64>(fromBase + off) - hi);
      store<f64>(fromLo + off, load<f64>(fromLo + off) - lo);
    }
  }
  const params = desc32(desc, DESC_PARAMS);
  const qw = w * load<f64>(params + (P_INV_UNIT_W << 3)) + ROUNDER - ROUNDER;
  const whi = qw * INV_TWO20 + ROUNDER - ROUNDER;
  const wlo = qw - whi * TWO20;
  const qhi = desc32(desc, DESC_SLOT_QHI), qlo = desc32(desc, DESC_SLOT_QLO), cnt = desc32(desc, DESC_SLOT_COUNT);
  const t = <usize>(slot * k + to) << 3;
  store<f64>(qhi + t, load<f64>(qhi + t) + whi);
  store<f64>(qlo + t, load<f64>(qlo + t) + wlo);
  store<f64>(cnt + t, load<f64>(cnt + t) + 1);
  if (from >= 0) {
    const f = <usize>(slot * k + from) << 3;
    store<f64>(qhi + f, load<f64>(qhi + f) - whi);
    store<f64>(qlo + f, load<f64>(qlo + f) - wlo);
    store<f64>(cnt + f, load<f64>(cnt + f) - 1);
  }
}

function processChunkT<T>(desc: usize, chunk: i32, slot: i32): void {
  const data = desc32(desc, DESC_DATA);
  const rows = <i32>desc32(desc, DESC_ROWS), dims = <i32>desc32(desc, DESC_DIMS), k = <i32>desc32(desc, DESC_K);
  const chunkRows = <i32>desc32(desc, DESC_CHUNK_ROWS);
  const C = desc32(desc, DESC_CENTROIDS), assign = desc32(desc, DESC_ASSIGN);
  const upper = desc32(desc, DESC_UPPER), lower = desc32(desc, DESC_LOWER), half = desc32(desc, DESC_HALF), shift = desc32(desc, DESC_SHIFT);
  const bounds = desc32(desc, DESC_BOUNDS), halfCC = desc32(desc, DESC_HALF_CC), cum = desc32(desc, DESC_CUM_SHIFT);
  const params = desc32(desc, DESC_PARAMS);
  const modeFlags = <i32>load<f64>(params + (P_MODE << 3));
  const final = (modeFlags & FLAG_FINAL) != 0;
  const mode = modeFlags & 7;
  const margin = load<f64>(params + (P_MARGIN << 3));
  const maxIdx = <i32>load<f64>(params + (P_MAXSHIFT_IDX << 3));
  const max1 = load<f64>(params + (P_MAXSHIFT1 << 3)), max2 = load<f64>(params + (P_MAXSHIFT2 << 3));
  const rowStart = chunk * chunkRows;
  const rowEnd = min(rows, rowStart + chunkRows);
  const rowBytes = <usize>dims * sizeof<T>();
  const stride = <usize>dims << 3;
  let changed = 0;
  let sse: f64 = 0;

  for (let i = rowStart; i < rowEnd; i++) {
    const x = data + <usize>i * rowBytes;
    const ai = assign + (<usize>i << 2);
    const ui = upper + (<usize>i << 3);
    const a = load<i32>(ai);
    let nb = a;
    let d2: f64 = -1; // exact squared distance to the assigned centroid, when known
    if (mode == MODE_ELKAN) {
      let u = load<f64>(ui) + load<f64>(shift + (<usize>a << 3));
      if (!(u + margin < load<f64>(half + (<usize>a << 3)))) {
        const lb = bounds + ((<usize>i * <usize>k) << 2);
        // How many centroids the bounds cannot rule out: when that is many (centroids moved far, as in the first
        // iterations), one blocked scan of all of them is cheaper than testing and computing them one by one.
        let open = 0;
        for (let j = 0; j < k; j++) {
          if (j == a) continue;
          const lj = <f64>load<f32>(lb + (<usize>j << 2)) - load<f64>(cum + (<usize>j << 3));
          if (!(u + margin < lj || u + margin < load<f64>(halfCC + ((<usize>a * <usize>k + <usize>j) << 3)))) open++;
        }
        let best = a;
        let bd2: f64 = -1;
        if (open >= ELKAN_RESCAN_OPEN) {
          scanFrom<T>(x, C, k, dims, -1, Infinity, lb, cum);
          best = gBest;
          bd2 = gBestD;
          u = Math.sqrt(gBestD);
        } else for (let j = 0; j < k; j++) {
          if (j == best) continue;
          const lj = <f64>load<f32>(lb + (<usize>j << 2)) - load<f64>(cum + (<usize>j << 3));
          const cc = load<f64>(halfCC + ((<usize>best * <usize>k + <usize>j) << 3));
          if (u + margin < lj || u + margin < cc) continue;
          if (bd2 < 0) {
            bd2 = dist2<T>(x, C + <usize>best * stride, dims);
            u = Math.sqrt(bd2);
            store<f32>(lb + (<usize>best << 2), <f32>((u + load<f64>(cum + (<usize>best << 3))) * F32_DOWN));
            if (u + margin < lj || u + margin < cc) continue;
          }
          const dj2 = dist2Bounded<T>(x, C + <usize>j * stride, dims, bd2);
          store<f32>(lb + (<usize>j << 2), <f32>((Math.sqrt(dj2) + load<f64>(cum + (<usize>j << 3))) * F32_DOWN));
          if (dj2 < bd2 || (dj2 == bd2 && j < best)) {
            best = j;
            bd2 = dj2;
            u = Math.sqrt(dj2);
          }
        }
        nb = best;
        d2 = bd2;
      }
      store<f64>(ui, u);
      if (nb != a) {
        changed++;
        store<i32>(ai, nb);
        if (!final) moveRow<T>(desc, x, dims, k, a, nb, slot);
      }
    } else if (mode == MODE_HAMERLY) {
      const li = lower + (<usize>i << 3);
      const u0 = load<f64>(ui) + load<f64>(shift + (<usize>a << 3));
      const l0 = load<f64>(li) - (a == maxIdx ? max2 : max1);
      const ha = load<f64>(half + (<usize>a << 3));
      const m = ha > l0 ? ha : l0;
      if (u0 + margin < m) {
        store<f64>(ui, u0);
        store<f64>(li, l0);
      } else {
        const da2 = dist2<T>(x, C + <usize>a * stride, dims);
        const u1 = Math.sqrt(da2);
        if (u1 + margin < m) {
          store<f64>(ui, u1);
          store<f64>(li, l0);
          d2 = da2;
        } else {
          scanFrom<T>(x, C, k, dims, a, da2);
          nb = gBest;
          d2 = gBestD;
          store<f64>(ui, Math.sqrt(gBestD));
          store<f64>(li, Math.sqrt(gSecond));
        }
      }
      if (nb != a) {
        changed++;
        store<i32>(ai, nb);
        if (!final) moveRow<T>(desc, x, dims, k, a, nb, slot);
      }
    } else {
      if (mode == MODE_LLOYD) {
        scanPlain<T>(x, C, k, dims);
      } else if (mode == MODE_ELKAN_FULL) {
        scanFrom<T>(x, C, k, dims, -1, Infinity, bounds + ((<usize>i * <usize>k) << 2), cum);
        store<f64>(ui, Math.sqrt(gBestD));
      } else {
        scanFrom<T>(x, C, k, dims, -1, Infinity);
        store<f64>(ui, Math.sqrt(gBestD));
        store<f64>(lower + (<usize>i << 3), Math.sqrt(gSecond));
      }
      nb = gBest;
      d2 = gBestD;
      if (nb != a) {
        changed++;
        store<i32>(ai, nb);
      }
      if (!final) moveRow<T>(desc, x, dims, k, -1, nb, slot);
    }
    if (final) {
      if (d2 < 0) d2 = dist2<T>(x, C + <usize>nb * stride, dims);
      sse += d2;
    }
  }
  const sc = desc32(desc, DESC_SLOT_CHANGED) + (<usize>slot << 3);
  store<f64>(sc, load<f64>(sc) + <f64>changed);
  if (final) store<f64>(desc32(desc, DESC_PART_SSE) + (<usize>chunk << 3), sse);
}

/** Runs the step given by params[P_MODE] on one chunk of rows, accumulating into `slot`. */
export function processChunk(desc: usize, chunk: i32, slot: i32): void {
  if (load<u32>(desc + (DESC_F32 << 2)) != 0) processChunkT<f32>(desc, chunk, slot);
  else processChunkT<f64>(desc, chunk, slot);
}

/** The canonical squared distance of one row (float32 or float64 data) to one float64 centroid (for tests). */
export function distance2(x: usize, isF32: i32, c: usize, dims: i32): f64 {
  return isF32 != 0 ? dist2<f32>(x, c, dims) : dist2<f64>(x, c, dims);
}

/** Nearest centroid (lowest index on ties) and its squared distance for rows [rowStart, rowEnd). */
export function assignNearest(data: usize, isF32: i32, dims: i32, C: usize, k: i32, rowStart: i32, rowEnd: i32, assign: usize, dist: usize): void {
  if (isF32 != 0) assignNearestT<f32>(data, dims, C, k, rowStart, rowEnd, assign, dist);
  else assignNearestT<f64>(data, dims, C, k, rowStart, rowEnd, assign, dist);
}

function assignNearestT<T>(data: usize, dims: i32, C: usize, k: i32, rowStart: i32, rowEnd: i32, assign: usize, dist: usize): void {
  const rowBytes = <usize>dims * sizeof<T>();
  for (let i = rowStart; i < rowEnd; i++) {
    scanFrom<T>(data + <usize>i * rowBytes, C, k, dims, -1, Infinity);
    store<i32>(assign + (<usize>i << 2), gBest);
    store<f64>(dist + (<usize>i << 3), gBestD);
  }
}

/**
 * One pass for k-means' preparation: per-column sums (per chunk of chunkRows rows, chunk sums added in chunk
 * order), minima and maxima; returns the largest squared row norm, or NaN when a value is not finite.
 */
export function columnStats(data: usize, isF32: i32, rows: i32, dims: i32, chunkRows: i32, sums: usize, part: usize, lo: usize, hi: usize): f64 {
  return isF32 != 0
    ? columnStatsT<f32>(data, rows, dims, chunkRows, sums, part, lo, hi)
    : columnStatsT<f64>(data, rows, dims, chunkRows, sums, part, lo, hi);
}

function columnStatsT<T>(data: usize, rows: i32, dims: i32, chunkRows: i32, sums: usize, part: usize, lo: usize, hi: usize): f64 {
  let maxNorm2: f64 = 0;
  let finite = true;
  const rowBytes = <usize>dims * sizeof<T>();
  for (let d = 0; d < dims; d++) {
    store<f64>(sums + (<usize>d << 3), 0);
    store<f64>(lo + (<usize>d << 3), Infinity);
    store<f64>(hi + (<usize>d << 3), -Infinity);
  }
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const r1 = min(rows, r0 + chunkRows);
    for (let d = 0; d < dims; d++) store<f64>(part + (<usize>d << 3), 0);
    for (let i = r0; i < r1; i++) {
      const x = data + <usize>i * rowBytes;
      let n2: f64 = 0;
      for (let d = 0; d < dims; d++) {
        const v = one<T>(x, d);
        const o = <usize>d << 3;
        store<f64>(part + o, load<f64>(part + o) + v);
        n2 += v * v;
        if (v < load<f64>(lo + o)) store<f64>(lo + o, v);
        if (v > load<f64>(hi + o)) store<f64>(hi + o, v);
      }
      if (!isFinite(n2)) finite = false;
      if (n2 > maxNorm2) maxNorm2 = n2;
    }
    for (let d = 0; d < dims; d++) store<f64>(sums + (<usize>d << 3), load<f64>(sums + (<usize>d << 3)) + load<f64>(part + (<usize>d << 3)));
  }
  return finite ? maxNorm2 : NaN;
}

/**
 * k-means++'s costly loop: for each row, the squared distance to each of `trials` candidate centres (float64,
 * at cand), capped by the row's current closest squared distance; written to out[t · rows + i], and summed per
 * candidate into pot[t] (rows in order).
 */
export function seedTrials(data: usize, isF32: i32, rows: i32, dims: i32, cand: usize, trials: i32, closest: usize, out: usize, pot: usize): void {
  if (isF32 != 0) seedTrialsT<f32>(data, rows, dims, cand, trials, closest, out, pot);
  else seedTrialsT<f64>(data, rows, dims, cand, trials, closest, out, pot);
}

function seedTrialsT<T>(data: usize, rows: i32, dims: i32, cand: usize, trials: i32, closest: usize, out: usize, pot: usize): void {
  const rowBytes = <usize>dims * sizeof<T>();
  const stride = <usize>dims << 3;
  for (let t = 0; t < trials; t++) store<f64>(pot + (<usize>t << 3), 0);
  for (let i = 0; i < rows; i++) {
    const x = data + <usize>i * rowBytes;
    const lim = load<f64>(closest + (<usize>i << 3));
    for (let t = 0; t < trials; t++) {
      const d = dist2Bounded<T>(x, cand + <usize>t * stride, dims, lim);
      const m = d < lim ? d : lim;
      store<f64>(out + ((<usize>t * <usize>rows + <usize>i) << 3), m);
      const p = pot + (<usize>t << 3);
      store<f64>(p, load<f64>(p) + m);
    }
  }
}

/**
 * The silhouette's pairwise pass over m sampled rows (float64, row-major at x; labels at lab): for every pair
 * i < j, the distance (square root of the canonical squared distance) is added to sums[i · k + lab[j]] and to
 * sums[j · k + lab[i]], pairs in the order (0,1), (0,2), …, (1,2), …
 */
export function silhouetteSums(x: usize, m: i32, dims: i32, lab: usize, k: i32, sums: usize): void {
  const stride = <usize>dims << 3;
  for (let i = 0; i < m; i++) {
    const xi = x + <usize>i * stride;
    const li = load<i32>(lab + (<usize>i << 2));
    const rowI = sums + ((<usize>i * <usize>k) << 3);
    for (let j = i + 1; j < m; j++) {
      const dist = Math.sqrt(dist2<f64>(xi, x + <usize>j * stride, dims));
      const a = rowI + (<usize>load<i32>(lab + (<usize>j << 2)) << 3);
      store<f64>(a, load<f64>(a) + dist);
      const b = sums + ((<usize>j * <usize>k + <usize>li) << 3);
      store<f64>(b, load<f64>(b) + dist);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// PCA: covariance co-moments and projection (core/linalg/covariance.ts, core/linalg/pca.ts)
//
// Both are vectorised across output entries, never across the summed index, so every output is the same
// sequence of float64 multiplies and adds as the plain JS loops (core/linalg), bit for bit: a covariance entry
// is Σ over a block's rows in row order, added to the accumulator per block; a score is Σ over the columns in
// column order, starting from 0.
// ---------------------------------------------------------------------------------------------------------

/**
 * The co-moments of `rows` rows at `data` (float32 or float64, row-major, `cols` wide) about `center`, in
 * blocks of B rows: each block is centred into t (float64, row-major with stride cp = cols rounded up to 4,
 * padding zero), its centred values added to s1, and the upper triangle of its Xᵀ X added to the padded
 * cp × cp matrix c2 (4 × 4 tiles; entries below the diagonal inside diagonal tiles are written but meaningless).
 */
export function covarianceBlocks(data: usize, isF32: i32, rows: i32, cols: i32, cp: i32, B: i32, center: usize, t: usize, s1: usize, c2: usize): void {
  if (isF32 != 0) covarianceBlocksT<f32>(data, rows, cols, cp, B, center, t, s1, c2);
  else covarianceBlocksT<f64>(data, rows, cols, cp, B, center, t, s1, c2);
}

function covarianceBlocksT<T>(data: usize, rows: i32, cols: i32, cp: i32, B: i32, center: usize, t: usize, s1: usize, c2: usize): void {
  const rowBytes = <usize>cols * sizeof<T>();
  const stride = <usize>cp << 3;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const nb = min(B, rows - r0);
    for (let r = 0; r < nb; r++) {
      const x = data + <usize>(r0 + r) * rowBytes;
      const tr = t + <usize>r * stride;
      for (let c = 0; c < cols; c++) {
        const o = <usize>c << 3;
        const v = one<T>(x, c) - load<f64>(center + o);
        store<f64>(tr + o, v);
        store<f64>(s1 + o, load<f64>(s1 + o) + v);
      }
      for (let c = cols; c < cp; c++) store<f64>(tr + (<usize>c << 3), 0);
    }
    for (let i = 0; i < cp; i += 4) {
      const io = <usize>i << 3;
      for (let j = i; j < cp; j += 4) {
        const jo = <usize>j << 3;
        let a0 = f64x2.splat(0), b0 = f64x2.splat(0), a1 = f64x2.splat(0), b1 = f64x2.splat(0);
        let a2 = f64x2.splat(0), b2 = f64x2.splat(0), a3 = f64x2.splat(0), b3 = f64x2.splat(0);
        for (let r = 0; r < nb; r++) {
          const tr = t + <usize>r * stride;
          const ya = v128.load(tr + jo);
          const yb = v128.load(tr + jo, 16);
          const x0 = v128.load64_splat(tr + io);
          const x1 = v128.load64_splat(tr + io, 8);
          const x2 = v128.load64_splat(tr + io, 16);
          const x3 = v128.load64_splat(tr + io, 24);
          a0 = f64x2.add(a0, f64x2.mul(x0, ya)); b0 = f64x2.add(b0, f64x2.mul(x0, yb));
          a1 = f64x2.add(a1, f64x2.mul(x1, ya)); b1 = f64x2.add(b1, f64x2.mul(x1, yb));
          a2 = f64x2.add(a2, f64x2.mul(x2, ya)); b2 = f64x2.add(b2, f64x2.mul(x2, yb));
          a3 = f64x2.add(a3, f64x2.mul(x3, ya)); b3 = f64x2.add(b3, f64x2.mul(x3, yb));
        }
        const p0 = c2 + <usize>i * stride + jo;
        const p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride;
        v128.store(p0, f64x2.add(v128.load(p0), a0)); v128.store(p0, f64x2.add(v128.load(p0, 16), b0), 16);
        v128.store(p1, f64x2.add(v128.load(p1), a1)); v128.store(p1, f64x2.add(v128.load(p1, 16), b1), 16);
        v128.store(p2, f64x2.add(v128.load(p2), a2)); v128.store(p2, f64x2.add(v128.load(p2, 16), b2), 16);
        v128.store(p3, f64x2.add(v128.load(p3), a3)); v128.store(p3, f64x2.add(v128.load(p3, 16), b3), 16);
      }
    }
  }
}

/**
 * Scores of `rows` rows at `data` (float32 or float64, `cols` wide) on q components: out[r · q + c] =
 * Σ_j (x[r, j] − mean[j]) · W[c, j], with W given transposed at wt (cols × qp, qp = q rounded up to 8, padding
 * zero). x holds 2 · cols float64 of scratch. The scores are stored as float32 (rounded once) or float64.
 */
export function projectBlock(data: usize, isF32: i32, rows: i32, cols: i32, mean: usize, wt: usize, q: i32, qp: i32, x: usize, out: usize, outF32: i32): void {
  if (isF32 != 0) projectBlockT<f32>(data, rows, cols, mean, wt, q, qp, x, out, outF32);
  else projectBlockT<f64>(data, rows, cols, mean, wt, q, qp, x, out, outF32);
}

@inline function storeScore(out: usize, index: usize, v: f64, outF32: i32): void {
  if (outF32 != 0) store<f32>(out + (index << 2), <f32>v);
  else store<f64>(out + (index << 3), v);
}

function projectBlockT<T>(data: usize, rows: i32, cols: i32, mean: usize, wt: usize, q: i32, qp: i32, x: usize, out: usize, outF32: i32): void {
  const rowBytes = <usize>cols * sizeof<T>();
  const wStride = <usize>qp << 3;
  const u = x + (<usize>cols << 3);
  let r = 0;
  for (; r + 2 <= rows; r += 2) {
    const d0 = data + <usize>r * rowBytes, d1 = d0 + rowBytes;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j << 3;
      const m = load<f64>(mean + o);
      store<f64>(x + o, one<T>(d0, j) - m);
      store<f64>(u + o, one<T>(d1, j) - m);
    }
    for (let c = 0; c < qp; c += 8) {
      const co = <usize>c << 3;
      let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
      let t0 = f64x2.splat(0), t1 = f64x2.splat(0), t2 = f64x2.splat(0), t3 = f64x2.splat(0);
      for (let j = 0; j < cols; j++) {
        const w = wt + <usize>j * wStride + co;
        const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
        const v = v128.load64_splat(x + (<usize>j << 3));
        const z = v128.load64_splat(u + (<usize>j << 3));
        s0 = f64x2.add(s0, f64x2.mul(w0, v)); s1 = f64x2.add(s1, f64x2.mul(w1, v));
        s2 = f64x2.add(s2, f64x2.mul(w2, v)); s3 = f64x2.add(s3, f64x2.mul(w3, v));
        t0 = f64x2.add(t0, f64x2.mul(w0, z)); t1 = f64x2.add(t1, f64x2.mul(w1, z));
        t2 = f64x2.add(t2, f64x2.mul(w2, z)); t3 = f64x2.add(t3, f64x2.mul(w3, z));
      }
      storeLanes(out, <usize>r * <usize>q, c, q, s0, s1, s2, s3, outF32);
      storeLanes(out, <usize>(r + 1) * <usize>q, c, q, t0, t1, t2, t3, outF32);
    }
  }
  if (r < rows) {
    const d0 = data + <usize>r * rowBytes;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j << 3;
      store<f64>(x + o, one<T>(d0, j) - load<f64>(mean + o));
    }
    for (let c = 0; c < qp; c += 8) {
      const co = <usize>c << 3;
      let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
      for (let j = 0; j < cols; j++) {
        const w = wt + <usize>j * wStride + co;
        const v = v128.load64_splat(x + (<usize>j << 3));
        s0 = f64x2.add(s0, f64x2.mul(v128.load(w), v)); s1 = f64x2.add(s1, f64x2.mul(v128.load(w, 16), v));
        s2 = f64x2.add(s2, f64x2.mul(v128.load(w, 32), v)); s3 = f64x2.add(s3, f64x2.mul(v128.load(w, 48), v));
      }
      storeLanes(out, <usize>r * <usize>q, c, q, s0, s1, s2, s3, outF32);
    }
  }
}

/** Scores c … c+7 of one row (those below q) from four f64x2 accumulators. */
@inline function storeLanes(out: usize, base: usize, c: i32, q: i32, s0: v128, s1: v128, s2: v128, s3: v128, outF32: i32): void {
  const n = min(8, q - c);
  const b = base + <usize>c;
  if (n > 0) storeScore(out, b, f64x2.extract_lane(s0, 0), outF32);
  if (n > 1) storeScore(out, b + 1, f64x2.extract_lane(s0, 1), outF32);
  if (n > 2) storeScore(out, b + 2, f64x2.extract_lane(s1, 0), outF32);
  if (n > 3) storeScore(out, b + 3, f64x2.extract_lane(s1, 1), outF32);
  if (n > 4) storeScore(out, b + 4, f64x2.extract_lane(s2, 0), outF32);
  if (n > 5) storeScore(out, b + 5, f64x2.extract_lane(s2, 1), outF32);
  if (n > 6) storeScore(out, b + 6, f64x2.extract_lane(s3, 0), outF32);
  if (n > 7) storeScore(out, b + 7, f64x2.extract_lane(s3, 1), outF32);
}
