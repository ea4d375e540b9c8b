/**
 * The scale step alone on a finished run's split and encode checkpoints: timed phase by phase, its output files
 * hashed (and compared with a reference scale folder when given), to tune the step without the whole workflow.
 *
 *   node dist/bench/scale-step.js --run OUTDIR [--out DIR] [--reference SCALEDIR] [--repeat N] [--path coded|sql]
 *
 * --path sql runs the SQL path (fitImputeScale + exportMatrix) instead of the step's own, to compare both in one sitting.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { withDuckDb } from '../core/duckdb';
import { EncodingModelSchema } from '../schemas/model-files';
import { readJsonFile } from '../core/store/json';
import { imputeAndScale, imputeAndScaleBySql } from '../core/steps/scale';
import type { EncodeOutput, SplitOutput } from '../schemas/steps';
import { vmHwmBytes } from './processes';

async function onlyCheckpoint<T>(outDir: string, step: string): Promise<{ dir: string; output: T }> {
  const root = join(outDir, 'artifacts', step);
  const keys = readdirSync(root).filter((name) => !name.startsWith('.'));
  if (keys.length !== 1) throw new Error(`expected one ${step} checkpoint under ${root}, found ${keys.length}`);
  const dir = join(root, keys[0]);
  return { dir, output: (JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { output: T }).output };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { run: { type: 'string' }, out: { type: 'string' }, reference: { type: 'string' }, repeat: { type: 'string', default: '1' }, path: { type: 'string', default: 'coded' } },
  });
  if (!values.run) throw new Error('--run OUTDIR is required');
  const split = await onlyCheckpoint<SplitOutput>(values.run, 'split');
  const encode = await onlyCheckpoint<EncodeOutput>(values.run, 'encode');
  let maxStall = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxStall = Math.max(maxStall, now - last - 10);
    last = now;
  }, 10);
  for (let r = 0; r < Number(values.repeat); r++) {
    const out = values.out ?? (await mkdtemp(join(tmpdir(), 'scale-step-')));
    await mkdir(out, { recursive: true });
    maxStall = 0;
    last = performance.now();
    const started = performance.now();
    const cpu = process.cpuUsage();
    let phases = '';
    const output =
      values.path === 'sql'
        ? await withDuckDb({}, async (conn) => imputeAndScaleBySql(conn, await readJsonFile(join(encode.dir, encode.output.model), EncodingModelSchema), split, out))
        : await imputeAndScale(split, encode, out, (seconds) => {
            phases = ` [${Object.entries(seconds).map(([name, value]) => `${name} ${value.toFixed(2)}`).join(', ')}]`;
          });
    const seconds = (performance.now() - started) / 1000;
    const cpuUsed = process.cpuUsage(cpu);
    const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
    const files = readdirSync(out).sort();
    const mismatches: string[] = [];
    if (values.reference) {
      for (const name of files) if (name !== 'manifest.json' && sha256(join(out, name)) !== sha256(join(values.reference, name))) mismatches.push(name);
    }
    console.log(
      `scale (${values.path}): ${seconds.toFixed(2)} s (process CPU ${cpuSeconds.toFixed(2)} s), ${output.population.rows}+${output.customers.rows} rows x ${output.features.length}, ` +
        `${phases}, max stall ${(maxStall / 1000).toFixed(2)} s, VmHWM ${((vmHwmBytes() ?? NaN) / 2 ** 30).toFixed(2)} GiB` +
        (values.reference ? (mismatches.length ? `, DIFFERS: ${mismatches.join(' ')}` : ', byte-identical to reference') : ''),
    );
    if (!values.out) await rm(out, { recursive: true, force: true });
  }
  clearInterval(timer);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
