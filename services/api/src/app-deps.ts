import type { ModelSpec } from '@ct/core';
import type { Logger } from 'pino';
import type { ModelSchemas } from './api-schemas';
import type { JobQueues } from './job-queues';
import type { ModelCache } from './model-cache';
import type { ModelCatalog } from './model-catalog';
import type { RequestPipeline } from './pipeline/request-pipeline';
import type { RowReader } from './row-reader';
import type { TokenStore } from '@ct/auth';
import type { FeedbackStore } from './feedback/feedback-store';
import type { ApiMetrics } from './metrics/api-metrics';
import type { PredictionWriter } from './prediction-writer/prediction-writer';
import type { Webhooks } from '@ct/queue';

/** Everything the Express app needs; `main.ts` wires the real ones, tests their own. */
export interface AppDeps {
  dataDir: string;
  /** The models served (built-in and registered, not archived), and their request contexts. */
  catalog: ModelCatalog;
  cache: ModelCache;
  queues: JobQueues;
  logger: Logger;
  /** Request id, auth, rate limits, body and log line, for the predict lane and the app alike. */
  pipeline: RequestPipeline;
  /** The tokens made at run time (admin routes); undefined when only static tokens exist. */
  tokens: TokenStore | undefined;
  /** Labels for served predictions (the feedback loop). */
  feedback: FeedbackStore;
  /** Served predictions, to the prediction log and the feedback index (written on a thread of their own). */
  predictions: Pick<PredictionWriter, 'enabled' | 'record'>;
  /** Prometheus metrics (GET /metrics); absent in tests that do not look at them. */
  metrics?: ApiMetrics;
  /** The Redis key prefix (queues, limits, feedback). */
  redisPrefix: string;
  /** Feedback settings: the default window of live quality. */
  qualityWindowS: number;
  /** Most jobs queued or running on one model, and of those, from one caller (429 past it). */
  jobCaps: { perModel: number; perCaller: number };
  /**
   * Aborted when the server starts shutting down: a request waiting for its job (`Prefer:
   * wait`) stops waiting and answers 202 with the job, instead of being cut off when the
   * server closes. Absent in tests that never shut down.
   */
  shutdown?: AbortSignal;
  /** Webhook endpoints, their logs and redeliveries (admin routes); absent: the routes answer 503. */
  webhooks?: Webhooks;
}

/** Per-model context resolved once per request. */
export interface ModelContext {
  spec: ModelSpec;
  schemas: ModelSchemas;
  /** The row schema's fast path (zod decides what it does not accept). */
  readRow: RowReader;
  /** The class names as JSON strings, in class order: the answer's text is written, not stringified. */
  classNamesJson: readonly string[];
}
