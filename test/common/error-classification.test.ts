/** Error classification against real errors: real fs calls, real DuckDB queries. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, PathError, classifyError } from '../../common/error-classification';
import { InputError } from '../../common/errors';
import { withDuckDb } from '../../core/duckdb';
import { ensureDir, ensureWritableDir } from '../../core/store/paths';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'segments-classify-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

test.each([
  ['a missing file', () => readFile(join(root, 'nope.csv')), 'ENOENT', 'nope.csv'],
  ['a folder read as a file', () => readFile(root), 'EISDIR', 'EISDIR (is a folder, not a file)'],
  ['a file used as a folder', async () => {
    writeFileSync(join(root, 'plain'), 'x');
    await mkdir(join(root, 'plain', 'sub'), { recursive: true });
  }, 'ENOTDIR', 'plain'],
])('%s is a PathError naming the path', async (_name, fn, code, path) => {
  const error = classifyError(await caught(fn as () => Promise<unknown>), { doing: 'testing' });
  expect(error).toBeInstanceOf(PathError);
  expect((error as PathError).code).toBe(code);
  expect((error as PathError).message).toContain(path);
  expect((error as PathError).message).toContain('while testing');
});

test('permission errors are PathErrors (EACCES as another user; EPERM from the kernel)', () => {
  const eacces = Object.assign(new Error("EACCES: permission denied, open '/data/out/x'"), { code: 'EACCES', path: '/data/out/x', syscall: 'open' });
  expect(classifyError(eacces)).toEqual(expect.objectContaining({ name: 'PathError', path: '/data/out/x', message: '/data/out/x: EACCES (permission denied) [open]' }));
  const eperm = Object.assign(new Error('EPERM'), { code: 'EPERM', path: '/x', syscall: 'rename', dest: '/y' });
  expect(classifyError(eperm)).toBeInstanceOf(PathError);
});

test('transient and unknown errors stay as they are (retryable)', () => {
  const enospc = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  expect(classifyError(enospc)).toBe(enospc);
  const plain = new Error('socket hang up');
  expect(classifyError(plain)).toBe(plain);
  expect(classifyError('a string')).toBe('a string');
  const input = new InputError('bad', { file: 'f' });
  expect(classifyError(input)).toBe(input);
});

test('DuckDB: VARPOP out of range and a failed conversion are DataErrors; an unreadable Parquet file too; a missing file is a PathError', async () => {
  await withDuckDb({}, async (conn) => {
    const varpop = classifyError(await caught(() => conn.run('SELECT var_pop(x) FROM (VALUES (1e308), (-1e308), (0.0)) t(x)')));
    expect(varpop).toBeInstanceOf(DataError);
    expect((varpop as Error).message).toContain('Out of Range Error');
    const conversion = classifyError(await caught(() => conn.run("SELECT CAST('abc' AS INTEGER)")));
    expect(conversion).toBeInstanceOf(DataError);
    const broken = join(root, 'broken.parquet');
    await writeFile(broken, 'PAR1 not really');
    const parquet = classifyError(await caught(() => conn.run(`SELECT * FROM read_parquet('${broken}')`)));
    expect(parquet).toBeInstanceOf(DataError);
    expect((parquet as Error).message).toContain(broken);
    const missing = classifyError(await caught(() => conn.run(`SELECT * FROM read_parquet('${join(root, 'gone.parquet')}')`)));
    expect(missing).toBeInstanceOf(PathError);
    expect((missing as Error).message).toContain('gone.parquet');
  });
});

test('DuckDB: writing into a folder without permission is a PathError (checked as a non-root user only)', async () => {
  if (process.getuid?.() === 0) return; // root writes anywhere; the EACCES mapping is covered above
  const locked = join(root, 'locked');
  await mkdir(locked);
  chmodSync(locked, 0o500);
  await withDuckDb({}, async (conn) => {
    const error = classifyError(await caught(() => conn.run(`COPY (SELECT 1) TO '${join(locked, 'x.parquet')}'`)));
    expect(error).toBeInstanceOf(PathError);
  });
});

describe('ensureDir', () => {
  test('creates missing parents one level at a time', async () => {
    const deep = join(root, 'a', 'b', 'c');
    expect(await ensureDir(deep)).toBe(deep);
    expect(await ensureWritableDir(deep)).toBe(deep);
  });
  test('a folder under /proc fails at once naming the path (recursive mkdir would spin forever there)', async () => {
    const started = performance.now();
    const error = await caught(() => ensureDir('/proc/segments-out/run', 'output folder'));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(PathError);
    expect((error as Error).message).toContain('cannot create or write the output folder /proc/segments-out/run');
    expect((error as Error).message).toContain('/proc/segments-out');
  });
  test('a file in the way is named', async () => {
    writeFileSync(join(root, 'blocker'), 'x');
    await expect(ensureDir(join(root, 'blocker', 'out'))).rejects.toThrow(`${join(root, 'blocker')} is a file, not a folder`);
  });
});
