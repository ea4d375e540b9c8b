/** Reads and parses the feature summary file into its schema (schemas/feature-summary.ts); errors name file, line, column. */
import { readFileSync } from 'node:fs';
import { InputError } from '../../common/errors';
import { Feature, FeatureSchema, FeatureSummary } from '../../schemas/feature-summary';

const EXPECTED_HEADER = ['attribute', 'information_level', 'type', 'missing_or_unknown'];

/** Parses `[-1,0]`, `[XX]`, `[]` into code strings; throws a plain Error with the reason. */
export function parseMissingCodes(raw: string): string[] {
  const text = raw.trim();
  if (!text.startsWith('[') || !text.endsWith(']')) {
    throw new Error(`missing_or_unknown must be a bracketed list like [-1,0], got "${raw}"`);
  }
  const inner = text.slice(1, -1).trim();
  if (inner === '') return [];
  const codes = inner.split(',').map((code) => code.trim());
  for (const code of codes) {
    if (!/^(-?\d+|[A-Za-z]+)$/.test(code)) {
      throw new Error(`missing code "${code}" in ${raw} is neither an integer nor a letter code`);
    }
  }
  return codes;
}

/** Parses the feature summary text; `file` only labels error messages. */
export function parseFeatureSummary(text: string, file = 'feature summary'): FeatureSummary {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new InputError('the feature summary is empty', { file });

  const delimiter = ';';
  const header = lines[0].split(delimiter).map((cell) => cell.trim());
  if (header.length !== EXPECTED_HEADER.length || header.some((name, i) => name !== EXPECTED_HEADER[i])) {
    const hint = lines[0].includes(',') && !lines[0].includes(';') ? ' (is it comma-separated? it must use ";")' : '';
    throw new InputError(`header must be "${EXPECTED_HEADER.join(';')}", got "${lines[0]}"${hint}`, { file, line: 1 });
  }

  const features: Feature[] = [];
  const seen = new Map<string, number>();
  lines.slice(1).forEach((rawLine, index) => {
    const line = index + 2;
    if (rawLine.trim() === '') throw new InputError('blank line inside the feature summary', { file, line });
    // Stray trailing delimiters occur in hand-edited copies; a fourth field is what matters.
    const cells = rawLine.replace(/[;,\s]+$/, (tail) => (tail.includes(']') ? tail : '')).split(delimiter);
    if (cells.length !== 4) {
      throw new InputError(`expected 4 fields separated by ";", found ${cells.length}: "${rawLine}"`, { file, line });
    }
    const [attribute, informationLevel, type, codes] = cells.map((cell) => cell.trim());
    let missingCodes: string[];
    try {
      missingCodes = parseMissingCodes(codes);
    } catch (error) {
      throw new InputError((error as Error).message, { file, line, column: attribute });
    }
    const parsed = FeatureSchema.safeParse({ attribute, informationLevel, type, missingCodes });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(`${issue.path.join('.') || 'row'}: ${issue.message}`, { file, line, column: attribute });
    }
    const previous = seen.get(attribute);
    if (previous !== undefined) {
      throw new InputError(`attribute ${attribute} is listed twice (first on line ${previous})`, { file, line, column: attribute });
    }
    seen.set(attribute, line);
    features.push(parsed.data);
  });
  if (features.length === 0) throw new InputError('the feature summary lists no attributes', { file });
  return { features };
}

export function readFeatureSummary(path: string): FeatureSummary {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read the feature summary: ${(error as Error).message}`, { file: path });
  }
  return parseFeatureSummary(text, path);
}
