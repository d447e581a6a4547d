import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { ModelSpec } from '@ct/core';
import { z } from 'zod';
import type { ResponseHelpers } from './openapi-registry';
import { runCompareQuerySchema, runComparisonSchema, runPageSchema, runSearchQuerySchema } from './runs/run-schemas';

/** Registers experiment tracking (run search and comparison) in the OpenAPI document. */
export function registerRunPaths(registry: OpenAPIRegistry, specs: readonly ModelSpec[], { json, problems }: ResponseHelpers): void {
  const names = specs.map((s) => s.name) as [string, ...string[]];
  const tags = ['runs'];
  registry.registerPath({
    method: 'get',
    path: '/models/{model}/runs',
    operationId: 'searchRuns',
    tags,
    summary:
      "The model's runs (every attempt that fitted a candidate: params, metrics with steps, inputs, decision, artifact), searched as MLflow's SearchRuns: filter, order_by, max_results, page_token. A filter or order_by that does not parse is a 422 naming the position",
    request: { params: z.object({ model: z.enum(names).meta({ description: 'model name' }) }), query: runSearchQuerySchema },
    responses: { 200: json(runPageSchema, 'a page of runs'), ...problems(404, 422, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/runs/compare',
    operationId: 'compareRuns',
    tags,
    summary:
      "Runs of one model side by side: params and latest metrics with which differ, and each run against the next on the evaluation rows both were judged on (accuracies, the 2x2 outcomes, McNemar's exact test)",
    request: { query: runCompareQuerySchema },
    responses: { 200: json(runComparisonSchema, 'the comparison'), ...problems(403, 404, 422, 503) },
  });
}
