import { chooseK } from '../../core/linalg/choose-k';
import { kneeOfCurve } from '../../core/linalg/knee';

const ks = Array.from({ length: 15 }, (_, i) => i + 2);
// A measured SSE curve (planted 9 segments, 36k rows, best of 10 inits per k).
const sse = [3766342, 3566806, 3416403, 3343476, 3282940, 3216592, 3161048, 3112974, 3106337, 3075920, 3061252, 3055363, 3036054, 3027477, 3018390];
const big = ks.map(() => 1000);

describe('chooseK', () => {
  it('takes the largest k of the stable run that contains the knee', () => {
    const stability = [0.99, 0.99, 0.8, 0.7, 0.7, 0.97, 0.99, 0.99, 0.9, 0.88, 0.85, 0.8, 0.8, 0.7, 0.7];
    const choice = chooseK({ ks, sse, stability, smallestCluster: big, minClusterSize: 100, minStability: 0.95 });
    expect(choice.knee).toBe(kneeOfCurve(ks, sse).k);
    expect(choice.knee).toBe(8);
    expect(choice).toMatchObject({ k: 9, run: [7, 8, 9], stable: true, eligible: [2, 3, 7, 8, 9] });
    expect(choice.reason).toMatch(/contains the knee at 8/);
  });

  it('without a stable run at the knee, the nearest run (ties: the run above)', () => {
    const stability = ks.map((k) => (k <= 3 || (k >= 11 && k <= 12) ? 0.99 : 0.5));
    // knee 8: run 2..3 is 5 away, run 11..12 is 3 away
    expect(chooseK({ ks, sse, stability, smallestCluster: big, minClusterSize: 100, minStability: 0.95 }).k).toBe(12);
    const tie = ks.map((k) => (k === 5 || k === 11 ? 0.99 : 0.5));
    expect(chooseK({ ks, sse, stability: tie, smallestCluster: big, minClusterSize: 100, minStability: 0.95 }).k).toBe(11);
  });

  it('a k whose fit leaves a cluster below the minimum size is not eligible', () => {
    const stability = ks.map((k) => (k <= 10 ? 0.99 : 0.5));
    const smallest = ks.map((k) => (k === 10 ? 3 : 1000));
    expect(chooseK({ ks, sse, stability, smallestCluster: smallest, minClusterSize: 100, minStability: 0.95 }).k).toBe(9);
  });

  it('nothing stable: the knee, flagged', () => {
    const choice = chooseK({ ks, sse, stability: ks.map(() => 0.5), smallestCluster: big, minClusterSize: 100, minStability: 0.95 });
    expect(choice).toMatchObject({ k: 8, stable: false, run: [] });
  });

  it('is order-independent and does not depend on unmeasured k', () => {
    const stability = [0.99, 0.99, 0.8, 0.7, 0.7, 0.97, 0.99, 0.99, 0.9, 0.88, 0.85, 0.8, 0.8, 0.7, 0.7];
    const p = ks.map((_, i) => i).reverse();
    const choice = chooseK({ ks: p.map((i) => ks[i]), sse: p.map((i) => sse[i]), stability: p.map((i) => stability[i]), smallestCluster: big, minClusterSize: 1, minStability: 0.95 });
    expect(choice.k).toBe(9);
    const partial = stability.map((s, i) => (i === 7 ? null : s));
    expect(chooseK({ ks, sse, stability: partial, smallestCluster: big, minClusterSize: 1, minStability: 0.95 }).k).toBe(8);
  });
});
