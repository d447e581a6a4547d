import { loadCatalog } from '@ct/registry';
import { loadConfig, type TrainerConfig } from './config';
import { createLogger } from './logger';
import { Trainer } from './trainer';

async function main(): Promise<void> {
  let config: TrainerConfig;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel, 'trainer');
  let specs;
  try {
    specs = await loadCatalog(config.catalogDir);
  } catch (err) {
    // A bad spec stops the service with a message naming the file, the place and the problem.
    process.stderr.write(`trainer: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const trainer = new Trainer({
    redisUrl: config.redisUrl,
    prefix: config.redisPrefix,
    dataDir: config.dataDir,
    datasetsDir: config.datasetsDir,
    specs,
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: config.stalledIntervalMs,
    pollIntervalMs: config.catalogPollMs,
    automationPollMs: config.automationPollMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    webhookDelivery: { timeoutMs: config.webhooks.timeoutMs, backoff: { baseMs: config.webhooks.backoffBaseMs, maxMs: config.webhooks.backoffMaxMs } },
    webhooks: { attempts: config.webhooks.attempts, logCap: config.webhooks.logLength },
    logger,
  });
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    // Last resort: whatever still hangs (a connection waiting for Redis), the process ends.
    setTimeout(() => {
      logger.warn('shutdown deadline passed; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5000).unref();
    trainer.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  logger.info({ data_dir: config.dataDir, prefix: config.redisPrefix }, 'trainer starting');
  let ready = false;
  if (config.metricsPort !== undefined) {
    // Metrics and health on their own port; a port already taken is logged, not fatal.
    trainer.metrics.listen(config.metricsPort, config.metricsHost, () => ready).then(
      (port) => logger.info({ port }, `trainer metrics on http://${config.metricsHost}:${port}/metrics`),
      (err: unknown) => logger.warn({ err: String(err), port: config.metricsPort }, 'trainer metrics port unavailable'),
    );
  }
  trainer.start().then(
    () => {
      ready = true;
    },
    (err: unknown) => {
      logger.fatal({ err: String(err) }, 'trainer failed to start');
      process.exit(1);
    },
  );
}

void main();
