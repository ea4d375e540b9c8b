import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const PROJECT_PACKAGE_NAME = 'customer-segments';

function isProjectRoot(dir: string): boolean {
  const pkg = path.join(dir, 'package.json');
  if (!existsSync(pkg)) return false;
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === PROJECT_PACKAGE_NAME;
  } catch {
    return false;
  }
}

function searchUp(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (isProjectRoot(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The nearest ancestor directory whose package.json is named `customer-segments`.
 * Works from the sources (`temporal/`) and from compiled code (`dist/temporal/`), since both sit
 * below the project root. Falls back to searching up from the current directory (e.g. when the
 * code is bundled elsewhere), and throws if neither finds it.
 */
export function findProjectRoot(startDir: string = __dirname): string {
  const found = searchUp(startDir) ?? searchUp(process.cwd());
  if (!found) {
    throw new Error(
      `Cannot find the ${PROJECT_PACKAGE_NAME} project root (a package.json named "${PROJECT_PACKAGE_NAME}") ` +
        `above ${startDir} or ${process.cwd()}`,
    );
  }
  return found;
}

/** `<projectRoot>/.tools/bin`: where the project keeps the tools it builds (git-ignored). */
export function projectToolsBinDir(projectRoot: string = findProjectRoot()): string {
  return path.join(projectRoot, '.tools', 'bin');
}

/** `<projectRoot>/.temporal/dev.db`: the embedded dev server's persistent state (git-ignored). */
export function defaultDevDbFile(projectRoot: string = findProjectRoot()): string {
  return path.join(projectRoot, '.temporal', 'dev.db');
}
