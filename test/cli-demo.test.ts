/**
 * The README's first command, `npm start` (build, then `segments demo`), run as written: it builds, generates
 * demo data, starts its own embedded dev server (not the suite's) and a worker, and runs the whole pipeline.
 * Only the size is made small and the port and database private, through the demo's own options.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect } from './support/cli';

const ROOT = join(__dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('npm start (segments demo)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'segments-demo-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('builds, starts an embedded dev server, runs every step and publishes results and a report', async () => {
    const port = await freePort();
    const out = join(dir, 'out');
    // npm appends the arguments after `--` to the script: `npm run build && node bin/segments.js demo …`.
    const child = spawn('npm', ['start', '--', '--population-rows', '12000', '--port', String(port), '--db', join(dir, 'dev.db'), '--out', out], {
      cwd: ROOT,
      // No TEMPORAL_ADDRESS: the demo must start its own server, as on a fresh machine.
      env: { ...process.env, TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = await collect(child, 600_000);
    const output = `${result.stdout}\n${result.stderr}`;
    expect({ code: result.code, tail: output.slice(-3000) }).toEqual({ code: 0, tail: expect.any(String) });
    expect(output).toContain(`127.0.0.1:${port}`);
    expect(existsSync(join(dir, 'dev.db'))).toBe(true);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.k).toBeGreaterThanOrEqual(2);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(existsSync(join(out, 'assignments', 'population.parquet'))).toBe(true);
  }, 660_000);
});
