/**
 * The README's benchmark command, `npm run bench`, run as a user runs it (build, then bench/bench.ts with its own
 * dev server and in-process worker), at a small size: it must finish, write its JSON, time every step against its
 * floor and report the quality it found. Speed is never asserted here (the bench measures it; tests do not).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(10 * 60_000);

const ROOT = join(__dirname, '..');

test('npm run bench -- --rows 5000 runs the whole workflow and writes per-step times, floors and quality', () => {
  const dir = mkdtempSync(join(tmpdir(), 'segments-bench-command-'));
  try {
    const out = join(dir, 'bench.json');
    const run = spawnSync('npm', ['run', 'bench', '--', '--rows', '5000', '--data', join(dir, 'data'), '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 9 * 60_000 });
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr.slice(-2000) }).toEqual({ status: 0, stderr: '' });
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      sizes: { populationRows: number; steps: { name: string; seconds: number; floorSeconds: number | null }[]; runs: { quality: { k: number; ari: number } }[] }[];
    };
    const [size] = report.sizes;
    expect(size.steps.map((s) => s.name)).toEqual(['ingest', 'recode', 'missingness', 'split', 'encode', 'scale', 'pca', 'sweep', 'kmeans', 'map', 'compare', 'drift', 'report']);
    for (const name of ['ingest', 'recode', 'split', 'scale', 'pca', 'sweep', 'kmeans']) {
      const step = size.steps.find((s) => s.name === name)!;
      expect({ name, floor: step.floorSeconds! > 0 }).toEqual({ name, floor: true });
    }
    // The generator plants 9 segments; the bench reports how well the run found them.
    expect(size.runs[0].quality.k).toBeGreaterThanOrEqual(2);
    expect(size.runs[0].quality.ari).toBeGreaterThan(0.5);
    expect(run.stdout).toContain('× floor');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
