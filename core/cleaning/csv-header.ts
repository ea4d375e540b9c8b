import { open } from 'node:fs/promises';
import { InputError } from '../../common/errors';
import type { FeatureSummary } from '../../schemas/feature-summary';

export const CSV_DELIMITER = ';';

/** Reads the header line (and whether any data line follows) without loading the file. */
async function readHead(path: string): Promise<{ header: string; hasDataLine: boolean; size: number }> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new InputError(`cannot open the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: path });
  }
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.min(size, 1 << 20));
    await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.toString('utf8').replace(/^\uFEFF/, '');
    const newline = text.indexOf('\n');
    const header = (newline === -1 ? text : text.slice(0, newline)).replace(/\r$/, '');
    const rest = newline === -1 ? '' : text.slice(newline + 1);
    return { header, hasDataLine: rest.trim().length > 0, size };
  } finally {
    await handle.close();
  }
}

/**
 * Checks a data file's header against the feature summary before DuckDB reads it, so the user gets
 * "file X: column Y is missing" instead of a parser error. Returns the header's column names.
 */
export async function validateCsvHeader(path: string, summary: FeatureSummary): Promise<string[]> {
  const { header, hasDataLine, size } = await readHead(path);
  if (size === 0 || header.trim() === '') throw new InputError('the file is empty', { file: path, line: 1 });

  if (!header.includes(CSV_DELIMITER)) {
    const other = [',', '\t', '|'].find((candidate) => header.includes(candidate));
    throw new InputError(
      other
        ? `the header is separated by "${other === '\t' ? '\\t' : other}", expected ";" (wrong delimiter)`
        : `the header has no ";" separators: "${header.slice(0, 80)}"`,
      { file: path, line: 1 },
    );
  }
  const columns = header.split(CSV_DELIMITER).map((name) => name.trim().replace(/^"(.*)"$/, '$1'));
  const seen = new Set<string>();
  columns.forEach((name, index) => {
    if (name === '') throw new InputError(`header field ${index + 1} is empty`, { file: path, line: 1 });
    if (seen.has(name)) throw new InputError('the column appears twice in the header', { file: path, line: 1, column: name });
    seen.add(name);
  });
  const expected = summary.features.map((feature) => feature.attribute);
  const missing = expected.filter((name) => !seen.has(name));
  const extra = columns.filter((name) => !expected.includes(name));
  if (missing.length > 0) {
    throw new InputError(
      `${missing.length} column(s) of the feature summary are missing from the header: ${missing.join(', ')}`,
      { file: path, line: 1, column: missing[0] },
    );
  }
  if (extra.length > 0) {
    throw new InputError(
      `${extra.length} column(s) are not in the feature summary: ${extra.join(', ')}`,
      { file: path, line: 1, column: extra[0] },
    );
  }
  if (!hasDataLine) throw new InputError('the file has a header but no data rows', { file: path, line: 2 });
  return columns;
}

/** Turns DuckDB's CSV parser errors into messages naming the file and line. */
export function csvReadError(path: string, error: unknown): InputError {
  const message = (error as Error).message ?? String(error);
  const line = /Line:\s*(\d+)/.exec(message);
  const firstLine = message.split('\n')[0].replace(/^Invalid Input Error:\s*/, '');
  const detail = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
  const reason = detail
    ? `expected ${detail[1]} fields, found ${detail[2]} (truncated or malformed line)`
    : firstLine;
  return new InputError(`cannot parse the CSV: ${reason}`, { file: path, line: line ? Number(line[1]) : undefined });
}
