import { featureSpecSchema, guardrailsSchema, modelSpecSchema, policySchema } from '@ct/core';
import { historyEntrySchema } from '@ct/registry';
import { z } from 'zod';

/**
 * Schemas of the registry API (issue 8, section 4, the read-only part): the query strings it
 * accepts, validated with zod, and the bodies it answers with, which the OpenAPI document is
 * generated from (and which the tests check the answers against).
 */

// ---------------------------------------------------------------------------------------------
// Queries

/** Default and largest page of `/history`, `/versions` and `/activations`. */
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;

/** Where a history entry comes from (follows the history's own schema, rollback included once it is added). */
export const entrySourceSchema = historyEntrySchema.shape.source;
/** What became of an attempt. */
export const entryStatusSchema = historyEntrySchema.shape.status;

const pageShape = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_LIMIT)
    .default(DEFAULT_PAGE_LIMIT)
    .meta({ description: `items per page, 1 to ${MAX_PAGE_LIMIT}` }),
  cursor: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: 'continue below this history sequence number: the `next_cursor` of the previous page' }),
};

/** `GET /models/:model/history` query. */
export const historyQuerySchema = z.strictObject({
  ...pageShape,
  status: entryStatusSchema.optional().meta({ description: 'only entries with this status' }),
  source: entrySourceSchema.optional().meta({ description: 'only entries from this source' }),
});

/** `GET /models/:model/versions` query: candidates are activated or rejected. */
export const versionsQuerySchema = z.strictObject({
  ...pageShape,
  status: z.enum(['activated', 'rejected']).optional().meta({ description: 'only candidates the gate activated, or rejected' }),
});

/** `GET /models/:model/activations` query. */
export const activationsQuerySchema = z.strictObject(pageShape);

/** `GET /models` query. */
export const modelListQuerySchema = z.strictObject({
  include_archived: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1')
    .meta({ description: 'also list archived models (`archived: true`)' }),
});

// ---------------------------------------------------------------------------------------------
// Building blocks

/**
 * `schema` or null. Not `.nullable()`: on a schema with an OpenAPI id, zod-to-openapi makes the
 * component itself nullable, and with it every other place that refers to it.
 */
const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

const interval = z.object({ low: z.number(), high: z.number() }).meta({ id: 'Interval', description: '95 % interval' });

const classScore = z
  .object({
    class_index: z.number().int(),
    class_name: z.string(),
    precision: z.number(),
    recall: z.number(),
    f1: z.number(),
    support: z.number().int().meta({ description: 'evaluation rows of this class' }),
    precision_ci: interval.meta({ description: 'Wilson interval' }),
    recall_ci: interval.meta({ description: 'Wilson interval' }),
    f1_ci: interval.meta({ description: 'stratified bootstrap percentile interval (fixed seed)' }),
  })
  .meta({ id: 'ClassScore' });

/** A model's scores on the evaluation rows, as the gate stores them (`ModelScore` in @ct/core). */
export const modelScoreSchema = z
  .object({
    accuracy: z.number(),
    accuracy_ci: interval.meta({ description: 'Wilson interval' }),
    correct: z.number().int(),
    n: z.number().int(),
    per_class: z.array(classScore),
    confusion_matrix: z.array(z.array(z.number().int())).meta({ description: 'confusion_matrix[true][predicted]' }),
  })
  .meta({ id: 'ModelScore' });

/** A version's evaluation: its gate score, macro F1, and where the numbers come from. */
export const metricsSchema = modelScoreSchema
  .extend({
    macro_f1: z.number().meta({ description: 'mean of the per-class F1' }),
    evaluated: z
      .object({
        seq: z.number().int(),
        job_id: z.string().nullable(),
        at: z.string(),
        rows: z.number().int(),
        trusted_rows: z.number().int(),
        growing_rows: z.number().int(),
      })
      .meta({ description: 'the history entry whose gate scored the version, and the rows it was scored on (trusted and growing)' }),
  })
  .meta({ id: 'Metrics' });

const gatePolicy = z.union([policySchema, z.object({ name: z.literal('bootstrap') })]).meta({ id: 'GatePolicy' });

const violation = z
  .object({ code: z.string(), message: z.string() })
  .catchall(z.union([z.number(), z.string()]))
  .meta({ id: 'Violation', description: 'a reason for a rejection, with the numbers behind it' });

const paired = z
  .object({
    both_correct: z.number().int(),
    only_champion_correct: z.number().int(),
    only_challenger_correct: z.number().int(),
    both_wrong: z.number().int(),
    mcnemar_p_value: z.number(),
  })
  .meta({ id: 'PairedComparison' });

const partScore = z.object({ correct: z.number().int(), accuracy: z.number(), accuracy_ci: interval }).meta({ id: 'PartScore' });

const partComparison = z
  .object({ n: z.number().int(), champion: orNull(partScore), challenger: partScore, paired: orNull(paired) })
  .meta({ id: 'PartComparison' });

/** A feature as its spec declares it: name, type, unit and bounds, or levels; what a missing value gets. */
const featureView = featureSpecSchema.meta({ id: 'Feature' });

const endpoints = z
  .object({
    self: z.string(),
    predict: z.string(),
    train: z.string(),
    info: z.string(),
    versions: z.string(),
    history: z.string(),
    activations: z.string(),
    trusted_eval: z.string(),
    jobs: z.string().meta({ description: 'template: replace {id} with a job id' }),
    health: z.string(),
  })
  .meta({ id: 'ModelEndpoints' });

/** The model's spec as JSON, defaults filled: what is not learned. */
/** A model spec, as documented (one component, referred to wherever a spec appears). */
export const specView = modelSpecSchema.meta({ id: 'ModelSpec' });

const fit = z.object({ iterations: z.number().int(), converged: z.boolean(), final_loss: z.number().nullable() }).meta({ id: 'FitReport' });

const segment = z.object({ hash: z.string(), rows: z.number().int() }).meta({ id: 'Segment', description: 'labeled rows stored once, named by their sha256' });

const page = {
  limit: z.number().int(),
  next_cursor: z.number().int().nullable().meta({ description: 'pass as `cursor` for the next page; null on the last one' }),
  total: z.number().int().meta({ description: 'items matching the filters, over every page' }),
};

// ---------------------------------------------------------------------------------------------
// Bodies

/** `GET /`. */
export const rootSchema = z
  .object({
    service: z.string(),
    version: z.string(),
    description: z.string(),
    default_model: z.string(),
    links: z.object({ docs: z.string(), openapi: z.string(), models: z.string(), health: z.string() }),
  })
  .meta({ id: 'ServiceRoot' });

/** `models/<name>/archived.json` as the API shows it. */
const archiveView = z
  .object({
    model: z.string(),
    archived_at: z.string(),
    request_id: z.string().nullable().meta({ description: 'the request that archived it (no authentication exists yet)' }),
    job_id: z.string(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'Archive' });

/** One model of `GET /models`. */
export const modelSummarySchema = z
  .object({
    name: z.string(),
    description: z.string(),
    algorithm: z.string().meta({ description: "the active version's algorithm (the spec's before the first version)" }),
    active_version: z.string().nullable().meta({ description: 'the served version (for an archived model: the one live when it was archived)' }),
    state: z.enum(['loading', 'ready', 'degraded', 'archived']),
    activated_at: z.string().nullable().meta({ description: 'when the active version last went live' }),
    metrics: orNull(metricsSchema),
    n_training_samples: z.number().int().nullable(),
    classes: z.array(z.string()),
    features: z.array(featureView),
    endpoints,
    origin: z.enum(['catalog', 'registered']).meta({ description: "`catalog`: built in (the repository's catalogue); `registered`: POST /models or the inbox folder" }),
    registered_at: z.string().nullable(),
    archived: z.boolean(),
    archive: archiveView.optional().meta({ description: 'who archived it, when and why (archived models only)' }),
    history_error: z.string().optional().meta({ description: 'present when the history cannot be read; the served version is still described' }),
  })
  .meta({ id: 'ModelSummary' });

/** `GET /models`. */
export const modelListSchema = z.object({ default_model: z.string(), models: z.array(modelSummarySchema) }).meta({ id: 'ModelList' });

/** `GET /models/:model`. */
export const modelDetailSchema = modelSummarySchema
  .extend({
    spec: specView,
    guardrails: guardrailsSchema,
    default_policy: policySchema,
    hyperparameters: z.record(z.string(), z.unknown()).nullable(),
    fit: orNull(fit),
    trained_at: z.string().nullable(),
    data_hash: z.string().nullable(),
  })
  .meta({ id: 'ModelDetail' });

/** One line of `GET /models/:model/history`. */
/** Who asked for an entry's change and, for the automation's jobs, why: in the history and the timeline alike. */
const whoAndWhy = {
  requested_by: z
    .object({ name: z.string(), role: z.string().nullable() })
    .nullable()
    .meta({ description: "who asked: the caller's token name and role (null for the system's own jobs and entries written before tokens)" }),
  trigger: z
    .object({ code: z.string(), reason: z.string(), details: z.record(z.string(), z.unknown()) })
    .nullable()
    .meta({ description: 'set when the automation queued the job: the rule, its sentence and its numbers' }),
};

export const historyItemSchema = z
  .object({
    seq: z.number().int(),
    version: z.string(),
    source: entrySourceSchema,
    status: entryStatusSchema,
    ...whoAndWhy,
    job_id: z.string().nullable(),
    request_id: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable().meta({ description: 'when the job started (null in entries written before it was recorded)' }),
    active_before: z.string().nullable(),
    active_after: z.string(),
    algorithm: z.string(),
    retrain_from_scratch: z.boolean(),
    n_batch_samples: z.number().int(),
    n_training_samples: z.number().int(),
    accuracy_new: z.number().nullable(),
    accuracy_previous: z.number().nullable(),
    eval_set: z.object({ size: z.number().int(), trusted: z.number().int(), growing: z.number().int() }),
    policy: orNull(gatePolicy),
    reason: z.string().nullable(),
    message: z.string().nullable(),
    violations: z.array(violation),
    duration_ms: z.number(),
    version_url: z.string().nullable().meta({ description: 'the candidate this entry fitted (bootstrap and train entries)' }),
  })
  .meta({ id: 'HistoryItem' });

/** `GET /models/:model/history`. */
export const historyPageSchema = z.object({ model: z.string(), entries: z.array(historyItemSchema), ...page }).meta({ id: 'HistoryPage' });

/** One line of `GET /models/:model/versions`. */
export const versionItemSchema = z
  .object({
    version: z.string(),
    seq: z.number().int(),
    source: z.enum(['bootstrap', 'train']),
    status: z.enum(['activated', 'rejected']),
    active: z.boolean().meta({ description: 'whether this version is the one live now' }),
    created_at: z.string(),
    job_id: z.string().nullable(),
    algorithm: z.string(),
    parent: z.string().nullable().meta({ description: 'the version it was gated against' }),
    retrain_from_scratch: z.boolean(),
    n_training_samples: z.number().int(),
    n_batch_samples: z.number().int(),
    accuracy_new: z.number().nullable(),
    accuracy_previous: z.number().nullable(),
    reason: z.string().nullable(),
    url: z.string(),
  })
  .meta({ id: 'VersionItem' });

/** `GET /models/:model/versions`. */
export const versionPageSchema = z.object({ model: z.string(), versions: z.array(versionItemSchema), ...page }).meta({ id: 'VersionPage' });

/** One period of `GET /models/:model/activations`. */
export const activationSchema = z
  .object({
    version: z.string(),
    from: z.string(),
    to: z.string().nullable().meta({ description: 'null for the version live now' }),
    current: z.boolean(),
    seq: z.number().int().meta({ description: 'the history entry that made it live' }),
    source: entrySourceSchema,
    ...whoAndWhy,
    job_id: z.string().nullable(),
    reason: z.string().nullable(),
    accuracy: z.number().nullable(),
    replaced_by: z
      .object({ seq: z.number().int(), source: entrySourceSchema, job_id: z.string().nullable(), version: z.string() })
      .nullable()
      .meta({ description: 'the entry that ended the period' }),
  })
  .meta({ id: 'Activation' });

/** `GET /models/:model/activations`. */
export const activationPageSchema = z.object({ model: z.string(), activations: z.array(activationSchema), ...page }).meta({ id: 'ActivationPage' });

/** `GET /models/:model/versions/:version`. */
export const versionDetailSchema = z
  .object({
    model: z.string(),
    version: z.string(),
    seq: z.number().int(),
    source: z.enum(['bootstrap', 'train']),
    status: z.enum(['activated', 'rejected']),
    active: z.boolean(),
    created_at: z.string(),
    job_id: z.string().nullable(),
    request_id: z.string().nullable(),
    algorithm: z.string(),
    hyperparameters: z.record(z.string(), z.unknown()).nullable(),
    data_hash: z.string(),
    n_training_samples: z.number().int(),
    n_batch_samples: z.number().int(),
    fit: orNull(fit),
    classes: z.array(z.string()).nullable(),
    features: z.array(z.string()).nullable(),
    metrics: orNull(metricsSchema),
    champion_metrics: orNull(modelScoreSchema).meta({ description: 'the parent scored on the same rows (null for a bootstrap)' }),
    decision: z.object({
      activated: z.boolean(),
      policy: orNull(gatePolicy),
      guardrails: orNull(guardrailsSchema),
      reason: z.string().nullable(),
      message: z.string().nullable(),
      violations: z.array(violation),
      paired: orNull(paired),
      trusted: orNull(partComparison),
      growing: orNull(partComparison),
    }),
    lineage: z.object({
      parent: z.string().nullable().meta({ description: 'the version it was gated against (null for a bootstrap)' }),
      parent_url: z.string().nullable(),
      retrain_from_scratch: z.boolean(),
      training: z.array(segment).meta({ description: 'the segments it was fitted on, in order' }),
      batch: orNull(segment).meta({ description: 'the batch as submitted (null for a bootstrap)' }),
      batch_holdout: orNull(segment).meta({ description: "the batch's held-out slice (joins the growing rows if activated)" }),
      trusted: segment.meta({ description: 'the trusted rows it was judged on' }),
      growing: z.array(segment).meta({ description: 'the growing rows it was judged on' }),
    }).nullable(),
    live_periods: z.array(activationSchema).meta({ description: 'when this version was live, newest first' }),
    files_error: z.string().optional().meta({ description: "present when the version's files cannot be read: the fields they hold are null" }),
  })
  .meta({ id: 'VersionDetail' });

// ---------------------------------------------------------------------------------------------
// Bodies of the routes the registry API extends (documented as free objects before)

const reloadStatus = z
  .object({
    state: z.enum(['loading', 'ready', 'degraded']),
    active_version: z.string().nullable(),
    loaded_at: z.string().nullable(),
    last_error: z.string().nullable(),
    last_error_at: z.string().nullable(),
  })
  .meta({ id: 'ReloadStatus' });

/** `GET /health` and `GET /models/:model/health`. */
export const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded', 'starting']),
    model_version: z.string().nullable().meta({ description: "the served version of the default model (of the path's model under /models/{model}/health)" }),
    models: z.record(z.string(), reloadStatus),
    redis: z.object({ reachable: z.boolean() }),
    uptime_s: z.number().int(),
  })
  .meta({ id: 'Health' });

const infoHistoryItem = z
  .object({
    version: z.string(),
    trained_at: z.string(),
    seq: z.number().int(),
    accuracy: z.number().nullable(),
    n_training_samples: z.number().int(),
    source: entrySourceSchema,
    activated: z.boolean(),
    status: entryStatusSchema,
    accuracy_previous: z.number().nullable(),
    active_after: z.string(),
    job_id: z.string().nullable(),
    policy: orNull(gatePolicy),
    reason: z.string().nullable(),
    violations: z.array(violation),
    eval_set_size: z.number().int(),
    eval_set: z.object({ size: z.number().int(), trusted: z.number().int(), growing: z.number().int() }),
    n_batch_samples: z.number().int(),
  })
  .meta({ id: 'ModelInfoHistoryItem' });

/** `GET /model/info` (the lab's shape, extended). */
export const modelInfoSchema = z
  .object({
    model: z.string(),
    active_version: z.string(),
    trained_at: z.string(),
    accuracy: z.number().nullable(),
    n_training_samples: z.number().int(),
    algorithm: z.string(),
    hyperparameters: z.record(z.string(), z.unknown()),
    fit: fit,
    classes: z.array(z.string()),
    features: z.array(featureView),
    eval_set_size: z.number().int().nullable(),
    guardrails: guardrailsSchema,
    default_policy: policySchema,
    next_evaluation: z.object({ trusted_rows: z.number().int(), growing_rows: z.number().int() }).nullable(),
    history: z.array(infoHistoryItem).nullable().meta({ description: 'every entry, oldest first (null when the history cannot be read)' }),
    history_since_reset: z.array(infoHistoryItem).nullable().meta({ description: 'the entries since the last reset, that reset first (all of them when there was none)' }),
    last_reset: z.object({ seq: z.number().int(), at: z.string(), job_id: z.string().nullable() }).nullable(),
    full_history: z.string().meta({ description: 'the paged, filterable history' }),
    history_error: z.string().optional(),
  })
  .meta({ id: 'ModelInfo' });

/** One row's prediction, as `/predict` answers it (the fields of `Prediction`, the items of `BatchPrediction`). */
export const rowPredictionShape = {
  prediction: z.number().int().meta({ description: 'class index' }),
  class_name: z.string(),
  probabilities: z.array(z.number()).meta({ description: 'one per class, in class order; they sum to 1' }),
  probabilities_by_class: z.record(z.string(), z.number()),
  imputed: z.array(z.string()).optional().meta({ description: 'features that were missing and filled by the version (only when some were)' }),
};

/** A row's prediction as a component of its own, for the answers that list rows. */
export const rowPredictionSchema = z.object(rowPredictionShape).meta({ id: 'RowPrediction' });

/** One offending field, as a problem's `errors` lists it (`FieldError` of errors/api-error.ts). */
const fieldError = z.object({ field: z.string(), pointer: z.string(), code: z.string(), message: z.string() });

const comparedPredictions = z
  .object({ model: z.string(), model_version: z.string(), predictions: z.array(rowPredictionSchema).meta({ description: 'the records in order' }) })
  .meta({ id: 'ComparedPredictions', description: "a model's answer: the version that gave it and a prediction per record" });

const comparedError = z
  .object({
    model: z.string(),
    model_version: z.string().nullable().meta({ description: 'the version asked for; null when none was named' }),
    error: z
      .object({ status: z.number().int(), code: z.string(), detail: z.string(), errors: z.array(fieldError).optional() })
      .meta({ description: "the problem this model's own /predict would answer with (status, code, detail and the offending fields)" }),
  })
  .meta({ id: 'ComparedError', description: 'a model that could not answer: unknown, not loaded, an unknown version, or records its schema refuses' });

/** One model's part of `POST /predict/compare`: its predictions, or why it could not give them. */
export const compareEntrySchema = z.union([comparedPredictions, comparedError]);

/** `POST /predict/compare`. */
export const compareResponseSchema = z
  .object({
    models: z.array(compareEntrySchema).meta({ description: 'one entry per model asked for, in the order asked' }),
    agreement: z
      .array(
        z.object({
          row: z.number().int(),
          agree: z.boolean().meta({ description: 'every model that answered predicts the same class' }),
          class_names: z.array(z.string()).meta({ description: 'the class each model that answered predicts, in the order of `models`' }),
        }),
      )
      .meta({ description: 'one item per record (none when no model answered)' }),
    all_agree: z.boolean().meta({ description: 'at least one model answered and they agree on every row' }),
  })
  .meta({ id: 'Comparison' });

/** `GET /model/trusted-eval` and `GET /models/:model/model/trusted-eval`. */
export const trustedEvalInfoSchema = z
  .object({
    model: z.string(),
    rows: z.number().int(),
    per_class: z.record(z.string(), z.number().int()).meta({ description: 'rows per class name (every class, 0 included)' }),
    hash: z.string().meta({ description: 'sha256 of the rows (their segment)' }),
    set_by: z
      .object({ source: z.enum(['bootstrap', 'trusted_eval']), job_id: z.string().nullable(), at: z.string() })
      .nullable()
      .meta({ description: 'the last history entry that set or changed the rows' }),
    guardrails: guardrailsSchema,
    served: z
      .object({ version: z.string(), correct: z.number().int(), accuracy: z.number() })
      .nullable()
      .meta({ description: 'the served version scored on the rows; null while none is loaded' }),
  })
  .meta({ id: 'TrustedEvalInfo', description: 'the trusted evaluation rows (counted, not listed) and how the served version does on them' });
