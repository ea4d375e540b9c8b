/**
 * Checkpoint integrity in the store alone (real files, no Temporal): digests recorded at commit, verified at reuse
 * and load; damaged checkpoints moved aside (kept) and recomputed; abandoned temporary folders cleared.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDuckDb } from '../../core/duckdb';
import { DamagedCheckpointError, digestFolder, parquetProblem, sha256FileCached, verifyFiles } from '../../core/store/integrity';
import { copyVerified, inspectCheckpoint, loadCheckpoint, runStep, stepKey } from '../../core/store/step-store';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'segments-integrity-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A step writing two files; counts how often it really ran. */
function counter() {
  let runs = 0;
  return {
    get runs() {
      return runs;
    },
    compute: async (dir: string) => {
      runs++;
      writeFileSync(join(dir, 'data.bin'), Buffer.alloc(10_000, 7));
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'model.json'), '{"a":1}');
      return { rows: 10 };
    },
  };
}

test('the manifest records every file with size and SHA-256; a sound checkpoint is reused', async () => {
  const step = counter();
  const first = await runStep(root, 'demo', { a: 1 }, step.compute);
  const manifest = JSON.parse(readFileSync(join(first.dir, 'manifest.json'), 'utf8'));
  expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(['data.bin', 'sub/model.json']);
  expect(manifest.files[0]).toEqual({ name: 'data.bin', size: 10_000, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  const again = await runStep(root, 'demo', { a: 1 }, step.compute);
  expect(again.reused).toBe(true);
  expect(step.runs).toBe(1);
});

const DAMAGES: [string, (dir: string) => void][] = [
  ['a truncated file', (dir) => truncateSync(join(dir, 'data.bin'), 5_000)],
  ['an emptied file', (dir) => truncateSync(join(dir, 'data.bin'), 0)],
  ['a deleted file', (dir) => rmSync(join(dir, 'data.bin'))],
  ['a changed byte (same size)', (dir) => {
    const bytes = readFileSync(join(dir, 'data.bin'));
    bytes[1234] ^= 1;
    writeFileSync(join(dir, 'data.bin'), bytes);
  }],
  ['a deleted file in a subfolder', (dir) => rmSync(join(dir, 'sub', 'model.json'))],
  ['a truncated manifest', (dir) => truncateSync(join(dir, 'manifest.json'), 20)],
  ['a deleted manifest', (dir) => rmSync(join(dir, 'manifest.json'))],
];

test.each(DAMAGES)('%s is detected, moved aside (kept) and recomputed', async (_name, damage) => {
  const step = counter();
  const first = await runStep(root, 'demo', { a: 1 }, step.compute);
  damage(first.dir);
  const warnings: string[] = [];
  const second = await runStep(root, 'demo', { a: 1 }, step.compute, { warn: (m) => warnings.push(m) });
  expect(second.reused).toBe(false);
  expect(second.dir).toBe(first.dir);
  expect(step.runs).toBe(2);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain(`the checkpoint of step demo at ${first.dir} is damaged`);
  expect(warnings[0]).toContain('moved aside to');
  const aside = readdirSync(join(root, 'demo')).filter((name) => name.startsWith('.damaged-'));
  expect(aside).toHaveLength(1);
  expect(await inspectCheckpoint(second.dir, second.key)).toMatchObject({ state: 'sound' });
  // The third call trusts the recomputed checkpoint.
  expect((await runStep(root, 'demo', { a: 1 }, step.compute)).reused).toBe(true);
});

test('loadCheckpoint: a sound checkpoint loads; a damaged one throws DamagedCheckpointError naming step, folder and file, and is moved aside', async () => {
  const step = counter();
  const first = await runStep(root, 'demo', { a: 1 }, step.compute);
  expect((await loadCheckpoint('demo', first.dir, first.key)).output).toEqual({ rows: 10 });
  truncateSync(join(first.dir, 'data.bin'), 100);
  const warn = jest.fn();
  const error = await loadCheckpoint('demo', first.dir, first.key, { warn }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DamagedCheckpointError);
  expect((error as DamagedCheckpointError).message).toContain('data.bin is 100 bytes, 10000 were written');
  expect((error as DamagedCheckpointError).step).toBe('demo');
  expect(warn).toHaveBeenCalledTimes(1);
  expect(existsSync(first.dir)).toBe(false);
  // Gone: a second load says so too (the workflow recomputes the step either way).
  await expect(loadCheckpoint('demo', first.dir, first.key)).rejects.toThrow('the folder is missing');
  expect((await runStep(root, 'demo', { a: 1 }, step.compute)).reused).toBe(false);
});

test('a manifest for another key is damaged, not trusted', async () => {
  const step = counter();
  const first = await runStep(root, 'demo', { a: 1 }, step.compute);
  expect(await inspectCheckpoint(first.dir, stepKey('demo', { a: 2 }))).toMatchObject({ state: 'damaged' });
});

test('a checkpoint from before digests were recorded is not trusted', async () => {
  const step = counter();
  const first = await runStep(root, 'demo', { a: 1 }, step.compute);
  const manifest = JSON.parse(readFileSync(join(first.dir, 'manifest.json'), 'utf8'));
  delete manifest.files;
  writeFileSync(join(first.dir, 'manifest.json'), JSON.stringify(manifest));
  expect(await inspectCheckpoint(first.dir, first.key)).toEqual({ state: 'damaged', problems: ['manifest.json lists no file digests'] });
});

test('Parquet files must open: both magic numbers and a footer that fits', async () => {
  const path = join(root, 'x.parquet');
  await withDuckDb({}, (conn) => conn.run(`COPY (SELECT range AS v FROM range(1000)) TO '${path}' (FORMAT parquet)`));
  expect(await parquetProblem(path)).toBeUndefined();
  const bytes = readFileSync(path);
  writeFileSync(path, bytes.subarray(0, bytes.length >> 1));
  expect(await parquetProblem(path)).toContain('no Parquet magic bytes at its end');
  writeFileSync(path, Buffer.concat([Buffer.from('JUNK'), bytes.subarray(4)]));
  expect(await parquetProblem(path)).toContain('does not start with the Parquet magic bytes');
  const badFooter = Buffer.from(bytes);
  badFooter.writeUInt32LE(bytes.length, bytes.length - 8);
  writeFileSync(path, badFooter);
  expect(await parquetProblem(path)).toContain('footer');
  writeFileSync(path, '');
  expect(await parquetProblem(path)).toContain('too short');
  // verifyFiles reports the Parquet problem even when the recorded size matches.
  writeFileSync(path, Buffer.concat([bytes.subarray(0, bytes.length - 4), Buffer.from('XXXX')]));
  expect(await verifyFiles(root, [{ name: 'x.parquet', size: bytes.length, sha256: 'x' }])).toEqual([expect.stringContaining('no Parquet magic bytes at its end')]);
});

test('the hash cache sees a rewrite of the same size', async () => {
  const path = join(root, 'f.bin');
  writeFileSync(path, 'aaaa');
  const before = await sha256FileCached(path);
  await new Promise((r) => setTimeout(r, 5));
  writeFileSync(path, 'aaab');
  expect(await sha256FileCached(path)).not.toBe(before);
  expect((await digestFolder(root))[0].sha256).toBe(await sha256FileCached(path));
});

test('temporary folders of dead processes on this host are cleared; those of live processes stay', async () => {
  const key = stepKey('demo', { a: 1 });
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  const stepDir = join(root, 'demo');
  const abandoned = join(stepDir, `.tmp-${key}-${dead}@${hostname()}-0badc0de`);
  const live = join(stepDir, `.tmp-${key}-${process.pid}@${hostname()}-0000beef`);
  const otherHost = join(stepDir, `.tmp-${key}-${dead}@not-${hostname()}-12345678`);
  for (const dir of [abandoned, live, otherHost]) mkdirSync(dir, { recursive: true });
  await runStep(root, 'demo', { a: 1 }, counter().compute);
  expect(existsSync(abandoned)).toBe(false);
  expect(existsSync(live)).toBe(true);
  expect(existsSync(otherHost)).toBe(true);
});

test('a failed compute leaves no temporary folder and no checkpoint', async () => {
  await expect(runStep(root, 'demo', { a: 1 }, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  expect(readdirSync(join(root, 'demo'))).toEqual([]);
});

describe('copyVerified (how the report publishes checkpoint files)', () => {
  test('a sound file is published byte for byte, replacing the previous copy; no temporary file is left', async () => {
    const first = await runStep(root, 'demo', { a: 1 }, counter().compute);
    const out = join(root, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'data.bin'), 'the previous run');
    await copyVerified('demo', first.dir, 'data.bin', join(out, 'data.bin'));
    expect(readFileSync(join(out, 'data.bin'))).toEqual(Buffer.alloc(10_000, 7));
    await copyVerified('demo', first.dir, 'sub/model.json', join(out, 'model.json'));
    expect(readFileSync(join(out, 'model.json'), 'utf8')).toBe('{"a":1}');
    expect(readdirSync(out).sort()).toEqual(['data.bin', 'model.json']);
  });

  const LATE_DAMAGES: [string, (path: string) => void][] = [
    ['truncated', (path) => truncateSync(path, 5_000)],
    ['emptied', (path) => truncateSync(path, 0)],
    ['changed in place (same size)', (path) => {
      const bytes = readFileSync(path);
      bytes[9_999] ^= 0xff;
      writeFileSync(path, bytes);
    }],
  ];
  test.each(LATE_DAMAGES)('a file %s after the checkpoint was loaded is not published: DamagedCheckpointError, moved aside, the previous copy kept', async (_name, damage) => {
    const first = await runStep(root, 'demo', { a: 1 }, counter().compute);
    // Loaded (verified) first, as the report step does; damaged afterwards.
    await loadCheckpoint('demo', first.dir, first.key);
    damage(join(first.dir, 'data.bin'));
    const out = join(root, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'data.bin'), 'the previous run');
    const warn = jest.fn();
    const error = await copyVerified('demo', first.dir, 'data.bin', join(out, 'data.bin'), { warn }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DamagedCheckpointError);
    expect((error as DamagedCheckpointError).dir).toBe(first.dir);
    expect((error as DamagedCheckpointError).message).toMatch(/data\.bin (is \d+ bytes, 10000 were written|has changed)/);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(existsSync(first.dir)).toBe(false);
    expect(readdirSync(join(root, 'demo')).filter((name) => name.startsWith('.damaged-'))).toHaveLength(1);
    expect(readFileSync(join(out, 'data.bin'), 'utf8')).toBe('the previous run');
    expect(readdirSync(out)).toEqual(['data.bin']);
  });

  test('a file the manifest does not record is not published', async () => {
    const first = await runStep(root, 'demo', { a: 1 }, counter().compute);
    writeFileSync(join(first.dir, 'stranger.bin'), 'x');
    const out = join(root, 'out');
    mkdirSync(out);
    await expect(copyVerified('demo', first.dir, 'stranger.bin', join(out, 'stranger.bin'), { warn: () => undefined })).rejects.toThrow('manifest.json records no stranger.bin');
    expect(readdirSync(out)).toEqual([]);
  });
});
