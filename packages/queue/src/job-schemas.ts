import { dataReportSchema, labeledSetSchema, modelNameSchema, policySchema, VERSION_PATTERN, type DataReport, type GateDecision, type ModelScore } from '@ct/core';
import { z } from 'zod';
import { triggerSchema } from './automation-config';

/**
 * Who asked for a job: the name and role of the caller's token (never the token), null for
 * the system's own jobs (bootstrap, the watched folder). Recorded in the history.
 */
export const actorSchema = z.strictObject({
  name: z.string().max(100),
  role: z.enum(['admin', 'trainer', 'client']).nullable(),
  token_id: z.string().max(100).nullable(),
});

/** Who asked for a job. */
export type Actor = z.infer<typeof actorSchema>;

const common = {
  model: modelNameSchema,
  /** Absent in jobs queued before tokens existed. */
  actor: actorSchema.nullable().optional(),
  /** Set on the jobs the automation queued: which rule fired and why, with the numbers. */
  trigger: triggerSchema.optional(),
  /** Request id of the HTTP call that queued the job, propagated into the trainer's logs. */
  request_id: z.string().nullable(),
  /** sha256 of the request body: a second request with the same Idempotency-Key must match it. */
  body_hash: z.string(),
};

/**
 * Payload of a job on a model's queue: train a candidate, reset to the bootstrap version, roll
 * back to a kept version, add to or replace the trusted evaluation rows (an admin's change),
 * or bootstrap a model
 * that has no version yet (queued by the trainer at start-up, so that it is serialized with
 * everything else).
 */
export const jobDataSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('train'),
    ...common,
    samples: labeledSetSchema,
    retrain_from_scratch: z.boolean(),
    policy: policySchema,
    algorithm: z.string().optional(),
    /** Hyperparameters of this job's fit (validated by the algorithm's schema); the spec's otherwise. */
    hyperparameters: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({ kind: z.literal('reset'), ...common }),
  z.strictObject({ kind: z.literal('trusted_eval'), ...common, mode: z.enum(['add', 'replace']), samples: labeledSetSchema }),
  z.strictObject({
    kind: z.literal('rollback'),
    ...common,
    version: z.string().regex(VERSION_PATTERN),
    /** Why, in the caller's words: recorded in the history and the activation timeline. */
    reason: z.string().max(500).nullable(),
  }),
  z.strictObject({ kind: z.literal('bootstrap'), ...common }),
]);

/** Payload of a job on a model's queue. */
export type JobData = z.infer<typeof jobDataSchema>;

/**
 * Payload of a job on the registry queue (REGISTRY_QUEUE): register a model at run time (its
 * spec and its bootstrap rows travel with the job, since the API cannot write the volume), or
 * archive one.
 */
export const registryJobDataSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('register'),
    ...common,
    /** The spec as the sender validated it (parseModelSpec); the trainer validates it again. */
    spec: z.record(z.string(), z.unknown()),
    /** The bootstrap rows: cells in the spec's feature order, labels as class indices. */
    data: labeledSetSchema,
    /** What reading the rows (CSV or JSON rows) left out or will fill. */
    data_report: dataReportSchema,
    /** `api`: `POST /models`; `inbox`: a file of the watched folder. */
    source: z.enum(['api', 'inbox']),
    /** The inbox file, relative to the data directory (inbox registrations only). */
    file: z.string().nullable(),
  }),
  z.strictObject({
    kind: z.literal('archive'),
    ...common,
    /** Why, in the caller's words: recorded in `archived.json`. */
    reason: z.string().max(500).nullable(),
  }),
]);

/** Payload of a job on the registry queue. */
export type RegistryJobData = z.infer<typeof registryJobDataSchema>;

/** Any job's payload, on a model's queue or the registry queue. */
export type AnyJobData = JobData | RegistryJobData;

/** Result of an `archive` job. */
export interface ArchiveResult {
  status: 'archived';
  model: string;
  message: string;
  /** When the model was archived (by this job, or earlier when it already was). */
  archived_at: string;
  /** True when the model was archived before this job: nothing changed. */
  already_archived: boolean;
  reason: string | null;
}

/** Result of a registry job: a registration's is its bootstrap's result, an archive's its own. */
export type RegistryJobResult = JobResult | ArchiveResult;

/** Any job's result. */
export type AnyJobResult = RegistryJobResult;

/** BullMQ job names, one per payload kind. */
export type JobName = JobData['kind'];

/** Result of a finished job, as `/jobs/:id` shows it. Field names follow the lab's API. */
export interface JobResult {
  /** `applied`: a change to the trusted evaluation rows, which activates nothing. */
  status: 'activated' | 'rejected' | 'applied';
  model: string;
  /** The candidate's version (for a reset: the bootstrap version it went back to). */
  model_version: string;
  /** The version live after the job. */
  active_version: string;
  accuracy_new: number | null;
  accuracy_previous: number | null;
  model_updated: boolean;
  message: string;
  policy: GateDecision['policy'] | null;
  reason: string;
  violations: GateDecision['violations'];
  challenger: ModelScore | null;
  champion: ModelScore | null;
  paired: GateDecision['paired'];
  /** The model's guardrails the decision was held to. */
  guardrails: GateDecision['guardrails'] | null;
  /** Both models on the trusted rows (where the guardrails are checked) and on the growing rows, apart. */
  trusted: GateDecision['trusted'] | null;
  growing: GateDecision['growing'];
  n_training_samples: number;
  n_batch_samples: number;
  /** Rows of the batch held out: they judged nothing now and join the growing set if the batch is activated. */
  batch_holdout: number;
  eval_set_size: number;
  /** Rows in the model's trusted evaluation set after the job. */
  trusted_set_size: number;
  fit: { iterations: number; converged: boolean; final_loss: number | null; loss_history?: number[] } | null;
  /** A bootstrap's reading of its bundled data: rows kept, dropped (no label; a missing value the model refuses), cells to impute, columns ignored. */
  data_report?: DataReport;
  /** Time in the algorithm's fit, in ms; the rest of a job is its own overhead. */
  fit_ms: number | null;
  /** From the job's start to just before its commit (the entry records it, so it cannot time its own write). */
  duration_ms: number;
}

/** Progress reported by the trainer while a job runs. */
export interface JobProgress {
  stage: 'loading' | 'fitting' | 'evaluating' | 'publishing' | 'done';
  percent: number;
}
