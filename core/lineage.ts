/**
 * Lineage of a published model: which code made it (package version and git commit) and a manifest beside the
 * model files (schemas/lineage.ts) with input hashes, row counts, config, step keys and the Temporal run.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { type Lineage, LineageSchema } from '../schemas/lineage';
import { sha256File, writeFileAtomic } from './store/step-store';

export const LINEAGE_FILE = 'lineage.json';

const PACKAGE_NAME = 'customer-segments';

/** Environment variable naming the commit where there is no checkout (a container image: see the Dockerfile). */
export const GIT_COMMIT_ENV = 'SEGMENTS_GIT_COMMIT';

/** The folder holding this project's package.json, searched upwards from `from` (source or dist/ alike). */
export function packageRoot(from: string = __dirname): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours; keep looking
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The commit checked out at `root`, read from .git's files (no git binary needed): HEAD, then the branch's
 * loose ref or packed-refs. Handles a worktree's `.git` file. Undefined when there is no checkout.
 */
export function gitCommitAt(root: string): string | undefined {
  let gitDir = join(root, '.git');
  if (!existsSync(gitDir)) return undefined;
  if (statSync(gitDir).isFile()) {
    const pointer = /^gitdir:\s*(.+)$/m.exec(readText(gitDir) ?? '')?.[1];
    if (!pointer) return undefined;
    gitDir = isAbsolute(pointer) ? pointer : resolve(root, pointer);
  }
  const head = readText(join(gitDir, 'HEAD'));
  if (!head) return undefined;
  if (SHA.test(head)) return head;
  const ref = /^ref:\s*(.+)$/.exec(head)?.[1];
  if (!ref) return undefined;
  const common = readText(join(gitDir, 'commondir'));
  const dirs = [gitDir, ...(common ? [resolve(gitDir, common)] : [])];
  for (const dir of dirs) {
    const loose = readText(join(dir, ref));
    if (loose && SHA.test(loose)) return loose;
    const packed = readText(join(dir, 'packed-refs'));
    const line = packed?.split('\n').find((l) => l.endsWith(` ${ref}`));
    const sha = line?.split(' ')[0];
    if (sha && SHA.test(sha)) return sha;
  }
  return undefined;
}

export interface CodeVersion {
  package: string;
  version: string;
  gitCommit: string | null;
}

/** This code's version: package.json's, and the git commit (SEGMENTS_GIT_COMMIT, else the checkout's, else null). */
export function codeVersion(root: string | undefined = packageRoot()): CodeVersion {
  let version = 'unknown';
  if (root) {
    try {
      version = String(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version ?? 'unknown');
    } catch {
      // keep 'unknown'
    }
  }
  const fromEnv = process.env[GIT_COMMIT_ENV]?.trim();
  const gitCommit = fromEnv ? fromEnv : root ? (gitCommitAt(root) ?? null) : null;
  return { package: PACKAGE_NAME, version, gitCommit };
}

/**
 * Writes model/lineage.json beside the model files, with the sha256 of each of them, after they are all in
 * place. Validated against the schema before it is written.
 */
export async function writeLineage(modelDir: string, lineage: Omit<Lineage, 'files' | 'version'>): Promise<Lineage> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(modelDir).sort()) {
    if (name === LINEAGE_FILE || name.endsWith('.tmp')) continue;
    if (statSync(join(modelDir, name)).isFile()) files[name] = await sha256File(join(modelDir, name));
  }
  const manifest = LineageSchema.parse({ version: 1, ...lineage, files });
  await writeFileAtomic(join(modelDir, LINEAGE_FILE), JSON.stringify(manifest, null, 2));
  return manifest;
}
