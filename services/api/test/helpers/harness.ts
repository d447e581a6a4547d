/**
 * Test harness for the API's integration tests: a real API (createServer + listen(0)), a real
 * Trainer, real Redis (shared, under a unique prefix, or a private redis-server child), temp
 * data dirs, a tiny fetch client and a polling `eventually`. Nothing here mocks a component.
 */
import { DEFAULT_MODEL, fromMatrix, parseNumericCsv, type ModelSpec } from '@ct/core';
import { AcceptedJobs, ModelStore, parseModelSpec } from '@ct/registry';
import { cleanupRedis, eventually, makeTempDir, removeDir, TEST_REDIS_URL, uniquePrefix } from '@ct/testing';
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { FitThreadClient } from '../../../trainer/src/fit-thread-client';
import { TrainPipeline } from '../../../trainer/src/train-pipeline';
import { Trainer } from '../../../trainer/src/trainer';
import { Webhooks, type JobData, type JobResult, type WebhookDeliveryOptions } from '@ct/queue';
import { ActivationSubscriber } from '../../src/activation-subscriber';
import type { AppDeps } from '../../src/app-deps';
import { createServer } from '../../src/server';
import { JobQueues } from '../../src/job-queues';
import { ModelCache } from '../../src/model-cache';
import { ModelCatalog } from '../../src/model-catalog';
import { PredictionWriter } from '../../src/prediction-writer/prediction-writer';
import { RequestPipeline } from '../../src/pipeline/request-pipeline';
import { ApiMetrics, metricsSources } from '../../src/metrics/api-metrics';
import { FeedbackStore } from '../../src/feedback/feedback-store';
import { PredictionLookup } from '../../src/feedback/prediction-lookup';
import { Authenticator, type StaticToken } from '../../src/security/authenticator';
import type { OpenAccess } from '../../src/security/authorize';
import { RateLimits, type Rates } from '../../src/security/rate-limits';
import { TokenStore } from '@ct/auth';

export const REPO_ROOT = resolve(__dirname, '../../../..');

/** The writer thread's script, built (`npm test` builds the workspace first): a worker thread runs JavaScript, not these sources. */
export const WRITER_THREAD = join(REPO_ROOT, 'services', 'api', 'dist', 'prediction-writer', 'writer-thread.js');
export const DATASETS_DIR = join(REPO_ROOT, 'datasets');
export const CATALOG_DIR = join(REPO_ROOT, 'catalog');
/** The repository's catalogue, as the services load it at start. */
export const SPECS: readonly ModelSpec[] = readdirSync(CATALOG_DIR)
  .filter((n) => n.endsWith('.json'))
  .sort()
  .map((n) => parseModelSpec(JSON.parse(readFileSync(join(CATALOG_DIR, n), 'utf8')), n));
/** The default model's spec. */
export const irisSpec: ModelSpec = SPECS.find((s) => s.name === DEFAULT_MODEL) as ModelSpec;

export const silentLogger = (): Logger => pino({ level: 'silent' });

// The shared test support, re-exported so a test file has one place to import from.
export { cleanupRedis, eventually, makeTempDir, removeDir, startPrivateRedis, TEST_REDIS, TEST_REDIS_URL, uniquePrefix, type PrivateRedis } from '@ct/testing';

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body when it is JSON (any `+json` type), else undefined. */
  body: any;
}

/**
 * The tokens every harness API knows (as the environment's CT_*_TOKEN would define them). The
 * harness client sends the admin token unless told otherwise (`token`).
 */
export const TEST_TOKENS = {
  admin: 'test-admin-token-0123456789abcdef',
  trainer: 'test-trainer-token-0123456789abcdef',
  client: 'test-client-token-0123456789abcdef',
} as const;

export interface RequestOptions {
  /** The bearer token to send: the client's default (the admin token) when absent, none when null. */
  token?: string | null;
  /** Serialized with JSON.stringify and sent as application/json. */
  json?: unknown;
  /** Raw body (sent as is, with `contentType` or application/json). */
  raw?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
  /** Client-side timeout (AbortSignal); default 30 s. */
  timeoutMs?: number;
}

/** A minimal HTTP client over Node's fetch. */
export class Client {
  constructor(
    readonly baseUrl: string,
    readonly token: string | null = TEST_TOKENS.admin,
  ) {}

  /** The same API with another token (null: anonymous). */
  as(token: string | null): Client {
    return new Client(this.baseUrl, token);
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const token = opts.token === undefined ? this.token : opts.token;
    const headers: Record<string, string> = { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(opts.headers ?? {}) };
    let body: string | Uint8Array | undefined;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] ??= opts.contentType ?? 'application/json';
    } else if (opts.raw !== undefined) {
      body = opts.raw;
      headers['content-type'] ??= opts.contentType ?? 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body as RequestInit['body'],
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let parsed: unknown;
    const type = res.headers.get('content-type') ?? '';
    if (/[/+]json\b/.test(type) && text.length > 0) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, text, body: parsed };
  }

  get = (path: string, opts?: RequestOptions) => this.request('GET', path, opts);
  post = (path: string, opts?: RequestOptions) => this.request('POST', path, opts);
  delete = (path: string, opts?: RequestOptions) => this.request('DELETE', path, opts);
}

// ---------------------------------------------------------------------------------------------
// Services

export interface ApiHandle {
  client: Client;
  server: Server;
  catalog: ModelCatalog;
  cache: ModelCache;
  queues: JobQueues;
  subscriber: ActivationSubscriber | undefined;
  /** The prediction log and the feedback index, on the writer thread as in main.ts. */
  predictions: PredictionWriter;
  webhooks: Webhooks;
  /** What the server was built from (createApp(deps) builds the same Express app again). */
  deps: AppDeps;
  close(): Promise<void>;
}

/** Auth and limits of a harness API (main.ts reads them from the environment). */
export interface SecuritySettings {
  staticTokens: StaticToken[];
  open: OpenAccess;
  rates: Rates;
  jobCaps: { perModel: number; perCaller: number };
  tokenCacheMs: number;
  /** The rate limits' window (1 s in service). */
  rateWindowSeconds: number;
}

const DEFAULT_SECURITY: SecuritySettings = {
  staticTokens: (Object.entries(TEST_TOKENS) as [keyof typeof TEST_TOKENS, string][]).map(([role, token]) => ({ role, token, name: `env-${role}` })),
  open: { predict: 'open', read: 'required' },
  rates: { predict: 0, read: 0, train: 0, admin: 0 },
  jobCaps: { perModel: 1000, perCaller: 1000 },
  tokenCacheMs: 500,
  rateWindowSeconds: 1,
};

/** Wires the API as `main.ts` does (optionally without the pub/sub subscriber) and listens on port 0. */
export async function startApi(opts: {
  dataDir: string;
  prefix: string;
  redisUrl?: string;
  pollIntervalMs?: number;
  subscriber?: boolean;
  predictionLog?: boolean;
  logger?: Logger;
  /** How long predictions can get feedback (1 day by default). */
  feedbackRetentionS?: number;
  /** CT_FEEDBACK_INDEX: false indexes no prediction. */
  feedbackIndex?: boolean;
  /** Auth and limits; by default the TEST_TOKENS, predict open, reads required, no rate limits, caps of 1,000. */
  security?: Partial<SecuritySettings>;
}): Promise<ApiHandle> {
  const logger = opts.logger ?? silentLogger();
  const redisUrl = opts.redisUrl ?? TEST_REDIS_URL;
  const pollIntervalMs = opts.pollIntervalMs ?? 2000;
  const cache = new ModelCache({ dataDir: opts.dataDir, specs: [], pollIntervalMs, logger });
  const queues = new JobQueues({ redisUrl, prefix: opts.prefix, models: [], logger, accepted: new AcceptedJobs(opts.dataDir) });
  const catalog = new ModelCatalog({ dataDir: opts.dataDir, builtIn: SPECS, pollIntervalMs, cache, queues, logger });
  const subscriber = opts.subscriber === false ? undefined : new ActivationSubscriber({ redisUrl, prefix: opts.prefix, cache, catalog, logger });
  await catalog.start();
  await cache.start();
  const sec: SecuritySettings = { ...DEFAULT_SECURITY, ...opts.security };
  const secret = Buffer.from(`test-secret-${opts.prefix}`);
  const tokens = new TokenStore(queues.redis, opts.prefix, secret);
  const metrics = new ApiMetrics(metricsSources({ catalog, cache, queues, redisPrefix: opts.prefix, qualityWindowS: 3600 }));
  const pipeline = new RequestPipeline({
    metrics,
    authenticator: new Authenticator({ secret, store: tokens, staticTokens: sec.staticTokens, cacheMs: sec.tokenCacheMs }),
    limits: new RateLimits(queues.redis, opts.prefix, sec.rates, sec.rateWindowSeconds),
    open: sec.open,
    logger,
  });
  const retentionS = opts.feedbackRetentionS ?? 86_400;
  const indexed = opts.feedbackIndex ?? true;
  const predictions = new PredictionWriter(
    {
      log: (opts.predictionLog ?? true) ? { dataDir: opts.dataDir, rotation: {} } : undefined,
      index: indexed ? { redisUrl, prefix: opts.prefix, retentionS, flushMs: 20 } : undefined,
    },
    { logger, workerPath: WRITER_THREAD },
  );
  const feedback = new FeedbackStore({ redis: queues.redis, prefix: opts.prefix, retentionS, index: new PredictionLookup({ redis: queues.redis, prefix: opts.prefix, enabled: indexed }) });
  const webhooks = new Webhooks({ redis: queues.redis, prefix: opts.prefix });
  const deps: AppDeps = {
    dataDir: opts.dataDir,
    catalog,
    cache,
    queues,
    logger,
    pipeline,
    tokens,
    jobCaps: sec.jobCaps,
    feedback,
    predictions,
    metrics,
    redisPrefix: opts.prefix,
    qualityWindowS: 3600,
    webhooks,
  };
  const server = createServer(deps);
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    client: new Client(`http://127.0.0.1:${port}`),
    server,
    catalog,
    cache,
    queues,
    subscriber,
    predictions,
    webhooks,
    deps,
    close: () =>
      (closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        catalog.close();
        cache.close();
        subscriber?.close();
        await predictions.close();
        await webhooks.close();
        await queues.close();
      })()),
  };
}

/**
 * A real Trainer (BullMQ workers + the compiled fit thread) training the built-in `models`
 * (iris by default); it knows the whole catalogue, so built-in names are taken. It scans the
 * inbox and `models/*` every `pollIntervalMs` (500 ms by default).
 */
export async function startTrainer(opts: {
  dataDir: string;
  prefix: string;
  redisUrl?: string;
  models?: readonly string[];
  pollIntervalMs?: number;
  logger?: Logger;
  /** Settings of the trainer's webhook delivery (a tiny backoff in tests). */
  webhookDelivery?: Pick<WebhookDeliveryOptions, 'backoff' | 'timeoutMs' | 'maxRetryAfterMs'>;
}): Promise<Trainer> {
  const trainer = new Trainer({
    redisUrl: opts.redisUrl ?? TEST_REDIS_URL,
    prefix: opts.prefix,
    dataDir: opts.dataDir,
    datasetsDir: DATASETS_DIR,
    specs: SPECS.filter((s) => (opts.models ?? [irisSpec.name]).includes(s.name)),
    catalog: SPECS,
    pollIntervalMs: opts.pollIntervalMs ?? 500,
    automationPollMs: 200,
    lockDurationMs: 30_000,
    shutdownTimeoutMs: 5_000,
    logger: opts.logger ?? silentLogger(),
    ...(opts.webhookDelivery ? { webhookDelivery: opts.webhookDelivery } : {}),
  });
  await trainer.start();
  return trainer;
}

/** A real trainer and a real API (poll every 100 ms) on a fresh volume, bootstrapped and serving. */
export interface Stack {
  dataDir: string;
  prefix: string;
  api: ApiHandle;
  trainer: Trainer;
  store: ModelStore;
  close(): Promise<void>;
}

/** Starts a {@link Stack}; `close` stops both and removes the volume and the Redis keys. */
export async function startStack(opts: { models?: readonly string[]; trainerLogger?: Logger } = {}): Promise<Stack> {
  const dataDir = await makeTempDir();
  const prefix = uniquePrefix();
  const trainer = await startTrainer({ dataDir, prefix, ...(opts.models ? { models: opts.models } : {}), ...(opts.trainerLogger ? { logger: opts.trainerLogger } : {}) });
  const api = await startApi({ dataDir, prefix, pollIntervalMs: 100, predictionLog: false });
  await eventually(async () => (await api.client.get('/health')).status === 200, 30_000, 'bootstrap served');
  const stack: Stack = {
    dataDir,
    prefix,
    api,
    trainer,
    store: new ModelStore(dataDir, irisSpec.name),
    close: async () => {
      await stack.api.close();
      await stack.trainer.close();
      await cleanupRedis(prefix);
      await removeDir(dataDir);
    },
  };
  return stack;
}

/** APIs without a trainer on one fresh volume and prefix (see startApis). */
export interface LoneApis {
  dataDir: string;
  prefix: string;
  /** The first replica. */
  api: ApiHandle;
  /** Every replica, `api` first. */
  apis: ApiHandle[];
  close(): Promise<void>;
}

/**
 * `replicas` APIs (1 by default) and no trainer, on a fresh volume under a fresh prefix: with
 * `bootstrap`, iris is bootstrapped first by the trainer's own pipeline (no queue needed) and
 * served before this returns. `close` stops them and removes the volume and the keys.
 */
export async function startApis(
  opts: { bootstrap?: boolean; replicas?: number; security?: Partial<SecuritySettings>; feedbackRetentionS?: number; feedbackIndex?: boolean; logger?: Logger } = {},
): Promise<LoneApis> {
  const dataDir = await makeTempDir();
  const prefix = uniquePrefix();
  if (opts.bootstrap) {
    const pipeline = createPipeline(dataDir);
    try {
      await pipeline.run({ kind: 'bootstrap', model: irisSpec.name, request_id: null, body_hash: '' });
    } finally {
      await pipeline.close();
    }
  }
  const apis: ApiHandle[] = [];
  for (let i = 0; i < (opts.replicas ?? 1); i++) {
    apis.push(
      await startApi({
        dataDir,
        prefix,
        predictionLog: false,
        ...(opts.security ? { security: opts.security } : {}),
        ...(opts.feedbackRetentionS ? { feedbackRetentionS: opts.feedbackRetentionS } : {}),
        ...(opts.feedbackIndex === undefined ? {} : { feedbackIndex: opts.feedbackIndex }),
        ...(opts.logger ? { logger: opts.logger } : {}),
      }),
    );
  }
  if (opts.bootstrap) {
    for (const a of apis) await eventually(async () => (await a.client.get('/health')).status === 200, 10_000, 'bootstrap served');
  }
  return {
    dataDir,
    prefix,
    api: apis[0] as ApiHandle,
    apis,
    close: async () => {
      for (const a of apis) await a.close();
      await cleanupRedis(prefix);
      await removeDir(dataDir);
    },
  };
}

/**
 * The trainer's real pipeline (fit thread included) without BullMQ or Redis: runs jobs given
 * as plain payloads. `published` collects what it would announce; nothing is sent anywhere,
 * so an API over the same directory can only notice a change through its stat poll.
 */
export function createPipeline(dataDir: string, logger: Logger = silentLogger()) {
  const fitThread = new FitThreadClient();
  const published: { model: string; version: string }[] = [];
  const pipeline = new TrainPipeline({
    specs: SPECS,
    dataDir,
    datasetsDir: DATASETS_DIR,
    fitThread,
    logger,
    publish: async (model, version) => {
      published.push({ model, version });
    },
  });
  let n = 0;
  return {
    published,
    run: (data: JobData, id = `${data.model}.test-${++n}`): Promise<JobResult> =>
      pipeline.process({ id, data, updateProgress: async () => undefined }),
    close: () => fitThread.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Data

export type IrisRow = { sepal_length: number; sepal_width: number; petal_length: number; petal_width: number };
export type IrisSample = IrisRow & { label: number };

/** The bundled iris data as `/train` samples (150 rows, classes in CSV order). */
export function irisSamples(): IrisSample[] {
  const table = parseNumericCsv(readFileSync(join(DATASETS_DIR, 'iris.csv'), 'utf8'), { target: irisSpec.target.column });
  return fromMatrix(table.x).map((row, i) => ({
    ...(Object.fromEntries(table.featureNames.map((name, j) => [name, row[j] as number])) as IrisRow),
    label: irisSpec.target.classes.indexOf(table.yRaw[i] as string),
  }));
}

export const SETOSA: IrisRow = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
