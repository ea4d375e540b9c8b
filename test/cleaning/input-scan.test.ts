/** scanInputFile: one pass gives the file's SHA-256 and the first over-long line (real files, across read chunks). */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashInput } from '../../core/cleaning/cleaning-steps';
import { MAX_LINE_BYTES, scanInputFile } from '../../core/cleaning/input-scan';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'segments-scan-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const sha = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');

test('the hash is the bytes\' SHA-256; short lines pass', async () => {
  const content = 'a;b\r\n1;2\r\n3;4';
  expect(await scanInputFile(file('ok.csv', content))).toEqual({ sha256: sha(content) });
});

test('the first line longer than the limit is named with its length, also across 4 MB read chunks', async () => {
  const long = 'x'.repeat(9 << 20);
  const content = `h\n1\n${'y'.repeat(30)}\n${long}\n2\n`;
  expect(await scanInputFile(file('long.csv', content), 20)).toEqual({ sha256: sha(content), overlong: { line: 3, bytes: 30 } });
  expect(await scanInputFile(file('long.csv', content), 1 << 20)).toEqual({ sha256: sha(content), overlong: { line: 4, bytes: long.length } });
});

test('a last line without a line end counts too', async () => {
  const content = `h\n1\n${'z'.repeat(100)}`;
  expect((await scanInputFile(file('last.csv', content), 50)).overlong).toEqual({ line: 3, bytes: 100 });
});

test('hashInput rejects a line over MAX_LINE_BYTES naming file and line (DuckDB would drop it silently)', async () => {
  const path = file('p.csv', `a;b\n1;2\n${'7'.repeat(MAX_LINE_BYTES + 1)}\n`);
  await expect(hashInput('population', path)).rejects.toThrow(`file ${path}, line 3: the line is 2.0 MB long (2,097,153 bytes), more than the 2 MB a line may have`);
});
