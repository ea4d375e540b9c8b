import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Content-addressed checkpoints. A step's artifacts live in `<store>/<step>/<key>/`, where the key hashes
 * everything the result depends on (upstream artifacts, the config slice the step reads, the code version).
 * A step is computed in a temporary folder and renamed into place only when complete, so a crash leaves
 * no half-written result, a finished step is never recomputed, and a run over changed inputs writes new
 * folders instead of overwriting what an earlier run produced.
 */
export const MANIFEST_FILE = 'manifest.json';

/** Bump when a step's output format or semantics change, so stale checkpoints are not reused. */
export const CODE_VERSION = 'customer-segments/1';

export interface StepManifest<T> {
  step: string;
  key: string;
  codeVersion: string;
  /** What went into the key, for audits ("why was this recomputed?"). */
  keyInputs: unknown;
  createdAt: string;
  seconds: number;
  output: T;
}

export interface StepResult<T> {
  /** Absolute folder of the step's artifacts; file names in `output` are relative to it. */
  dir: string;
  key: string;
  output: T;
  reused: boolean;
  seconds: number;
}

export function stableStringify(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

export function stepKey(step: string, keyInputs: unknown): string {
  return createHash('sha256')
    .update(stableStringify({ step, codeVersion: CODE_VERSION, keyInputs }))
    .digest('hex')
    .slice(0, 20);
}

export async function readManifest<T>(dir: string): Promise<StepManifest<T> | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as StepManifest<T>;
  } catch {
    return undefined;
  }
}

/**
 * Returns the checkpointed result of `step` for `keyInputs`, or computes it with `compute(tmpDir)` (which writes
 * its files into tmpDir and returns a small JSON-able summary) and commits it atomically.
 */
export async function runStep<T>(
  storeDir: string,
  step: string,
  keyInputs: unknown,
  compute: (workDir: string) => Promise<T>,
): Promise<StepResult<T>> {
  const key = stepKey(step, keyInputs);
  const dir = join(storeDir, step, key);
  const existing = await readManifest<T>(dir);
  if (existing && existing.key === key) {
    return { dir, key, output: existing.output, reused: true, seconds: existing.seconds };
  }
  const workDir = join(storeDir, step, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(workDir, { recursive: true });
  const started = performance.now();
  try {
    const output = await compute(workDir);
    const seconds = (performance.now() - started) / 1000;
    const manifest: StepManifest<T> = {
      step,
      key,
      codeVersion: CODE_VERSION,
      keyInputs,
      createdAt: new Date().toISOString(),
      seconds,
      output,
    };
    await writeFile(join(workDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
    try {
      await rename(workDir, dir);
    } catch (error) {
      // Another attempt finished the same step first: its result is equivalent, keep it.
      const winner = await readManifest<T>(dir);
      if (!winner) throw error;
      await rm(workDir, { recursive: true, force: true });
      return { dir, key, output: winner.output, reused: true, seconds: winner.seconds };
    }
    return { dir, key, output, reused: false, seconds };
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

/** SHA-256 of a file's bytes, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path, { highWaterMark: 4 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', reject);
  });
  return hash.digest('hex');
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** Writes a file atomically (temp name + rename), so readers never see a partial file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
