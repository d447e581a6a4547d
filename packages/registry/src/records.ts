import { labeledSetSchema, modelNameSchema, VERSION_PATTERN } from '@ct/core';
import { z } from 'zod';
import { FORMAT_VERSION } from './artifact';

const version = z.string().regex(VERSION_PATTERN);

/** One attempt (bootstrap, training job or reset) in `training_history.json`. */
export const historyEntrySchema = z.strictObject({
  /** The version this attempt produced (for a reset: the version it went back to). */
  version,
  source: z.enum(['bootstrap', 'train', 'reset']),
  status: z.enum(['activated', 'rejected']),
  job_id: z.string().nullable(),
  request_id: z.string().nullable(),
  created_at: z.iso.datetime(),
  /** Active version before and after this attempt; the last entry's `active_after` is what should be live. */
  active_before: version.nullable(),
  active_after: version,
  algorithm: z.string(),
  retrain_from_scratch: z.boolean(),
  n_batch_samples: z.number().int().nonnegative(),
  n_training_samples: z.number().int().nonnegative(),
  accuracy_new: z.number().nullable(),
  accuracy_previous: z.number().nullable(),
  eval_set: z.strictObject({ size: z.number().int().nonnegative(), hash: z.string() }),
  data_hash: z.string(),
  /**
   * The job's full result: the gate's decision as data (policy, reason, violations, both
   * models' scores with intervals, the paired comparison). Returned again when a finished job
   * is re-run.
   */
  result: z.record(z.string(), z.unknown()),
  duration_ms: z.number().nonnegative(),
});

/** One attempt in `training_history.json`. */
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** `training_history.json`: every attempt, in order. */
export const historySchema = z.strictObject({
  format_version: z.literal(FORMAT_VERSION),
  model: modelNameSchema,
  entries: z.array(historyEntrySchema),
});

/** `training_history.json`: every attempt, in order. */
export type History = z.infer<typeof historySchema>;

/** `accumulated_data.json` and `eval_set.json`: a labeled set tagged with the version it belongs to. */
export const taggedSetSchema = z.strictObject({
  format_version: z.literal(FORMAT_VERSION),
  model: modelNameSchema,
  version,
  hash: z.string(),
  data: labeledSetSchema,
});

/** A labeled set tagged with the version it belongs to. */
export type TaggedSet = z.infer<typeof taggedSetSchema>;

/** `versions/<v>/data.json`: the training and evaluation rows of a candidate, for audit and recovery. */
export const versionDataSchema = z.strictObject({
  format_version: z.literal(FORMAT_VERSION),
  job_id: z.string().nullable(),
  training_set: labeledSetSchema,
  eval_set: labeledSetSchema,
  /** The batch as submitted (a rejected batch stays here and nowhere else). */
  batch: labeledSetSchema,
});

/** `versions/<v>/data.json`. */
export type VersionData = z.infer<typeof versionDataSchema>;
