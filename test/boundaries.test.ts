/**
 * The layers' rules, enforced: core is pure compute (no Temporal), schemas are contracts (zod and each other
 * only), an activity file never imports another (shared plumbing lives in activities/runner.ts, the registry
 * is activities/index.ts), and the workflow imports activities as types only (they run on workers, not in
 * the workflow sandbox).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';

interface Import {
  specifier: string;
  typeOnly: boolean;
}

/** Every import / export-from / require / dynamic import in a TypeScript file. */
function importsOf(source: string): Import[] {
  const found: Import[] = [];
  const fromClause = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'";]*?\sfrom\s+['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(fromClause)) found.push({ specifier: m[3], typeOnly: m[2] !== undefined });
  for (const m of source.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) found.push({ specifier: m[1], typeOnly: false });
  for (const m of source.matchAll(/\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: m[1], typeOnly: false });
  return found;
}

function tsFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Where a relative import lands, as a path relative to the repository root ('' for a package). */
function target(root: string, file: string, specifier: string): string {
  return specifier.startsWith('.') ? relative(root, resolve(dirname(file), specifier)).split(sep).join('/') : '';
}

/** What core (the product's pure compute) sits beneath: it never imports them. */
const OUTER_LAYERS = ['tools', 'bench', 'cli', 'activities', 'workflows', 'worker'];

/** The broken rules under `root`, one line each: "file: rule (import)". */
export function boundaryViolations(root: string): string[] {
  const violations: string[] = [];
  const check = (folder: string, rule: (file: string, imp: Import, to: string) => string | undefined) => {
    for (const file of tsFiles(join(root, folder))) {
      for (const imp of importsOf(readFileSync(file, 'utf8'))) {
        const broken = rule(file, imp, target(root, file, imp.specifier));
        if (broken) violations.push(`${relative(root, file)}: ${broken} (imports '${imp.specifier}')`);
      }
    }
  };
  check('core', (_, imp) => (imp.specifier.startsWith('@temporalio/') ? 'core must not import Temporal' : undefined));
  check('core', (_, imp, to) => {
    const layer = OUTER_LAYERS.find((folder) => to === folder || to.startsWith(`${folder}/`));
    return layer ? `core must not import the layers above it or the tools (${layer}/)` : undefined;
  });
  check('schemas', (_, imp, to) =>
    imp.specifier === 'zod' || to.startsWith('schemas/') ? undefined : 'schemas may import only zod and other schemas files',
  );
  check('activities', (file, imp, to) => {
    const from = relative(root, file).split(sep).join('/');
    if (!to.startsWith('activities/') || from === 'activities/index.ts') return undefined;
    return to === 'activities/runner' ? undefined : 'an activity must not import another activity (shared plumbing: activities/runner.ts)';
  });
  check('workflows', (_, imp, to) =>
    (to === 'activities' || to.startsWith('activities/')) && !imp.typeOnly ? 'the workflow may import activities as types only' : undefined,
  );
  return violations;
}

test('the repository keeps its layers apart', () => {
  expect(boundaryViolations(join(__dirname, '..'))).toEqual([]);
});

test('each rule catches what it forbids', () => {
  const root = mkdtempSync(join(tmpdir(), 'boundaries-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  try {
    write('core/a.ts', "import { Context } from '@temporalio/activity';\n");
    write('core/ok.ts', "import { z } from 'zod';\nimport { x } from '../schemas/b';\n");
    write('core/cleaning/d.ts', "import { SPECS } from '../../tools/generator/spec';\nimport { ok } from '../ok';\n");
    write('core/e.ts', "import type { Outcome } from '../workflows/segmentation';\n");
    write('schemas/b.ts', "import { z } from 'zod';\nimport { readFileSync } from 'node:fs';\nimport { c } from './c';\n");
    write('schemas/c.ts', "import { InputError } from '../common/errors';\n");
    write('activities/pca.ts', "import { run } from './runner';\nimport { parse } from './cleaning';\n");
    write('activities/index.ts', "export { fitPca } from './pca';\n");
    write('workflows/w.ts', "import type * as activities from '../activities';\nimport { fitPca } from '../activities/pca';\n");
    expect(boundaryViolations(root)).toEqual([
      "core/a.ts: core must not import Temporal (imports '@temporalio/activity')",
      "core/cleaning/d.ts: core must not import the layers above it or the tools (tools/) (imports '../../tools/generator/spec')",
      "core/e.ts: core must not import the layers above it or the tools (workflows/) (imports '../workflows/segmentation')",
      "schemas/b.ts: schemas may import only zod and other schemas files (imports 'node:fs')",
      "schemas/c.ts: schemas may import only zod and other schemas files (imports '../common/errors')",
      "activities/pca.ts: an activity must not import another activity (shared plumbing: activities/runner.ts) (imports './cleaning')",
      "workflows/w.ts: the workflow may import activities as types only (imports '../activities/pca')",
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
