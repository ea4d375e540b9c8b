import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PathError, classifyError } from '../../common/error-classification';

/**
 * Creates a folder and its missing parents, one level at a time. Not `mkdir(path, { recursive: true })`: Node's
 * recursive mkdir never returns for a path under /proc (measured: it spins at 100 % CPU, sync and async alike),
 * which hung `segments run --out /proc/…`. Failures are PathErrors naming the folder that could not be made.
 */
export async function ensureDir(path: string, role = 'folder'): Promise<string> {
  const target = resolve(path);
  const missing: string[] = [];
  for (let current = target; ; current = dirname(current)) {
    try {
      const info = await stat(current);
      if (!info.isDirectory()) {
        throw new PathError(`cannot create the ${role} ${target}: ${current} is a file, not a folder`, current, 'ENOTDIR');
      }
      break;
    } catch (error) {
      if (error instanceof PathError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw describe(error, role, target);
      missing.push(current);
      if (dirname(current) === current) break;
    }
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && (await stat(dir)).isDirectory()) continue;
      throw describe(error, role, target);
    }
  }
  return target;
}

/** ensureDir, then a check that the process may write there (a root process passes any permission bits). */
export async function ensureWritableDir(path: string, role = 'folder'): Promise<string> {
  const target = await ensureDir(path, role);
  try {
    await access(target, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw describe(error, role, target);
  }
  return target;
}

function describe(error: unknown, role: string, target: string): unknown {
  const classified = classifyError(error);
  if (!(classified instanceof PathError)) return classified;
  return new PathError(`cannot create or write the ${role} ${target}: ${classified.message}`, classified.path ?? target, classified.code);
}
