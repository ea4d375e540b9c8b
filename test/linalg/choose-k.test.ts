import { chooseK } from '../../core/linalg/choose-k';
import { kneeOfCurve } from '../../core/linalg/knee';

const ks = Array.from({ length: 15 }, (_, i) => i + 2);
// A measured SSE curve (planted 9 segments, 36k rows, best of 10 inits per k).
const sse = [3766342, 3566806, 3416403, 3343476, 3282940, 3216592, 3161048, 3112974, 3106337, 3075920, 3061252, 3055363, 3036054, 3027477, 3018390];
const big = ks.map(() => 1000);
const rule = { smallestCluster: big, minClusterSize: 100, minStability: 0.8 };

describe('chooseK', () => {
  it('takes the knee when it is stable', () => {
    const stability = ks.map(() => 0.95);
    const choice = chooseK({ ks, sse, stability, ...rule });
    expect(choice.knee).toBe(kneeOfCurve(ks, sse).k);
    expect(choice.knee).toBe(8);
    expect(choice).toMatchObject({ k: 8, stable: true });
    expect(choice.reason).toMatch(/the knee 8 is stable/);
  });

  it('an unstable knee moves to the nearest stable k (ties: the larger)', () => {
    const stability = ks.map((k) => (k === 8 ? 0.6 : k === 10 || k === 6 ? 0.9 : 0.5));
    const tie = chooseK({ ks, sse, stability, ...rule });
    expect(tie).toMatchObject({ k: 10, knee: 8, eligible: [6, 10], run: [10], stable: true });
    expect(tie.reason).toMatch(/the knee 8 is not stable .*; 10 is the nearest k that is/);
    const below = ks.map((k) => (k === 7 || k === 11 ? 0.9 : 0.5));
    expect(chooseK({ ks, sse, stability: below, ...rule }).k).toBe(7);
  });

  it('a k whose fit leaves a cluster below the minimum size is not eligible', () => {
    const stability = ks.map(() => 0.95);
    const smallest = ks.map((k) => (k === 8 ? 3 : 1000));
    expect(chooseK({ ks, sse, stability, smallestCluster: smallest, minClusterSize: 100, minStability: 0.8 }).k).toBe(9);
  });

  it('nothing stable: the knee, flagged', () => {
    const choice = chooseK({ ks, sse, stability: ks.map(() => 0.5), ...rule });
    expect(choice).toMatchObject({ k: 8, stable: false, run: [] });
  });

  it('is order-independent; an unmeasured k is not eligible', () => {
    const stability = ks.map((k) => (k === 8 ? 0.5 : 0.95));
    const p = ks.map((_, i) => i).reverse();
    const choice = chooseK({ ks: p.map((i) => ks[i]), sse: p.map((i) => sse[i]), stability: p.map((i) => stability[i]), smallestCluster: big, minClusterSize: 1, minStability: 0.8 });
    expect(choice.k).toBe(9);
    const partial = ks.map((k) => (k === 8 ? null : 0.95));
    expect(chooseK({ ks, sse, stability: partial, smallestCluster: big, minClusterSize: 1, minStability: 0.8 }).k).toBe(9);
  });
});
