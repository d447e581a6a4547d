import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { ModelSpec } from '@ct/core';
import { z } from 'zod';
import {
  activationPageSchema,
  activationsQuerySchema,
  healthSchema,
  historyPageSchema,
  historyQuerySchema,
  modelDetailSchema,
  modelListQuerySchema,
  modelListSchema,
  rootSchema,
  versionDetailSchema,
  versionPageSchema,
  versionsQuerySchema,
} from './registry-schemas';

/** The response helpers of openapi.ts, passed in so that both files render responses alike. */
export interface ResponseHelpers {
  json: (schema: z.ZodType, description: string) => object;
  problems: (...statuses: number[]) => object;
  job: z.ZodType;
}

/** Registers the read-only registry API (issue 8, section 4) in the OpenAPI document. */
export function registerRegistryPaths(registry: OpenAPIRegistry, specs: readonly ModelSpec[], { json, problems, job }: ResponseHelpers): void {
  const names = specs.map((s) => s.name) as [string, ...string[]];
  const model = z.enum(names).meta({ description: 'model name' });
  const params = z.object({ model });
  const tags = ['registry'];

  registry.registerPath({
    method: 'get',
    path: '/',
    operationId: 'getServiceRoot',
    tags,
    summary: "The service's name and version, and links to /docs, /models and /health",
    responses: { 200: json(rootSchema, 'the service') },
  });
  registry.registerPath({
    method: 'get',
    path: '/models',
    operationId: 'listModels',
    tags,
    summary: 'Every model: description, algorithm, active version and its metrics (accuracy with its interval, macro F1, per class), training rows, features, endpoints; archived ones too with ?include_archived=true',
    request: { query: modelListQuerySchema },
    responses: { 200: json(modelListSchema, 'the models'), ...problems(422) },
  });
  registry.registerPath({
    method: 'get',
    path: '/models/{model}',
    operationId: 'getModel',
    tags,
    summary: "One model: its spec, active version and metrics, guardrails and default policy",
    request: { params },
    responses: { 200: json(modelDetailSchema, 'the model'), ...problems(404) },
  });
  registry.registerPath({
    method: 'get',
    path: '/models/{model}/versions',
    operationId: 'listVersions',
    tags,
    summary: 'Every candidate ever fitted (bootstrap and train), newest first, paged by history sequence number',
    request: { params, query: versionsQuerySchema },
    responses: { 200: json(versionPageSchema, 'a page of versions'), ...problems(404, 422, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/models/{model}/versions/{version}',
    operationId: 'getVersion',
    tags,
    summary: "One candidate: algorithm, hyperparameters, data hash, training rows, fit, metrics, the gate's decision and its lineage",
    request: { params: params.extend({ version: z.string().meta({ description: 'version id, e.g. v1.0-47d98c' }) }) },
    responses: { 200: json(versionDetailSchema, 'the version'), ...problems(404, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/models/{model}/history',
    operationId: 'listHistory',
    tags,
    summary: 'Every history entry (attempts, resets, rollbacks, trusted-set changes), newest first, paged and filterable by status and source',
    request: { params, query: historyQuerySchema },
    responses: { 200: json(historyPageSchema, 'a page of entries'), ...problems(404, 422, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/models/{model}/activations',
    operationId: 'listActivations',
    tags,
    summary: 'Which version was live from when to when, and why (bootstrap, gate, reset, rollback), newest first',
    request: { params, query: activationsQuerySchema },
    responses: { 200: json(activationPageSchema, 'a page of the timeline'), ...problems(404, 422, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/models/{model}/jobs/{id}',
    operationId: 'getModelJob',
    tags,
    summary: "Same as /jobs/{id}, for a job of this model (another model's job is a 404)",
    request: { params: params.extend({ id: z.string() }) },
    responses: { 200: json(job, 'the job'), ...problems(404, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/models/{model}/health',
    operationId: 'getModelHealth',
    tags,
    summary: 'Same as /health; status and model_version are about this model',
    request: { params },
    responses: { 200: json(healthSchema, 'serving'), 503: json(healthSchema, 'no version of this model loaded yet'), ...problems(404) },
  });
}
