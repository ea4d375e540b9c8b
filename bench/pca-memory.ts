/**
 * Peak memory of the PCA step by phase (load, covariance, eigen, projection of each file), on a scale
 * checkpoint folder (real, or a synthetic one this script writes). Memory, unlike time, does not depend on the
 * machine's load: the process's RSS is sampled every 20 ms and tagged with the phase the step last reported,
 * and the kernel's VmHWM (the true high-water mark) is read at the end.
 *
 *   node dist/bench/pca-memory.js --generate --dir /tmp/pca-mem --rows 800000 --customers 142000 [--cols 128]
 *   node dist/bench/pca-memory.js --dir /tmp/pca-mem [--components 86] [--out /tmp/pca-out]
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Prng } from '../core/linalg/prng';
import { fitPca } from '../core/steps/pca';
import type { ScaleOutput } from '../schemas/steps';
import { vmHwmBytes } from './processes';

const GIB = 2 ** 30;

/** Writes a rows x cols float32 matrix of low-rank structure plus noise, block by block (never whole in memory). */
function writeSyntheticMatrix(path: string, rows: number, cols: number, seed: number): void {
  const rng = new Prng(seed);
  const latent = 12;
  const loadings = Float64Array.from({ length: latent * cols }, () => rng.nextFloat() * 2 - 1);
  const fd = openSync(path, 'w');
  const blockRows = 8192;
  const block = new Float32Array(blockRows * cols);
  const z = new Float64Array(latent);
  try {
    for (let r0 = 0; r0 < rows; r0 += blockRows) {
      const n = Math.min(blockRows, rows - r0);
      for (let r = 0; r < n; r++) {
        for (let l = 0; l < latent; l++) z[l] = (rng.nextFloat() * 2 - 1) * (latent - l);
        for (let c = 0; c < cols; c++) {
          let v = rng.nextFloat() - 0.5;
          for (let l = 0; l < latent; l++) v += z[l] * loadings[l * cols + c];
          block[r * cols + c] = v;
        }
      }
      writeSync(fd, new Uint8Array(block.buffer, 0, n * cols * 4));
    }
  } finally {
    closeSync(fd);
  }
}

function generate(dir: string, rows: number, customers: number, cols: number): void {
  mkdirSync(dir, { recursive: true });
  writeSyntheticMatrix(join(dir, 'population.matrix'), rows, cols, 1);
  writeSyntheticMatrix(join(dir, 'customers.matrix'), customers, cols, 2);
  const output: ScaleOutput = {
    transform: 'transform.json',
    features: Array.from({ length: cols }, (_, j) => `f${j}`),
    population: { rows, matrix: 'population.matrix', rowIndex: 'population.rows' },
    customers: { rows: customers, matrix: 'customers.matrix', rowIndex: 'customers.rows' },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ output }));
}

async function measure(dir: string, components: number | undefined, outDir: string | undefined): Promise<void> {
  const output = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { output: ScaleOutput }).output;
  const workDir = outDir ?? (await mkdtemp(join(tmpdir(), 'pca-memory-')));
  mkdirSync(workDir, { recursive: true });
  const peaks = new Map<string, number>();
  // Until the step's first progress report: loading (before streaming) or the column-means pass (after).
  let phase = 'start / means';
  const sample = () => {
    const rss = process.memoryUsage().rss;
    peaks.set(phase, Math.max(peaks.get(phase) ?? 0, rss));
  };
  const baseline = process.memoryUsage().rss;
  const timer = setInterval(sample, 20);
  const started = performance.now();
  const result = await fitPca(
    { dir, output },
    { varianceTarget: 0.9, components, interpret: 3 },
    workDir,
    join(workDir, '.resume.cov'),
    {
      progress: (details) => {
        sample();
        phase = typeof details.phase === 'string' ? details.phase : details.kind === 'pca' ? 'covariance' : String(details.kind);
      },
    },
  );
  sample();
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  const hwm = vmHwmBytes('self');
  console.log(
    `${output.population.rows.toLocaleString('en-US')} + ${output.customers.rows.toLocaleString('en-US')} rows x ${output.features.length} -> ${result.keptComponents} components, ${seconds.toFixed(1)} s (rough: shared machine)`,
  );
  console.log(`  RSS before the step ${(baseline / GIB).toFixed(3)} GiB`);
  for (const [name, peak] of peaks) console.log(`  peak RSS in phase ${name.padEnd(20)} ${(peak / GIB).toFixed(3)} GiB`);
  console.log(`  VmHWM (process lifetime) ${hwm === undefined ? 'n/a' : `${(hwm / GIB).toFixed(3)} GiB`}`);
  writeFileSync(join(workDir, 'output.json'), JSON.stringify(result));
  if (!outDir) await rm(workDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      generate: { type: 'boolean' },
      dir: { type: 'string' },
      rows: { type: 'string' },
      customers: { type: 'string' },
      cols: { type: 'string' },
      components: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (!values.dir) throw new Error('--dir is required');
  if (values.generate) {
    generate(values.dir, Number(values.rows ?? 300_000), Number(values.customers ?? 53_000), Number(values.cols ?? 128));
    return;
  }
  await measure(values.dir, values.components === undefined ? undefined : Number(values.components), values.out);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
