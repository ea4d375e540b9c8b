import { z } from 'zod';
import { copyFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { assessMissingness, checkCleanRows, ingest, recodeMissing, resolveMaxRowMissing, splitRows } from '../core/cleaning/steps';
import { withDuckDb } from '../core/duckdb';
import { sha256File } from '../core/store/step-store';
import { parseConfig } from '../schemas/config';
import { readFeatureSummary } from '../schemas/feature-summary';
import {
  IngestOutput,
  InputPathsSchema,
  MissingnessOutput,
  RecodeOutput,
  RunContextSchema,
  SplitOutput,
  StepRef,
  StepRefSchema,
  StepReport,
} from '../schemas/steps';
import { checkpointedStep, loadStep, toActivityFailure } from './step';
import { InputError } from '../common/errors';

const IngestInputSchema = RunContextSchema.extend({ inputs: InputPathsSchema });
const AfterIngestSchema = RunContextSchema.extend({ ingest: StepRefSchema });
/** `ingest` is optional: when the workflow passes it, "nothing left to model" errors name the population file. */
const AfterRecodeSchema = RunContextSchema.extend({ recode: StepRefSchema, ingest: StepRefSchema.optional() });
const SplitInputSchema = RunContextSchema.extend({ recode: StepRefSchema, missingness: StepRefSchema, ingest: StepRefSchema.optional() });

export function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  try {
    return schema.parse(input);
  } catch (error) {
    throw toActivityFailure(error);
  }
}

/** The ingest checkpoint keeps a copy of the feature summary under this name. */
export const FEATURE_SUMMARY_COPY = 'feature-summary.csv';

const INPUT_ROLES = { population: 'population file', customers: 'customers file', featureSummary: 'feature summary' } as const;

/** Hashes one input file; a missing path, a directory or an unreadable file is the user's to fix, not retried. */
async function hashInput(role: keyof typeof INPUT_ROLES, path: string): Promise<string> {
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      throw new InputError(`the ${INPUT_ROLES[role]} is not a file but a ${info.isDirectory() ? 'directory' : 'special file'}`, { file: path });
    }
    return await sha256File(path);
  } catch (error) {
    if (error instanceof InputError) throw toActivityFailure(error);
    const { code, message } = error as NodeJS.ErrnoException;
    const reason = code === 'ENOENT' ? 'ENOENT (no such file)' : code === 'EACCES' ? 'EACCES (permission denied)' : (code ?? message);
    throw toActivityFailure(new InputError(`cannot read the ${INPUT_ROLES[role]}: ${reason}`, { file: path }));
  }
}

/** Step 1a: validate and load both files; the checkpoint key is the inputs' content hashes. */
export async function ingestData(rawInput: unknown): Promise<StepReport> {
  const input = parse(IngestInputSchema, rawInput);
  // The first step validates the whole config, so a bad value fails the run before any work is done.
  parseConfigSafe(input.config);
  const inputs = {
    population: resolve(input.inputs.population),
    customers: resolve(input.inputs.customers),
    featureSummary: resolve(input.inputs.featureSummary),
  };
  const hashes = {
    population: await hashInput('population', inputs.population),
    customers: await hashInput('customers', inputs.customers),
    featureSummary: await hashInput('featureSummary', inputs.featureSummary),
  };
  const { ref, output } = await checkpointedStep<IngestOutput>(input.storeDir, 'ingest', hashes, async (workDir) => {
    const summary = readFeatureSummary(inputs.featureSummary);
    // Later steps read the summary from the checkpoint, so a changed file on disk cannot skew a resumed run.
    await copyFile(inputs.featureSummary, join(workDir, FEATURE_SUMMARY_COPY));
    return withDuckDb({}, (conn) =>
      ingest(conn, { population: inputs.population, customers: inputs.customers, featureSummaryPath: inputs.featureSummary }, summary, workDir, hashes),
    );
  });
  return {
    ref,
    figures: {
      populationRows: output.population.rows,
      customerRows: output.customers.rows,
      columns: output.columns.length,
      textColumns: output.columns.filter((c) => c.storage === 'text').length,
    },
  };
}

/** Step 1b: every listed missing/unknown code becomes NULL. */
export async function recodeMissingCodes(rawInput: unknown): Promise<StepReport> {
  const input = parse(AfterIngestSchema, rawInput);
  const ingested = await loadStep<IngestOutput>(input.ingest);
  const { ref, output } = await checkpointedStep<RecodeOutput>(input.storeDir, 'recode', { ingest: input.ingest.key }, (workDir) =>
    withDuckDb({}, (conn) => recodeMissing(conn, ingested, workDir)),
  );
  return {
    ref,
    figures: {
      populationCodedCells: output.totals.population.coded,
      populationEmptyCells: output.totals.population.empty,
      customerCodedCells: output.totals.customers.coded,
      customerEmptyCells: output.totals.customers.empty,
    },
  };
}

/** The population file's path, for error messages (undefined when the workflow did not pass the ingest step). */
async function populationFile(ingest: StepRef | undefined): Promise<string | undefined> {
  return ingest ? (await loadStep<IngestOutput>(ingest)).output.population.path : undefined;
}

/** Step 1c: missing share per column; drop the outlier columns. */
export async function assessColumnMissingness(rawInput: unknown): Promise<StepReport> {
  const input = parse(AfterRecodeSchema, rawInput);
  const config = parseConfigSafe(input.config);
  const recoded = await loadStep<RecodeOutput>(input.recode);
  const columnNames = recoded.output.columns.map((c) => c.name);
  const file = await populationFile(input.ingest);
  const { ref, output } = await checkpointedStep<MissingnessOutput>(
    input.storeDir,
    'missingness',
    { recode: input.recode.key, maxColumnMissingShare: config.maxColumnMissingShare },
    async () => withDuckDb({}, (conn) => assessMissingness(conn, recoded, columnNames, config.maxColumnMissingShare, file)),
  );
  return {
    ref,
    figures: { droppedColumns: output.dropped.join(',') || 'none', keptColumns: output.kept.length },
  };
}

/** Step 1d: heavy-missing rows aside, clean rows on; compare the two groups. */
export async function splitByRowMissingness(rawInput: unknown): Promise<StepReport> {
  const input = parse(SplitInputSchema, rawInput);
  const config = parseConfigSafe(input.config);
  const recoded = await loadStep<RecodeOutput>(input.recode);
  const missingness = await loadStep<MissingnessOutput>(input.missingness);
  const maxRowMissing = resolveMaxRowMissing(config, missingness.output.kept.length);
  try {
    checkCleanRows(missingness.output, maxRowMissing, config, await populationFile(input.ingest));
  } catch (error) {
    throw toActivityFailure(error);
  }
  const { ref, output } = await checkpointedStep<SplitOutput>(
    input.storeDir,
    'split',
    { recode: input.recode.key, missingness: input.missingness.key, maxRowMissing },
    (workDir) => withDuckDb({}, (conn) => splitRows(conn, recoded, missingness.output, maxRowMissing, workDir)),
  );
  const top = output.divergence[0];
  return {
    ref,
    figures: {
      maxRowMissing,
      populationHeavyShare: output.population.heavyShare,
      customerHeavyShare: output.customers.heavyShare,
      populationCleanRows: output.population.cleanRows,
      customerCleanRows: output.customers.cleanRows,
      mostDivergentColumn: top ? `${top.column} (JS ${top.jensenShannon.toFixed(3)})` : 'none',
    },
  };
}

export function parseConfigSafe(raw: unknown) {
  try {
    return parseConfig(raw);
  } catch (error) {
    throw toActivityFailure(error);
  }
}
