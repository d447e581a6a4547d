import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { ModelSpec } from '@ct/core';
import { automationConfigSchema } from '@ct/queue';
import { z } from 'zod';
import type { ResponseHelpers } from './openapi-registry';
import { qualitySeriesSchema } from './feedback/quality-series';
import { driftQuerySchema } from './routes/drift';
import { driftHistoryQuerySchema, driftHistorySchema } from './routes/drift-history';
import { feedbackRequestSchema, qualityQuerySchema } from './routes/feedback';
import { qualitySeriesQuerySchema } from './routes/quality-series';

// The answers below are built from TypeScript types (feedback-store.ts, live-quality.ts,
// @ct/queue's drift-report.ts), not zod schemas: their main fields are listed, the rest left
// open. The series (quality-series.ts, drift-history.ts) have theirs in their own files.
const labelOutcomeSchema = z
  .looseObject({
    prediction_id: z.string(),
    status: z.enum(['recorded', 'replaced', 'not_found', 'expired', 'invalid']),
    http_status: z.int(),
    label: z.string().optional(),
    predicted: z.string().optional(),
    correct: z.boolean().optional(),
    model_version: z.string().optional(),
    replaced_label: z.string().optional(),
    detail: z.string().optional(),
  })
  .meta({ id: 'feedback_outcome' });

const feedbackBatchSchema = z
  .object({ model: z.string(), recorded: z.int(), replaced: z.int(), failed: z.int(), results: z.array(labelOutcomeSchema) })
  .meta({ id: 'feedback_batch_result' });

const qualitySchema = z
  .looseObject({
    model: z.string(),
    window: z.object({ seconds: z.int(), from: z.string(), to: z.string() }),
    versions: z.array(z.looseObject({ version: z.string(), active: z.boolean(), predictions: z.int(), class_mix: z.record(z.string(), z.int()), feedback: z.looseObject({ n: z.int(), accuracy: z.number().nullable(), coverage: z.number().nullable() }) })),
  })
  .meta({ id: 'live_quality' });

const driftSchema = z
  .looseObject({
    model: z.string(),
    version: z.string(),
    reference: z.object({ rows: z.int(), source: z.string() }),
    current: z.object({ rows: z.int(), source: z.string() }),
    features: z.array(
      z.looseObject({
        feature: z.string(),
        test: z.enum(['ks', 'chi-square', 'z', 'jensen-shannon']),
        statistic: z.number().nullable().meta({ description: 'null when infinite (a category never seen in training)' }),
        pValue: z.number().nullable().meta({ description: 'null for the Jensen-Shannon distance' }),
        threshold: z.number(),
        drifted: z.boolean(),
      }),
    ),
    skipped: z.array(z.object({ feature: z.string(), reason: z.string() })),
    drift: z.looseObject({ share: z.number(), driftShare: z.number(), drifted: z.boolean() }).nullable().meta({ description: 'null while the version has served nothing' }),
    note: z.string().optional(),
  })
  .meta({ id: 'drift_report' });

const automationInfoSchema = automationConfigSchema.extend({ model: z.string() }).meta({ id: 'automation_info' });

/** Registers the feedback loop (labels, live quality, drift, automatic actions) in the OpenAPI document. */
export function registerFeedbackPaths(registry: OpenAPIRegistry, specs: readonly ModelSpec[], { json, problems }: ResponseHelpers): void {
  const names = specs.map((s) => s.name) as [string, ...string[]];
  const params = z.object({ model: z.enum(names).meta({ description: 'model name' }) });
  const tags = ['feedback'];
  registry.registerPath({
    method: 'post',
    path: '/models/{model}/feedback',
    operationId: 'submitFeedback',
    tags,
    summary: 'The true class of served predictions, by prediction id: one label answers with its own status (201 recorded, 200 replaced an earlier label, 404 unknown, 410 past the retention window, 422 a class the model does not have); a batch ({"items": [...]}) answers 200 with each outcome',
    request: { params, body: { content: { 'application/json': { schema: feedbackRequestSchema } } } },
    responses: {
      201: json(labelOutcomeSchema, 'recorded'),
      200: json(z.union([labelOutcomeSchema, feedbackBatchSchema]), 'replaced an earlier label; or a batch, each item with its outcome'),
      ...problems(400, 404, 410, 413, 415, 422, 503),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/models/{model}/quality',
    operationId: 'getLiveQuality',
    tags,
    summary: 'Live quality per version in a sliding window: predictions and class mix, labels, accuracy with its Wilson interval, per-class recall, coverage',
    request: { params, query: qualityQuerySchema },
    responses: { 200: json(qualitySchema, 'per version'), ...problems(404, 422, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/models/{model}/quality/series',
    operationId: 'getLiveQualitySeries',
    tags,
    summary: 'Live accuracy over time per version: the window in buckets of step_s seconds (at most 1,440), each with its predictions, labels, accuracy and Wilson interval',
    request: { params, query: qualitySeriesQuerySchema },
    responses: { 200: json(qualitySeriesSchema, 'per version, every bucket'), ...problems(404, 422, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/models/{model}/drift',
    operationId: 'getDrift',
    tags,
    summary: "A version's latest inputs (up to 1,000) against its training rows, per feature with Evidently's tests and for the model (drift when half the features drifted)",
    request: { params, query: driftQuerySchema },
    responses: { 200: json(driftSchema, 'the drift report'), ...problems(404, 422, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/models/{model}/drift/history',
    operationId: 'getDriftHistory',
    tags,
    summary: "The model's drift over time as the trainers computed it: at most one point a minute (the active version's share of drifted features, which ones, how many inputs), the latest day kept",
    request: { params, query: driftHistoryQuerySchema },
    responses: { 200: json(driftHistorySchema, 'oldest first'), ...problems(404, 422, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/models/{model}/automation',
    operationId: 'getAutomation',
    tags,
    summary: "The model's automatic actions (each null: off)",
    request: { params },
    responses: { 200: json(automationInfoSchema, 'the rules'), ...problems(404, 503) },
  });
  registry.registerPath({
    method: 'put',
    path: '/models/{model}/automation',
    operationId: 'setAutomation',
    tags,
    summary: "Replace the model's automatic actions: retrain after N labeled rows, retrain when live accuracy is below a bound, roll back a promotion worse than its predecessor; the trainers evaluate them within seconds",
    request: { params, body: { content: { 'application/json': { schema: automationConfigSchema } } } },
    responses: { 200: json(automationInfoSchema, 'the rules as stored'), ...problems(400, 404, 413, 415, 422, 503) },
  });
}
