import { z } from 'zod';
import type { Guardrails } from './guardrails';
import type { Policy } from './policy';

/** One input feature: its name in requests, its unit and the bounds a request must respect. */
export const featureSpecSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/),
  unit: z.string(),
  description: z.string(),
  /** Values must be strictly greater than this. */
  exclusive_minimum: z.number(),
  /** Values must be at most this. */
  maximum: z.number(),
});

/** One input feature: its name in requests, its unit and the bounds a request must respect. */
export type FeatureSpec = z.infer<typeof featureSpecSchema>;

/** Model names are path segments and queue names: keep them to a safe alphabet. */
export const modelNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/);

/**
 * Everything the stack needs to know about a model that is not learned: its features and
 * their bounds, its classes, where its bundled data lives and how it is split and fitted.
 */
export interface ModelSpec {
  readonly name: string;
  readonly description: string;
  readonly features: readonly FeatureSpec[];
  readonly classes: readonly string[];
  /** Bundled CSV in the repository's `datasets/` folder, and its label column. */
  readonly dataset: { readonly file: string; readonly labelColumn: string };
  /** Algorithm of the bootstrap version and of later candidates unless a job says otherwise. */
  readonly algorithm: string;
  /** Seed of the bootstrap split, of fits and of bootstrap resampling. */
  readonly seed: number;
  /** Share of the bootstrap data, and of each large enough batch, held out for evaluation. */
  readonly evalFraction: number;
  /** Batches smaller than this train whole: a 20 % slice of them would be too small to mean anything. */
  readonly minBatchForEvalSlice: number;
  /** The gate's policy when a request names none. */
  readonly policy: Policy;
  /** Conditions on the trusted evaluation rows that every candidate must meet; no request can change them. */
  readonly guardrails: Guardrails;
}
