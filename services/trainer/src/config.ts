import { resolve } from 'node:path';
import { z } from 'zod';

// Services run from `services/trainer/{src,dist}`; the repository root (and its `data/` and
// `datasets/` folders) is two levels up in both layouts, and in the image.
const repoRoot = resolve(__dirname, '../../..');

const schema = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  CT_DATA_DIR: z.string().min(1).default(resolve(repoRoot, 'data')),
  CT_DATASETS_DIR: z.string().min(1).default(resolve(repoRoot, 'datasets')),
  CT_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('ct'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long SIGTERM waits for the running job before giving up on it (it is retried elsewhere). */
  CT_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(20_000),
  /** BullMQ lock of a running job; renewed by the worker's free event loop while a thread fits. */
  CT_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30_000),
  /** How often workers look for jobs whose trainer died (lock expired) and queue them again. */
  CT_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(30_000),
});

/** The trainer's settings, parsed once from the environment. */
export interface TrainerConfig {
  readonly redisUrl: string;
  readonly dataDir: string;
  readonly datasetsDir: string;
  readonly redisPrefix: string;
  readonly logLevel: string;
  readonly shutdownTimeoutMs: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
}

/**
 * Parses the environment into a frozen config, or throws an Error whose message lists every
 * bad variable; `main` prints it and exits before anything starts.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): TrainerConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid trainer configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    redisUrl: e.REDIS_URL,
    dataDir: resolve(e.CT_DATA_DIR),
    datasetsDir: resolve(e.CT_DATASETS_DIR),
    redisPrefix: e.CT_REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.CT_SHUTDOWN_TIMEOUT_MS,
    lockDurationMs: e.CT_LOCK_DURATION_MS,
    stalledIntervalMs: e.CT_STALLED_INTERVAL_MS,
  });
}
