import { guardrailsSchema } from '@ct/core';
import { z } from 'zod';
import { historyItemSchema } from '../registry-schemas';

/**
 * Schemas of experiment tracking: runs searched and compared. A run is one attempt that fitted
 * a candidate (a bootstrap or a training job), seen through MLflow's entities: `info`
 * (identity, status, times, who asked), `data` (write-once params, metrics with a step and a
 * timestamp, tags), plus what MLflow keeps in inputs, the gate's decision and the artifact.
 */

// ---------------------------------------------------------------------------------------------
// Queries

/** Default and largest page of a run search (MLflow's defaults for `max_results`). */
export const DEFAULT_MAX_RESULTS = 100;
export const MAX_MAX_RESULTS = 1000;

/** Fewest and most runs one comparison takes. */
export const MIN_COMPARED_RUNS = 2;
export const MAX_COMPARED_RUNS = 10;

/**
 * `<model>-<seq>`: the model's name (lowercase, digits, hyphens) and the history sequence
 * number of the entry that recorded the run. The seq is the last hyphenated part, so a model
 * name with hyphens still parses.
 */
export const RUN_ID_PATTERN = /^([a-z][a-z0-9-]{0,39})-([1-9][0-9]{0,8})$/;

/** `GET /models/:model/runs` query. */
export const runSearchQuerySchema = z.strictObject({
  filter: z
    .string()
    .max(4000)
    .optional()
    .meta({
      description:
        "MLflow's filter syntax: clauses joined by AND, each `<metrics|params|tags|attributes>.<key> <op> <value>`; ops = != < <= > >= (numbers: metrics and the time attributes), = != LIKE ILIKE (strings, in quotes; % and _ are wildcards). Example: `metrics.accuracy >= 0.9 AND params.algorithm = 'knn'`",
    }),
  order_by: z
    .string()
    .max(1000)
    .optional()
    .meta({ description: 'comma-separated `<key> [ASC|DESC]`, e.g. `metrics.accuracy DESC, attributes.start_time ASC`; default `attributes.start_time DESC`. Runs without the key come last' }),
  max_results: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_MAX_RESULTS)
    .default(DEFAULT_MAX_RESULTS)
    .meta({ description: `runs per page, 1 to ${MAX_MAX_RESULTS}` }),
  page_token: z.string().max(200).optional().meta({ description: 'the `next_page_token` of the previous page (same filter and order)' }),
});

/** `GET /runs/compare` query. */
export const runCompareQuerySchema = z.strictObject({
  ids: z
    .string()
    .max(1000)
    .meta({ description: `${MIN_COMPARED_RUNS} to ${MAX_COMPARED_RUNS} comma-separated run ids of one model (iris-2,iris-5)` }),
});

// ---------------------------------------------------------------------------------------------
// Building blocks

/** `schema` or null, without making a component with an id nullable everywhere (see registry-schemas.ts). */
const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

const param = z
  .object({ key: z.string(), value: z.string() })
  .meta({ id: 'RunParam', description: 'a parameter of the fit, written once: values are strings, as in MLflow' });

const metric = z
  .object({
    key: z.string(),
    value: z.number(),
    step: z.number().int().meta({ description: '0, or the iteration of the fit for `loss`' }),
    timestamp: z.number().int().meta({ description: 'ms since the epoch' }),
  })
  .meta({ id: 'RunMetric', description: 'a measurement; `loss` has one per recorded iteration of the fit' });

const tag = z.object({ key: z.string(), value: z.string() }).meta({ id: 'RunTag' });

const listRef = z
  .object({ head: z.string().nullable(), count: z.number().int() })
  .meta({ id: 'SegmentListRef', description: 'a stored list of segment hashes: its last node and how many segments it holds' });

const actor = z
  .object({ name: z.string(), role: z.string().nullable(), token_id: z.string().nullable() })
  .meta({ id: 'RunActor', description: "the caller's token: its name, role and id (never the token)" });

const trigger = z
  .record(z.string(), z.unknown())
  .meta({ description: 'the automation rule that queued the job (code, reason, details); null for a job someone asked for' });

/** A run's identity and lifecycle (MLflow's RunInfo). */
export const runInfoSchema = z
  .object({
    run_id: z.string().meta({ description: '<model>-<seq>: the history entry that records the run' }),
    run_name: z.string().meta({ description: 'the version the run fitted' }),
    experiment_id: z.string().meta({ description: 'the model: one experiment per model' }),
    model: z.string(),
    seq: z.number().int(),
    source: z.enum(['bootstrap', 'train']),
    status: z.enum(['activated', 'rejected']),
    start_time: z.number().int().meta({ description: 'ms since the epoch: when the job started' }),
    end_time: z.number().int().meta({ description: 'ms since the epoch: when its entry was committed' }),
    duration_ms: z.number(),
    job_id: z.string().nullable(),
    request_id: z.string().nullable(),
    version: z.string(),
    parent_version: z.string().nullable().meta({ description: 'the version it was gated against (null for a bootstrap)' }),
    requested_by: orNull(actor).meta({ description: 'who asked (null: the system, or not recorded)' }),
    trigger: trigger.nullable(),
  })
  .meta({ id: 'RunInfo' });

const runInputs = z
  .object({
    data_hash: z.string().meta({ description: 'sha256 of the training rows' }),
    n_training_samples: z.number().int(),
    training: orNull(listRef).meta({ description: 'the segments it was fitted on (null when its version data cannot be read)' }),
    batch: z.string().nullable().meta({ description: 'the batch as submitted (its segment hash); null for a bootstrap' }),
    batch_holdout: z.string().nullable().meta({ description: "the batch's held-out slice" }),
    eval: z
      .object({
        trusted: z.string().meta({ description: 'segment hash of the trusted rows' }),
        growing: listRef,
        rows: z.number().int(),
        trusted_rows: z.number().int(),
        growing_rows: z.number().int(),
      })
      .meta({ description: 'the rows that judged it: the trusted and growing rows of the state before it' }),
  })
  .meta({ id: 'RunInputs' });

const runDecision = z
  .object({
    activated: z.boolean(),
    policy: historyItemSchema.shape.policy,
    guardrails: orNull(guardrailsSchema),
    reason: z.string().nullable(),
    message: z.string().nullable(),
    violations: historyItemSchema.shape.violations,
  })
  .meta({ id: 'RunDecision' });

/** One run. */
export const runSchema = z
  .object({
    info: runInfoSchema,
    data: z.object({
      params: z.array(param).meta({ description: 'sorted by key' }),
      metrics: z.array(metric).meta({ description: 'every recorded value, by key then step; filters, ordering and comparisons use the latest step of each key' }),
      tags: z.array(tag),
    }),
    inputs: runInputs,
    decision: runDecision,
    artifact: z
      .object({
        version: z.string(),
        path: z.string().meta({ description: 'folder of the version, relative to the data directory' }),
        url: z.string().meta({ description: 'the version in the registry API' }),
      })
      .meta({ id: 'RunArtifact' }),
    files_error: z.string().optional().meta({ description: "present when the version's files cannot be read: the params and inputs they hold are missing" }),
  })
  .meta({ id: 'Run' });

/** `GET /models/:model/runs`. */
export const runPageSchema = z
  .object({
    model: z.string(),
    runs: z.array(runSchema),
    next_page_token: z.string().nullable().meta({ description: 'pass as `page_token` for the next page; null on the last one' }),
    total: z.number().int().meta({ description: 'runs matching the filter, over every page' }),
  })
  .meta({ id: 'RunPage' });

const sideBySide = <T extends z.ZodType>(value: T, id: string) =>
  z
    .object({
      key: z.string(),
      values: z.array(orNull(value)).meta({ description: 'one per run, in the order of `run_ids` (null: the run has no such key)' }),
      differs: z.boolean().meta({ description: 'the runs do not all have the same value' }),
    })
    .meta({ id });

const pairedRun = z.object({
  run_id: z.string(),
  version: z.string(),
  correct: z.number().int(),
  accuracy: z.number().nullable().meta({ description: 'null when there are no common rows' }),
});

const runPair = z
  .object({
    run_ids: z.array(z.string()).meta({ description: 'the first and the second run' }),
    common_segments: z
      .array(z.object({ hash: z.string(), rows: z.number().int() }))
      .meta({ description: 'the evaluation segments (trusted and growing) that judged both runs' }),
    n: z.number().int().meta({ description: 'common evaluation rows: the sum of the four outcomes' }),
    first: pairedRun,
    second: pairedRun,
    outcomes: z.object({
      both_correct: z.number().int(),
      only_first_correct: z.number().int(),
      only_second_correct: z.number().int(),
      both_wrong: z.number().int(),
    }),
    mcnemar: z
      .object({
        p_value: z.number().meta({ description: 'two-sided exact p-value: the two differ in accuracy' }),
        p_second_better: z.number().meta({ description: 'one-sided: the second is more accurate' }),
        p_second_worse: z.number().meta({ description: 'one-sided: the second is less accurate' }),
      })
      .meta({ description: "McNemar's exact test on the discordant rows" }),
  })
  .meta({ id: 'RunPair', description: 'two runs scored row by row on the evaluation rows both were judged on' });

const failedPair = z
  .object({ run_ids: z.array(z.string()), error: z.string().meta({ description: 'why the pair could not be scored (a damaged file)' }) })
  .meta({ id: 'RunPairError' });

/** `GET /runs/compare`. */
export const runComparisonSchema = z
  .object({
    model: z.string(),
    run_ids: z.array(z.string()),
    runs: z.array(runInfoSchema).meta({ description: 'in the order asked' }),
    params: z.array(sideBySide(z.string(), 'ComparedParam')).meta({ description: 'every param any of the runs has, by key' }),
    metrics: z.array(sideBySide(z.number(), 'ComparedMetric')).meta({ description: 'the latest value of every metric any of the runs has, by key' }),
    pairs: z.array(z.union([runPair, failedPair])).meta({ description: 'each run against the next, in the order asked' }),
  })
  .meta({ id: 'RunComparison' });

/** A run as the API answers it. */
export type Run = z.output<typeof runSchema>;
/** A run's info. */
export type RunInfo = z.output<typeof runInfoSchema>;
/** A metric value. */
export type RunMetric = z.output<typeof metric>;
/** `GET /runs/compare`'s answer. */
export type RunComparison = z.output<typeof runComparisonSchema>;
/** A scored pair of runs. */
export type RunPair = z.output<typeof runPair>;
