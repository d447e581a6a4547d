import { DEFAULT_MODEL } from '@ct/core';
import { AcceptedJobs, loadCatalog } from '@ct/registry';
import type { Server } from 'node:http';
import pino from 'pino';
import { ActivationSubscriber } from './activation-subscriber';
import { loadConfig, type ApiConfig } from './config';
import { JobQueues } from './job-queues';
import { ModelCache } from './model-cache';
import { ModelCatalog } from './model-catalog';
import { PredictionWriter } from './prediction-writer/prediction-writer';
import { createServer } from './server';
import { RequestPipeline } from './pipeline/request-pipeline';
import { ApiMetrics, metricsSources } from './metrics/api-metrics';
import { batchedLogDestination } from './pipeline/log-destination';
import { cachedIsoTime } from './pipeline/request-line';
import { FeedbackStore } from './feedback/feedback-store';
import { PredictionLookup } from './feedback/prediction-lookup';
import { Authenticator } from './security/authenticator';
import { RateLimits } from './security/rate-limits';
import { staticTokensOf } from './security/static-tokens';
import { loadTokenSecret, TokenStore } from '@ct/auth';
import { settleWithin, Webhooks } from '@ct/queue';

async function main(): Promise<void> {
  let config: ApiConfig;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  // Asynchronous stdout: a synchronous write per request line would cost a syscall on the hot
  // path; lines are handed over once per turn of the event loop (see batchedLogDestination).
  // Flushed before exit.
  const logger = pino(
    { level: config.logLevel, base: { service: 'api' }, timestamp: cachedIsoTime() },
    batchedLogDestination(1),
  );
  let specs;
  try {
    specs = await loadCatalog(config.catalogDir);
    if (!specs.some((s) => s.name === DEFAULT_MODEL)) throw new Error(`${config.catalogDir}: no spec of the default model ${DEFAULT_MODEL} (${DEFAULT_MODEL}.json)`);
  } catch (err) {
    // A bad spec stops the service with a message naming the file, the place and the problem.
    process.stderr.write(`api: ${(err as Error).message}\n`);
    process.exit(2);
  }
  // The catalogue fills the cache and the queues: built-in models, then those registered at
  // run time, less the archived ones, as the volume says before the first request.
  const cache = new ModelCache({ dataDir: config.dataDir, specs: [], pollIntervalMs: config.reloadIntervalMs, logger });
  const queues = new JobQueues({ redisUrl: config.redisUrl, prefix: config.redisPrefix, models: [], logger, accepted: new AcceptedJobs(config.dataDir) });
  const catalog = new ModelCatalog({ dataDir: config.dataDir, builtIn: specs, pollIntervalMs: config.reloadIntervalMs, cache, queues, logger });
  const subscriber = new ActivationSubscriber({ redisUrl: config.redisUrl, prefix: config.redisPrefix, cache, catalog, logger });
  // Who may do what: tokens hashed under the volume's (or the environment's) secret.
  let pipeline: RequestPipeline;
  let tokens: TokenStore;
  let metrics: ApiMetrics | undefined;
  try {
    const secret = loadTokenSecret(config.dataDir, config.tokenSecret);
    const statics = staticTokensOf(config.tokens, config.dataDir);
    if (statics.file) logger.info({ file: statics.file.path }, statics.file.created ? 'no token configured: made an admin token, readable only by this user, in this file' : 'no token configured: the admin token is in this file');
    tokens = new TokenStore(queues.redis, config.redisPrefix, secret);
    // Off (CT_METRICS=false): nothing is counted and /metrics answers 404.
    metrics = config.metrics ? new ApiMetrics(metricsSources({ catalog, cache, queues, redisPrefix: config.redisPrefix, qualityWindowS: config.qualityWindowS })) : undefined;
    pipeline = new RequestPipeline({
      metrics,
      authenticator: new Authenticator({ secret, store: tokens, staticTokens: statics.tokens }),
      limits: new RateLimits(queues.redis, config.redisPrefix, config.rates),
      open: { predict: config.authPredict, read: config.authRead },
      logger,
    });
  } catch (err) {
    process.stderr.write(`api: cannot set up tokens: ${(err as Error).message}\n`);
    process.exit(2);
  }
  await catalog.start();
  await cache.start();
  const shutdown = new AbortController();
  // The prediction log and the feedback index, written on a thread of their own.
  const predictions = new PredictionWriter(
    {
      log: config.predictionLog ? { dataDir: config.dataDir, rotation: config.predictionLogRotation } : undefined,
      index: config.feedbackIndex ? { redisUrl: config.redisUrl, prefix: config.redisPrefix, retentionS: config.feedbackRetentionS } : undefined,
    },
    { logger },
  );
  const lookup = new PredictionLookup({ redis: queues.redis, prefix: config.redisPrefix, enabled: config.feedbackIndex });
  const feedback = new FeedbackStore({ redis: queues.redis, prefix: config.redisPrefix, retentionS: config.feedbackRetentionS, index: lookup });
  // Webhook endpoints and redeliveries; the trainer delivers (its WebhookDelivery).
  const webhooks = new Webhooks({ redis: queues.redis, prefix: config.redisPrefix, attempts: config.webhookAttempts });
  const server: Server = createServer({
    dataDir: config.dataDir,
    catalog,
    cache,
    queues,
    logger,
    pipeline,
    tokens,
    jobCaps: { perModel: config.maxQueuedPerModel, perCaller: config.maxQueuedPerCaller },
    feedback,
    predictions,
    metrics,
    redisPrefix: config.redisPrefix,
    qualityWindowS: config.qualityWindowS,
    shutdown: shutdown.signal,
    webhooks,
  });
  server.listen(config.port, config.host);
  server.on('listening', () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    logger.info({ host: config.host, port, data_dir: config.dataDir, prefix: config.redisPrefix }, `api listening on http://${config.host}:${port}`);
  });
  server.on('error', (err) => {
    logger.fatal({ err: err.message }, 'api failed to listen');
    logger.flush(() => process.exit(1));
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
    force.unref();
    // Last resort: whatever still hangs (a dependency waiting for Redis), the process ends.
    setTimeout(() => {
      logger.warn('shutdown deadline passed; exiting');
      logger.flush(() => process.exit(1));
    }, config.shutdownTimeoutMs + 5000).unref();
    // Requests waiting for their job (`Prefer: wait`) answer 202 with it now, rather than be
    // cut off when the connections are closed.
    shutdown.abort();
    // A keep-alive connection whose request ends during the shutdown would otherwise hold the
    // close up until its idle timeout: close each as soon as it is idle.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    server.close(() => {
      clearTimeout(force);
      clearInterval(sweep);
      catalog.close();
      cache.close();
      subscriber.close();
      void Promise.all([predictions.close(), settleWithin(webhooks.close(), 1000).then(() => queues.close())]).finally(() => logger.flush(() => process.exit(0)));
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main();
