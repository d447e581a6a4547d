import { parseServiceEnv, sharedEnvShape, webhookEnvShape } from '@ct/queue';
import { resolve } from 'node:path';
import { z } from 'zod';

// Services run from `services/trainer/{src,dist}`; the repository root (and its `data/` and
// `datasets/` folders) is two levels up in both layouts, and in the image.
const repoRoot = resolve(__dirname, '../../..');

const schema = z.object({
  ...sharedEnvShape(resolve(repoRoot, 'data')),
  CT_DATASETS_DIR: z.string().min(1).default(resolve(repoRoot, 'datasets')),
  /** The built-in model specs, one JSON file a model. */
  CT_CATALOG_DIR: z.string().min(1).default(resolve(repoRoot, 'catalog')),
  /** How long SIGTERM waits for the running job before giving up on it (it is retried elsewhere). */
  CT_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(20_000),
  /** BullMQ lock of a running job; renewed by the worker's free event loop while a thread fits. */
  CT_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30_000),
  /** How often workers look for jobs whose trainer died (lock expired) and queue them again. */
  CT_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(30_000),
  /**
   * How often the trainer looks at the inbox folder (`CT_DATA_DIR/inbox`) and scans
   * `models/*` for models registered or archived elsewhere (pub/sub is the fast path).
   */
  CT_CATALOG_POLL_MS: z.coerce.number().int().min(100).default(2000),
  /** How often the automatic actions configured per model are evaluated. */
  CT_AUTOMATION_POLL_MS: z.coerce.number().int().min(100).default(2000),
  /** The port of the trainer's /metrics and /health; unset: none. */
  CT_METRICS_PORT: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(65535).optional()),
  CT_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** The webhook deliveries this trainer makes: timeout, attempts, backoff, log length. */
  ...webhookEnvShape(),
}).refine((e) => e.CT_WEBHOOK_BACKOFF_BASE_MS <= e.CT_WEBHOOK_BACKOFF_MAX_MS, { message: 'below CT_WEBHOOK_BACKOFF_BASE_MS', path: ['CT_WEBHOOK_BACKOFF_MAX_MS'] });

/** The trainer's settings, parsed once from the environment. */
export interface TrainerConfig {
  readonly redisUrl: string;
  readonly dataDir: string;
  readonly datasetsDir: string;
  readonly catalogDir: string;
  readonly redisPrefix: string;
  readonly logLevel: string;
  readonly shutdownTimeoutMs: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly catalogPollMs: number;
  readonly automationPollMs: number;
  readonly metricsPort: number | undefined;
  readonly metricsHost: string;
  /** Webhook delivery: per attempt `timeoutMs`, `attempts` in all, retries `backoffBaseMs` doubling up to `backoffMaxMs`, `logLength` attempts logged per endpoint. */
  readonly webhooks: { readonly timeoutMs: number; readonly attempts: number; readonly backoffBaseMs: number; readonly backoffMaxMs: number; readonly logLength: number };
}

/**
 * Parses the environment into a frozen config, or throws an Error whose message lists every
 * bad variable; `main` prints it and exits before anything starts.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): TrainerConfig {
  const e = parseServiceEnv(schema, env, 'trainer');
  return Object.freeze({
    redisUrl: e.REDIS_URL,
    dataDir: resolve(e.CT_DATA_DIR),
    datasetsDir: resolve(e.CT_DATASETS_DIR),
    catalogDir: resolve(e.CT_CATALOG_DIR),
    redisPrefix: e.CT_REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.CT_SHUTDOWN_TIMEOUT_MS,
    lockDurationMs: e.CT_LOCK_DURATION_MS,
    stalledIntervalMs: e.CT_STALLED_INTERVAL_MS,
    catalogPollMs: e.CT_CATALOG_POLL_MS,
    automationPollMs: e.CT_AUTOMATION_POLL_MS,
    metricsPort: e.CT_METRICS_PORT,
    metricsHost: e.CT_METRICS_HOST,
    webhooks: Object.freeze({
      timeoutMs: e.CT_WEBHOOK_TIMEOUT_MS,
      attempts: e.CT_WEBHOOK_ATTEMPTS,
      backoffBaseMs: e.CT_WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: e.CT_WEBHOOK_BACKOFF_MAX_MS,
      logLength: e.CT_WEBHOOK_LOG_LENGTH,
    }),
  });
}
