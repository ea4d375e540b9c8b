import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { columnMeansAndCovariance } from '../../core/linalg/covariance';
import { assignNearest, kmeans, KMeansCheckpoint, kmeansPlusPlus, KMeansResult } from '../../core/linalg/kmeans';
import { pcaFromCovariance, projectRows } from '../../core/linalg/pca';
import { silhouetteSample } from '../../core/linalg/silhouette';
import { createThreadedRunner } from '../../core/parallel/kmeans-threads';
import {
  assignNearestInWorkers,
  covarianceInWorkers,
  projectRowsInWorkers,
  runKmeansInWorker,
  sharedFloat64,
  silhouetteInWorker,
  workerSelfTest,
} from '../../core/parallel';
import { expectSameArray, mixture } from './helpers';

const ROOT = join(__dirname, '..', '..');

function expectSameKMeans(a: KMeansResult, b: KMeansResult): void {
  expectSameArray(a.assignments, b.assignments);
  expectSameArray(a.centroids, b.centroids);
  expect(a.sse).toBe(b.sse);
  expect(a.iterations).toBe(b.iterations);
  expect(a.converged).toBe(b.converged);
  expectSameArray(a.counts, b.counts);
}

describe('worker threads from TypeScript sources', () => {
  it('start through the SWC bootstrap', async () => {
    const res = await workerSelfTest();
    expect(res.ok).toBe(true);
    expect(res.entry.endsWith('worker-entry.ts')).toBe(true);
  });

  // > 2 covariance chunks (65536 rows) and > 8 k-means chunks (16384 rows)
  const rows = 140_003, cols = 7;
  const X = sharedFloat64(rows * cols);
  X.set(mixture(rows, cols, 6, 12, 2));

  it('covarianceInWorkers is bit-identical to columnMeansAndCovariance for 1–3 threads, with progress', async () => {
    const ref = columnMeansAndCovariance(X, rows, cols);
    for (const threads of [1, 2, 3]) {
      const seen: number[] = [];
      const res = await covarianceInWorkers(X, rows, cols, { threads, onProgress: (d) => seen.push(d) });
      expectSameArray(res.mean, ref.mean);
      expectSameArray(res.covariance, ref.covariance);
      expect(seen[seen.length - 1]).toBe(rows);
    }
    // Float32 input, not shared (copied once)
    const X32 = Float32Array.from(X);
    const r32 = await covarianceInWorkers(X32, rows, cols, { threads: 2 });
    expectSameArray(r32.covariance, columnMeansAndCovariance(X32, rows, cols).covariance);
  });

  it('projectRowsInWorkers and assignNearestInWorkers are bit-identical', async () => {
    const { mean, covariance } = columnMeansAndCovariance(X, rows, cols);
    const pca = pcaFromCovariance(covariance, cols);
    const ref = projectRows(X, rows, cols, mean, pca.components, 5);
    const got = await projectRowsInWorkers(X, rows, cols, mean, pca.components, 5, { threads: 3 });
    expect(got.buffer).toBeInstanceOf(SharedArrayBuffer);
    expectSameArray(got, ref);
    const C = X.slice(0, 9 * cols);
    const a = assignNearest(X, rows, cols, C, 9);
    const b = await assignNearestInWorkers(X, rows, cols, C, 9, { threads: 2 });
    expectSameArray(b.assignments, a.assignments);
    expectSameArray(b.distances, a.distances);
  });

  it('runKmeansInWorker (1 and 2 threads) equals kmeans in this thread, with the same checkpoints', async () => {
    const opts = { k: 6, seed: 4, relativeTolerance: 1e-6, maxIterations: 60 };
    const states: KMeansCheckpoint[] = [];
    const ref = kmeans(X, rows, cols, { ...opts, onIteration: (s) => { states.push(s); } });
    for (const threads of [1, 2]) {
      const got: KMeansCheckpoint[] = [];
      const res = await runKmeansInWorker(X, rows, cols, { ...opts, threads, onIteration: (s) => { got.push(s); } });
      expectSameKMeans(res, ref);
      expect(got).toEqual(states);
    }
  });

  it('the helper thread of the threaded runner really takes chunks, without changing the result', async () => {
    const runner = createThreadedRunner(2);
    const inner = runner.hooks.runChunks!;
    let helperSteps = 0;
    runner.hooks.runChunks = (b) => {
      inner(b);
      let rowsSeen = b.slotChanged[1];
      for (let j = 0; j < b.k; j++) rowsSeen += Math.abs(b.slotCount[b.k + j]);
      if (rowsSeen > 0) helperSteps++;
    };
    // From k-means++ on all rows (not the sampled init, which can leave the full data one or two passes): many
    // full passes, so the helper has chunks to take.
    const opts = { k: 8, seed: 2, relativeTolerance: 0, maxIterations: 25, initialCentroids: kmeansPlusPlus(X, rows, cols, 8, 2) };
    try {
      const threaded = kmeans(X, rows, cols, opts, runner.hooks);
      expectSameKMeans(threaded, kmeans(X, rows, cols, opts));
    } finally {
      await runner.close();
    }
    expect(helperSteps).toBeGreaterThan(5);
  });

  it('runKmeansInWorker (2 threads) and silhouetteInWorker equal their in-thread versions', async () => {
    const small = 20_000;
    const Y = X.subarray(0, small * cols);
    const opts = { k: 4, seed: 9, relativeTolerance: 1e-5 };
    const ref = kmeans(Y, small, cols, opts);
    const got = await runKmeansInWorker(Y, small, cols, { ...opts, threads: 2 });
    expectSameKMeans(got, ref);
    const s1 = silhouetteSample(Y, small, cols, ref.assignments, 4, { sampleSize: 800, seed: 2 });
    const s2 = await silhouetteInWorker(Y, small, cols, ref.assignments, 4, { sampleSize: 800, seed: 2 });
    expect(s2.score).toBe(s1.score);
  });

  it('an abort terminates the worker and rejects with the reason; a resumed run finishes identically', async () => {
    const opts = { k: 8, seed: 1, relativeTolerance: 0, maxIterations: 500 };
    const ac = new AbortController();
    let last: KMeansCheckpoint | null = null;
    const run = runKmeansInWorker(X, rows, cols, {
      ...opts,
      signal: ac.signal,
      onIteration: (s) => {
        last = s;
        if (s.iteration === 2) ac.abort(new Error('cancelled by test'));
      },
    });
    await expect(run).rejects.toThrow('cancelled by test');
    expect(last!.iteration).toBeGreaterThanOrEqual(2);
    const resumed = await runKmeansInWorker(X, rows, cols, { ...opts, resumeFrom: last! });
    expectSameKMeans(resumed, kmeans(X, rows, cols, opts));
    // already aborted: rejects without starting
    await expect(covarianceInWorkers(X, rows, cols, { signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it('errors inside the worker reject with the original error type', async () => {
    await expect(runKmeansInWorker(X, rows, cols, { k: 0 })).rejects.toThrow(RangeError);
  });
});

describe('worker threads from compiled JavaScript (tsc → commonjs)', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'linalg-build-'));
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '--outDir', out, '--rootDir', ROOT, '--module', 'commonjs', '--target', 'ES2022', '--moduleResolution', 'node',
        '--strict', '--esModuleInterop', '--skipLibCheck', '--types', 'node',
        join(ROOT, 'core', 'parallel', 'index.ts'),
        join(ROOT, 'core', 'parallel', 'worker-entry.ts'),
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
    // tsc copies no binaries: put the WebAssembly kernel next to the compiled loader, as a dist build has it
    copyFileSync(join(ROOT, 'core', 'wasm', 'kmeans.wasm'), join(out, 'core', 'wasm', 'kmeans.wasm'));
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('start the compiled worker-entry.js directly and compute the same results', () => {
    const script = join(out, 'check.js');
    writeFileSync(script, `
      const P = require('./core/parallel/index.js');
      const L = require('./core/linalg/kmeans.js');
      (async () => {
        const self = await P.workerSelfTest();
        const rows = 40000, dims = 3, X = P.sharedFloat64(rows * dims);
        for (let i = 0; i < X.length; i++) X[i] = Math.sin(i * 0.37) * 10 + (i % 7);
        const a = await P.runKmeansInWorker(X, rows, dims, { k: 5, seed: 3, threads: 2 });
        const b = L.kmeans(X, rows, dims, { k: 5, seed: 3 });
        const same = a.sse === b.sse && a.assignments.every((v, i) => v === b.assignments[i]);
        console.log(JSON.stringify({ entry: self.entry, same, iterations: a.iterations }));
      })().catch((e) => { console.error(e); process.exit(1); });
    `);
    // NODE_PATH lets the compiled files in the temp dir resolve ml-matrix etc. from the project
    const stdout = execFileSync(process.execPath, [script], {
      cwd: out,
      env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
      encoding: 'utf8',
    });
    const res = JSON.parse(stdout.trim().split('\n').pop()!) as { entry: string; same: boolean; iterations: number };
    expect(res.entry).toBe(join(out, 'core', 'parallel', 'worker-entry.js'));
    expect(res.same).toBe(true);
    expect(res.iterations).toBeGreaterThan(0);
  }, 60_000);
});
