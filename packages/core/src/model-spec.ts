import { z } from 'zod';
import { guardrailsSchema } from './guardrails';
import { DEFAULT_POLICY, policySchema } from './policy';

/** Model names are path segments and queue names: keep them to a safe alphabet. */
export const modelNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/);

const featureName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'lower-case letters, digits and _, starting with a letter');

/**
 * What a missing value of a feature gets: `refuse` (the request is a 422, the training row
 * is refused) or `impute` (filled with a value learned from the training rows and stored in
 * the version: the mean or median of a number, the most frequent level of a category).
 */
const missing = z.enum(['refuse', 'impute']).default('refuse');

const bounds = {
  unit: z.string().optional(),
  /** Values must be at least this. */
  minimum: z.number().optional(),
  /** Values must be greater than this. */
  exclusive_minimum: z.number().optional(),
  /** Values must be at most this. */
  maximum: z.number().optional(),
  /** Values must be less than this. */
  exclusive_maximum: z.number().optional(),
  missing,
  /** How an imputed number is filled. */
  impute: z.enum(['mean', 'median']).default('mean'),
};

/** One input feature: its name in requests, its type, what values it takes, what a missing value gets. */
export const featureSpecSchema = z.discriminatedUnion('type', [
  z.strictObject({ name: featureName, type: z.literal('numeric'), description: z.string().default(''), ...bounds }),
  z.strictObject({ name: featureName, type: z.literal('integer'), description: z.string().default(''), ...bounds }),
  z.strictObject({
    name: featureName,
    type: z.literal('categorical'),
    description: z.string().default(''),
    /** The values it takes, as strings; anything else is refused. */
    levels: z
      .array(z.string().min(1).max(100))
      .min(1)
      .max(1000)
      .refine((l) => new Set(l).size === l.length, 'levels must be unique'),
    missing,
  }),
]);

/** One input feature. */
export type FeatureSpec = z.output<typeof featureSpecSchema>;

/**
 * A model as data: everything the stack needs that is not learned. The one schema of a spec,
 * the source of its type, of the request schemas derived from it and of its OpenAPI. Built-in
 * specs are the JSON files of the repository's `catalog/` folder.
 */
export const modelSpecSchema = z
  .strictObject({
    name: modelNameSchema,
    description: z.string().max(500).default(''),
    features: z.array(featureSpecSchema).min(1).max(200),
    /** The label column of the data and the class names, in the order of their indices. */
    target: z.strictObject({
      column: z.string().min(1),
      classes: z
        .array(z.string().min(1).max(100))
        .min(2)
        .max(100)
        .refine((c) => new Set(c).size === c.length, 'classes must be unique'),
    }),
    /** Bundled data of the bootstrap: a CSV file in the datasets folder. */
    dataset: z.strictObject({ file: z.string().regex(/^[A-Za-z0-9._-]+\.csv$/, 'a CSV file name, no path') }),
    /** Algorithm of the bootstrap version and of later candidates unless a job says otherwise. */
    algorithm: z.string().min(1),
    /** Validated by the algorithm's own schema when the catalogue is loaded. */
    hyperparameters: z.record(z.string(), z.unknown()).default({}),
    /** The gate's policy when a request names none. */
    policy: policySchema.default(DEFAULT_POLICY),
    /** Conditions on the trusted evaluation rows that every candidate must meet; no request can change them. */
    guardrails: guardrailsSchema,
    /** Seed of the bootstrap split, of fits and of bootstrap resampling. */
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(42),
    /** Share of the bootstrap data, and of each large enough batch, held out for evaluation. */
    eval_fraction: z.number().min(0.05).max(0.5).default(0.2),
    /** Batches smaller than this train whole: a slice of them would be too small to mean anything. */
    min_batch_for_eval_slice: z.number().int().min(2).max(100_000).default(10),
    /** A realistic request row, shown in the OpenAPI document and the docs (checked against the features). */
    example: z.record(z.string(), z.union([z.number(), z.string(), z.null()])).optional(),
  })
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.features.forEach((f, i) => {
      if (seen.has(f.name)) ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: `feature ${f.name} is listed twice` });
      seen.add(f.name);
      if (f.name === spec.target.column) ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: 'a feature cannot be the target column' });
    });
    if (spec.example) {
      for (const key of Object.keys(spec.example)) {
        if (!seen.has(key)) ctx.addIssue({ code: 'custom', path: ['example', key], message: `${key} is not a feature` });
      }
      spec.features.forEach((f) => {
        const v = spec.example?.[f.name];
        const ok = v === undefined || v === null ? f.missing === 'impute' : f.type === 'categorical' ? typeof v === 'string' && f.levels.includes(v) : typeof v === 'number';
        if (!ok) ctx.addIssue({ code: 'custom', path: ['example', f.name], message: `not a valid value of ${f.name}` });
      });
    }
  });

/** A model's spec, validated, defaults filled. */
export type ModelSpec = z.output<typeof modelSpecSchema>;

/** The model used by the lab-compatible paths (`/predict`, `/train`, `/model/info`). */
export const DEFAULT_MODEL = 'iris';
