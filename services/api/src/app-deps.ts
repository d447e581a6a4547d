import type { ModelSpec } from '@ct/core';
import type { Logger } from 'pino';
import { modelSchemas, type ModelSchemas } from './api-schemas';
import type { JobQueues } from './job-queues';
import type { ModelCache } from './model-cache';
import type { PredictionLog } from './prediction-log';

/** Everything the Express app needs; `main.ts` wires the real ones, tests their own. */
export interface AppDeps {
  dataDir: string;
  specs: readonly ModelSpec[];
  cache: ModelCache;
  queues: JobQueues;
  predictionLog: PredictionLog;
  logger: Logger;
  /**
   * Aborted when the server starts shutting down: a request waiting for its job (`Prefer:
   * wait`) stops waiting and answers 202 with the job, instead of being cut off when the
   * server closes. Absent in tests that never shut down.
   */
  shutdown?: AbortSignal;
}

/** Per-model context resolved once per request. */
export interface ModelContext {
  spec: ModelSpec;
  schemas: ModelSchemas;
}

/** Each model's spec and request schemas, built once. */
export function modelContexts(specs: readonly ModelSpec[]): Map<string, ModelContext> {
  return new Map(specs.map((spec) => [spec.name, { spec, schemas: modelSchemas(spec) }]));
}
