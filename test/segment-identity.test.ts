import { assignSegmentIds, firstRunIdentity, relabel } from '../core/segment-identity';

/** Row-major k × m distances from nested rows. */
const grid = (rows: number[][]) => rows.flat();

describe('segment identity', () => {
  it('numbers a first run 0..k-1, all new', () => {
    const identity = firstRunIdentity(3);
    expect(identity.segments.map((s) => [s.index, s.id, s.status])).toEqual([[0, 0, 'new'], [1, 1, 'new'], [2, 2, 'new']]);
    expect(identity.nextId).toBe(3);
    expect(identity.gone).toEqual([]);
  });

  it('keeps the previous IDs of close matches, whatever the fit order', () => {
    // This run's clusters 0, 1, 2 are last month's segments 7, 3, 5 (IDs are not indices).
    const identity = assignSegmentIds({
      distances: grid([
        [0.9, 0.8, 0.03], // cluster 0 ↔ previous segment 7
        [0.02, 0.7, 0.9], // cluster 1 ↔ previous 3
        [0.8, 0.05, 0.9], // cluster 2 ↔ previous 5
      ]),
      k: 3,
      previousIds: [3, 5, 7],
      previousNextId: 9,
      maxDistance: 0.25,
    });
    expect(identity.segments.map((s) => s.id)).toEqual([7, 3, 5]);
    expect(identity.segments.every((s) => s.status === 'continued')).toBe(true);
    expect(identity.segments[0].distance).toBeCloseTo(0.03);
    expect(identity.gone).toEqual([]);
    expect(identity.nextId).toBe(9);
  });

  it('gives a cluster beyond the threshold a new ID, never a previous one, and lists the unmatched previous segment as gone', () => {
    const identity = assignSegmentIds({
      distances: grid([
        [0.04, 0.9, 1.1],
        [1.2, 0.05, 1.0],
        [0.9, 1.0, 0.6], // the Hungarian pairs it with previous 2, but 0.6 is not a continuation
      ]),
      k: 3,
      previousIds: [0, 1, 2],
      previousNextId: 4, // ID 3 was used in an earlier month and went away: not reused either
      maxDistance: 0.25,
    });
    expect(identity.segments.map((s) => [s.id, s.status, s.previousId])).toEqual([[0, 'continued', 0], [1, 'continued', 1], [4, 'new', null]]);
    expect(identity.segments[2].distance).toBeCloseTo(0.6); // to the nearest previous segment
    expect(identity.gone).toEqual([{ id: 2, nearestDistance: 0.6 }]);
    expect(identity.nextId).toBe(5);
  });

  it('handles k changing: more clusters get new IDs, fewer leave segments gone', () => {
    const more = assignSegmentIds({ distances: grid([[0.01, 0.9], [0.9, 0.02], [0.3, 0.4]]), k: 3, previousIds: [0, 1], maxDistance: 0.25 });
    expect(more.segments.map((s) => s.id)).toEqual([0, 1, 2]);
    expect(more.segments[2].status).toBe('new');
    const fewer = assignSegmentIds({ distances: grid([[0.8, 0.02, 0.9]]), k: 1, previousIds: [4, 6, 8], previousNextId: 9, maxDistance: 0.25 });
    expect(fewer.segments.map((s) => s.id)).toEqual([6]);
    expect(fewer.gone.map((g) => g.id)).toEqual([4, 8]);
    const none = assignSegmentIds({ distances: [], k: 2, previousIds: [], previousNextId: 5, maxDistance: 0.25 });
    expect(none.segments.map((s) => s.id)).toEqual([5, 6]);
  });

  it('does not let an impossible pair pull good pairs apart (costs capped at the threshold)', () => {
    // Uncapped, the Hungarian would swap the pairs (0↔1 and 1↔0: 0.2 + 0.2 < 0.01 + 5) and cluster 0 would take
    // segment 1's ID although it sits 0.01 from segment 0. Capped, cluster 0 continues segment 0; cluster 1 (5 sd
    // from segment 1, 0.2 from the segment cluster 0 continues) is new and segment 1 is gone.
    const identity = assignSegmentIds({ distances: grid([[0.01, 0.2], [0.2, 5]]), k: 2, previousIds: [0, 1], maxDistance: 0.25 });
    expect(identity.segments.map((s) => [s.id, s.status])).toEqual([[0, 'continued'], [2, 'new']]);
    expect(identity.gone.map((g) => g.id)).toEqual([1]);
    // Within the threshold on both sides, both continue.
    const both = assignSegmentIds({ distances: grid([[0.01, 0.2], [0.2, 0.1]]), k: 2, previousIds: [0, 1], maxDistance: 0.25 });
    expect(both.segments.map((s) => [s.id, s.status])).toEqual([[0, 'continued'], [1, 'continued']]);
  });

  it('rejects malformed input', () => {
    expect(() => assignSegmentIds({ distances: [0.1], k: 2, previousIds: [0], maxDistance: 0.25 })).toThrow(/2 × 1 distances/);
    expect(() => assignSegmentIds({ distances: [0.1, 0.2], k: 1, previousIds: [1, 1], maxDistance: 0.25 })).toThrow(/distinct/);
    expect(() => assignSegmentIds({ distances: [Number.NaN], k: 1, previousIds: [0], maxDistance: 0.25 })).toThrow(/not a non-negative number/);
  });

  it('relabels fit-order assignments to stable IDs, the heavy-missing group staying -1', () => {
    expect(Array.from(relabel(Int32Array.from([0, 1, -1, 2, 0]), [7, 3, 9]))).toEqual([7, 3, -1, 9, 7]);
    expect(() => relabel(Int32Array.from([3]), [0, 1])).toThrow(/outside/);
  });
});
