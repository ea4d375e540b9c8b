import { kneeOfCurve } from '../../core/linalg/knee';

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('kneeOfCurve', () => {
  it('finds a sharp elbow of a piecewise-linear curve', () => {
    const ks = range(1, 15);
    const sse = ks.map((k) => (k <= 4 ? 1000 - 220 * (k - 1) : 340 - 10 * (k - 4)));
    const res = kneeOfCurve(ks, sse);
    expect(res.k).toBe(4);
    expect(res.method).toBe('kneedle');
    expect(res.strength).toBeGreaterThan(0.5);
  });

  it.each([3, 5, 8])('finds the elbow of a noisy two-slope curve at k=%i', (elbow) => {
    const ks = range(2, 20);
    const noise = [0.3, -0.2, 0.1, -0.4, 0.2, 0, 0.3, -0.1, 0.2, -0.3, 0.1, 0, -0.2, 0.3, -0.1, 0.2, 0, 0.1, -0.2];
    const sse = ks.map((k, i) => (k <= elbow ? 500 - 80 * (k - 2) : 500 - 80 * (elbow - 2) - 4 * (k - elbow)) + noise[i]);
    expect(kneeOfCurve(ks, sse).k).toBe(elbow);
  });

  it('is order-independent and repairs non-monotone SSE by a running minimum', () => {
    const ks = range(1, 10);
    const sse = [100, 40, 20, 18, 16, 17, 12, 10, 8, 6];
    const shuffled = [5, 2, 9, 0, 7, 1, 3, 8, 6, 4];
    const a = kneeOfCurve(ks, sse);
    const b = kneeOfCurve(shuffled.map((i) => ks[i]), shuffled.map((i) => sse[i]));
    expect(b.k).toBe(a.k);
    expect(a.k).toBe(3);
  });

  it('returns the point farthest from the chord on a smooth convex curve (no sharp elbow)', () => {
    const ks = range(2, 30);
    const sse = ks.map((k) => 1e6 * k ** -0.35); // smoothly falling, like the real data
    const res = kneeOfCurve(ks, sse);
    // argmax of (1 − x) − y, computed independently
    const y = sse.map((v) => (v - sse[sse.length - 1]) / (sse[0] - sse[sse.length - 1]));
    const D = ks.map((k, i) => 1 - (k - 2) / 28 - y[i]);
    expect(res.k).toBe(ks[D.indexOf(Math.max(...D))]);
    expect(res.k).toBeGreaterThan(4);
    expect(res.k).toBeLessThan(16);
    // stable under small multiplicative noise
    const noisy = sse.map((v, i) => v * (1 + 0.002 * Math.sin(i * 7)));
    expect(Math.abs(kneeOfCurve(ks, noisy).k - res.k)).toBeLessThanOrEqual(2);
  });

  it('a straight or concave curve has no knee: the smallest k', () => {
    const ks = range(2, 10);
    expect(kneeOfCurve(ks, ks.map((k) => 100 - 5 * k))).toMatchObject({ k: 2, method: 'none', strength: 0 });
    expect(kneeOfCurve(ks, ks.map((k) => 100 - k * k)).method).toBe('none');
    expect(kneeOfCurve([2, 3], [10, 5]).k).toBe(2);
  });

  it('higher sensitivity falls back to the max-distance point when no drop is large enough', () => {
    const ks = range(1, 10);
    const sse = [100, 60, 35, 20, 12, 8, 5, 3, 2, 1];
    expect(kneeOfCurve(ks, sse, { sensitivity: 50 }).method).toBe('max-distance');
    expect(kneeOfCurve(ks, sse).method).toBe('kneedle');
  });

  it('validates input', () => {
    expect(() => kneeOfCurve([1, 2], [1])).toThrow(RangeError);
    expect(() => kneeOfCurve([1, 1, 2], [3, 2, 1])).toThrow(/duplicate/);
    expect(() => kneeOfCurve([1, 2, 3], [3, NaN, 1])).toThrow(RangeError);
  });
});
