import { algorithmNames, policySchema, type FeatureSpec, type LabeledSet, type ModelSpec, type RawValue } from '@ct/core';
import { z } from 'zod';

/** Most rows one `/predict` call may carry in `records`. */
export const MAX_PREDICT_RECORDS = 1000;
/** Fewest and most samples one `/train` call may carry. */
export const MIN_TRAIN_SAMPLES = 5;
/** Most samples one `/train` call may carry. */
export const MAX_TRAIN_SAMPLES = 10_000;
/** Largest request body, in bytes (a full `/train` batch fits with room to spare). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Longest `Prefer: wait=N`, in seconds. */
export const MAX_WAIT_SECONDS = 60;

/** A request row: each feature's value by name (a missing or null value only where the feature imputes). */
export type RequestRow = Record<string, number | string | null | undefined>;
/** A labeled request row: the label by class index or by class name. */
export type RequestSample = RequestRow & { label: number | string };

/** Request and response schemas of one model, derived from its spec. */
export interface ModelSchemas {
  row: z.ZodType<RequestRow>;
  batch: z.ZodType<{ records: RequestRow[] }>;
  train: z.ZodType<TrainBody>;
  trusted: z.ZodType<TrustedBody>;
}

/** Fewest rows a trusted evaluation set may have (enough to compare two models on). */
export const MIN_TRUSTED_SAMPLES = 10;

/** A validated body of `PUT`/`POST /model/trusted-eval`. */
export interface TrustedBody {
  samples: RequestSample[];
}

/** A validated `/train` body. */
export interface TrainBody {
  samples: RequestSample[];
  retrain_from_scratch: boolean;
  policy?: z.output<typeof policySchema> | undefined;
  algorithm?: string | undefined;
  hyperparameters?: Record<string, unknown> | undefined;
}

function bounded(f: Extract<FeatureSpec, { type: 'numeric' | 'integer' }>): z.ZodNumber {
  // No coercion: "5.1" is a string, not a measurement. z.number() refuses NaN and Infinity
  // (what JSON's 1e400 parses to); the bounds come from the spec.
  let n = z.number();
  if (f.type === 'integer') n = n.int();
  if (f.minimum !== undefined) n = n.gte(f.minimum);
  if (f.exclusive_minimum !== undefined) n = n.gt(f.exclusive_minimum);
  if (f.maximum !== undefined) n = n.lte(f.maximum);
  if (f.exclusive_maximum !== undefined) n = n.lt(f.exclusive_maximum);
  return n;
}

function describe(f: FeatureSpec): string {
  const parts = [f.description];
  if (f.type === 'categorical') parts.push(`one of ${f.levels.join(', ')}`);
  else {
    if (f.unit) parts.push(f.unit);
    if (f.minimum !== undefined) parts.push(`at least ${f.minimum}`);
    if (f.exclusive_minimum !== undefined) parts.push(`greater than ${f.exclusive_minimum}`);
    if (f.maximum !== undefined) parts.push(`at most ${f.maximum}`);
    if (f.exclusive_maximum !== undefined) parts.push(`less than ${f.exclusive_maximum}`);
  }
  if (f.missing === 'impute') parts.push('may be missing or null (imputed)');
  return parts.filter((p) => p !== '').join('; ');
}

function featureShape(spec: ModelSpec): Record<string, z.ZodType> {
  return Object.fromEntries(
    spec.features.map((f) => {
      const base: z.ZodType = f.type === 'categorical' ? z.enum(f.levels as [string, ...string[]]) : bounded(f);
      return [f.name, (f.missing === 'impute' ? base.nullable().optional() : base).meta({ description: describe(f) })];
    }),
  );
}

/** Builds (once per model) the zod schemas that validate its requests. */
export function modelSchemas(spec: ModelSpec): ModelSchemas {
  const shape = featureShape(spec);
  const classes = spec.target.classes;
  const row = z.strictObject(shape).meta({ id: `${spec.name}_features`, description: `One ${spec.name} row` }) as unknown as z.ZodType<RequestRow>;
  const batch = z
    .strictObject({ records: z.array(row).min(1).max(MAX_PREDICT_RECORDS) })
    .meta({ id: `${spec.name}_batch`, description: `Up to ${MAX_PREDICT_RECORDS} rows` });
  const sample = z
    .strictObject({
      ...shape,
      label: z
        .union([z.number().int().min(0).max(classes.length - 1), z.enum(classes as [string, ...string[]])])
        .meta({ description: `class index or name: ${classes.map((c, i) => `${i} = ${c}`).join(', ')}` }),
    })
    .meta({ id: `${spec.name}_sample` }) as unknown as z.ZodType<RequestSample>;
  const train = z
    .strictObject({
      samples: z.array(sample).min(MIN_TRAIN_SAMPLES).max(MAX_TRAIN_SAMPLES),
      retrain_from_scratch: z.boolean().default(false),
      policy: policySchema.optional(),
      algorithm: z.enum(algorithmNames as [string, ...string[]]).optional(),
      hyperparameters: z.record(z.string(), z.unknown()).optional().meta({ description: "this job's hyperparameters, validated by the algorithm's schema" }),
    })
    .meta({ id: `${spec.name}_train_request` });
  const trusted = z
    .strictObject({ samples: z.array(sample).min(MIN_TRUSTED_SAMPLES).max(MAX_TRAIN_SAMPLES) })
    .meta({ id: `${spec.name}_trusted_eval_request`, description: 'Rows an admin vouches for: every later candidate is judged on them, and the guardrails apply there' });
  return { row, batch, train, trusted };
}

/** A request row's cells in the spec's feature order; a missing value is null. */
export function rowValues(spec: ModelSpec, row: RequestRow): RawValue[] {
  return spec.features.map((f) => row[f.name] ?? null);
}

/** Labeled request rows as a labeled set: cells in feature order, labels as class indices. */
export function samplesToSet(spec: ModelSpec, samples: readonly RequestSample[]): LabeledSet {
  return {
    x: samples.map((s) => rowValues(spec, s)),
    y: samples.map((s) => (typeof s.label === 'number' ? s.label : spec.target.classes.indexOf(s.label))),
  };
}
