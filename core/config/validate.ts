/**
 * Config errors for people: one line naming where the value came from (the file, or a flag such as --k) and the
 * key, with the nearest valid key for an unknown one ("did you mean maxColumnMissingShare?"), never zod's JSON.
 */
import type { z } from 'zod';
import { ConfigError } from '../../common/errors';
import { PipelineConfig, PipelineConfigSchema } from '../../schemas/config';

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[s.length][t.length];
}

/** The valid key nearest to `key`, if it is near enough to be a plausible typo (or one contains the other). */
export function nearestKey(key: string, valid: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of valid) {
    const distance = editDistance(key, name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (!best) return undefined;
  const lower = key.toLowerCase();
  const contains = valid.find((name) => name.toLowerCase().includes(lower) || lower.includes(name.toLowerCase()));
  if (best.distance <= Math.max(2, Math.floor(Math.max(key.length, best.name.length) / 3))) return best.name;
  return lower.length >= 3 ? contains : undefined;
}

type AnySchema = { _zod: { def: Record<string, unknown> } };

/** The object keys a (possibly wrapped) zod schema accepts at `path`. */
function keysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  const unwrap = (s: AnySchema): AnySchema => {
    let current = s;
    for (;;) {
      const def = current._zod.def;
      const inner = (def.innerType ?? (def.type === 'pipe' ? def.in : undefined)) as AnySchema | undefined;
      if (!inner) return current;
      current = inner;
    }
  };
  let current: AnySchema | undefined = unwrap(schema);
  for (const segment of path) {
    const shape = current?._zod.def.shape as Record<string, AnySchema> | undefined;
    const next: AnySchema | undefined = shape?.[String(segment)];
    current = next ? unwrap(next) : undefined;
  }
  return Object.keys((current?._zod.def.shape as Record<string, unknown> | undefined) ?? {});
}

function plain(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const segment of path) current = current && typeof current === 'object' ? (current as Record<PropertyKey, unknown>)[segment] : undefined;
  return current;
}

/** One issue as words: "maxColumnMissingShare must be less than 1 (got 2)". */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const key = issue.path.map(String).join('.');
  const got = valueAt(input, issue.path);
  const shown = got === undefined ? '' : ` (got ${plain(got)})`;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys
        .map((unknown) => {
          const valid = keysAt(PipelineConfigSchema as unknown as AnySchema, issue.path);
          const suggestion = nearestKey(unknown, valid);
          const full = [...issue.path.map(String), unknown].join('.');
          return `unknown key "${full}" (${suggestion ? `did you mean ${[...issue.path.map(String), suggestion].join('.')}?` : `valid keys: ${valid.join(', ')}`})`;
        })
        .join('; ');
    case 'too_big':
      return `${key} must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}${shown}`;
    case 'too_small':
      return `${key} must be ${issue.inclusive ? 'at least' : 'greater than'} ${String(issue.minimum)}${shown}`;
    case 'invalid_type':
      if (got === undefined) return `${key} is required`;
      return `${key} must be ${issue.expected === 'int' ? 'a whole number' : `a ${issue.expected}`}${shown}`;
    case 'invalid_value':
      return `${key} must be one of ${issue.values.map(plain).join(', ')}${shown}`;
    case 'invalid_format':
      return `${key} is not a valid ${issue.format}${shown}`;
    default:
      if (issue.code === 'custom' || !('expected' in issue)) return `${key || 'config'}: ${issue.message}${shown}`;
      return `${key}: ${issue.message}${shown}`;
  }
}

/**
 * One line for a failed config parse. `source` names the file (or "the run's config"); `origins` maps keys set
 * elsewhere (e.g. k from --k) to where they came from, so the line names the flag instead of the file.
 */
export function describeConfigError(error: z.ZodError, input: unknown, source: string, origins: Record<string, string> = {}): string {
  const issues = [...error.issues].sort((a, b) => (a.code === 'unrecognized_keys' ? -1 : 0) - (b.code === 'unrecognized_keys' ? -1 : 0));
  const originOf = (issue: z.core.$ZodIssue) => origins[issue.path.map(String).join('.')];
  const fromFlags = issues.filter(originOf).map((issue) => {
    const key = issue.path.map(String).join('.');
    const text = describeIssue(issue, input);
    return text.startsWith(key) ? `${originOf(issue)}${text.slice(key.length)}` : `${originOf(issue)}: ${text}`;
  });
  const fromSource = issues.filter((issue) => !originOf(issue)).map((issue) => describeIssue(issue, input));
  return [...fromFlags, ...(fromSource.length ? [`${source}: ${fromSource.join('; ')}`] : [])].join('; ');
}

/** parseConfig with a one-line ConfigError instead of a ZodError. */
export function validateConfig(input: unknown, source: string, origins: Record<string, string> = {}): PipelineConfig {
  const parsed = PipelineConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  throw new ConfigError(describeConfigError(parsed.error, input ?? {}, source, origins));
}
