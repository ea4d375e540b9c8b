import { z } from 'zod';

/**
 * Encoding rules' shape (loading, validating against the summary and defaults: core/encoding/rules.ts):
 * how each cleaned column becomes model features. One rule per column, stored as data
 * (schemas/rules/arvato.json is the Arvato set), each with a one-line `reason` so the file documents the
 * decisions.
 *
 * Values are written as text in the rules, the way they appear in the cleaned data: numeric codes as their
 * shortest decimal form ("1", "8", "-1"), text codes as is ("W", "O", "1A"). A numeric source column matches
 * a key by number (8.0 matches "8"), a text column by exact string.
 *
 * Actions:
 * - keep:   ordinal / numeric value as is (DOUBLE).
 * - binary: exactly two levels mapped to 0/1 (`levels`: {"W": 0, "O": 1}); any other value becomes NULL.
 * - onehot: one 0/1 column per level; the level set is fitted on the population and applied unchanged to
 *           every other file (`unknownLevels`: a level the population lacks gives all zeros in the group,
 *           or NULL -> imputed as missing).
 * - derive: engineered outputs by value maps; a value not in a map (or mapped to null) becomes NULL.
 * - drop:   not used.
 */

const REASON = z.string().trim().min(1, 'every rule needs a one-line reason');
/** A value as written in the rules: a code's text (JSON object keys are always text). */
const ValueKey = z.string().min(1);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const KeepRuleSchema = z.object({ action: z.literal('keep'), reason: REASON }).strict();

export const BinaryRuleSchema = z
  .object({
    action: z.literal('binary'),
    /** Exactly two levels, one mapped to 0 and the other to 1. */
    levels: z.record(ValueKey, z.union([z.literal(0), z.literal(1)])),
    reason: REASON,
  })
  .strict()
  .superRefine((rule, ctx) => {
    const values = Object.values(rule.levels);
    if (values.length !== 2 || !values.includes(0) || !values.includes(1)) {
      ctx.addIssue({ code: 'custom', path: ['levels'], message: 'binary needs exactly two levels, one mapped to 0 and one to 1' });
    }
  });

export const OneHotRuleSchema = z
  .object({
    action: z.literal('onehot'),
    /** What a level the population does not have becomes: all zeros in the group (default) or missing (imputed). */
    unknownLevels: z.enum(['zeros', 'missing']).default('zeros'),
    /** Optional human labels per level (for reports). */
    labels: z.record(ValueKey, z.string()).optional(),
    reason: REASON,
  })
  .strict();

export const DerivedOutputSchema = z
  .object({
    /** Full output feature name, e.g. PRAEGENDE_JUGENDJAHRE_DECADE. */
    name: z.string().regex(IDENTIFIER, 'an output name must be an identifier (letters, digits, _)'),
    /** ordinal: a number imputed by the median; flag: 0/1 imputed by the most frequent value. */
    kind: z.enum(['ordinal', 'flag']),
    map: z.record(ValueKey, z.number().finite().nullable()),
    description: z.string().optional(),
  })
  .strict()
  .superRefine((output, ctx) => {
    if (Object.keys(output.map).length === 0) ctx.addIssue({ code: 'custom', path: ['map'], message: 'the value map is empty' });
    if (output.kind === 'flag') {
      for (const [key, value] of Object.entries(output.map)) {
        if (value !== null && value !== 0 && value !== 1) {
          ctx.addIssue({ code: 'custom', path: ['map', key], message: `a flag maps to 0, 1 or null, got ${value}` });
        }
      }
    }
  });
export type DerivedOutput = z.infer<typeof DerivedOutputSchema>;

export const DeriveRuleSchema = z
  .object({ action: z.literal('derive'), outputs: z.array(DerivedOutputSchema).min(1), reason: REASON })
  .strict();

export const DropRuleSchema = z.object({ action: z.literal('drop'), reason: REASON }).strict();

export const EncodingRuleSchema = z.discriminatedUnion('action', [
  KeepRuleSchema,
  BinaryRuleSchema,
  OneHotRuleSchema,
  DeriveRuleSchema,
  DropRuleSchema,
]);
export type EncodingRule = z.infer<typeof EncodingRuleSchema>;
export type EncodingAction = EncodingRule['action'];

export const EncodingRulesSchema = z
  .object({
    version: z.literal(1).default(1),
    /** Free text: what data set these rules are for. */
    description: z.string().optional(),
    columns: z.record(z.string().min(1), EncodingRuleSchema),
    /** Columns whose rule was not in the file but derived from the summary's types (filled in by loadEncodingRules). */
    defaulted: z.array(z.string()).default([]),
  })
  .strict();
export type EncodingRules = z.infer<typeof EncodingRulesSchema>;
export type EncodingRulesInput = z.input<typeof EncodingRulesSchema>;
