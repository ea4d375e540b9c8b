/**
 * Cluster profiles in original units from the members themselves: the mean of each cluster's rows of the
 * standardised (imputed) matrix, scaled back. A mean of values lies within their range, so a profile can never
 * show a value outside a feature's observed range (a one-hot share outside [0, 1], an 8.8 on a 1–7 scale) — which
 * the PCA reconstruction of a centroid could, since the dropped components carry part of every feature.
 *
 * The matrix file is read in blocks of rows (a full-size matrix is ~0.6 GB), summed in float64 per cluster.
 */
import { open } from 'node:fs/promises';
import type { FittedTransform } from '../../schemas/model-files';
import { inverseScale } from './inverse';

const BLOCK_ROWS = 8192;

/**
 * k × cols sums and the k counts of a float32 matrix file's rows by cluster (labels < 0 are skipped), read block
 * by block asynchronously, so an activity's event loop keeps heartbeating.
 */
export async function clusterSumsFromFileAsync(path: string, rows: number, cols: number, labels: Int32Array, k: number): Promise<{ sums: Float64Array; counts: Float64Array }> {
  if (labels.length !== rows) throw new RangeError(`cluster means: ${labels.length} labels for ${rows} rows`);
  const sums = new Float64Array(k * cols);
  const counts = new Float64Array(k);
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    if (size !== rows * cols * 4) throw new Error(`${path} has ${size} bytes, expected ${rows * cols * 4} (float32 ${rows} × ${cols})`);
    const block = new Float32Array(BLOCK_ROWS * cols);
    const bytes = new Uint8Array(block.buffer);
    for (let start = 0; start < rows; start += BLOCK_ROWS) {
      const n = Math.min(BLOCK_ROWS, rows - start);
      const want = n * cols * 4;
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(bytes, got, want - got, start * cols * 4 + got);
        if (bytesRead === 0) throw new Error(`${path} ended early`);
        got += bytesRead;
      }
      accumulate(block, n, cols, labels, start, k, sums, counts);
    }
  } finally {
    await handle.close();
  }
  return { sums, counts };
}

/** Adds rows [0, n) of `block` (rows start.. of the matrix) to their cluster's sums. */
export function accumulate(block: ArrayLike<number>, n: number, cols: number, labels: Int32Array, start: number, k: number, sums: Float64Array, counts: Float64Array): void {
  for (let r = 0; r < n; r++) {
    const c = labels[start + r];
    if (c < 0) continue;
    if (c >= k) throw new RangeError(`label ${c} at row ${start + r} is not below k = ${k}`);
    counts[c]++;
    const o = r * cols, so = c * cols;
    for (let j = 0; j < cols; j++) sums[so + j] += block[o + j];
  }
}

/** Per cluster: the standardised mean and the mean in original (encoded) units; an empty cluster gets the population mean. */
export function clusterMeansInOriginalUnits(sums: Float64Array, counts: Float64Array, cols: number, transform: FittedTransform): { standardised: number[]; original: number[] }[] {
  return Array.from(counts, (count, c) => {
    const standardised = Array.from({ length: cols }, (_, j) => (count > 0 ? sums[c * cols + j] / count : 0));
    return { standardised, original: inverseScale(standardised, transform) };
  });
}
