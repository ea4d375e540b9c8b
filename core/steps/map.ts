/** Step 5a, map: customers through the same fitted pipeline to the nearest centroid; both targeting lists written. */
import { join } from 'node:path';
import { CentroidsFileSchema } from '../../schemas/model-files';
import type { KFitOutput, MapOutput, PcaOutput, ScaleOutput, SplitOutput } from '../../schemas/steps';
import { writeAssignmentsParquet } from '../assignments';
import { FILES } from '../cleaning/cleaning-steps';
import { withDuckDb } from '../duckdb';
import { readMatrixAsync } from '../encoding';
import { assignNearestInWorkers } from '../parallel';
import { readInt32Array } from '../store/arrays';
import { readJsonFile } from '../store/json';
import { SCORES_DTYPE } from './pca';
import type { Loaded, StepRuntime } from './runtime';

export interface MapUpstream {
  split: Loaded<SplitOutput>;
  scale: Loaded<ScaleOutput>;
  pca: Loaded<PcaOutput>;
  final: Loaded<KFitOutput>;
}

export async function mapCustomers({ split, scale, pca, final }: MapUpstream, workDir: string, runtime: StepRuntime): Promise<MapOutput> {
  const { k, centroids } = await readJsonFile(join(final.dir, final.output.centroids), CentroidsFileSchema);
  const q = pca.output.keptComponents;
  const customerRows = pca.output.customers.rows;
  // Async reads throughout: a synchronous read of a large file holds the event loop (heartbeats) for its duration.
  const customerScores = await readMatrixAsync(join(pca.dir, pca.output.customers.scores), customerRows, q, SCORES_DTYPE, { shared: true });
  const clusters = {
    population: await readInt32Array(join(final.dir, final.output.assignments!), pca.output.population.rows),
    customers:
      customerRows > 0 ? (await assignNearestInWorkers(customerScores, customerRows, q, centroids, k, { signal: runtime.signal })).assignments : new Int32Array(0),
  };
  await withDuckDb({}, async (conn) => {
    for (const role of FILES) {
      await writeAssignmentsParquet(conn, {
        rows: await readInt32Array(join(scale.dir, scale.output[role].rowIndex), scale.output[role].rows),
        clusters: clusters[role],
        heavyParquet: join(split.dir, split.output[role].heavy),
        outPath: join(workDir, `${role}.parquet`),
      });
    }
  });
  const counts = [-1, ...Array.from({ length: k }, (_, i) => i)].map((id) => ({
    id,
    populationCount: id === -1 ? split.output.population.heavyRows : countOf(clusters.population, id),
    customerCount: id === -1 ? split.output.customers.heavyRows : countOf(clusters.customers, id),
  }));
  return { k, population: 'population.parquet', customers: 'customers.parquet', counts };
}

function countOf(assignments: Int32Array, id: number): number {
  let n = 0;
  for (let i = 0; i < assignments.length; i++) if (assignments[i] === id) n++;
  return n;
}
