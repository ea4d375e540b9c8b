import { erf, erfc, normalCdf, normalQuantile, normalSf, twoSidedP } from '../../core/stats/normal';

/** Relative difference. */
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('erfc / normal CDF', () => {
  // Reference values from Python's math.erfc (C library) and published tables.
  it.each([
    [0, 1],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [1.5, 0.033894853524689274],
    [2, 0.004677734981047266],
    [3, 2.209049699858544e-5],
    [5, 1.5374597944280349e-12],
    [10, 2.088487583762545e-45],
    [26, 5.663192408856143e-296],
  ])('erfc(%p) matches the reference to 1e-12 relative', (x, expected) => {
    expect(rel(erfc(x), expected)).toBeLessThan(1e-12);
  });

  it('is continuous where the two expansions meet (x = 2)', () => {
    expect(rel(erfc(2 - 1e-12), erfc(2 + 1e-12))).toBeLessThan(1e-9);
  });

  it('handles symmetry, infinities and NaN', () => {
    expect(erfc(-1)).toBeCloseTo(2 - 0.15729920705028513, 14);
    expect(erf(-0.5)).toBeCloseTo(-(1 - 0.4795001221869535), 14);
    expect(erfc(Infinity)).toBe(0);
    expect(erfc(-Infinity)).toBe(2);
    expect(erfc(40)).toBe(0);
    expect(Number.isNaN(erfc(NaN))).toBe(true);
  });

  it('gives Phi(-1.96) = 0.0249979 and the usual two-sided 5 % at z = 1.96', () => {
    expect(normalCdf(-1.96)).toBeCloseTo(0.024997895148220435, 12);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 12);
    expect(normalSf(1.96)).toBeCloseTo(0.024997895148220435, 12);
    expect(twoSidedP(1.96)).toBeCloseTo(0.04999579029644087, 12);
    expect(twoSidedP(-1.96)).toBeCloseTo(0.04999579029644087, 12);
    expect(twoSidedP(0)).toBe(1);
  });

  it('keeps relative precision far into the tail', () => {
    // Phi(-10) = 7.619853024160527e-24, Phi(-30) = 4.906713927148187e-198 (Python: 0.5*erfc(x/sqrt(2))).
    expect(rel(normalCdf(-10), 7.619853024160527e-24)).toBeLessThan(1e-12);
    expect(rel(normalCdf(-30), 4.906713927148187e-198)).toBeLessThan(1e-11);
    expect(twoSidedP(40)).toBe(0);
  });
});

describe('normalQuantile', () => {
  it('returns the textbook critical values', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489004, 12);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.025)).toBeCloseTo(-1.959963984540054, 12);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 10);
  });

  it('inverts the CDF across all three regions of the approximation', () => {
    for (const p of [1e-300, 1e-100, 1e-12, 1e-5, 0.001, 0.0242, 0.02425, 0.0243, 0.1, 0.3, 0.5, 0.7, 0.9, 0.975, 0.99, 0.9999]) {
      expect(rel(normalCdf(normalQuantile(p)), p)).toBeLessThan(1e-10);
    }
  });

  it('maps 0 and 1 to infinities and rejects probabilities outside [0, 1]', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(() => normalQuantile(-0.1)).toThrow(RangeError);
    expect(() => normalQuantile(1.5)).toThrow(RangeError);
    expect(() => normalQuantile(NaN)).toThrow(RangeError);
  });
});
