/** The k-means best-of driver retried after a crash continues from its last heartbeat instead of starting over. */
import { KMeansResumeState, kmeansBestOf } from '../../core/parallel/kmeans-best-of';
import { INERT_RUNTIME } from '../../core/steps/runtime';
import { Prng } from '../../core/linalg';

function blobs(rows: number, dims: number, centres: number, seed: number): Float64Array {
  const rng = new Prng(seed);
  const data = new Float64Array(new SharedArrayBuffer(rows * dims * 8));
  const means = Array.from({ length: centres * dims }, () => rng.nextFloat() * 20 - 10);
  for (let i = 0; i < rows; i++) {
    const c = i % centres;
    for (let d = 0; d < dims; d++) data[i * dims + d] = means[c * dims + d] + (rng.nextFloat() - 0.5) * 6;
  }
  return data;
}

const ROWS = 20_000;
const DIMS = 6;
const OPTIONS = { k: 5, seed: 7, maxIterations: 100, relativeTolerance: 0, inits: 3 };

/** Runs the driver as a retried activity would: `details` is what the previous attempt last reported. */
async function runWith(details: unknown, heartbeats: KMeansResumeState[] = []): ReturnType<typeof kmeansBestOf> {
  const progress = (d: Record<string, unknown>) => heartbeats.push(JSON.parse(JSON.stringify(d)) as KMeansResumeState);
  return kmeansBestOf(data, ROWS, DIMS, OPTIONS, { progress, resumeDetails: details });
}

const data = blobs(ROWS, DIMS, 5, 3);

test('resuming from a mid-run heartbeat gives the same result with fewer iterations', async () => {
  const heartbeats: KMeansResumeState[] = [];
  const fresh = await runWith(undefined, heartbeats);
  expect(fresh.resumedFrom).toBeUndefined();

  const midRun = heartbeats.find((h) => h.run === 1 && h.checkpoint && h.checkpoint.iteration === 2);
  expect(midRun).toBeDefined();
  const resumed = await runWith(JSON.parse(JSON.stringify(midRun)));
  expect(resumed.resumedFrom).toEqual({ run: 1, iteration: 2 });
  expect(resumed.sse).toBeCloseTo(fresh.sse, 6);
  expect(Array.from(resumed.centroids)).toEqual(Array.from(fresh.centroids));
  expect(Array.from(resumed.assignments)).toEqual(Array.from(fresh.assignments));
  expect(resumed.iterations).toBeLessThan(fresh.iterations);
});

test('inits that finished before the crash are not run again', async () => {
  const heartbeats: KMeansResumeState[] = [];
  const fresh = await runWith(undefined, heartbeats);
  const afterTwoRuns = heartbeats.find((h) => h.run === 2 && !h.checkpoint)!;
  expect(afterTwoRuns.best).toBeDefined();
  const resumed = await runWith(JSON.parse(JSON.stringify(afterTwoRuns)));
  expect(resumed.sse).toBeCloseTo(fresh.sse, 6);
  // Only the third init ran: its iterations alone.
  const thirdRunIterations = Math.max(...heartbeats.filter((h) => h.run === 2 && h.checkpoint).map((h) => h.checkpoint!.iteration));
  expect(resumed.iterations).toBe(thirdRunIterations);
});

test('a heartbeat for another k is ignored', async () => {
  const resumed = await runWith({ kind: 'kmeans', k: 9, run: 2 });
  expect(resumed.resumedFrom).toBeUndefined();
});

test('inits done by the sweep at the same k are taken over, with the same result as running them again', async () => {
  const sweep = await kmeansBestOf(data, ROWS, DIMS, { ...OPTIONS, inits: 1 }, INERT_RUNTIME);
  expect(sweep.bestRun).toBe(0);
  const fresh = await runWith(undefined);
  const done = { runs: 1, best: { run: sweep.bestRun, sse: sweep.bestRunSse, centroids: Array.from(sweep.centroids) } };
  const taken = await kmeansBestOf(data, ROWS, DIMS, { ...OPTIONS, done }, INERT_RUNTIME);
  expect(taken.sse).toBe(fresh.sse);
  expect(taken.bestRun).toBe(fresh.bestRun);
  expect(Array.from(taken.assignments)).toEqual(Array.from(fresh.assignments));
  expect(taken.iterations).toBe(fresh.iterations - sweep.iterations);
});

test('inits side by side (concurrentInits) give the result of one at a time, and resume from a heartbeat of theirs', async () => {
  const options = { ...OPTIONS, inits: 5, threads: 2 };
  const oneAtATime = await kmeansBestOf(data, ROWS, DIMS, options, INERT_RUNTIME);
  const heartbeats: KMeansResumeState[] = [];
  const progress = (d: Record<string, unknown>) => heartbeats.push(JSON.parse(JSON.stringify(d)) as KMeansResumeState);
  const sideBySide = await kmeansBestOf(data, ROWS, DIMS, { ...options, concurrentInits: 2 }, { progress });
  expect(sideBySide.sse).toBe(oneAtATime.sse);
  expect(sideBySide.bestRun).toBe(oneAtATime.bestRun);
  expect(Array.from(sideBySide.centroids)).toEqual(Array.from(oneAtATime.centroids));
  expect(Array.from(sideBySide.assignments)).toEqual(Array.from(oneAtATime.assignments));
  expect(sideBySide.iterations).toBe(oneAtATime.iterations);
  // Groups of two: runs 0-1, 2-3, 4; a heartbeat names the group's first run and carries its iteration state.
  expect([...new Set(heartbeats.map((h) => h.run))]).toEqual([0, 2, 4, 5]);
  const midGroup = heartbeats.find((h) => h.run === 2 && h.checkpoint && h.checkpoint.iteration >= 2)!;
  expect(midGroup).toBeDefined();
  const resumed = await kmeansBestOf(data, ROWS, DIMS, { ...options, concurrentInits: 2 }, { progress: () => undefined, resumeDetails: JSON.parse(JSON.stringify(midGroup)) });
  expect(resumed.resumedFrom).toEqual({ run: 2, iteration: midGroup.checkpoint!.iteration });
  expect(resumed.sse).toBe(oneAtATime.sse);
  expect(Array.from(resumed.centroids)).toEqual(Array.from(oneAtATime.centroids));
});
