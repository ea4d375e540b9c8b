/** Strict config: unknown keys rejected with the nearest valid key, every error one line naming source and key. */
import { ConfigError } from '../../common/errors';
import { editDistance, nearestKey, validateConfig } from '../../core/config/validate';

function message(input: unknown, origins?: Record<string, string>): string {
  try {
    validateConfig(input, 'config file /etc/segments.json', origins);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as Error).message;
    expect(text).not.toContain('\n');
    expect(text).not.toContain('"code"');
    return text;
  }
  throw new Error('expected a ConfigError');
}

test.each([
  [{ maxColumMissingShare: 0.2 }, 'config file /etc/segments.json: unknown key "maxColumMissingShare" (did you mean maxColumnMissingShare?)'],
  [{ kmax: 8 }, 'unknown key "kmax" (did you mean kMax?)'],
  [{ silhouettesample: 10 }, 'did you mean silhouetteSample?'],
  [{ pca: { varianceTarge: 0.8 } }, 'unknown key "pca.varianceTarge" (did you mean pca.varianceTarget?)'],
  [{ valueChecks: { polcy: 'fail' } }, 'did you mean valueChecks.policy?'],
  [{ zzz: 1 }, 'unknown key "zzz" (valid keys: dataset, maxColumnMissingShare'],
  [{ maxColumnMissingShare: 2 }, 'config file /etc/segments.json: maxColumnMissingShare must be less than 1 (got 2)'],
  [{ kMin: 1 }, 'kMin must be at least 2 (got 1)'],
  [{ kMin: 'two' }, 'kMin must be a number (got "two")'],
  [{ kMin: 2.5 }, 'kMin must be a whole number (got 2.5)'],
  [{ kMin: 6, kMax: 4 }, 'kMax: kMax must be >= kMin'],
  [{ valueChecks: { policy: 'ignore' } }, 'valueChecks.policy must be one of "missing", "fail" (got "ignore")'],
  [{ pca: { components: 0 } }, 'pca.components must be greater than 0 (got 0)'],
])('%j -> %s', (input, expected) => {
  expect(message(input)).toContain(expected);
});

test('a value from a flag names the flag, not the file', () => {
  expect(message({ k: 1 }, { k: '--k' })).toBe('--k must be at least 2 (got 1)');
  expect(message({ k: 1, alpha: 3 }, { k: '--k' })).toBe('--k must be at least 2 (got 1); config file /etc/segments.json: alpha must be less than 1 (got 3)');
});

test('valid config parses with defaults', () => {
  const config = validateConfig({ kMin: 3, pca: { components: 5 } }, 'x');
  expect(config.kMax).toBe(20);
  expect(config.valueChecks).toEqual({ policy: 'missing', maxAbsValue: 1e9 });
});

test('nearestKey: typos, case and nothing close', () => {
  expect(editDistance('kMin', 'kmin')).toBe(0);
  expect(editDistance('ab', 'ba')).toBe(1);
  expect(nearestKey('finalInit', ['finalInits', 'sweepInits'])).toBe('finalInits');
  expect(nearestKey('qqqqqqq', ['alpha', 'seed'])).toBeUndefined();
});
