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
    const stats = await handle.stat();
    if (!stats.isFile()) throw new InputError(`not a file but a ${stats.isDirectory() ? 'directory' : 'special file'}`, { file: path });
    const { size } = stats;
    const buffer = Buffer.alloc(Math.min(size, 1 << 20));
    try {
      await handle.read(buffer, 0, buffer.length, 0);
    } catch (error) {
      throw new InputError(`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: path });
    }
    // A CSV never holds NUL bytes, and its header must be UTF-8: anything else is a binary (or mis-encoded)
    // file, better named as such than as 85 "missing columns" parsed out of noise.
    const nul = buffer.indexOf(0);
    if (nul !== -1) throw new InputError(`the file is not a text CSV: it holds binary data (a NUL byte at offset ${nul})`, { file: path });
    const text = buffer.toString('utf8').replace(/^\uFEFF/, '');
    const newline = text.indexOf('\n');
    const header = (newline === -1 ? text : text.slice(0, newline)).replace(/\r$/, '');
    if (header.includes('\uFFFD')) {
      throw new InputError('the header is not UTF-8 text (a binary file, or another encoding)', { file: path, line: 1 });
    }
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

/** DuckDB's reasons, reworded for someone fixing the file. */
const CSV_REASONS: [RegExp, (match: RegExpExecArray) => string][] = [
  [/Expected Number of Columns: (\d+) Found: (\d+)/, (m) => `expected ${m[1]} fields, found ${m[2]} (truncated or malformed line)`],
  [/Value with unterminated quote found/, () => 'a quoted field is never closed (unterminated quote)'],
  [/Invalid unicode/, () => 'the line is not UTF-8 text (another encoding, e.g. Latin-1, or binary data); save the file as UTF-8'],
];

/**
 * Turns DuckDB's CSV parser errors into messages naming the file and line. DuckDB's message is "CSV Error on
 * Line: N", the offending line itself (which may span several lines), the reason, then "Possible fixes" that
 * name its own options; only the line number and the reason are kept.
 */
export function csvReadError(path: string, error: unknown): InputError {
  const message = (error as Error).message ?? String(error);
  const line = /Line:\s*(\d+)/.exec(message);
  const known = CSV_REASONS.map(([pattern, reword]) => {
    const match = pattern.exec(message);
    return match ? reword(match) : undefined;
  }).find(Boolean);
  const lines = message.split('\n');
  const fixes = lines.findIndex((text) => /^Possible (fixes|Solution)/.test(text));
  const beforeFixes = fixes > 0 ? lines.slice(0, fixes).map((text) => text.trim()).filter(Boolean) : [];
  const generic = beforeFixes.length > 1 ? beforeFixes[beforeFixes.length - 1] : lines[0].replace(/^Invalid Input Error:\s*/, '');
  return new InputError(`cannot parse the CSV: ${known ?? generic}`, { file: path, line: line ? Number(line[1]) : undefined });
}
