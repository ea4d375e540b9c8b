/**
 * Encoding rules as the encode step uses them: parsed and checked against the feature summary, the built-in
 * Arvato set (schemas/rules/arvato.json), rules derived from the summary's types, and loading a rules file.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../../common/errors';
import { EncodingRule, EncodingRules, EncodingRulesSchema } from '../../schemas/encoding-rules';
import type { FeatureSummary } from '../../schemas/feature-summary';
import builtinArvatoRules from '../../schemas/rules/arvato.json';

function formatIssue(issue: { path: PropertyKey[]; message: string }): string {
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Parses rules (already-parsed JSON) without looking at a summary. Throws InputError naming the file. */
export function parseEncodingRules(input: unknown, file = 'encoding rules'): EncodingRules {
  const parsed = EncodingRulesSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const column = first.path[0] === 'columns' && typeof first.path[1] === 'string' ? first.path[1] : undefined;
    throw new InputError(`invalid encoding rules: ${formatIssue(first)}`, { file, column });
  }
  return parsed.data;
}

/** All output feature names a rule can produce up front (one-hot names depend on the data and are checked at fit time). */
function staticOutputNames(column: string, rule: EncodingRule): string[] {
  switch (rule.action) {
    case 'keep':
    case 'binary':
      return [column];
    case 'derive':
      return rule.outputs.map((output) => output.name);
    default:
      return [];
  }
}

/**
 * Checks the rules against the summary: every rule names a column of the summary, output names are unique,
 * and the action suits the column's type loosely (derive only for columns that exist). Throws InputError.
 */
export function validateRulesAgainstSummary(rules: EncodingRules, summary: FeatureSummary, file = 'encoding rules'): void {
  const known = new Set(summary.features.map((feature) => feature.attribute));
  const outputs = new Map<string, string>();
  for (const [column, rule] of Object.entries(rules.columns)) {
    if (!known.has(column)) {
      throw new InputError(
        `the rule for "${column}" names a column that the feature summary does not list (known columns: ${summary.features.length}; check the spelling)`,
        { file, column },
      );
    }
    for (const name of staticOutputNames(column, rule)) {
      const previous = outputs.get(name);
      if (previous !== undefined) {
        throw new InputError(`output feature "${name}" is produced by both ${previous} and ${column}`, { file, column });
      }
      outputs.set(name, column);
    }
  }
}

export type SampleLevels = Record<string, readonly (string | number)[]>;

function sortLevels(levels: readonly string[]): string[] {
  const numeric = levels.every((level) => Number.isFinite(Number(level)) && level.trim() !== '');
  return [...levels].sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Text form of a level: numbers in their shortest form (8.0 -> "8"). */
export function levelText(value: string | number): string {
  return typeof value === 'number' ? String(value) : value;
}

/**
 * Rules derived from the summary's types, for data sets without a rules file:
 * categorical with 2 observed levels -> binary (sorted levels: first 0, second 1); more (or unknown) -> onehot;
 * a single observed level -> drop; ordinal / numeric / interval -> keep; mixed -> drop (a mixed column needs a
 * hand-written derive rule).
 */
export function defaultRulesFor(
  summary: FeatureSummary,
  keptColumns: readonly string[],
  sampleLevels?: SampleLevels,
): EncodingRules {
  const byName = new Map(summary.features.map((feature) => [feature.attribute, feature]));
  const columns: Record<string, EncodingRule> = {};
  for (const column of keptColumns) {
    const feature = byName.get(column);
    if (!feature) throw new InputError(`kept column "${column}" is not in the feature summary`, { column });
    columns[column] = defaultRuleFor(column, feature.type, sampleLevels?.[column]);
  }
  return { version: 1, description: 'derived from the feature summary types', columns, defaulted: [...keptColumns] };
}

function defaultRuleFor(column: string, type: string, sample: readonly (string | number)[] | undefined): EncodingRule {
  switch (type) {
    case 'ordinal':
    case 'numeric':
    case 'interval':
      return { action: 'keep', reason: `${type} in the feature summary: used as a number` };
    case 'mixed':
      return {
        action: 'drop',
        reason: 'mixed in the feature summary: several dimensions in one code; needs a hand-written derive rule',
      };
    case 'categorical': {
      if (sample === undefined) {
        return { action: 'onehot', unknownLevels: 'zeros', reason: 'categorical in the feature summary (levels not sampled): one-hot' };
      }
      const levels = sortLevels([...new Set(sample.map(levelText))]);
      if (levels.length <= 1) {
        return { action: 'drop', reason: `categorical with ${levels.length} observed level(s): carries no information` };
      }
      if (levels.length === 2) {
        return {
          action: 'binary',
          levels: { [levels[0]]: 0, [levels[1]]: 1 },
          reason: `categorical with two levels: ${levels[0]} -> 0, ${levels[1]} -> 1`,
        };
      }
      return { action: 'onehot', unknownLevels: 'zeros', reason: `categorical with ${levels.length} levels: one-hot` };
    }
    default:
      throw new Error(`defaultRulesFor: unknown feature type "${type}" for ${column}`);
  }
}

/** Categorical columns whose rule was derived without seeing their levels (no rule written for them). */
export function unsampledCategoricals(rules: EncodingRules, summary: FeatureSummary, keptColumns: readonly string[]): string[] {
  const types = new Map(summary.features.map((feature) => [feature.attribute, feature.type]));
  const defaulted = new Set(rules.defaulted);
  return keptColumns.filter((column) => defaulted.has(column) && types.get(column) === 'categorical');
}

/**
 * The rules with each defaulted categorical re-derived from its observed levels: two levels -> binary (as
 * documented), one -> dropped, more -> one-hot. Written rules are never changed.
 */
export function withObservedLevels(rules: EncodingRules, summary: FeatureSummary, observed: SampleLevels): EncodingRules {
  const columns = Object.keys(observed).filter((column) => rules.defaulted.includes(column));
  if (columns.length === 0) return rules;
  const derived = defaultRulesFor(summary, columns, observed);
  return { ...rules, columns: { ...rules.columns, ...derived.columns } };
}

/** The shipped Arvato rules, validated. */
export function builtinArvatoEncodingRules(): EncodingRules {
  return parseEncodingRules(builtinArvatoRules, 'schemas/rules/arvato.json');
}

/** True when the summary lists every column the built-in Arvato rules name (i.e. it is the Arvato summary). */
export function isArvatoSummary(summary: FeatureSummary): boolean {
  const known = new Set(summary.features.map((feature) => feature.attribute));
  return Object.keys(builtinArvatoEncodingRules().columns).every((column) => known.has(column));
}

/**
 * Loads and validates encoding rules against the summary.
 * - `path` given: the file (JSON); summary columns it does not mention get defaultRulesFor's rule and are listed in `defaulted`.
 * - `path` undefined: the built-in Arvato rules when the summary is Arvato's, else rules derived from the summary's types.
 * A rule naming a column the summary lacks is an InputError (non-retryable).
 */
export function loadEncodingRules(path: string | undefined, summary: FeatureSummary): EncodingRules {
  let rules: EncodingRules;
  let file: string;
  if (path === undefined) {
    if (!isArvatoSummary(summary)) {
      return defaultRulesFor(summary, summary.features.map((feature) => feature.attribute));
    }
    rules = builtinArvatoEncodingRules();
    file = 'schemas/rules/arvato.json';
  } else {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new InputError(`cannot read the encoding rules: ${(error as Error).message}`, { file: path });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new InputError(`the encoding rules are not valid JSON: ${(error as Error).message}`, { file: path });
    }
    rules = parseEncodingRules(json, path);
    file = path;
  }
  validateRulesAgainstSummary(rules, summary, file);
  const missing = summary.features.map((feature) => feature.attribute).filter((column) => !(column in rules.columns));
  if (missing.length > 0) {
    const defaults = defaultRulesFor(summary, missing);
    rules = {
      ...rules,
      columns: { ...rules.columns, ...defaults.columns },
      defaulted: [...new Set([...rules.defaulted, ...missing])],
    };
    validateRulesAgainstSummary(rules, summary, file);
  }
  return rules;
}
