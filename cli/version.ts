/** `segments --version`: the package version, plus the git commit when the code runs from a checkout. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root: cli/ (sources) or dist/cli/ (built) sit below it next to package.json. */
function packageRoot(): string {
  for (const candidate of [join(__dirname, '..'), join(__dirname, '..', '..')]) {
    try {
      const pkg = JSON.parse(readFileSync(join(candidate, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'customer-segments') return candidate;
    } catch {
      /* not here */
    }
  }
  return join(__dirname, '..');
}

export function versionString(): string {
  const root = packageRoot();
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* keep unknown */
  }
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim();
    if (dirty) commit += '-dirty';
  } catch {
    /* not a git checkout, or no git */
  }
  return commit ? `customer-segments ${version} (git ${commit})` : `customer-segments ${version}`;
}
