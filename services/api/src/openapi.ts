import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { DEFAULT_MODEL, type ModelSpec } from '@ct/core';
import { z } from 'zod';
import { MAX_BODY_BYTES, MAX_PREDICT_RECORDS, MAX_TRAIN_SAMPLES, MAX_WAIT_SECONDS } from './api-schemas';
import type { ModelContext } from './app-deps';
import { MAX_COMPARED } from './routes/compare';
import { rollbackRequestSchema } from './routes/jobs';
import { archiveModelQuerySchema, registerModelRequestSchema } from './routes/registration';
import { registerFeedbackPaths } from './openapi-feedback';
import { registerRegistryPaths } from './openapi-registry';
import { registerRunPaths } from './openapi-runs';
import { registerTokenPaths, withSecurity } from './openapi-security';
import { registerWebhookPaths } from './openapi-webhooks';
import { compareResponseSchema, healthSchema, modelInfoSchema, rowPredictionSchema, rowPredictionShape, trustedEvalInfoSchema } from './registry-schemas';

const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string(),
    instance: z.string(),
    request_id: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), pointer: z.string(), code: z.string(), message: z.string() })).optional(),
    errors_truncated: z.number().int().optional().meta({ description: 'how many more problems were found beyond the first 20 listed in `errors`' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; `errors` names each offending field (the first 20; `errors_truncated` counts the rest)' });

const job = z
  .object({
    job_id: z.string(),
    model: z.string(),
    kind: z.enum(['train', 'reset', 'rollback', 'trusted_eval', 'bootstrap', 'register', 'archive']),
    state: z.enum(['queued', 'running', 'completed', 'failed']),
    progress: z.unknown(),
    result: z.record(z.string(), z.unknown()).nullable(),
    error: z.string().nullable(),
    attempts_made: z.number().int(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    status_url: z.string(),
  })
  .meta({ id: 'Job' });

const predictionSchema = z
  .object({ prediction_id: z.string().meta({ description: "the row's id (UUIDv7), for feedback" }), model: z.string(), model_version: z.string(), ...rowPredictionShape })
  .meta({ id: 'Prediction', description: 'one row' });

const batchPredictionSchema = z
  .object({
    model: z.string(),
    model_version: z.string(),
    predictions: z.array(rowPredictionSchema.extend({ prediction_id: z.string().meta({ description: "the row's id, for feedback" }) }).meta({ id: 'BatchRowPrediction' })),
  })
  .meta({ id: 'BatchPrediction', description: 'answer to { records: [...] }, rows in order' });

const predictionAnswer = z.union([predictionSchema, batchPredictionSchema]);

const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [s, { description: 'problem', content: { 'application/problem+json': { schema: problem } } }]),
  );

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function buildOpenApi(specs: readonly ModelSpec[], contexts: ReadonlyMap<string, ModelContext>): object {
  const registry = new OpenAPIRegistry();
  const spec = specs.find((s) => s.name === DEFAULT_MODEL) as ModelSpec;
  const s = (contexts.get(spec.name) as ModelContext).schemas;
  const prefer = z.string().optional().meta({ description: `wait=N (seconds, at most ${MAX_WAIT_SECONDS}): answer 200 with the finished job if it ends in time` });
  const idem = z.string().optional().meta({ description: 'same key and body: the same job; same key, other body: 409' });
  const headers = z.object({ prefer, 'idempotency-key': idem });

  registry.registerPath({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Liveness and readiness: active version per model, Redis reachability, reload state',
    responses: { 200: json(healthSchema, 'serving'), 503: json(healthSchema, 'no model loaded yet') },
  });
  registry.registerPath({
    method: 'post',
    path: '/predict',
    operationId: 'predict',
    summary: `Predict ${spec.name}: one row, or { records: [...] } with up to ${MAX_PREDICT_RECORDS} rows`,
    request: {
      query: z.object({ version: z.string().optional().meta({ description: 'a kept version (vN.0-xxxxxx) instead of the served one, for comparisons' }) }),
      body: { content: { 'application/json': { schema: z.union([s.row, s.batch]), ...(spec.example ? { example: spec.example } : {}) } } },
    },
    responses: { 200: json(predictionAnswer, 'class index, class name, probabilities, model version'), ...problems(400, 404, 413, 415, 422, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/train',
    operationId: 'train',
    summary: `Queue a training job with ${5} to ${MAX_TRAIN_SAMPLES} labeled samples`,
    request: { headers, body: { content: { 'application/json': { schema: s.train } } } },
    responses: { 202: json(job, 'queued; poll the status URL (also in Location)'), 200: json(job, 'finished within Prefer: wait'), ...problems(400, 409, 413, 415, 422, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/jobs/{id}',
    operationId: 'getJob',
    summary: 'State, progress, result or error, and timestamps of a job',
    request: { params: z.object({ id: z.string() }) },
    responses: { 200: json(job, 'the job'), ...problems(404, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/model/info',
    operationId: 'getModelInfo',
    summary: 'Active version, its accuracy and training size, algorithm, and every attempt',
    responses: { 200: json(modelInfoSchema, 'model info'), ...problems(503) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/model/history',
    operationId: 'resetModel',
    summary: 'Queue a reset to the bootstrap version (the history is kept and records the reset)',
    request: { headers },
    responses: { 202: json(job, 'queued'), 200: json(job, 'finished within Prefer: wait'), ...problems(503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/model/trusted-eval',
    operationId: 'getTrustedEval',
    summary: 'The trusted evaluation rows: how many, per class, their hash, what set them, and the served version\'s accuracy on them',
    responses: { 200: json(trustedEvalInfoSchema, 'the trusted rows (counted, not listed)'), ...problems(503) },
  });
  registry.registerPath({
    method: 'put',
    path: '/model/trusted-eval',
    operationId: 'replaceTrustedEval',
    summary: 'Queue a replacement of the trusted evaluation rows (every later candidate is judged on them; the guardrails apply there)',
    request: { headers, body: { content: { 'application/json': { schema: s.trusted } } } },
    responses: { 202: json(job, 'queued'), 200: json(job, 'finished within Prefer: wait'), ...problems(400, 409, 413, 415, 422, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/model/trusted-eval',
    operationId: 'addTrustedEval',
    summary: 'Queue an addition to the trusted evaluation rows',
    request: { headers, body: { content: { 'application/json': { schema: s.trusted } } } },
    responses: { 202: json(job, 'queued'), 200: json(job, 'finished within Prefer: wait'), ...problems(400, 409, 413, 415, 422, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/models/{model}/rollback',
    operationId: 'rollbackModel',
    summary: 'Queue the activation of a kept version (serialized with training; recorded in the history and the activation timeline)',
    request: { params: z.object({ model: z.string() }), headers, body: { content: { 'application/json': { schema: rollbackRequestSchema } } } },
    responses: { 202: json(job, 'queued'), 200: json(job, 'finished within Prefer: wait'), ...problems(400, 404, 409, 415, 422, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/predict/compare',
    operationId: 'comparePredictions',
    summary: `The same records through several models or kept versions side by side (?models=a,b@v2.0-1a2b3c, at most ${MAX_COMPARED}), with agreement per row`,
    request: {
      query: z.object({ models: z.string().optional().meta({ description: 'comma-separated model names, each optionally @version; or a "models" array in the body' }) }),
      body: { content: { 'application/json': { schema: z.union([s.row, s.batch]) } } },
    },
    responses: { 200: json(compareResponseSchema, "each model's predictions or its own error, and the agreement per row"), ...problems(400, 413, 415, 422) },
  });
  for (const other of specs) {
    registry.registerPath({
      method: 'post',
      path: `/models/${other.name}/predict`,
      operationId: `predict_${other.name.replace(/-/g, '_')}`,
      summary: `Same as /predict, for model ${other.name}`,
      request: {
        query: z.object({ version: z.string().optional().meta({ description: 'a kept version instead of the served one' }) }),
        body: {
          content: {
            'application/json': {
              schema: z.union([(contexts.get(other.name) as ModelContext).schemas.row, (contexts.get(other.name) as ModelContext).schemas.batch]),
              ...(other.example ? { example: other.example } : {}),
            },
          },
        },
      },
      responses: { 200: json(predictionAnswer, 'prediction'), ...problems(400, 404, 413, 415, 422, 503) },
    });
  }
  registry.registerPath({
    method: 'post',
    path: '/models',
    operationId: 'registerModel',
    summary: 'Register a model at run time: its spec and its bootstrap rows (CSV text or JSON rows). Queues a register job (the trainer writes the spec and bootstraps the model); every replica serves it within seconds',
    request: { headers, body: { content: { 'application/json': { schema: registerModelRequestSchema } } } },
    responses: {
      202: json(job, 'queued; poll the status URL (also in Location)'),
      200: json(job, 'finished within Prefer: wait'),
      ...problems(400, 409, 413, 415, 422, 503),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/models/{model}',
    operationId: 'archiveModel',
    summary: `Archive a model: no longer served or trained, its history and versions kept (a job on the registry queue). The default model ${DEFAULT_MODEL} cannot be archived (409)`,
    request: { params: z.object({ model: z.string() }), query: archiveModelQuerySchema, headers },
    responses: { 202: json(job, 'queued'), 200: json(job, 'finished within Prefer: wait'), ...problems(400, 404, 409, 422, 503) },
  });
  registerRegistryPaths(registry, specs, { json, problems, job });
  registerRunPaths(registry, specs, { json, problems, job });
  registerTokenPaths(registry, { json, problems, job });
  registerFeedbackPaths(registry, specs, { json, problems, job });
  registerWebhookPaths(registry, { json, problems, job });
  const generator = new OpenApiGeneratorV31(registry.definitions);
  return withSecurity(generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'CT stack inference API',
      version: '0.1.0',
      description: `Serves the active version of each model and queues training jobs. Bodies up to ${MAX_BODY_BYTES} bytes. Every path also exists as /models/{model}/... for each model.`,
    },
  }));
}
