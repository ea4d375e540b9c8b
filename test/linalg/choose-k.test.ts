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

  it('names the k whose stability it still needs, nearest the knee first (ties: the larger), up to the first eligible', () => {
    const none = ks.map(() => null);
    const fresh = chooseK({ ks, sse, stability: none, ...rule });
    expect(fresh.knee).toBe(8);
    expect(fresh.unmeasured).toEqual([8, 9, 7, 10, 6, 11, 5, 12, 4, 13, 3, 14, 2, 15, 16]);
    // The knee measured stable: nothing more is needed.
    expect(chooseK({ ks, sse, stability: ks.map((k) => (k === 8 ? 0.9 : null)), ...rule }).unmeasured).toEqual([]);
    // The knee unstable, 9 not measured, 7 stable: 9 decides between 9 and 7.
    const open = chooseK({ ks, sse, stability: ks.map((k) => (k === 8 ? 0.5 : k === 7 ? 0.9 : null)), ...rule });
    expect(open).toMatchObject({ k: 7, unmeasured: [9] });
    // A k whose fit leaves a too-small cluster is never needed.
    const smallest = ks.map((k) => (k === 9 ? 3 : 1000));
    expect(chooseK({ ks, sse, stability: none, smallestCluster: smallest, minClusterSize: 100, minStability: 0.8 }).unmeasured.slice(0, 3)).toEqual([8, 7, 10]);
  });

  it('measuring where it says, a few k per round, gives the k of measuring every k', () => {
    let state = 12345;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 300; trial++) {
      const truth = ks.map(() => (random() < 0.35 ? 0.9 : 0.5));
      const smallest = ks.map(() => (random() < 0.15 ? 3 : 1000));
      const input = { ks, sse, smallestCluster: smallest, minClusterSize: 100, minStability: 0.8 };
      const full = chooseK({ ...input, stability: truth });
      const measured: (number | null)[] = ks.map(() => null);
      let lazy = chooseK({ ...input, stability: measured });
      let rounds = 0;
      while (lazy.unmeasured.length && rounds++ < ks.length) {
        for (const k of lazy.unmeasured.slice(0, 2)) measured[ks.indexOf(k)] = truth[ks.indexOf(k)];
        lazy = chooseK({ ...input, stability: measured });
      }
      expect(lazy.unmeasured).toEqual([]);
      expect([lazy.k, lazy.stable, lazy.knee]).toEqual([full.k, full.stable, full.knee]);
    }
  });
});
