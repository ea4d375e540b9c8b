/**
 * The encode step alone on a finished run's ingest and split checkpoints (rules and fit config from the reference
 * encode checkpoint's key inputs): timed, encoding.json hashed and compared with the reference, to tune the step
 * without the whole workflow.
 *
 *   node dist/bench/encode-step.js --run OUTDIR [--repeat N]
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeFeatures, summaryOf, type FeatureFitRules } from '../core/steps/encode';
import type { EncodingRules } from '../schemas/encoding-rules';
import type { EncodeOutput, IngestOutput, SplitOutput } from '../schemas/steps';

interface Checkpoint<T> {
  dir: string;
  output: T;
  keyInputs: Record<string, unknown>;
}

async function onlyCheckpoint<T>(outDir: string, step: string): Promise<Checkpoint<T>> {
  const root = join(outDir, 'artifacts', step);
  const keys = readdirSync(root).filter((name) => !name.startsWith('.'));
  if (keys.length !== 1) throw new Error(`expected one ${step} checkpoint under ${root}, found ${keys.length}`);
  const dir = join(root, keys[0]);
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { output: T; keyInputs: Record<string, unknown> };
  return { dir, output: manifest.output, keyInputs: manifest.keyInputs };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { run: { type: 'string' }, repeat: { type: 'string', default: '1' } } });
  if (!values.run) throw new Error('--run OUTDIR is required');
  const ingest = await onlyCheckpoint<IngestOutput>(values.run, 'ingest');
  const split = await onlyCheckpoint<SplitOutput>(values.run, 'split');
  const reference = await onlyCheckpoint<EncodeOutput>(values.run, 'encode');
  const rules = reference.keyInputs.rules as EncodingRules;
  const fit = { rareLevels: reference.keyInputs.rareLevels, concentration: reference.keyInputs.concentration } as FeatureFitRules;
  const summary = summaryOf(ingest);
  for (let r = 0; r < Number(values.repeat); r++) {
    const out = await mkdtemp(join(tmpdir(), 'encode-step-'));
    const started = performance.now();
    const cpu = process.cpuUsage();
    const output = await encodeFeatures(split, rules, summary, fit, out);
    const seconds = (performance.now() - started) / 1000;
    const cpuUsed = process.cpuUsage(cpu);
    const same = sha256(join(out, output.model)) === sha256(join(reference.dir, reference.output.model));
    const sameOutput = JSON.stringify(output) === JSON.stringify(reference.output);
    console.log(
      `encode: ${seconds.toFixed(2)} s (process CPU ${((cpuUsed.user + cpuUsed.system) / 1e6).toFixed(2)} s), ${output.features} features, ` +
        `${same ? 'encoding.json byte-identical to reference' : 'encoding.json DIFFERS'}, ${sameOutput ? 'output identical' : 'output DIFFERS'}`,
    );
    await rm(out, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
