/**
 * A/B of the PCA loops, plain JS against the SIMD kernel, in one process, interleaved (JS, kernel, JS, …) so a
 * busy machine slows both alike; prints medians and the load average. Both must give identical bits.
 *
 *   node dist/bench/pca-kernel.js [--rows 300000] [--cols 130] [--q 87] [--repeat 5]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { columnMeansAndCovariance, projectRows } from '../core/linalg/pca';
import { Prng } from '../core/linalg/prng';
import { setPcaKernelEnabled } from '../core/wasm/linalg';
import { median } from './report';

function main(): void {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, cols: { type: 'string' }, q: { type: 'string' }, repeat: { type: 'string' } } });
  const rows = Number(values.rows ?? 300_000);
  const cols = Number(values.cols ?? 130);
  const q = Number(values.q ?? 87);
  const repeat = Number(values.repeat ?? 5);
  const rng = new Prng(1);
  const x = new Float32Array(rows * cols);
  for (let i = 0; i < x.length; i++) x[i] = rng.nextFloat() * 4 - 2;
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`${rows.toLocaleString('en-US')} × ${cols} float32 onto ${q} components, one thread, ${repeat} interleaved pairs; load ${load()}`);
  const times: Record<string, number[]> = { covJs: [], covKernel: [], projJs: [], projKernel: [] };
  let mean: Float64Array = new Float64Array(cols);
  let components = new Float64Array(q * cols);
  for (let i = 0; i < components.length; i++) components[i] = rng.nextFloat() - 0.5;
  const results: Record<string, Float64Array | Float32Array> = {};
  for (let r = 0; r < repeat; r++) {
    for (const kernel of [false, true]) {
      setPcaKernelEnabled(kernel);
      const name = kernel ? 'Kernel' : 'Js';
      let t = performance.now();
      const cov = columnMeansAndCovariance(x, rows, cols);
      times[`cov${name}`].push((performance.now() - t) / 1000);
      mean = cov.mean;
      t = performance.now();
      const scores = projectRows(x, rows, cols, mean, components, q, undefined);
      times[`proj${name}`].push((performance.now() - t) / 1000);
      results[`cov${name}`] = cov.covariance;
      results[`proj${name}`] = scores;
    }
  }
  setPcaKernelEnabled(true);
  const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));
  const covFlops = rows * cols * (cols + 1);
  const projFlops = 2 * rows * cols * q;
  for (const [what, flops] of [['cov', covFlops], ['proj', projFlops]] as const) {
    const js = median(times[`${what}Js`]);
    const k = median(times[`${what}Kernel`]);
    console.log(
      `${what === 'cov' ? 'covariance' : 'projection'}: JS ${js.toFixed(3)} s (${(flops / js / 1e9).toFixed(2)} GFLOP/s), kernel ${k.toFixed(3)} s (${(flops / k / 1e9).toFixed(2)} GFLOP/s), ` +
        `${(js / k).toFixed(2)}× faster; identical bits: ${same(results[`${what}Js`], results[`${what}Kernel`])}`,
    );
  }
  console.log(`load at the end ${load()}`);
}

main();
