import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { ensureDir } from './paths';
import { DamagedCheckpointError, FileDigest, digestFolder, moveAside, sha256File, verifyFiles } from './integrity';

/**
 * Content-addressed checkpoints. A step's artifacts live in `<store>/<step>/<key>/`, where the key hashes
 * everything the result depends on (upstream artifacts, the config slice the step reads, the code version).
 * A step is computed in a temporary folder and renamed into place only when complete, so a crash leaves
 * no half-written result, a finished step is never recomputed (unless its files no longer match the digests its
 * manifest records: then it is moved aside and recomputed), and a run over changed inputs writes new
 * folders instead of overwriting what an earlier run produced.
 */
export const MANIFEST_FILE = 'manifest.json';

/** Bump when a step's output format or semantics change, so stale checkpoints are not reused. */
export const CODE_VERSION = 'customer-segments/2';

export interface StepManifest<T> {
  step: string;
  key: string;
  codeVersion: string;
  /** What went into the key, for audits ("why was this recomputed?"). */
  keyInputs: unknown;
  createdAt: string;
  seconds: number;
  /** Every file the step wrote (all but the manifest): size and SHA-256, checked before the checkpoint is trusted. */
  files: FileDigest[];
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

export type CheckpointState<T> =
  | { state: 'absent' }
  | { state: 'sound'; manifest: StepManifest<T> }
  | { state: 'damaged'; problems: string[] };

/**
 * Whether the checkpoint in `dir` can be trusted: its manifest reads, names `key`, lists its files, and every
 * file still has the size and SHA-256 recorded when it was written (Parquet files must also open). A folder
 * without a readable manifest is damaged (a commit is a single rename, so a finished step always has one).
 */
export async function inspectCheckpoint<T>(dir: string, key: string): Promise<CheckpointState<T>> {
  try {
    if (!(await stat(dir)).isDirectory()) return { state: 'damaged', problems: [`${dir} is not a folder`] };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
    throw error;
  }
  let manifest: StepManifest<T>;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as StepManifest<T>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { state: 'damaged', problems: [code === 'ENOENT' ? `${MANIFEST_FILE} is missing` : `${MANIFEST_FILE} is unreadable (${(error as Error).message})`] };
  }
  if (!manifest || typeof manifest !== 'object' || manifest.key !== key) {
    return { state: 'damaged', problems: [`${MANIFEST_FILE} names key ${String(manifest?.key)}, expected ${key}`] };
  }
  if (!Array.isArray(manifest.files)) return { state: 'damaged', problems: [`${MANIFEST_FILE} lists no file digests`] };
  const problems = await verifyFiles(dir, manifest.files);
  return problems.length > 0 ? { state: 'damaged', problems } : { state: 'sound', manifest };
}

export interface StoreOptions {
  /** Told about damaged checkpoints found and moved aside (default: console.warn). */
  warn?: (message: string) => void;
}

/**
 * Loads a finished step's checkpoint for a downstream step. A damaged one is moved aside (so the step that made
 * it recomputes it) and reported as a DamagedCheckpointError; a missing one too (the error lists "missing").
 */
export async function loadCheckpoint<T>(step: string, dir: string, key: string, options: StoreOptions = {}): Promise<StepManifest<T>> {
  const found = await inspectCheckpoint<T>(dir, key);
  if (found.state === 'sound') return found.manifest;
  if (found.state === 'absent') throw new DamagedCheckpointError(step, dir, ['the folder is missing']);
  const movedTo = await moveAside(dir);
  const error = new DamagedCheckpointError(step, dir, found.problems, movedTo);
  (options.warn ?? console.warn)(error.message);
  throw error;
}

/** Prefix of a step's temporary folders: `.tmp-<key>-<pid>@<host>-<random>`. */
const TMP_PREFIX = '.tmp-';

/**
 * Removes temporary folders of this step and key left by processes on this host that no longer run (a worker
 * killed while it wrote). They were never committed, so nothing trusted is lost.
 */
async function removeAbandonedWork(stepDir: string, key: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(stepDir);
  } catch {
    return;
  }
  const host = hostname();
  for (const entry of entries) {
    const match = entry.startsWith(`${TMP_PREFIX}${key}-`) ? /-(\d+)@(.+)-[0-9a-f]{8}$/.exec(entry) : null;
    if (!match || match[2] !== host || processAlive(Number(match[1]))) continue;
    await rm(join(stepDir, entry), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Returns the checkpointed result of `step` for `keyInputs`, or computes it with `compute(tmpDir)` (which writes
 * its files into tmpDir and returns a small JSON-able summary) and commits it atomically. A checkpoint whose files
 * no longer match their digests is moved aside (logged) and the step computed again.
 */
export async function runStep<T>(
  storeDir: string,
  step: string,
  keyInputs: unknown,
  compute: (workDir: string) => Promise<T>,
  options: StoreOptions = {},
): Promise<StepResult<T>> {
  const warn = options.warn ?? console.warn;
  const key = stepKey(step, keyInputs);
  const dir = join(storeDir, step, key);
  const existing = await inspectCheckpoint<T>(dir, key);
  if (existing.state === 'sound') {
    return { dir, key, output: existing.manifest.output, reused: true, seconds: existing.manifest.seconds };
  }
  if (existing.state === 'damaged') {
    const movedTo = await moveAside(dir);
    warn(`${new DamagedCheckpointError(step, dir, existing.problems, movedTo).message}; computing the step again`);
  }
  await ensureDir(join(storeDir, step), 'checkpoint folder');
  await removeAbandonedWork(join(storeDir, step), key);
  const workDir = join(storeDir, step, `${TMP_PREFIX}${key}-${process.pid}@${hostname()}-${randomBytes(4).toString('hex')}`);
  await mkdir(workDir);
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
      files: await digestFolder(workDir, [MANIFEST_FILE]),
      output,
    };
    await writeFile(join(workDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
    try {
      await rename(workDir, dir);
    } catch (error) {
      // Another attempt finished the same step first: its result is equivalent, keep it if it is sound.
      const winner = await inspectCheckpoint<T>(dir, key);
      if (winner.state !== 'sound') throw error;
      await rm(workDir, { recursive: true, force: true });
      return { dir, key, output: winner.manifest.output, reused: true, seconds: winner.manifest.seconds };
    }
    return { dir, key, output, reused: false, seconds };
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

export { sha256File };

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** Writes a file atomically (temp name + rename), so readers never see a partial file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * Publishes one file of a checkpoint: copied under a temporary name next to `target`, the copy's size and SHA-256
 * checked against what the checkpoint's manifest recorded for it, then renamed over `target`. So a published file
 * is byte for byte what the step wrote, whatever happened to the checkpoint after it was loaded or during the copy.
 * When the copy does not match, the source is checked again: a damaged source is moved aside and reported as a
 * DamagedCheckpointError (the workflow recomputes the step that made it); a sound source means the copy itself went
 * wrong, an ordinary (retryable) error. Either way `target` keeps its previous content.
 */
export async function copyVerified(step: string, dir: string, name: string, target: string, options: StoreOptions = {}): Promise<void> {
  const manifest = await readManifest<unknown>(dir);
  const recorded = manifest && Array.isArray(manifest.files) ? manifest.files.find((file) => file.name === name) : undefined;
  if (!recorded) {
    const movedTo = await moveAside(dir);
    const error = new DamagedCheckpointError(step, dir, [manifest ? `${MANIFEST_FILE} records no ${name}` : `${MANIFEST_FILE} is missing or unreadable`], movedTo);
    (options.warn ?? console.warn)(error.message);
    throw error;
  }
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await copyFile(join(dir, name), tmp);
    const size = (await stat(tmp)).size;
    const sha256 = size === recorded.size ? await sha256File(tmp) : '';
    if (size === recorded.size && sha256 === recorded.sha256) {
      await rename(tmp, target);
      return;
    }
    const problems = await verifyFiles(dir, [recorded]);
    if (problems.length > 0) {
      const movedTo = await moveAside(dir);
      const error = new DamagedCheckpointError(step, dir, problems, movedTo);
      (options.warn ?? console.warn)(error.message);
      throw error;
    }
    throw new Error(`the copy of ${join(dir, name)} to ${basename(target)} does not match the checkpoint (${size} bytes, ${recorded.size} recorded); the source is sound, copy again`);
  } finally {
    await rm(tmp, { force: true });
  }
}
