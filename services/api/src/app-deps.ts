import type { ModelSpec } from '@ct/core';
import type { Logger } from 'pino';
import type { ModelSchemas } from './api-schemas';
import type { JobQueues } from './job-queues';
import type { ModelCache } from './model-cache';
import type { ModelCatalog } from './model-catalog';
import type { PredictionLog } from './prediction-log';

/** Everything the Express app needs; `main.ts` wires the real ones, tests their own. */
export interface AppDeps {
  dataDir: string;
  /** The models served (built-in and registered, not archived), and their request contexts. */
  catalog: ModelCatalog;
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
