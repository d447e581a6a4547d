import { algorithmNames, policySchema, type ModelSpec } from '@ct/core';
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

/** Request and response schemas of one model, derived from its feature schema. */
export interface ModelSchemas {
  row: z.ZodType<Record<string, number>>;
  batch: z.ZodType<{ records: Record<string, number>[] }>;
  train: z.ZodType<TrainBody>;
  trusted: z.ZodType<TrustedBody>;
}

/** Fewest rows a trusted evaluation set may have (enough to compare two models on). */
export const MIN_TRUSTED_SAMPLES = 10;

/** A validated body of `PUT`/`POST /model/trusted-eval`. */
export interface TrustedBody {
  samples: (Record<string, number> & { label: number })[];
}

/** A validated `/train` body. */
export interface TrainBody {
  samples: (Record<string, number> & { label: number })[];
  retrain_from_scratch: boolean;
  policy?: z.output<typeof policySchema> | undefined;
  algorithm?: string | undefined;
}

function featureShape(spec: ModelSpec): Record<string, z.ZodNumber> {
  return Object.fromEntries(
    spec.features.map((f) => [
      f.name,
      // No coercion: "5.1" is a string, not a measurement. z.number() refuses NaN and
      // Infinity (what JSON's 1e400 parses to); the bounds come from the model's feature schema.
      z
        .number()
        .gt(f.exclusive_minimum)
        .lte(f.maximum)
        .meta({ description: `${f.description}; ${f.unit}, greater than ${f.exclusive_minimum} and at most ${f.maximum}` }),
    ]),
  );
}

/** Builds (once per model) the zod schemas that validate its requests. */
export function modelSchemas(spec: ModelSpec): ModelSchemas {
  const shape = featureShape(spec);
  const row = z.strictObject(shape).meta({ id: `${spec.name}_features`, description: `One ${spec.name} row` });
  const batch = z
    .strictObject({ records: z.array(row).min(1).max(MAX_PREDICT_RECORDS) })
    .meta({ id: `${spec.name}_batch`, description: `Up to ${MAX_PREDICT_RECORDS} rows` });
  const sample = z
    .strictObject({
      ...shape,
      label: z
        .number()
        .int()
        .min(0)
        .max(spec.classes.length - 1)
        .meta({ description: `class index: ${spec.classes.map((c, i) => `${i} = ${c}`).join(', ')}` }),
    })
    .meta({ id: `${spec.name}_sample` });
  const train = z
    .strictObject({
      samples: z.array(sample).min(MIN_TRAIN_SAMPLES).max(MAX_TRAIN_SAMPLES),
      retrain_from_scratch: z.boolean().default(false),
      policy: policySchema.optional(),
      algorithm: z.enum(algorithmNames as [string, ...string[]]).optional(),
    })
    .meta({ id: `${spec.name}_train_request` });
  const trusted = z
    .strictObject({ samples: z.array(sample).min(MIN_TRUSTED_SAMPLES).max(MAX_TRAIN_SAMPLES) })
    .meta({ id: `${spec.name}_trusted_eval_request`, description: 'Rows an admin vouches for: every later candidate is judged on them, and the guardrails apply there' });
  return { row, batch, train, trusted };
}
