/** Step 1, cleaning: ingest, recode missing codes, column missingness, row split — over core/cleaning/cleaning-steps.ts. */
import { join, resolve } from 'node:path';
import { valueCheckSettings } from '../core/cleaning/domains';
import { MODEL_FILES } from '../schemas/model-files';
import { Recoded, assessMissingness, checkCleanRows, hashInput, ingestFiles, recodeMissing, resolveMaxRowMissing, splitRows } from '../core/cleaning/cleaning-steps';
import { withDuckDb } from '../core/duckdb';
import {
  IngestInput,
  IngestInputSchema,
  IngestOutput,
  IngestOutputSchema,
  MissingnessInput,
  MissingnessInputSchema,
  MissingnessOutput,
  MissingnessOutputSchema,
  RecodeInput,
  RecodeInputSchema,
  RecodeOutput,
  RecodeOutputSchema,
  SplitInput,
  SplitInputSchema,
  SplitOutput,
  StepRef,
  StepReport,
} from '../schemas/steps';
import { checkpointedStep, failingNonRetryably, loadStep, parseInput } from './runner';

/** Step 1a: validate and load both files; the checkpoint key is the inputs' content hashes. */
export async function ingestData(rawInput: IngestInput): Promise<StepReport> {
  const input = parseInput(IngestInputSchema, rawInput);
  const inputs = {
    population: resolve(input.inputs.population),
    customers: resolve(input.inputs.customers),
    featureSummary: resolve(input.inputs.featureSummary),
  };
  const hashes = await failingNonRetryably(async () => ({
    population: await hashInput('population', inputs.population),
    customers: await hashInput('customers', inputs.customers),
    featureSummary: await hashInput('featureSummary', inputs.featureSummary),
  }));
  const { ref, output } = await checkpointedStep<IngestOutput>(input.storeDir, 'ingest', hashes, (workDir) => ingestFiles(inputs, hashes, workDir));
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
export async function recodeMissingCodes(rawInput: RecodeInput): Promise<StepReport> {
  const input = parseInput(RecodeInputSchema, rawInput);
  const { config } = input;
  const ingested = await loadStep(input.ingest, IngestOutputSchema);
  const checks = await failingNonRetryably(() => valueCheckSettings(config.valueChecks, join(ingested.dir, MODEL_FILES.featureSummary), ingested.output.columns.map((c) => c.name)));
  const { ref, output } = await checkpointedStep<RecodeOutput>(input.storeDir, 'recode', { ingest: input.ingest.key, checks }, (workDir) =>
    withDuckDb({}, (conn) => failingNonRetryably(() => recodeMissing(conn, ingested, workDir, checks))),
  );
  const { population, customers } = output.totals;
  return {
    ref,
    figures: { populationCodedCells: population.coded, populationEmptyCells: population.empty, customerCodedCells: customers.coded, customerEmptyCells: customers.empty },
  };
}

/**
 * The recode checkpoint with the ingest checkpoint its plans read, and the population file's path for error
 * messages (both undefined when the workflow did not pass the ingest step).
 */
async function loadRecoded(recode: StepRef, ingest: StepRef | undefined): Promise<{ recoded: Recoded; populationFile: string | undefined }> {
  const recoded = await loadStep(recode, RecodeOutputSchema);
  const ingested = ingest ? await loadStep(ingest, IngestOutputSchema) : undefined;
  return { recoded: { ...recoded, ingested }, populationFile: ingested?.output.population.path };
}

/** Step 1c: missing share per column; drop the outlier columns. */
export async function assessColumnMissingness(rawInput: MissingnessInput): Promise<StepReport> {
  const input = parseInput(MissingnessInputSchema, rawInput);
  const { config } = input;
  const { recoded, populationFile: file } = await loadRecoded(input.recode, input.ingest);
  const columnNames = recoded.output.columns.map((c) => c.name);
  const { ref, output } = await checkpointedStep<MissingnessOutput>(
    input.storeDir,
    'missingness',
    { recode: input.recode.key, maxColumnMissingShare: config.maxColumnMissingShare },
    async () => withDuckDb({}, (conn) => assessMissingness(conn, recoded, columnNames, config.maxColumnMissingShare, file)),
  );
  return { ref, figures: { droppedColumns: output.dropped.join(',') || 'none', keptColumns: output.kept.length } };
}

/** Step 1d: heavy-missing rows aside, clean rows on; compare the two groups. */
export async function splitByRowMissingness(rawInput: SplitInput): Promise<StepReport> {
  const input = parseInput(SplitInputSchema, rawInput);
  const { config } = input;
  const { recoded, populationFile: file } = await loadRecoded(input.recode, input.ingest);
  const missingness = await loadStep(input.missingness, MissingnessOutputSchema);
  const maxRowMissing = resolveMaxRowMissing(config, missingness.output.kept.length);
  await failingNonRetryably(() => checkCleanRows(missingness.output, maxRowMissing, config, file));
  const { ref, output } = await checkpointedStep<SplitOutput>(
    input.storeDir,
    'split',
    { recode: input.recode.key, missingness: input.missingness.key, maxRowMissing, heavyComparison: config.heavyComparison },
    (workDir) => withDuckDb({}, (conn) => splitRows(conn, recoded, missingness.output, maxRowMissing, workDir, config.heavyComparison)),
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
      comparedColumns: output.comparison ? `${output.comparison.columns} (${output.comparison.selection})` : output.divergence.length,
    },
  };
}
