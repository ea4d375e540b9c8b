/**
 * Floors: what each step's work costs at the least, measured on the same data in the same process right after
 * the run, so a step's time can be read as a multiple of its own limit (and compared between commits in the
 * JSON) instead of against a figure from another machine or another day.
 *
 *   ingest                        DuckDB's plain read_csv → Parquet of the same two CSV files (types sniffed)
 *   recode, missingness, split    one DuckDB scan of every column of the typed Parquet ingest wrote
 *   scale                         one streaming pass (read + sum) over the float matrices scale wrote
 *   pca                           that pass over the population matrix (+ customers for the projection) plus
 *                                 the covariance's and projection's FLOPs at the k-means kernel's measured
 *                                 GFLOP/s (one core; the step may use every core)
 *   sweep, kmeans                 Σ over the fits of Lloyd passes (the final fit: + its labelling pass) × the measured time of one kernel
 *                                 assignment pass over the scores at that k (one core)
 *
 * A floor is taken as the best of a few repetitions (a floor is what the work needs, not what it happened to
 * get). Floors are measured under the same load as the run (with --busy, beside the busy loops).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteIdent, quoteLiteral, withDuckDb } from '../core/duckdb';
import { acquireScoresMatrix } from '../core/store/arrays';
import { kernelFor, WasmArena } from '../core/wasm/kernel';

export interface StepFloor {
  /** Seconds the step's work needs at the least (see the module comment for each step's basis). */
  seconds: number;
  basis: string;
}

export interface Floors {
  steps: Record<string, StepFloor>;
  /** The k-means kernel's rate in one assignment pass (3 FLOPs per row, centroid and dimension). */
  kernelGflops: number;
  /** One kernel assignment pass over the population scores, per k (seconds). */
  lloydPassSeconds: Record<string, number>;
  /** Seconds spent measuring the floors (not part of the run's time). */
  measuredInSeconds: number;
}

interface Manifest<T> {
  output: T;
}

async function stepDirs(outDir: string, step: string): Promise<string[]> {
  const root = join(outDir, 'artifacts', step);
  const keys = (await readdir(root).catch(() => [] as string[])).filter((name) => !name.startsWith('.'));
  return keys.map((key) => join(root, key));
}

async function onlyManifest<T>(outDir: string, step: string): Promise<{ dir: string; output: T }> {
  const dirs = await stepDirs(outDir, step);
  if (dirs.length !== 1) throw new Error(`floors: expected one ${step} checkpoint under ${outDir}, found ${dirs.length}`);
  const manifest = JSON.parse(await readFile(join(dirs[0], 'manifest.json'), 'utf8')) as Manifest<T>;
  return { dir: dirs[0], output: manifest.output };
}

async function bestOf(times: number, work: () => Promise<void> | void): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await work();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return best;
}

/** Reads a float32 file in 4 MiB pieces and sums it: one streaming pass, nothing held. */
export async function streamingPass(path: string): Promise<number> {
  let sum = 0;
  let carry: Buffer = Buffer.alloc(0);
  for await (const piece of createReadStream(path, { highWaterMark: 4 << 20 }) as AsyncIterable<Buffer>) {
    const bytes = carry.length ? Buffer.concat([carry, piece]) : piece;
    const whole = bytes.length - (bytes.length % 4);
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : Buffer.from(bytes);
    const values = new Float32Array(aligned.buffer, aligned.byteOffset, whole / 4);
    for (let i = 0; i < values.length; i++) sum += values[i];
    carry = bytes.subarray(whole);
  }
  return sum;
}

interface IngestOut {
  population: { path: string; parquet: string };
  customers: { path: string; parquet: string };
  columns: { name: string }[];
}
interface ScaleOut {
  features: string[];
  population: { rows: number; matrix: string };
  customers: { rows: number; matrix: string };
}
interface PcaOut {
  keptComponents: number;
  population: { rows: number; scores: string };
  customers: { rows: number; scores: string };
}
interface FitOut {
  k: number;
  iterations: number;
  initsFromSweep?: number;
}

/** Floors for a finished run whose artifacts are in outDir (the run's own files, before they are deleted). */
// long because: each step's floor measured in pipeline order on the run's own files; left whole while issue 12 changes the benchmark
export async function measureFloors(outDir: string): Promise<Floors> {
  const started = performance.now();
  const steps: Record<string, StepFloor> = {};
  const ingest = await onlyManifest<IngestOut>(outDir, 'ingest');

  // Ingest: DuckDB alone, CSV → Parquet, same files, the pipeline's DuckDB settings.
  const scratch = await mkdtemp(join(tmpdir(), 'segments-floor-'));
  try {
    const csvToParquet = await bestOf(2, () =>
      withDuckDb({}, async (conn) => {
        for (const role of ['population', 'customers'] as const) {
          const target = join(scratch, `${role}.parquet`);
          await conn.run(`COPY (SELECT * FROM read_csv(${quoteLiteral(ingest.output[role].path)}, delim=';', header=true)) TO ${quoteLiteral(target)} (FORMAT parquet)`);
        }
      }),
    );
    steps.ingest = { seconds: csvToParquet, basis: 'DuckDB read_csv → Parquet of both files' };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }

  // Recode, missingness, split: one scan of every column of the typed Parquet.
  const counts = ingest.output.columns.map((c) => `count(${quoteIdent(c.name)})`).join(', ');
  const scan = await bestOf(2, () =>
    withDuckDb({}, async (conn) => {
      for (const role of ['population', 'customers'] as const) {
        await conn.runAndReadAll(`SELECT count(*), ${counts} FROM read_parquet(${quoteLiteral(join(ingest.dir, ingest.output[role].parquet))})`);
      }
    }),
  );
  for (const step of ['recode', 'missingness', 'split']) steps[step] = { seconds: scan, basis: 'one DuckDB scan of the typed Parquet (both files)' };

  // Scale: one streaming pass over the float matrices it writes.
  const scale = await onlyManifest<ScaleOut>(outDir, 'scale');
  const cols = scale.output.features.length;
  const passOf = async (role: 'population' | 'customers') => bestOf(2, async () => void (await streamingPass(join(scale.dir, scale.output[role].matrix))));
  const populationPass = await passOf('population');
  const customersPass = await passOf('customers');
  steps.scale = { seconds: populationPass + customersPass, basis: 'one streaming pass over both float32 matrices' };

  // k-means kernel: one assignment pass per k over the population scores (held in the kernel's memory).
  const pca = await onlyManifest<PcaOut>(outDir, 'pca');
  const q = pca.output.keptComponents;
  const rows = pca.output.population.rows;
  const fits: { step: string; fit: FitOut }[] = [];
  const artifacts = await readdir(join(outDir, 'artifacts'));
  for (const step of artifacts.filter((s) => s.startsWith('kmeans-'))) {
    for (const dir of await stepDirs(outDir, step)) {
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest<FitOut>;
      fits.push({ step, fit: manifest.output });
    }
  }
  const lloydPassSeconds: Record<string, number> = {};
  let flops = 0;
  let flopSeconds = 0;
  const lease = acquireScoresMatrix(join(pca.dir, pca.output.population.scores), rows, q);
  try {
    const { matrix } = lease;
    const arena = new WasmArena(matrix.memory);
    const kernel = kernelFor(matrix.memory);
    const ks = [...new Set(fits.map((f) => f.fit.k))].sort((a, b) => a - b);
    const kMax = Math.max(1, ...ks);
    const centroids = arena.alloc(kMax * q * 8);
    const assign = arena.alloc(rows * 4);
    const dist = arena.alloc(rows * 8);
    try {
      const scores = new Float32Array(matrix.memory.buffer, matrix.offset, rows * q);
      const C = new Float64Array(matrix.memory.buffer, centroids, kMax * q);
      // Centroids at evenly spaced rows: a pass costs the same whatever the centroids are (no pruning here).
      for (let j = 0; j < kMax; j++) for (let d = 0; d < q; d++) C[j * q + d] = scores[Math.floor((j * rows) / kMax) * q + d];
      for (const k of ks) {
        const seconds = await bestOf(3, () => kernel.assignNearest(matrix.offset, 1, q, centroids, k, 0, rows, assign, dist));
        lloydPassSeconds[k] = seconds;
        flops += 3 * rows * k * q;
        flopSeconds += seconds;
      }
    } finally {
      arena.free(dist);
      arena.free(assign);
      arena.free(centroids);
    }
  } finally {
    lease.release();
  }
  const kernelGflops = flopSeconds > 0 ? flops / flopSeconds / 1e9 : NaN;

  // PCA: read the population matrix once (covariance) and both once (projection), plus the arithmetic at the
  // kernel's rate: the covariance's upper triangle (multiply + add per pair per row) and the projection.
  const pcaRows = scale.output.population.rows;
  const allRows = pcaRows + scale.output.customers.rows;
  const covarianceFlops = pcaRows * cols * (cols + 1);
  const projectionFlops = 2 * allRows * cols * q;
  const arithmetic = (covarianceFlops + projectionFlops) / (kernelGflops * 1e9);
  steps.pca = {
    seconds: 2 * populationPass + customersPass + arithmetic,
    basis: `population matrix passed twice, customers once, + ${((covarianceFlops + projectionFlops) / 1e9).toFixed(2)} GFLOP at ${kernelGflops.toFixed(2)} GFLOP/s`,
  };

  // Sweep and final fit: Lloyd passes × one pass at that k (the sample init's passes are not counted).
  let sweep = 0;
  let sweepPasses = 0;
  let final = 0;
  let finalPasses = 0;
  for (const { step, fit } of fits) {
    const seconds = fit.iterations * (lloydPassSeconds[fit.k] ?? 0);
    if (step === 'kmeans-final') {
      // Plus the pass that labels every row with the best centroids: with the k rule the sweep ran all the final
      // fit's inits (0 iterations here) and that pass is the step's whole work.
      final += seconds + (lloydPassSeconds[fit.k] ?? 0);
      finalPasses += fit.iterations;
    } else {
      sweep += seconds;
      sweepPasses += fit.iterations;
    }
  }
  steps.sweep = { seconds: sweep, basis: `${sweepPasses} Lloyd passes × one kernel pass at each k (one core)` };
  steps.kmeans = { seconds: final, basis: `${finalPasses} Lloyd passes + 1 labelling pass × one kernel pass at k (one core)` };
  return { steps, kernelGflops, lloydPassSeconds, measuredInSeconds: (performance.now() - started) / 1000 };
}
