import { kneedle, kneeOfCurve, monotoneViolations } from '../../core/linalg/knee';

/**
 * The published kneedle examples: figure 2 of Satopää et al. (2011) and the reference implementation kneed's
 * test curves (their data; the expected knees are the ones kneed's tests assert).
 */
const x10 = Array.from({ length: 10 }, (_, i) => i);
const convexIncreasing = [1, 2, 3, 4, 5, 10, 15, 20, 40, 100];
const convexDecreasing = [100, 40, 20, 15, 10, 5, 4, 3, 2, 1];
const concaveDecreasing = [99, 98, 97, 96, 95, 90, 85, 80, 60, 0];
const concaveIncreasing = [0, 60, 80, 85, 90, 95, 96, 97, 98, 99];
const bumpy = [
  7305.0, 6979.0, 6666.6, 6463.2, 6326.5, 6048.8, 6032.8, 5762.0, 5742.8, 5398.2, 5256.8, 5227.0, 5001.7, 4942.0, 4854.2, 4734.6,
  4558.7, 4491.1, 4411.6, 4333.0, 4234.6, 4139.1, 4056.8, 4022.5, 3868.0, 3808.3, 3745.3, 3692.3, 3645.6, 3618.3, 3574.3, 3504.3,
  3452.4, 3401.2, 3382.4, 3340.7, 3301.1, 3247.6, 3190.3, 3180.0, 3154.2, 3089.5, 3045.6, 2989.0, 2993.6, 2941.3, 2875.6, 2866.3,
  2834.1, 2785.1, 2759.7, 2763.2, 2720.1, 2660.1, 2690.2, 2635.7, 2632.9, 2574.6, 2556.0, 2545.7, 2513.4, 2491.6, 2496.0, 2466.5,
  2442.7, 2420.5, 2381.5, 2388.1, 2340.6, 2335.0, 2318.9, 2319.0, 2308.2, 2262.2, 2235.8, 2259.3, 2221.0, 2202.7, 2184.3, 2170.1,
  2160.0, 2127.7, 2134.7, 2102.0, 2101.4, 2066.4, 2074.3, 2063.7, 2048.1, 2031.9,
];
const flatMaxima = [
  1, 0.787701317715959, 0.7437774524158126, 0.6559297218155198, 0.5065885797950219, 0.36749633967789164, 0.2547584187408492,
  0.16251830161054173, 0.10395314787701318, 0.06734992679355783, 0.043923865300146414, 0.027818448023426062, 0.01903367496339678,
  0.013177159590043924, 0.010248901903367497, 0.007320644216691069, 0.005856515373352855, 0.004392386530014641,
];

describe('kneedle (published examples)', () => {
  it('figure 2 of the paper: y = −1/(x + 0.1) + 5 on 10 points of [0, 1], knee at x ≈ 0.22', () => {
    const x = Array.from({ length: 10 }, (_, i) => i / 9);
    const res = kneedle(x, x.map((v) => -1 / (v + 0.1) + 5), { curve: 'concave', direction: 'increasing' });
    expect(res.index).toBe(2);
    expect(res.knee!).toBeCloseTo(0.2222, 3);
  });

  it.each([
    ['concave', 'increasing', concaveIncreasing, 2],
    ['concave', 'decreasing', concaveDecreasing, 7],
    ['convex', 'increasing', convexIncreasing, 7],
    ['convex', 'decreasing', convexDecreasing, 2],
  ] as const)('%s %s sample curve', (curve, direction, y, knee) => {
    expect(kneedle(x10, y, { curve, direction }).knee).toBe(knee);
  });

  it.each([
    ['concave', 'increasing', concaveIncreasing, 0.2],
    ['concave', 'decreasing', concaveDecreasing, 0.4],
    ['convex', 'increasing', convexIncreasing, 0.4],
    ['convex', 'decreasing', convexDecreasing, 0.2],
  ] as const)('truncated %s %s curve (last 3 points cut, both axes / 10)', (curve, direction, y, knee) => {
    const res = kneedle(x10.slice(0, -3).map((v) => v / 10), y.slice(0, -3).map((v) => v / 10), { curve, direction });
    expect(res.knee).toBe(knee);
  });

  it('bumpy convex decreasing curve: the first knee is at 26 (not a later local maximum)', () => {
    expect(kneedle(bumpy.map((_, i) => i), bumpy, { curve: 'convex', direction: 'decreasing' }).knee).toBe(26);
  });

  it('flat maxima: S = 0 takes the first local maximum (1), S = 1 the global one (8)', () => {
    const x = flatMaxima.map((_, i) => i);
    expect(kneedle(x, flatMaxima, { curve: 'convex', direction: 'decreasing', sensitivity: 0 }).knee).toBe(1);
    expect(kneedle(x, flatMaxima, { curve: 'convex', direction: 'decreasing', sensitivity: 1 }).knee).toBe(8);
  });

  it('no knee on three gently curved points, nor on a flat line', () => {
    expect(kneedle([1, 2, 3], [0.90483742, 0.81873075, 0.74081822], { curve: 'convex', direction: 'decreasing' }).knee).toBeNull();
    expect(kneedle(x10, x10.map(() => 1), { curve: 'concave', direction: 'increasing' }).knee).toBeNull();
  });

  it('rejects bad input', () => {
    expect(() => kneedle([1, 2], [1], { curve: 'convex', direction: 'decreasing' })).toThrow(RangeError);
    expect(() => kneedle([1, 1, 2], [3, 2, 1], { curve: 'convex', direction: 'decreasing' })).toThrow(/increasing/);
    expect(() => kneedle([1, 2, 3], [3, NaN, 1], { curve: 'convex', direction: 'decreasing' })).toThrow(RangeError);
  });
});

describe('kneeOfCurve (SSE elbow)', () => {
  it('is kneedle for a convex decreasing curve, whatever the order of the points', () => {
    const ks = x10.map((v) => v + 2);
    const shuffled = [5, 2, 9, 0, 7, 1, 3, 8, 6, 4];
    expect(kneeOfCurve(ks, convexDecreasing).k).toBe(4);
    expect(kneeOfCurve(shuffled.map((i) => ks[i]), shuffled.map((i) => convexDecreasing[i])).k).toBe(4);
    expect(() => kneeOfCurve([1, 1, 2], [3, 2, 1])).toThrow(/duplicate/);
  });

  it('finds a sharp elbow and reports none on a straight line', () => {
    const ks = Array.from({ length: 14 }, (_, i) => i + 1);
    expect(kneeOfCurve(ks, ks.map((k) => (k <= 4 ? 1000 - 220 * (k - 1) : 340 - 10 * (k - 4)))).k).toBe(4);
    expect(kneeOfCurve(ks, ks.map((k) => 100 - 5 * k)).k).toBeNull();
  });

  it('monotoneViolations lists the k whose SSE rose above a smaller k', () => {
    expect(monotoneViolations([2, 3, 4, 5], [10, 8, 9, 7])).toEqual([4]);
    expect(monotoneViolations([2, 3, 4, 5], [10, 8, 8.0001, 7], 1e-3)).toEqual([]);
  });
});
