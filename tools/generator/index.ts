/**
 * Synthetic Arvato-like data set: a general population file and a customers file with the real files' 85 columns,
 * value domains, missing codes, missing blocks and formatting quirks, plus the planted truth (latent segments,
 * heavy-missing rows) that a segmentation run should recover.
 *
 *   await generateDataset({ outDir: 'demo-data', populationRows: 20000, customerRows: 5000, seed: 7 });
 *
 * Output (outDir): Udacity_AZDIAS_Subset.csv, Udacity_CUSTOMERS_Subset.csv (';'-separated, LF, header in the
 * feature-summary order), AZDIAS_Feature_Summary.csv (byte copy of data/), truth.json, truth_population.csv and
 * truth_customers.csv (`row;segment;heavy`, row = 0-based data row, segment -1 for heavy-missing rows).
 * Identical seed and sizes give identical bytes.
 */
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readFeatureSummary } from '../../core/cleaning/feature-summary';
import { compileModel, FilePlan, generateRows, planFile, RowSink } from './model';
import { Rng } from './rng';
import {
  CUSTOMER_PROFILE, OVER_REPRESENTED_RATIO, POPULATION_PROFILE, SEGMENTS, UNDER_REPRESENTED_RATIO,
} from './spec';

export interface GenerateOptions {
  outDir: string;
  /** Default 891,221 (the real AZDIAS file). */
  populationRows?: number;
  /** Default 191,652 (the real CUSTOMERS file). */
  customerRows?: number;
  /** Default 1. */
  seed?: number;
  /**
   * Planted segments (ids of SEGMENTS) left out of this data set: no rows in either file; the other segments keep
   * their relative shares and their look (the value model is the same). Months generated with different drops
   * plant a segment that appears or vanishes (the segment-identity tests).
   */
  dropSegments?: readonly number[];
}

export interface GenerateSummary {
  outDir: string;
  files: { population: string; customers: string; featureSummary: string; truth: string };
  populationRows: number;
  customerRows: number;
  seconds: number;
}

export interface TruthSegment {
  id: number;
  name: string;
  description: string;
  /** Share of all population rows (heavy-missing rows belong to no segment). */
  populationShare: number;
  /** Share of all customer rows. */
  customerShare: number;
}

export interface Truth {
  seed: number;
  segments: TruthSegment[];
  /** Segments with customer share / population share >= 1.25. */
  overRepresented: number[];
  /** Segments with customer share / population share <= 0.8. */
  underRepresented: number[];
  heavyMissing: { populationShare: number; customerShare: number };
}

export const POPULATION_FILE = 'Udacity_AZDIAS_Subset.csv';
export const CUSTOMERS_FILE = 'Udacity_CUSTOMERS_Subset.csv';
export const FEATURE_SUMMARY_FILE = 'AZDIAS_Feature_Summary.csv';
export const TRUTH_FILE = 'truth.json';
export const TRUTH_POPULATION_FILE = 'truth_population.csv';
export const TRUTH_CUSTOMERS_FILE = 'truth_customers.csv';

export const DEFAULT_POPULATION_ROWS = 891221;
export const DEFAULT_CUSTOMER_ROWS = 191652;

/** The shipped feature summary, found from the sources (tools/generator) or the build (dist/tools/generator). */
/** A generated data set's three input files (the names the real Udacity files have), as a run takes them. */
export function datasetInputs(dir: string): { population: string; customers: string; featureSummary: string } {
  return { population: path.join(dir, POPULATION_FILE), customers: path.join(dir, CUSTOMERS_FILE), featureSummary: path.join(dir, FEATURE_SUMMARY_FILE) };
}

export function featureSummaryPath(): string {
  const candidates = [
    path.join(__dirname, '../../data', FEATURE_SUMMARY_FILE),
    path.join(__dirname, '../../../data', FEATURE_SUMMARY_FILE),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`cannot find ${FEATURE_SUMMARY_FILE}; looked in ${candidates.join(', ')}`);
  return found;
}

function checkCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
  return value;
}

async function writeChunk(stream: WriteStream, chunk: Buffer | string): Promise<void> {
  if (chunk.length === 0) return;
  if (!stream.write(chunk)) await once(stream, 'drain');
}

async function closeStream(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

async function writeFileRows(
  dataPath: string, truthPath: string, header: string, run: (sink: RowSink) => Promise<void>,
): Promise<void> {
  const data = createWriteStream(dataPath, { highWaterMark: 1 << 22 });
  const truth = createWriteStream(truthPath, { highWaterMark: 1 << 20 });
  let failure: Error | undefined;
  const onError = (error: Error): void => {
    failure ??= error;
  };
  data.on('error', onError);
  truth.on('error', onError);
  const guard = (): void => {
    if (failure) throw failure;
  };
  try {
    await writeChunk(data, `${header}\n`);
    await writeChunk(truth, 'row;segment;heavy\n');
    await run({
      data: async (chunk) => {
        guard();
        await writeChunk(data, chunk);
      },
      truth: async (chunk) => {
        guard();
        await writeChunk(truth, chunk);
      },
    });
  } finally {
    await Promise.all([closeStream(data), closeStream(truth)]);
  }
  guard();
}

export async function generateDataset(options: GenerateOptions): Promise<GenerateSummary> {
  const started = process.hrtime.bigint();
  const populationRows = checkCount('populationRows', options.populationRows ?? DEFAULT_POPULATION_ROWS);
  const customerRows = checkCount('customerRows', options.customerRows ?? DEFAULT_CUSTOMER_ROWS);
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const outDir = path.resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });

  const summaryPath = featureSummaryPath();
  const summary = readFeatureSummary(summaryPath);
  const order = summary.features.map((f) => f.attribute);
  const model = compileModel(order, new Map(summary.features.map((f) => [f.attribute, f.missingCodes])));
  const header = order.join(';');

  const dropped = new Set(options.dropSegments ?? []);
  for (const id of dropped) {
    if (!SEGMENTS.some((s) => s.id === id)) throw new Error(`dropSegments: no planted segment ${id} (ids ${SEGMENTS.map((s) => s.id).join(', ')})`);
  }
  if (dropped.size >= SEGMENTS.length) throw new Error('dropSegments: at least one planted segment must stay');
  const kept = (s: (typeof SEGMENTS)[number]): number => (dropped.has(s.id) ? 0 : 1);
  const populationShares = SEGMENTS.map((s) => s.populationShare * kept(s));
  const customerShares = SEGMENTS.map((s) => s.populationShare * s.lift * kept(s));
  const populationPlan = planFile(populationRows, POPULATION_PROFILE, populationShares);
  const customerPlan = planFile(customerRows, CUSTOMER_PROFILE, customerShares);

  const files = { ...datasetInputs(outDir), truth: path.join(outDir, TRUTH_FILE) };
  // Byte copy; written fresh (not copyFile) so a read-only source does not make the copy read-only.
  rmSync(files.featureSummary, { force: true });
  writeFileSync(files.featureSummary, readFileSync(summaryPath));

  await writeFileRows(files.population, path.join(outDir, TRUTH_POPULATION_FILE), header, (sink) =>
    generateRows(model, populationPlan, POPULATION_PROFILE, new Rng(seed, 'population'), { gebaeudetypFive: populationRows >= 1000 }, sink),
  );
  await writeFileRows(files.customers, path.join(outDir, TRUTH_CUSTOMERS_FILE), header, (sink) =>
    generateRows(model, customerPlan, CUSTOMER_PROFILE, new Rng(seed, 'customers'), { gebaeudetypFive: false }, sink),
  );

  await writeFile(files.truth, `${JSON.stringify(buildTruth(seed, populationPlan, customerPlan), null, 2)}\n`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { outDir, files, populationRows, customerRows, seconds };
}

function buildTruth(seed: number, population: FilePlan, customers: FilePlan): Truth {
  const S = SEGMENTS.length;
  const segments = SEGMENTS.map((s, i) => ({
    id: s.id,
    name: s.name,
    description: s.description,
    populationShare: population.counts[i] / population.rows,
    customerShare: customers.counts[i] / customers.rows,
  }));
  const ratio = (s: TruthSegment): number => (s.populationShare > 0 ? s.customerShare / s.populationShare : 0);
  return {
    seed,
    segments,
    overRepresented: segments.filter((s) => ratio(s) >= OVER_REPRESENTED_RATIO).map((s) => s.id),
    underRepresented: segments.filter((s) => s.populationShare > 0 && ratio(s) <= UNDER_REPRESENTED_RATIO).map((s) => s.id),
    heavyMissing: {
      populationShare: (population.counts[S] + population.counts[S + 1]) / population.rows,
      customerShare: (customers.counts[S] + customers.counts[S + 1]) / customers.rows,
    },
  };
}
