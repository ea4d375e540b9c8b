/**
 * One pass over an input file: its SHA-256 (the ingest checkpoint's key) and its longest line. Why the line: DuckDB's
 * CSV reader silently drops a line longer than its read buffer (measured with DuckDB 1.x: a 40 MB last line of a
 * 3,002-line file vanished, and the run replaced the previous results with 3,000 rows), so no row may be longer
 * than its max_line_size default (2 MB, far beyond any real row: an Arvato row is ~300 bytes), checked here where
 * the bytes pass anyway.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The longest line an input file may have (DuckDB's default max_line_size). */
export const MAX_LINE_BYTES = 2 * 1024 * 1024;

export interface InputScan {
  sha256: string;
  /** The first line longer than maxLineBytes (1-based line number, its length in bytes without the newline). */
  overlong?: { line: number; bytes: number };
}

export async function scanInputFile(path: string, maxLineBytes = MAX_LINE_BYTES): Promise<InputScan> {
  const hash = createHash('sha256');
  let line = 1;
  let length = 0;
  let overlong: InputScan['overlong'];
  await new Promise<void>((resolve, reject) => {
    createReadStream(path, { highWaterMark: 4 << 20 })
      .on('data', (data: string | Buffer) => {
        const chunk = typeof data === 'string' ? Buffer.from(data) : data;
        hash.update(chunk);
        let start = 0;
        for (let end = chunk.indexOf(10, start); end !== -1; end = chunk.indexOf(10, start)) {
          length += end - start;
          if (!overlong && length > maxLineBytes) overlong = { line, bytes: length };
          line++;
          length = 0;
          start = end + 1;
        }
        length += chunk.length - start;
      })
      .on('end', () => resolve())
      .on('error', reject);
  });
  if (!overlong && length > maxLineBytes) overlong = { line, bytes: length };
  return { sha256: hash.digest('hex'), ...(overlong ? { overlong } : {}) };
}
