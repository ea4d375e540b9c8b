import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CUSTOMER_ROWS, DEFAULT_POPULATION_ROWS, generateDataset } from '../tools/generator';
import type { Dataset } from './run';

/** The generated files for a size and seed, generated once and reused (a marker file says they are complete). */
export async function ensureDataset(dataRoot: string, populationRows: number, seed: number): Promise<Dataset> {
  const customerRows = Math.round((populationRows * DEFAULT_CUSTOMER_ROWS) / DEFAULT_POPULATION_ROWS);
  const dir = join(dataRoot, `pop${populationRows}-cust${customerRows}-seed${seed}`);
  const marker = join(dir, '.complete');
  if (!existsSync(marker)) {
    console.error(`generating ${populationRows.toLocaleString('en-US')} + ${customerRows.toLocaleString('en-US')} rows (seed ${seed}) in ${dir} …`);
    rmSync(dir, { recursive: true, force: true });
    const summary = await generateDataset({ outDir: dir, populationRows, customerRows, seed });
    writeFileSync(marker, JSON.stringify({ generated: new Date().toISOString(), seconds: summary.seconds }));
    console.error(`  generated in ${summary.seconds.toFixed(1)} s`);
  }
  return { dir, populationRows, customerRows, seed };
}
