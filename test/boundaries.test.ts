/**
 * The layers' rules, enforced: core is pure compute (no Temporal, nothing from the layers above it or the tools),
 * schemas are contracts (zod and each other only), an activity file never imports another (shared plumbing
 * lives in activities/runner.ts, the registry is activities/index.ts), and the workflow imports activities as
 * types only (they run on workers, not in the workflow sandbox). And no function of the product code is longer
 * than MAX_FUNCTION_LINES unless a `// long because: …` comment says why.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

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

// ---- long functions ----

/** The product code: every folder but test/ (and the AssemblyScript kernel, which is not TypeScript for tsc). */
const PRODUCT_FOLDERS = ['core', 'activities', 'workflows', 'worker', 'cli', 'schemas', 'temporal', 'tools', 'bench', 'common'];
const MAX_FUNCTION_LINES = 80;
const REASON = /\/\/ long because: \S/;

/** The text a function's reason may stand in: its leading comments (or its declaration's) and its body before the first statement. */
function headerOf(node: ts.FunctionLikeDeclaration & { body: ts.Node }, source: ts.SourceFile): string {
  let top: ts.Node = node;
  const holders = [ts.SyntaxKind.VariableDeclaration, ts.SyntaxKind.VariableDeclarationList, ts.SyntaxKind.VariableStatement, ts.SyntaxKind.PropertyAssignment];
  while (top.parent && holders.includes(top.parent.kind)) top = top.parent;
  const firstStatement = ts.isBlock(node.body) ? node.body.statements[0] : undefined;
  return source.text.slice(top.getFullStart(), firstStatement ? firstStatement.getStart(source) : node.body.getStart(source) + 1);
}

/** Functions over MAX_FUNCTION_LINES lines without a `// long because:` comment, one line each: "file:line name (N lines)". */
export function longFunctions(root: string): string[] {
  const found: string[] = [];
  for (const file of PRODUCT_FOLDERS.flatMap((folder) => tsFiles(join(root, folder)))) {
    if (file.includes(`${sep}assembly${sep}`)) continue;
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const fn = node as ts.FunctionLikeDeclaration & { body: ts.Node };
        const first = source.getLineAndCharacterOfPosition(fn.getStart(source)).line;
        const lines = source.getLineAndCharacterOfPosition(fn.end).line - first + 1;
        if (lines > MAX_FUNCTION_LINES && !REASON.test(headerOf(fn, source))) {
          const name = fn.name?.getText(source) ?? (ts.isVariableDeclaration(fn.parent) ? fn.parent.name.getText(source) : '(anonymous)');
          found.push(`${relative(root, file).split(sep).join('/')}:${first + 1} ${name} (${lines} lines)`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

test(`no product function is over ${MAX_FUNCTION_LINES} lines without a "// long because:" comment`, () => {
  expect(longFunctions(join(__dirname, '..'))).toEqual([]);
});

test('the long-function rule catches a long function and accepts a reason', () => {
  const root = mkdtempSync(join(tmpdir(), 'long-functions-'));
  const body = (n: number) => Array.from({ length: n }, (_, i) => `  const x${i} = ${i};`).join('\n');
  try {
    mkdirSync(join(root, 'core'));
    writeFileSync(
      join(root, 'core', 'f.ts'),
      [
        `export function short() {\n${body(78)}\n}`,
        `export function long() {\n${body(79)}\n}`,
        `// long because: one pass over the rows\nexport function explained() {\n${body(90)}\n}`,
        `export const arrow = () => {\n${body(85)}\n};`,
        `export function inside() {\n  // long because: a state machine read top to bottom\n${body(85)}\n}`,
        `/** Looks long. */\n// not long because: no reason\nexport function unexplained() {\n${body(81)}\n}`,
      ].join('\n'),
    );
    expect(longFunctions(root)).toEqual(['core/f.ts:81 long (81 lines)', 'core/f.ts:255 arrow (87 lines)', 'core/f.ts:432 unexplained (83 lines)']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
