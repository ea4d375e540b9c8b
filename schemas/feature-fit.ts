import { z } from 'zod';

/** A rare one-hot level folded into its column's "(other)" level or dropped, with the reason (core/encoding/rare-levels.ts). */
export const RareLevelDecisionSchema = z.object({
  column: z.string(),
  level: z.string(),
  count: z.number().int().nonnegative(),
  share: z.number(),
  action: z.enum(['folded', 'dropped']),
  reason: z.string(),
});
export type RareLevelDecision = z.infer<typeof RareLevelDecisionSchema>;

/** A feature dropped because a handful of rows dominate its standardised values, with the share they hold. */
export const ConcentratedFeatureSchema = z.object({ feature: z.string(), share: z.number(), reason: z.string() });
export type ConcentratedFeature = z.infer<typeof ConcentratedFeatureSchema>;
