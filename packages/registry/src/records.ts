import { labeledSetSchema, VERSION_PATTERN } from '@ct/core';
import { z } from 'zod';
import { segmentListSchema } from './segment-list';

const version = z.string().regex(VERSION_PATTERN);
const hash = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * What is live after a history entry, and what judges the next candidate: the active version,
 * how many candidate versions exist (the next one is number `n_versions + 1`), the trusted
 * evaluation rows and the growing ones, as segment hashes. The active version's training rows
 * are in its version data.
 */
export const modelStateSchema = z.strictObject({
  active: version,
  n_versions: z.number().int().positive(),
  trusted: hash,
  /** Slices of activated batches, oldest first. */
  growing: segmentListSchema,
});

/** What is live after a history entry. */
export type ModelState = z.infer<typeof modelStateSchema>;

/** One attempt or change of a model, `history/<seq>.json`. */
export const historyEntrySchema = z.strictObject({
  /** Position in the log, from 1: entry `seq` is created only if it does not exist yet. */
  seq: z.number().int().positive(),
  /** The version this attempt produced (for a reset or rollback: the version it went back to; for a trusted-set change: the active one). */
  version,
  source: z.enum(['bootstrap', 'train', 'reset', 'rollback', 'trusted_eval']),
  /** `applied`: a change that is not a candidate (the trusted set was replaced or extended). */
  status: z.enum(['activated', 'rejected', 'applied']),
  job_id: z.string().nullable(),
  request_id: z.string().nullable(),
  /** Who asked: the caller's token name, role and id (never the token); null for the system's own jobs. Absent in entries written before tokens. */
  actor: z.strictObject({ name: z.string(), role: z.enum(['admin', 'trainer', 'client']).nullable(), token_id: z.string().nullable() }).nullable().optional(),
  /** Set when the automation queued the job: the rule that fired, its sentence and its numbers. */
  trigger: z.strictObject({ code: z.string(), reason: z.string(), details: z.record(z.string(), z.unknown()) }).optional(),
  created_at: z.iso.datetime(),
  /**
   * When the job that made this entry started (`created_at` of a candidate is its artifact's,
   * stamped after the fit and before the evaluation). Absent in entries written before it.
   */
  started_at: z.iso.datetime().optional(),
  /** Active version before and after this attempt; the last entry's `active_after` is what should be live. */
  active_before: version.nullable(),
  active_after: version,
  algorithm: z.string(),
  retrain_from_scratch: z.boolean(),
  n_batch_samples: z.number().int().nonnegative(),
  n_training_samples: z.number().int().nonnegative(),
  accuracy_new: z.number().nullable(),
  accuracy_previous: z.number().nullable(),
  /** The rows that judged this attempt: trusted and growing apart. */
  eval_set: z.strictObject({ size: z.number().int().nonnegative(), trusted: z.number().int().nonnegative(), growing: z.number().int().nonnegative() }),
  data_hash: z.string(),
  /**
   * The job's full result: the gate's decision as data (policy, guardrails, reason,
   * violations, both models' scores with intervals, trusted and growing apart). Returned
   * again when a finished job is re-run.
   */
  result: z.record(z.string(), z.unknown()),
  duration_ms: z.number().nonnegative(),
  state: modelStateSchema,
});

/** One attempt in the history. */
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** Every attempt, in order (the API's and tests' view of the log). */
export interface History {
  model: string;
  entries: HistoryEntry[];
}

/**
 * `versions/<v>/data.json`: what a candidate was fitted on and judged by, as segment hashes,
 * and the history entry that records it. Enough to rebuild the history from `versions/`.
 */
export const versionDataSchema = z.strictObject({
  job_id: z.string().nullable(),
  /** The active version the candidate was gated against (null for a bootstrap). */
  parent: version.nullable(),
  /** Its training rows, in order. */
  training: segmentListSchema,
  /** The batch as submitted (a rejected batch is kept here and nowhere else); null for a bootstrap. */
  batch: hash.nullable(),
  /** The batch's held-out slice: joins the growing set if the candidate is activated. */
  batch_holdout: hash.nullable(),
  trusted: hash,
  growing: segmentListSchema,
  entry: historyEntrySchema,
});

/** `versions/<v>/data.json`. */
export type VersionData = z.infer<typeof versionDataSchema>;

/**
 * `segments/<hash>.json`: labeled rows, stored once, named by their hash (`setHash` of the
 * rows), which is also their checksum.
 */
export const segmentFileSchema = z.strictObject({
  format_version: z.literal(2),
  kind: z.literal('segment'),
  rows: z.number().int().nonnegative(),
  data: labeledSetSchema,
});
